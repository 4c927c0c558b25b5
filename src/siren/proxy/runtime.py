"""Running the sidecar: a :class:`Worker` is one uvloop event loop serving the data port (proxy or
authz) and the admin port; :func:`run` starts one in-process, or a small supervisor that forks
``--workers N`` of them on shared listening sockets and restarts any that dies.

Lifecycle: SIGTERM/SIGINT drain (stop accepting, close idle connections, let in-flight requests
finish for up to ``timeouts.drain``, then cut the rest); SIGHUP reloads the configuration file
(engines are rebuilt off the event loop and swapped in: open connections carry on, their next
request sees the new policy; a bad file is logged and counted, and the old configuration stays).
"""

from __future__ import annotations

import asyncio
import functools
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import uvloop

from siren.engine import Engine, Limits, Policy
from siren.errors import SirenError
from siren.proxy.admin import AdminServer
from siren.proxy.authz import AuthzHandler
from siren.proxy.config import Address, ProxyConfig, load_config
from siren.proxy.events import EventSink, QueueSink
from siren.proxy.forward import ProxyHandler
from siren.proxy.inspection import Inspector
from siren.proxy.log import configure_logging, get_logger
from siren.proxy.metrics import MetricsExporter, Stats
from siren.proxy.server import ClientConnection, Handler, ServerContext
from siren.proxy.upstream import UpstreamPool

if TYPE_CHECKING:
    from siren.proxy.link import BrainLink


def base_engine(config: ProxyConfig, paranoia: int) -> Engine:
    """The configuration's rules and detectors compiled up to ``paranoia``."""
    return Engine.create(
        policy=Policy(paranoia=paranoia),
        rule_paths=[Path(p) for p in config.rules],
        builtin=config.builtin,
        classifier=config.classifier,
        limits=Limits(body_bytes=max(config.limits.body_inspect_bytes, 1)),
    )


def build_engines(config: ProxyConfig) -> dict[str, Engine]:
    """One engine per service, sharing one compiled ruleset and its detectors."""
    base = base_engine(config, max(s.policy.max_paranoia for s in config.services))
    return {s.name: Engine(base.ruleset, s.policy, base.limits, base.detectors) for s in config.services}


_WARM = """
import sys
from pathlib import Path
from siren.engine import Engine, Policy
Engine.create(policy=Policy(paranoia=int(sys.argv[1])), rule_paths=[Path(p) for p in sys.argv[3:]], builtin=sys.argv[2] == "1",
              classifier=False)
"""


def warm_rule_cache(config: ProxyConfig) -> None:
    """Compile the rule database in a child process, so that the worker only loads it from the
    on-disk cache: hyperscan's compiler peaks at hundreds of MB that the allocator never returns,
    which would stay in the sidecar's RSS for its whole life. A failure here is left for the
    worker's own build to report."""
    paranoia = max(s.policy.max_paranoia for s in config.services)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    subprocess.run(
        [sys.executable, "-c", _WARM, str(paranoia), "1" if config.builtin else "0", *config.rules],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=3600, check=False,
    )


def build_engines_isolated(config: ProxyConfig) -> dict[str, Engine]:
    """:func:`build_engines` after :func:`warm_rule_cache`: what a running sidecar uses."""
    warm_rule_cache(config)
    return build_engines(config)


@dataclass
class Launch:
    """How to (re)build a worker's configuration: the file and the command-line overrides."""

    kind: str = "proxy"
    """``proxy`` or ``authz``."""
    overrides: Mapping[str, Any] = field(default_factory=dict)
    authz: Mapping[str, str] = field(default_factory=dict)
    """``uri_header``, ``method_header``, ``path_prefix`` for :class:`AuthzHandler`."""

    def load(self, path: str | None) -> ProxyConfig:
        return load_config(path, self.overrides, require_upstream=self.kind == "proxy")


class Worker:
    def __init__(
        self,
        config: ProxyConfig,
        launch: Launch | None = None,
        *,
        listen_sock: socket.socket | None = None,
        admin_sock: socket.socket | None = None,
        worker_index: int = 0,
        shared_dir: str = "",
        engines: dict[str, Engine] | None = None,
        build: Callable[[ProxyConfig], dict[str, Engine]] = build_engines_isolated,
        sink: EventSink | None = None,
    ) -> None:
        self.config = config
        self.launch = launch or Launch()
        self.listen_sock = listen_sock
        self.admin_sock = admin_sock
        self.worker_index = worker_index
        self.stats = Stats()
        self.exporter = MetricsExporter(self.stats, shared_dir=shared_dir, worker=worker_index)
        self.log = get_logger(worker=worker_index, kind=self.launch.kind)
        self.link: BrainLink | None = None
        """The brain's client (``config.brain``): events out, bundles in, heartbeats."""
        if config.brain is not None and sink is None:
            from siren.proxy.link import BrainLink, bridge_logging

            bridge_logging(self.log, config.log_level)
            self.link = BrainLink(
                config.brain, self.stats, self.log, self.swap_engines, build_base=base_engine, queue=config.event_queue
            )
            sink = self.link.sink if config.event_queue else None
        self.sink: EventSink | None = sink or (QueueSink(config.event_queue) if config.event_queue else None)
        """Where events go: a bounded queue by default; the brain's shipper with ``config.brain``."""
        self.engines = engines
        """The engines in force (with a brain: the bundle's, layered over ``base_engines``)."""
        self.base_engines = engines
        """The engines the configuration alone builds."""
        self.build = build
        """Builds the engines for a configuration (at start, unless given, and on every reload)."""
        self.pools: dict[str, UpstreamPool] = {}
        self.ctx: ServerContext | None = None
        self.server: asyncio.AbstractServer | None = None
        self.admin: asyncio.AbstractServer | None = None
        self.listen_address: Address | None = None
        self.admin_address: Address | None = None
        self.stopping = False
        self._stopped: asyncio.Event | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- building -----------------------------------------------------------------------------

    def _handler(self, config: ProxyConfig, engines: dict[str, Engine], loop: asyncio.AbstractEventLoop) -> Handler:
        inspector = Inspector(engines, self.stats, self.sink, self.log)
        if self.launch.kind == "authz":
            return AuthzHandler(config, inspector, self.stats, self.log, **self.launch.authz)
        pools: dict[str, UpstreamPool] = {}
        for service in config.services:
            if service.upstream is None:
                raise SirenError(f"service {service.name!r} has no upstream")
            old = self.pools.get(service.name)
            if old is not None and old.address == service.upstream and not old.closed:
                old.max_idle, old.idle_timeout = config.pool_max_idle, config.pool_idle_timeout
                old.connect_timeout, old.read_timeout = config.timeouts.upstream_connect, config.timeouts.upstream_read
                pools[service.name] = old
                continue
            pools[service.name] = UpstreamPool(
                service.upstream, loop, max_idle=config.pool_max_idle, idle_timeout=config.pool_idle_timeout,
                connect_timeout=config.timeouts.upstream_connect, read_timeout=config.timeouts.upstream_read,
                latency=self.stats.upstream,
            )
        for name, pool in self.pools.items():
            if pools.get(name) is not pool:
                pool.close()
        self.pools = pools
        return ProxyHandler(config, inspector, pools, self.stats, self.log)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        engines = self.engines if self.engines is not None else self.build(self.config)
        self.engines = self.base_engines = engines
        handler = self._handler(self.config, engines, loop)
        self.ctx = ServerContext(self.config, self.stats, self.log, handler, loop)
        ctx = self.ctx
        if self.link is not None:  # the last good bundle is in force before the first request
            self.link.rebase(self.config, engines)
            self.link.load_last_good()
        if self.listen_sock is not None:
            self.server = await loop.create_server(lambda: ClientConnection(ctx), sock=self.listen_sock, backlog=4096)
        else:
            self.server = await loop.create_server(
                lambda: ClientConnection(ctx), self.config.listen.host, self.config.listen.port, backlog=4096, reuse_address=True
            )
        self.listen_address = _bound(self.server)
        if self.config.admin is not None or self.admin_sock is not None:
            admin = AdminServer(self.ready, self.exporter.render)
            if self.admin_sock is not None:
                self.admin = await asyncio.start_server(admin.handle, sock=self.admin_sock)
            else:
                assert self.config.admin is not None
                self.admin = await asyncio.start_server(admin.handle, self.config.admin.host, self.config.admin.port, reuse_address=True)
            self.admin_address = _bound(self.admin)
        self._spawn(self._sweep())
        if self.link is not None:
            self.link.start()
        self.log.info(
            "listening", listen=str(self.listen_address), admin=str(self.admin_address) if self.admin_address else None,
            upstreams={s.name: str(s.upstream) for s in self.config.services if s.upstream}, pid=os.getpid(),
            modes={s.name: s.policy.mode for s in self.config.services},
        )

    def swap_engines(self, engines: dict[str, Engine]) -> None:
        """Put new engines in force (a bundle from the brain): one assignment on the event loop,
        so each request is inspected wholly by the old engines or wholly by the new ones."""
        self.engines = engines
        handler = self.ctx.handler if self.ctx is not None else None
        inspector = getattr(handler, "inspector", None)
        if isinstance(inspector, Inspector):
            inspector.engines = engines

    def ready(self) -> bool:
        return self.ctx is not None and not self.stopping

    async def serve(self, *, install_signals: bool = False) -> None:
        await self.start()
        if install_signals:
            loop = asyncio.get_running_loop()
            loop.add_signal_handler(signal.SIGTERM, self.request_stop)
            loop.add_signal_handler(signal.SIGINT, self.request_stop)
            loop.add_signal_handler(signal.SIGHUP, self.request_reload)
        assert self._stopped is not None
        await self._stopped.wait()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- the sweep: timeouts and periodic bookkeeping -------------------------------------------

    async def _sweep(self) -> None:
        t = self.config.timeouts
        tick = min(1.0, max(0.05, min(t.header, t.body, t.idle, t.upstream_read, self.config.pool_idle_timeout) / 4))
        loop = asyncio.get_running_loop()
        last_snapshot = 0.0
        while not (self._stopped and self._stopped.is_set()):
            await asyncio.sleep(tick)
            now = loop.time()
            ctx = self.ctx
            assert ctx is not None
            for conn in list(ctx.connections):
                conn.check_timeouts(now)
            for pool in list(self.pools.values()):
                pool.check_timeouts(now)
            if self.sink is not None:
                self.stats.event_queue_depth = self.sink.depth
                self.stats.events_dropped = self.sink.dropped
            if self.link is not None:
                self.link.export()
            if now - last_snapshot >= 1.0:
                last_snapshot = now
                try:
                    self.exporter.write_snapshot()
                except OSError as exc:
                    self.log.warning("metrics_snapshot_failed", error=str(exc))

    # -- reload and stop ----------------------------------------------------------------------

    def request_reload(self) -> None:
        self._spawn(self.reload())

    async def reload(self) -> bool:
        loop = asyncio.get_running_loop()
        source = self.config.source
        try:
            config = await loop.run_in_executor(None, functools.partial(self.launch.load, source or None))
            base = await loop.run_in_executor(None, self.build, config)
            engines = base
            if self.link is not None:  # the bundle in force, layered over the new configuration
                version, engines = await loop.run_in_executor(None, self.link.layered, config, base)
                if version != self.link.sync.version:  # a bundle arrived meanwhile
                    version, engines = self.link.layered(config, base)
            handler = self._handler(config, engines, loop)
        except Exception as exc:  # noqa: BLE001 - a bad reload keeps the old configuration serving
            self.stats.inc("config_reloads", ("failed",))
            self.log.error("reload_failed", source=source or None, error=str(exc))
            return False
        if (
            config.listen != self.config.listen or config.admin != self.config.admin or config.workers != self.config.workers
            or config.brain != self.config.brain
        ):
            self.log.warning("reload_partial", message="listen, admin, workers and brain changes take effect on restart")
        assert self.ctx is not None
        if isinstance(self.sink, QueueSink) and config.event_queue:
            self.sink.maxsize = config.event_queue
        self.config = config
        self.engines = engines
        self.base_engines = base
        if self.link is not None:
            self.link.rebase(config, base)
        self.ctx.set_config(config)
        self.ctx.handler = handler
        self.stats.inc("config_reloads", ("ok",))
        self.log.info("reloaded", source=source or None, modes={s.name: s.policy.mode for s in config.services})
        return True

    def request_stop(self) -> None:
        self._spawn(self.stop())

    async def stop(self) -> None:
        if self.stopping:
            return
        self.stopping = True
        ctx = self.ctx
        assert ctx is not None
        ctx.draining = True
        self.log.info("draining", connections=len(ctx.connections), in_flight=self.stats.in_flight)
        if self.server is not None:
            self.server.close()
        for conn in list(ctx.connections):
            conn.drain()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.timeouts.drain
        while ctx.connections and loop.time() < deadline:
            await asyncio.sleep(0.02)
        left = len(ctx.connections)
        for conn in list(ctx.connections):
            conn.abort()
        for pool in self.pools.values():
            pool.close()
        if self.link is not None:  # after the drain: the last requests' events go too (bounded)
            await self.link.stop()
        if self.admin is not None:
            self.admin.close()
        self.log.info("stopped", cut_connections=left)
        try:
            self.exporter.write_snapshot()
        except OSError:
            pass
        current = asyncio.current_task()
        for task in list(self._tasks):
            if task is not current:
                task.cancel()
        assert self._stopped is not None
        self._stopped.set()


def _bound(server: asyncio.AbstractServer) -> Address:
    sockets = getattr(server, "sockets", None) or []
    name = sockets[0].getsockname()
    return Address(str(name[0]), int(name[1]))


def _listening_socket(address: Address) -> socket.socket:
    family = socket.AF_INET6 if ":" in address.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((address.host, address.port))
    sock.listen(4096)
    sock.setblocking(False)
    return sock


def run_worker(config: ProxyConfig, launch: Launch, **kwargs: Any) -> int:
    configure_logging(config.log_level)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        worker = Worker(config, launch, **kwargs)
        runner.run(worker.serve(install_signals=True))
    return 0


def run(config: ProxyConfig, launch: Launch) -> int:
    """Serve until SIGTERM/SIGINT: in this process, or with ``config.workers`` forked workers."""
    if config.workers <= 1:
        return run_worker(config, launch)
    return _supervise(config, launch)


def _supervise(config: ProxyConfig, launch: Launch) -> int:
    configure_logging(config.log_level)
    log = get_logger(kind=launch.kind, role="supervisor")
    listen_sock = _listening_socket(config.listen)
    admin_sock = _listening_socket(config.admin) if config.admin is not None else None
    shared_dir = tempfile.mkdtemp(prefix="siren-metrics-")
    signals = {signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGCHLD}
    old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, signals)
    children: dict[int, int] = {}
    stopping = False

    def spawn(index: int) -> None:
        pid = os.fork()
        if pid == 0:  # the worker
            code = 1
            try:
                signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
                code = run_worker(
                    config, launch, listen_sock=listen_sock, admin_sock=admin_sock, worker_index=index, shared_dir=shared_dir
                )
            except BaseException as exc:  # noqa: BLE001 - report and leave: the supervisor restarts us
                print(f"siren worker {index} failed: {exc!r}", file=sys.stderr)
            finally:
                os._exit(code)
        children[pid] = index

    try:
        for index in range(config.workers):
            spawn(index)
        name = listen_sock.getsockname()
        log.info("supervising", workers=config.workers, pids=sorted(children), listen=str(Address(str(name[0]), int(name[1]))))
        deadline = 0.0
        while children:
            if stopping:
                info = signal.sigtimedwait(signals, 0.5)
                if info is None:
                    if time.monotonic() > deadline:
                        for pid in children:
                            os.kill(pid, signal.SIGKILL)
                    continue
            else:
                info = signal.sigwaitinfo(signals)
            signo = info.si_signo
            if signo in (signal.SIGTERM, signal.SIGINT) and not stopping:
                stopping = True
                deadline = time.monotonic() + config.timeouts.drain + 5
                for pid in children:
                    os.kill(pid, signal.SIGTERM)
            elif signo == signal.SIGHUP:
                for pid in children:
                    os.kill(pid, signal.SIGHUP)
            elif signo == signal.SIGCHLD:
                while True:
                    try:
                        pid, status = os.waitpid(-1, os.WNOHANG)
                    except ChildProcessError:
                        break
                    if pid == 0:
                        break
                    index = children.pop(pid, -1)
                    if index >= 0 and not stopping:
                        log.error("worker_died", worker=index, pid=pid, status=status)
                        spawn(index)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
        listen_sock.close()
        if admin_sock is not None:
            admin_sock.close()
        shutil.rmtree(shared_dir, ignore_errors=True)
    log.info("stopped")
    return 0
