"""``siren authz`` behind a real nginx (``auth_request``) in front of a test app: allowed requests
reach the app, attacks get 403 with the incident id and never reach it."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest_proxy import ENGINE, free_port, http, nginx, nginx_binary, origin_app, siren, wait_port

pytestmark = pytest.mark.e2e

SERVER = """
    server {{
        listen 127.0.0.1:{port};
        location = /_siren_auth {{
            internal;
            proxy_pass http://127.0.0.1:{authz}/auth;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Original-URI $request_uri;
            proxy_set_header X-Original-Method $request_method;
            proxy_set_header X-Real-IP $remote_addr;
            proxy_set_header Host $host;
        }}
        location / {{
            auth_request /_siren_auth;
            auth_request_set $siren_incident $upstream_http_x_siren_incident;
            add_header X-Siren-Incident $siren_incident always;
            proxy_pass http://127.0.0.1:{app};
        }}
    }}
"""


def test_nginx_auth_request_with_siren_authz(tmp_path: Path) -> None:
    binary = nginx_binary()
    if binary is None:
        pytest.skip("nginx is not installed and cannot be installed here (not root, no apt-get)")
    port = free_port()
    with origin_app() as app, siren("authz", *ENGINE, "--listen", "127.0.0.1:0", "--admin", "") as authz:
        with nginx(binary, tmp_path / "nginx", SERVER.format(port=port, authz=authz.port, app=app.server_port)):
            wait_port(port)
            status, _, body = http(port, b"GET /products?id=3 HTTP/1.1\r\nHost: shop.test\r\nConnection: close\r\n\r\n")
            assert status == 200 and b'"target": "/products?id=3"' in body
            attack = b"GET /search?q=%27%20OR%201%3D1-- HTTP/1.1\r\nHost: shop.test\r\nConnection: close\r\n\r\n"
            status, headers, _ = http(port, attack)
            assert status == 403
            blocked = authz.wait_for("blocked")
            assert headers["x-siren-incident"] == blocked["incident_id"]
            assert blocked["target"] == "/search?q=%27%20OR%201%3D1--" and blocked["client"] == "127.0.0.1"
            xss = b"GET /p HTTP/1.1\r\nHost: shop.test\r\nUser-Agent: <script>alert(1)</script>\r\nConnection: close\r\n\r\n"
            assert http(port, xss)[0] == 403
            post = b"POST /orders HTTP/1.1\r\nHost: shop.test\r\nContent-Length: 8\r\nConnection: close\r\n\r\nqty=2&x="
            status, _, body = http(port, post)
            assert status == 200 and b'"body": "qty=2&x="' in body  # the auth subrequest had no body and did not hang
    assert [(m, t) for m, t, _ in app.seen] == [("GET", "/products?id=3"), ("POST", "/orders")]
