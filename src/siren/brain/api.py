"""The brain's HTTP API (FastAPI; OpenAPI at ``/openapi.json``, docs at ``/docs``).

Sidecar tokens may call ``POST /v1/events``, ``POST /v1/heartbeat``, ``GET /v1/bundles/*`` and
``GET /v1/keys`` (public keys are not secret: sidecars pin them from there); every other ``/v1`` route needs the admin token (a sidecar token gets 403). Bad input gets a 4xx
that says what is wrong: 400 for a body that is not JSON, 413 for a body or batch over the limit,
422 for fields that fail validation (unknown fields included), 409 for a conflict with stored
state. A database outage is a 503, anything unexpected a 500 with an id in the log; neither stops
the server.

``GET /v1/bundles/latest?after=N`` long-polls: it answers as soon as a bundle newer than ``N``
exists, or with 304 (and the current ETag) when none appeared within ``timeout`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import Depends, FastAPI, Header, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from siren.brain.auth import Principal
from siren.brain.bundles import BundleMeta
from siren.brain.core import Brain, BrainError, Forbidden
from siren.brain.schema import EventBatch, Heartbeat, HeartbeatReply, IngestResult, Name

log = logging.getLogger("siren.brain.api")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class ApiConfig:
    max_body_bytes: int = 8 * 1024 * 1024
    max_batch_events: int = 5000
    long_poll_max: float = 60.0
    refresh_interval: float = 1.0
    """How often the latest bundle is re-read from the database (other replicas publish too)."""
    maintenance_interval: float = 5.0


# -- request bodies ----------------------------------------------------------------------------


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EnrolBody(_Body):
    sidecar_id: Name
    service: Name = "*"


class RuleBody(_Body):
    service: Name = "*"
    rule: dict[str, Any]


class ExclusionBody(_Body):
    service: Name = "*"
    rules: list[Annotated[str, StringConstraints(max_length=128)]] = []
    targets: list[Annotated[str, StringConstraints(max_length=256)]] = []
    route_prefix: Annotated[str, StringConstraints(max_length=1024)] | None = None
    note: Annotated[str, StringConstraints(max_length=1024)] = ""


class ExclusionItem(_Body):
    rules: list[str] = []
    targets: list[str] = []


class RouteBody(_Body):
    prefix: str
    mode: Literal["block", "shadow", "off"] | None = None
    paranoia: int | None = None
    threshold: int | None = None
    exclusions: list[ExclusionItem] = []


class PolicyBody(_Body):
    mode: Literal["block", "shadow", "off"] = "block"
    paranoia: int = Field(1, ge=1, le=4)
    threshold: int = Field(5, ge=1)
    fail_open: bool = True
    exclusions: list[ExclusionItem] = []
    routes: list[RouteBody] = []


class BlockBody(_Body):
    client: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    ttl: int = Field(3600, ge=1, le=86400 * 365)
    reason: Annotated[str, StringConstraints(max_length=1024)] = ""


class AllowBody(_Body):
    client: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    """An address, a CIDR network, or an exact client string."""
    reason: Annotated[str, StringConstraints(max_length=1024)] = ""


class DecisionBody(_Body):
    reason: Annotated[str, StringConstraints(max_length=2048)] = ""


class ReportBody(_Body):
    event_id: Annotated[str, StringConstraints(max_length=80)] | None = None
    service: Name | None = None
    target: Annotated[str, StringConstraints(max_length=512)] | None = None
    """Where the fragment was, as a finding names it: ``ARGS:q``, ``JSON:user.name``, ``HEADER:X-Foo``…"""
    fragment: Annotated[str, StringConstraints(max_length=1024)] | None = None
    category: Annotated[str, StringConstraints(max_length=64)] | None = None
    view: Annotated[str, StringConstraints(max_length=32)] | None = None
    reason: Annotated[str, StringConstraints(max_length=2048)] = ""


class EmergencyBody(_Body):
    scope: Literal["all", "service"]
    service: Name | None = None
    mode: Literal["shadow", "off"]
    reason: Annotated[str, StringConstraints(max_length=1024)] = ""


class SettingsPatch(_Body):
    store_samples: bool | None = None
    redact_headers: list[str] | None = None
    redact_fields: list[str] | None = None
    reputation_threshold: int | None = None
    reputation_window: int | None = None
    reputation_ttl: int | None = None
    auto_approve: bool | None = None


# -- long-poll wake-ups --------------------------------------------------------------------------


class BundleWatch:
    """The latest bundle's version, and a way to wait for a newer one without polling the
    database per waiting sidecar."""

    def __init__(self, meta: BundleMeta | None) -> None:
        self.meta = meta
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._event = asyncio.Event()

    def detach(self) -> None:
        self._loop = None
        self._event = None

    def published(self, meta: BundleMeta) -> None:
        """Thread-safe: called by the brain after it committed a bundle."""
        loop = self._loop
        if loop is None or loop.is_closed():
            self.update(meta)
            return
        with contextlib.suppress(RuntimeError):  # the loop is shutting down
            loop.call_soon_threadsafe(self.update, meta)

    def update(self, meta: BundleMeta | None) -> None:
        if meta is None or (self.meta is not None and meta.version <= self.meta.version):
            return
        self.meta = meta
        if self._event is not None:
            self._event.set()
            self._event = asyncio.Event()

    async def wait(self, timeout: float) -> None:
        event = self._event
        if event is None:
            await asyncio.sleep(timeout)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)


# -- body size limit -----------------------------------------------------------------------------


class Guard:
    """413 for a request body over ``limit`` bytes (declared by Content-Length or streamed), and
    a 500 with an error id for anything the app let escape: the server never goes down."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _send_json(send, 400, {"detail": "Content-Length is not a number"})
                    return
                if declared > self.limit:
                    await _send_json(send, 413, {"detail": f"request body of {declared} bytes exceeds the limit of {self.limit}"})
                    return
        seen = 0
        rejected = False
        started = False

        async def limited_receive() -> Message:
            nonlocal seen, rejected
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit and not rejected:
                    rejected = True
                    await _send_json(send, 413, {"detail": f"request body exceeds the limit of {self.limit} bytes"})
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if not rejected:
                started = True
                await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception as exc:
            if rejected:
                return  # the app saw the body end early after the 413 went out: nothing to do
            error_id = os.urandom(6).hex()
            log.error("internal error %s on %s %s", error_id, scope.get("method"), scope.get("path"), exc_info=exc)
            if not started:
                await _send_json(send, 500, {"detail": f"internal error {error_id} (see the brain's log)"})


async def _send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    import orjson

    data = orjson.dumps(body)
    await send(
        {"type": "http.response.start", "status": status,
         "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]}
    )
    await send({"type": "http.response.body", "body": data})


# -- authentication ------------------------------------------------------------------------------


class _Unauthorized(Exception):
    pass


class _Invalid(Exception):
    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("invalid")
        self.errors = errors


def _principal(request: Request, authorization: Annotated[str | None, Header()] = None) -> Principal:
    if not authorization or not authorization.lower().startswith("bearer "):
        raise _Unauthorized("missing 'Authorization: Bearer <token>'")
    brain: Brain = request.app.state.brain
    principal = brain.authenticate(authorization[7:].strip())
    if principal is None:
        raise _Unauthorized("unknown or revoked token")
    return principal


def _admin(principal: Annotated[Principal, Depends(_principal)]) -> Principal:
    if principal.kind != "admin":
        raise Forbidden("sidecar tokens may only push events, send heartbeats, pull bundles and read public keys")
    return principal


Admin = Annotated[Principal, Depends(_admin)]
AnyToken = Annotated[Principal, Depends(_principal)]
ServiceName = Annotated[str, PathParam(pattern=r"^[A-Za-z0-9._:@*-]{1,128}$")]


# -- the application -----------------------------------------------------------------------------


def _errors(exc: ValidationError | RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for e in exc.errors()[:20]:
        out.append({"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")})
    return out


def _invalid_response(errors: list[dict[str, Any]]) -> JSONResponse:
    if any(e["type"] in ("json_invalid", "json_type") for e in errors):
        msg = next(e["msg"] for e in errors if e["type"] in ("json_invalid", "json_type"))
        return JSONResponse({"detail": f"the body is not valid JSON: {msg}"}, status_code=400)
    return JSONResponse({"detail": errors}, status_code=422)


def create_app(brain: Brain, config: ApiConfig | None = None) -> FastAPI:
    cfg = config or ApiConfig()
    watch = BundleWatch(brain.latest_bundle())

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        watch.attach(asyncio.get_running_loop())
        tasks = [asyncio.create_task(_refresh()), asyncio.create_task(_maintain())]
        try:
            yield
        finally:
            watch.detach()
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _refresh() -> None:
        while True:
            await asyncio.sleep(cfg.refresh_interval)
            try:
                watch.update(await run_in_threadpool(brain.latest_bundle))
            except sa.exc.SQLAlchemyError as exc:
                log.warning("cannot read the latest bundle: %s", exc)

    async def _maintain() -> None:
        while True:
            await asyncio.sleep(cfg.maintenance_interval)
            try:
                await run_in_threadpool(brain.maintain)
            except Exception:
                log.exception("maintenance failed")

    app = FastAPI(
        title="Siren brain",
        version="1",
        description="Control plane of the Siren WAF: enrolment, events, rules, patches, signed bundles.",
        lifespan=lifespan,
    )
    app.state.brain = brain
    app.state.watch = watch
    brain.on_publish = watch.published
    app.add_middleware(Guard, limit=cfg.max_body_bytes)

    @app.exception_handler(BrainError)
    async def _brain_error(_request: Request, exc: BrainError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return _invalid_response(_errors(exc))

    @app.exception_handler(sa.exc.OperationalError)
    async def _db_down(_request: Request, exc: sa.exc.OperationalError) -> JSONResponse:
        log.error("database error: %s", exc)
        return JSONResponse({"detail": "the database is unavailable; retry later"}, status_code=503, headers={"Retry-After": "2"})

    @app.exception_handler(_Unauthorized)
    async def _unauthorized(_request: Request, exc: _Unauthorized) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=401, headers={"WWW-Authenticate": "Bearer"})

    # -- routes ---------------------------------------------------------------------------

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, Any]:
        meta = watch.meta
        return {"status": "ok", "bundle_version": meta.version if meta else 0, "database": brain.store.dialect}

    @app.post("/v1/sidecars", status_code=201, tags=["fleet"])
    def enrol(body: EnrolBody, who: Admin) -> dict[str, str]:
        """Enrol a sidecar: returns its token (shown once). Enrolling again revokes older tokens."""
        return {"sidecar_id": body.sidecar_id, "token": brain.enrol(body.sidecar_id, body.service, who.actor)}

    @app.delete("/v1/sidecars/{sidecar_id}", status_code=204, tags=["fleet"])
    def revoke(sidecar_id: str, who: Admin) -> Response:
        brain.revoke(sidecar_id, who.actor)
        return Response(status_code=204)

    @app.post("/v1/heartbeat", tags=["fleet"])
    def heartbeat(body: Heartbeat, who: AnyToken) -> HeartbeatReply:
        return HeartbeatReply(latest_bundle_version=brain.heartbeat(who, body))

    @app.get("/v1/fleet", tags=["fleet"])
    def fleet(_who: Admin) -> dict[str, Any]:
        return brain.fleet()

    @app.post("/v1/events", tags=["events"], response_model=IngestResult, openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": EventBatch.model_json_schema()}}}
    })
    async def post_events(request: Request, who: AnyToken) -> Any:
        """A batch of events; idempotent by ``event_id``; secrets redacted before storing."""
        body = await request.body()
        try:
            batch = EventBatch.model_validate_json(body)
        except ValidationError as exc:
            errors = _errors(exc)
            raise _Invalid(errors) from None
        if len(batch.events) > cfg.max_batch_events:
            return JSONResponse(
                {"detail": f"batch of {len(batch.events)} events exceeds the limit of {cfg.max_batch_events}: split it"},
                status_code=413,
            )
        return await run_in_threadpool(brain.ingest, who, batch.events)

    @app.exception_handler(_Invalid)
    async def _invalid(_request: Request, exc: _Invalid) -> JSONResponse:
        return _invalid_response(exc.errors)

    @app.get("/v1/events", tags=["events"])
    def list_events(
        _who: Admin, service: str | None = None, client: str | None = None, limit: Annotated[int, Query(ge=1, le=1000)] = 100
    ) -> list[dict[str, Any]]:
        return brain.list_events(service=service, client=client, limit=limit)

    @app.get("/v1/events/{event_id}", tags=["events"])
    def get_event(event_id: str, _who: Admin) -> dict[str, Any]:
        return brain.get_event(event_id)

    @app.get("/v1/rules", tags=["rules"])
    def list_rules(_who: Admin) -> list[dict[str, Any]]:
        return brain.list_rules()

    @app.post("/v1/rules", status_code=201, tags=["rules"])
    def create_rule(body: RuleBody, who: Admin) -> dict[str, Any]:
        """A custom rule in the rule schema (``id``, ``category``, ``targets``, ``pattern``, ``match``…),
        for one service or ``*``; its samples must pass."""
        return brain.put_rule(body.service, body.rule, who.actor, replace=False)

    @app.get("/v1/rules/{rule_id}", tags=["rules"])
    def get_rule(rule_id: str, _who: Admin) -> dict[str, Any]:
        return brain.get_rule(rule_id)

    @app.put("/v1/rules/{rule_id}", tags=["rules"])
    def put_rule(rule_id: str, body: RuleBody, who: Admin) -> dict[str, Any]:
        return brain.put_rule(body.service, body.rule, who.actor, replace=True, rule_id=rule_id)

    @app.delete("/v1/rules/{rule_id}", status_code=204, tags=["rules"])
    def delete_rule(rule_id: str, who: Admin) -> Response:
        brain.delete_rule(rule_id, who.actor)
        return Response(status_code=204)

    @app.get("/v1/exclusions", tags=["rules"])
    def list_exclusions(_who: Admin) -> list[dict[str, Any]]:
        return brain.list_exclusions()

    @app.post("/v1/exclusions", status_code=201, tags=["rules"])
    def add_exclusion(body: ExclusionBody, who: Admin) -> dict[str, Any]:
        return brain.add_exclusion(body.service, body.rules, body.targets, body.route_prefix, body.note, who.actor)

    @app.delete("/v1/exclusions/{exclusion_id}", status_code=204, tags=["rules"])
    def delete_exclusion(exclusion_id: int, who: Admin) -> Response:
        brain.delete_exclusion(exclusion_id, who.actor)
        return Response(status_code=204)

    @app.get("/v1/policies", tags=["rules"])
    def list_policies(_who: Admin) -> dict[str, Any]:
        return brain.list_policies()

    @app.put("/v1/policies/{service}", tags=["rules"])
    def put_policy(service: ServiceName, body: PolicyBody, who: Admin) -> dict[str, Any]:
        """The policy of one service (``*``: the default for services without their own)."""
        return brain.put_policy(service, body.model_dump(exclude_unset=True), who.actor)

    @app.delete("/v1/policies/{service}", status_code=204, tags=["rules"])
    def delete_policy(service: str, who: Admin) -> Response:
        brain.delete_policy(service, who.actor)
        return Response(status_code=204)

    @app.get("/v1/reputation", tags=["reputation"])
    def reputation(_who: Admin) -> dict[str, Any]:
        return brain.reputation()

    @app.post("/v1/reputation/blocklist", status_code=201, tags=["reputation"])
    def block(body: BlockBody, who: Admin) -> dict[str, Any]:
        brain.block_client(body.client, body.ttl, body.reason, who.actor)
        return brain.reputation()

    @app.delete("/v1/reputation/blocklist", status_code=204, tags=["reputation"])
    def unblock(client: str, who: Admin) -> Response:
        brain.unblock_client(client, who.actor)
        return Response(status_code=204)

    @app.post("/v1/reputation/allowlist", status_code=201, tags=["reputation"])
    def allow(body: AllowBody, who: Admin) -> dict[str, Any]:
        brain.allow_client(body.client, body.reason, who.actor)
        return brain.reputation()

    @app.delete("/v1/reputation/allowlist", status_code=204, tags=["reputation"])
    def unallow(client: str, who: Admin) -> Response:
        brain.unallow_client(client, who.actor)
        return Response(status_code=204)

    @app.get("/v1/patches", tags=["patches"])
    def list_patches(_who: Admin, status: str | None = None) -> list[dict[str, Any]]:
        return brain.list_patches(status)

    @app.get("/v1/patches/{patch_id}", tags=["patches"])
    def get_patch(patch_id: str, _who: Admin) -> dict[str, Any]:
        return brain.get_patch(patch_id)

    @app.post("/v1/patches/{patch_id}/{decision}", tags=["patches"])
    def decide(patch_id: str, decision: Literal["approve", "reject", "rollback"], body: DecisionBody, who: Admin) -> dict[str, Any]:
        status = {"approve": "approved", "reject": "rejected", "rollback": "rolled_back"}[decision]
        return brain.transition(patch_id, status, who.actor, body.reason)

    @app.post("/v1/reports", status_code=201, tags=["patches"])
    def report(body: ReportBody, who: Admin) -> dict[str, Any]:
        """Report an attack one service saw (an event id, or a target and fragment): the brain
        synthesizes a narrow rule, validates it and proposes it as a patch."""
        return brain.report(
            event_id=body.event_id, service=body.service, target=body.target, fragment=body.fragment, category=body.category,
            view=body.view, reason=body.reason, actor=who.actor,
        )

    @app.get("/v1/emergency", tags=["emergency"])
    def emergencies(_who: Admin) -> list[dict[str, Any]]:
        return brain.emergencies()

    @app.post("/v1/emergency", status_code=201, tags=["emergency"])
    def set_emergency(body: EmergencyBody, who: Admin) -> dict[str, Any]:
        """Put every sidecar (or one service's) in shadow or off, in the next bundle, now."""
        meta = brain.set_emergency(body.scope, body.service, body.mode, body.reason, who.actor)
        return {"bundle_version": meta.version, "emergency": brain.emergencies()}

    @app.delete("/v1/emergency", tags=["emergency"])
    def lift_emergency(who: Admin, scope: Literal["all", "service"] | None = None, service: str | None = None) -> dict[str, Any]:
        """Lift the stop for ``scope=all``, for ``service=name``, or every stop (no parameter)."""
        meta = brain.lift_emergency(scope, service, who.actor)
        return {"bundle_version": meta.version, "emergency": brain.emergencies()}

    @app.get("/v1/keys", tags=["bundles"])
    def keys(_who: AnyToken) -> list[dict[str, Any]]:
        """The signing keys' public halves: any token may read them (sidecars pin them at a first start)."""
        return [
            {"kid": k.kid, "public_key": k.public_key, "status": k.status, "created_at": k.created_at, "retired_at": k.retired_at}
            for k in brain.keys()
        ]

    @app.post("/v1/keys/rotate", status_code=201, tags=["bundles"])
    def rotate(who: Admin) -> dict[str, str]:
        return {"kid": brain.rotate_key(who.actor)}

    @app.delete("/v1/keys/{kid}", tags=["bundles"])
    def retire(kid: str, who: Admin) -> dict[str, Any]:
        info = brain.retire_key(kid, who.actor)
        return {"kid": info.kid, "status": info.status, "retired_at": info.retired_at}

    @app.post("/v1/bundles/publish", tags=["bundles"])
    def publish(who: Admin) -> dict[str, Any]:
        meta = brain.publish(who.actor, "requested")
        return {"version": meta.version, "sha256": meta.sha256}

    @app.get("/v1/bundles/latest", tags=["bundles"], responses={304: {"description": "nothing newer within the timeout"}})
    async def latest(
        _who: AnyToken,
        after: Annotated[int, Query(ge=0)] = 0,
        timeout: Annotated[float, Query(ge=0)] = 30.0,
        if_none_match: Annotated[str | None, Header()] = None,
    ) -> Response:
        """The newest bundle if its version is above ``after`` (and its ETag differs from
        ``If-None-Match``); else waits up to ``timeout`` seconds for one, then 304."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(timeout, cfg.long_poll_max)
        while True:
            meta = watch.meta
            if meta is not None and meta.version > after and meta.etag != if_none_match:
                text = await run_in_threadpool(brain.bundle_text, meta.version)
                if text is not None:
                    return Response(text, media_type="application/json", headers={"ETag": meta.etag, "Cache-Control": "no-cache"})
            remaining = deadline - loop.time()
            if remaining <= 0:
                if meta is None:
                    return Response(status_code=204)
                return Response(status_code=304, headers={"ETag": meta.etag, "Cache-Control": "no-cache"})
            await watch.wait(min(remaining, cfg.refresh_interval * 5))

    @app.get("/v1/bundles/{version}", tags=["bundles"])
    def bundle(version: int, _who: AnyToken) -> Response:
        text = brain.bundle_text(version)
        if text is None:
            return JSONResponse({"detail": f"no bundle {version}"}, status_code=404)
        return Response(text, media_type="application/json")

    @app.get("/v1/settings", tags=["settings"])
    def get_settings(_who: Admin) -> dict[str, Any]:
        return brain.settings().model_dump()

    @app.patch("/v1/settings", tags=["settings"])
    def patch_settings(body: SettingsPatch, who: Admin) -> dict[str, Any]:
        return brain.update_settings(body.model_dump(exclude_none=True), who.actor).model_dump()

    @app.get("/v1/audit", tags=["settings"])
    def audit_log(_who: Admin, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[dict[str, Any]]:
        return brain.audit_log(limit)

    return app

