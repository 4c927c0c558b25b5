"""Policy: per service and route, the mode, paranoia level, threshold and exclusions."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from siren.errors import ConfigError

MODES = ("block", "shadow", "off")


@dataclass(frozen=True, slots=True)
class Exclusion:
    """Ignore findings of some rules (ids or id prefixes ending in ``*``) and/or in some targets
    (names such as ``ARGS:comment`` or collection prefixes such as ``JSON:*``)."""

    rules: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()

    def excludes(self, rule_id: str, target: str) -> bool:
        rule_hit = not self.rules or any(_match(p, rule_id) for p in self.rules)
        target_hit = not self.targets or any(_match(p, target) for p in self.targets)
        return rule_hit and target_hit


def _match(pattern: str, value: str) -> bool:
    if pattern.endswith("*"):
        return value.startswith(pattern[:-1])
    return value == pattern


@dataclass(frozen=True, slots=True)
class Route:
    """Overrides for requests whose path starts with ``prefix``."""

    prefix: str
    mode: str | None = None
    paranoia: int | None = None
    threshold: int | None = None
    exclusions: tuple[Exclusion, ...] = ()


@dataclass(frozen=True, slots=True)
class Policy:
    mode: str = "block"
    paranoia: int = 1
    threshold: int = 5
    fail_open: bool = True
    """On an engine error: allow (``True``) or block (``False``) the request."""
    exclusions: tuple[Exclusion, ...] = ()
    routes: tuple[Route, ...] = field(default=())

    def resolve(self, path: str) -> Policy:
        """The policy in force for ``path``: the longest matching route's overrides applied."""
        best: Route | None = None
        for route in self.routes:
            if path.startswith(route.prefix) and (best is None or len(route.prefix) > len(best.prefix)):
                best = route
        if best is None:
            return self
        return replace(
            self,
            mode=best.mode or self.mode,
            paranoia=best.paranoia or self.paranoia,
            threshold=best.threshold or self.threshold,
            exclusions=self.exclusions + best.exclusions,
            routes=(),
        )

    @property
    def max_paranoia(self) -> int:
        return max([self.paranoia] + [r.paranoia for r in self.routes if r.paranoia])

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Policy:
        """Build from configuration data (YAML/JSON); raises :class:`ConfigError` with the field."""
        try:
            routes = tuple(
                Route(
                    prefix=str(r["prefix"]),
                    mode=_mode(r.get("mode")),
                    paranoia=_paranoia(r.get("paranoia")),
                    threshold=r.get("threshold"),
                    exclusions=tuple(_exclusion(e) for e in r.get("exclusions", [])),
                )
                for r in data.get("routes", [])
            )
            return cls(
                mode=_mode(data.get("mode")) or "block",
                paranoia=_paranoia(data.get("paranoia")) or 1,
                threshold=int(data.get("threshold", 5)),
                fail_open=bool(data.get("fail_open", True)),
                exclusions=tuple(_exclusion(e) for e in data.get("exclusions", [])),
                routes=routes,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"invalid policy: {exc}") from exc


def _mode(value: Any) -> str | None:
    if value is None:
        return None
    if value not in MODES:
        raise ConfigError(f"mode must be one of {MODES}, got {value!r}")
    return str(value)


def _paranoia(value: Any) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or not 1 <= value <= 4:
        raise ConfigError(f"paranoia must be 1..4, got {value!r}")
    return value


def _exclusion(data: Any) -> Exclusion:
    if not isinstance(data, dict):
        raise ConfigError("an exclusion is a mapping with 'rules' and/or 'targets'")
    return Exclusion(rules=tuple(map(str, data.get("rules", []))), targets=tuple(map(str, data.get("targets", []))))
