"""``siren authz``: the proxy's inspection as an HTTP decision service, for a proxy that stays in
front (nginx ``auth_request``, Envoy ``ext_authz`` in HTTP service mode). It never forwards
anything: it answers 200 (allow) or 403 (block, with an incident id).

Which request is inspected:

- **nginx** ``auth_request``: the subrequest carries the original headers, and the original
  method and URI in ``X-Original-Method`` / ``X-Original-URI`` (``proxy_set_header``). nginx
  sends no body to an auth subrequest.
- **Envoy** ``ext_authz`` (HTTP service): the check request *is* the original request (method,
  path after ``--path-prefix``, headers, and the body when ``with_request_body`` is set).

The HTTP parsing, limits, timeouts and malformed-request answers are the proxy's
(``server.py``); ``X-Envoy-*`` headers and the two ``X-Original-*`` headers are not inspected.
"""

from __future__ import annotations

from typing import Any

from siren.engine import Action, Request
from siren.proxy import response
from siren.proxy.config import ProxyConfig, Service
from siren.proxy.inspection import Inspector
from siren.proxy.metrics import Stats
from siren.proxy.server import ClientConnection, Exchange

SERVICE_HEADER = b"x-siren-service"


class AuthzHandler:
    def __init__(
        self,
        config: ProxyConfig,
        inspector: Inspector,
        stats: Stats,
        log: Any,
        *,
        uri_header: str = "X-Original-URI",
        method_header: str = "X-Original-Method",
        path_prefix: str = "",
    ) -> None:
        self.config = config
        self.inspector = inspector
        self.stats = stats
        self.log = log
        self.uri_header = uri_header.lower().encode("latin-1")
        self.method_header = method_header.lower().encode("latin-1")
        self.path_prefix = path_prefix.rstrip("/").encode("latin-1")
        self.services = {s.name.encode("latin-1"): s for s in config.services}

    def original_request(self, conn: ClientConnection, ex: Exchange) -> tuple[Request, Service] | str:
        """The request to inspect, or a message saying why there is none."""
        uri = method = service_name = None
        real_ip = b""
        forwarded = b""
        headers: list[tuple[str, str]] = []
        for name, value in ex.headers:
            lname = name.lower()
            if lname == self.uri_header:
                uri = value
            elif lname == self.method_header:
                method = value
            elif lname == SERVICE_HEADER:
                service_name = value
            elif lname.startswith(b"x-envoy-"):
                continue
            else:
                if lname == b"x-real-ip":
                    real_ip = value
                elif lname == b"x-forwarded-for":
                    forwarded = value
                headers.append((name.decode("latin-1"), value.decode("latin-1")))
        if uri is not None:
            target = uri
            verb = method or b"GET"
        else:
            target = ex.url
            if self.path_prefix and target.startswith(self.path_prefix):
                target = target[len(self.path_prefix) :] or b"/"
                if not target.startswith((b"/", b"?")):
                    return f"path does not start with the prefix {self.path_prefix.decode()!r}"
                if target.startswith(b"?"):
                    target = b"/" + target
            verb = ex.method
        if not target.startswith(b"/") or any(c <= 0x20 or c == 0x7F for c in target):
            return "the original request-target is missing or not origin-form"
        service = self.services.get(service_name or b"") or conn.ctx.service_for(ex.host)
        client = real_ip or (forwarded.rsplit(b",", 1)[-1].strip() if forwarded else b"")
        request = Request(
            verb.decode("latin-1"),
            target.decode("latin-1"),
            tuple(headers),
            bytes(ex.body),
            client=client.decode("latin-1") or conn.client,
            version="HTTP/1.1",
            service=service.name,
        )
        return request, service

    def handle(self, conn: ClientConnection, ex: Exchange) -> None:
        keep = conn.keep_alive(ex) and ex.complete
        found = self.original_request(conn, ex)
        if isinstance(found, str):
            ex.status = 400
            self.stats.inc("protocol_rejects", ("400", "authz: no original request"))
            conn.respond(ex, response.simple(400, found, ex.request_id, close=not keep), keep_alive=keep)
            return
        request, service = found
        outcome = self.inspector.inspect(service, request, ex.request_id)
        if outcome is not None and outcome.blocked:
            self.stats.inc("requests", (service.name, "blocked"))
            accept = request.header("Accept") or ""
            ex.status = 403
            conn.respond(ex, response.blocked(outcome.incident_id, ex.request_id, accept, close=not keep), keep_alive=keep)
        else:
            shadow = outcome is not None and outcome.verdict.action is Action.LOG
            self.stats.inc("requests", (service.name, "shadow_blocked" if shadow else "allowed"))
            headers = [("X-Request-Id", ex.request_id), ("X-Siren-Action", "log" if shadow else "allow")]
            if shadow and outcome is not None:
                headers.append(("X-Siren-Incident", outcome.incident_id))
            ex.status = 200
            conn.respond(ex, response.head(200, headers, 0, close=not keep), keep_alive=keep)
        if self.config.access_log:
            self.log.info(
                "access", request_id=ex.request_id, service=service.name, client=request.client, method=request.method,
                target=request.target[:300], status=ex.status,
            )

    def abort(self, conn: ClientConnection, ex: Exchange) -> None:
        return None
