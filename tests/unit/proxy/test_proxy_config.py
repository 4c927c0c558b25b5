"""Configuration: the file, the command-line overrides, and errors that name the key at fault."""

from __future__ import annotations

from pathlib import Path

import pytest

from siren.errors import ConfigError
from siren.proxy.config import Address, config_from_dict, load_config, parse_address, parse_upstream


def test_no_file_is_needed_for_one_upstream() -> None:
    cfg = load_config(None, {"listen": "127.0.0.1:9000", "upstream": "http://127.0.0.1:3000"})
    assert cfg.listen == Address("127.0.0.1", 9000)
    assert cfg.default_service.upstream == Address("127.0.0.1", 3000)
    assert cfg.default_service.policy.mode == "block"
    assert cfg.workers == 1


def test_full_file(tmp_path: Path) -> None:
    path = tmp_path / "siren.yaml"
    path.write_text(
        """
listen: 127.0.0.1:8080
admin: ""
upstream: http://127.0.0.1:3000
service: shop
policy: {mode: shadow, paranoia: 2, threshold: 7, fail_open: false, routes: [{prefix: /api/, mode: block}]}
services:
  - {name: billing, hosts: [Billing.Local], upstream: "127.0.0.1:3001", policy: {mode: "off"}}
limits: {header_bytes: 8192, body_inspect_bytes: 4096, body_over_limit: reject}
timeouts: {header: 2, idle: 30}
overload: {max_in_flight: 10, retry_after: 3}
logging: {access_log: true}
events: {queue: 0}
forwarded: replace
"""
    )
    cfg = load_config(str(path), {"mode": "block"})
    shop, billing = cfg.services
    assert (shop.name, shop.policy.mode, shop.policy.paranoia, shop.policy.fail_open) == ("shop", "block", 2, False)
    assert shop.policy.resolve("/api/x").mode == "block"
    assert (billing.name, billing.hosts, billing.policy.mode) == ("billing", ("billing.local",), "off")
    assert cfg.admin is None
    assert cfg.limits.body_over_limit == "reject" and cfg.limits.header_bytes == 8192
    assert cfg.timeouts.header == 2 and cfg.timeouts.body == 30
    assert (cfg.max_in_flight, cfg.retry_after, cfg.access_log, cfg.event_queue, cfg.forwarded) == (10, 3, True, 0, "replace")
    assert cfg.source == str(path)


@pytest.mark.parametrize(
    "data,message",
    [
        ({"upstream": "http://x:1", "listn": "1"}, "unknown keys ['listn']"),
        ({"upstream": "https://x:1"}, "http:// URL"),
        ({"upstream": "http://x:1/path"}, "must not have a path"),
        ({"upstream": "http://x:1", "limits": {"body_over_limit": "drop"}}, "body_over_limit"),
        ({"upstream": "http://x:1", "limits": {"headers": "many"}}, "limits.headers"),
        ({"upstream": "http://x:1", "timeouts": {"idle": -1}}, "timeouts.idle"),
        ({"upstream": "http://x:1", "policy": {"mode": "loud"}}, "mode must be one of"),
        ({"upstream": "http://x:1", "services": [{"name": "a"}]}, "'name' and 'upstream' are required"),
        ({"upstream": "http://x:1", "service": "a", "services": [{"name": "a", "upstream": "x:2"}]}, "unique"),
        ({"upstream": "http://x:1", "forwarded": "maybe"}, "forwarded"),
        ({"listen": "nowhere"}, "HOST:PORT"),
    ],
)
def test_errors_name_the_key(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("(", r"\(")):
        config_from_dict(data)


def test_proxy_needs_an_upstream_authz_does_not() -> None:
    with pytest.raises(ConfigError, match="no upstream"):
        load_config(None, {})
    assert load_config(None, {}, require_upstream=False).default_service.upstream is None


def test_bad_yaml_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("listen: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(str(path))


def test_addresses() -> None:
    assert parse_address(":80") == Address("127.0.0.1", 80)
    assert parse_address("[::1]:8080") == Address("::1", 8080)
    assert str(Address("::1", 8080)) == "[::1]:8080"
    assert parse_upstream("127.0.0.1:3000") == Address("127.0.0.1", 3000)
    assert parse_upstream("http://localhost") == Address("localhost", 80)
