"""Shared immunity, part one: a client that attacks any service often enough is blocked by every
sidecar for a while.

The brain counts a client's events that blocked (or would have, in shadow mode) across all
services within a window, measured on the brain's clock; at the threshold the client is listed
until ``now + ttl`` and the next bundle carries the list. The allowlist always wins. Sidecars
enforce the list with :class:`siren.sidecar.reputation.ReputationDetector`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_client(text: str) -> IPNetwork | str:
    """An address or CIDR network; anything else (a hostname, an id) stays an exact string."""
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return text.strip()


@dataclass(frozen=True, slots=True)
class Allowlist:
    entries: tuple[IPNetwork | str, ...] = ()

    @classmethod
    def of(cls, texts: Iterable[str]) -> Allowlist:
        return cls(tuple(parse_client(t) for t in texts))

    def allows(self, client: str) -> bool:
        try:
            address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(client)
        except ValueError:
            address = None
        for entry in self.entries:
            if isinstance(entry, str):
                if entry == client:
                    return True
            elif address is not None and address.version == entry.version and address in entry:
                return True
        return False


def offenders(counts: dict[str, int], threshold: int, allowlist: Allowlist, listed: Iterable[str]) -> list[str]:
    """Clients at or over ``threshold`` that are neither allowlisted nor listed already."""
    already = set(listed)
    return sorted(c for c, n in counts.items() if c and n >= threshold and c not in already and not allowlist.allows(c))
