"""Running a sandbox: ``SandboxServer``, in a background thread or in the foreground.

uvicorn needs asyncio, while our tests (and users') run on asyncio or trio. So the server
always runs its own asyncio loop in a daemon thread; the handle's methods hop onto that
thread to touch state, and are plain (blocking, sub-millisecond) calls usable from sync code
and from any async framework.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import logging
import socket
import threading
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, TypeVar

import anyio.to_thread
import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

# Imported first of our modules: it refuses an incompatible graphql-core with a clear message.
from . import _requirements  # noqa: F401
from ._admin import is_loopback_host
from ._config import (
    ACCEPT_BATCH,
    ADMIN_PATH,
    DEFAULT_HOST,
    GRAPHQL_PATH,
    HEADERS_TIMEOUT,
    KEEP_ALIVE_TIMEOUT,
    LISTEN_BACKLOG,
    MAX_CONNECTIONS,
    MAX_HEADER_BYTES,
    Faults,
    SandboxOptions,
)
from ._core import Sandbox
from ._server import TRANSPORT_EXTENSION, SandboxApp
from ._types import AccountBalances, SandboxCounters, SandboxCredentials, SeedData
from ._webhooks import WebhookControls

T = TypeVar("T")
logger = logging.getLogger("fluz.sandbox")
START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0


class _TransportExposingH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, also handing the connection's transport to the app (in
    ``scope["extensions"]``) so that an injected fault can reset the connection.

    It also bounds what a client can hold, which uvicorn does not: a connection must deliver
    a request's headers within HEADERS_TIMEOUT of connecting or of its previous response (an
    idle or trickling client is closed), and at the connection cap the longest-idle
    connection is closed to make room. (uvicorn's own timeout_keep_alive is re-armed by every
    byte received, so alone it never closes a slow client; bodies: see read_body.)
    """

    _headers_timer: asyncio.TimerHandle | None = None
    _last_active = 0.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._last_active = self.loop.time()
        self._arm_headers_timer()
        self._make_room()
        # asyncio only sets TCP_NODELAY when the listening socket says proto=IPPROTO_TCP,
        # which a socket we bind ourselves does not: without it every response waits ~40 ms
        # (Nagle's algorithm against the client's delayed ACK).
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        app = self.app

        async def app_with_transport(scope: Any, receive: Any, send: Any) -> None:
            scope["extensions"] = {**scope.get("extensions", {}), TRANSPORT_EXTENSION: transport}
            await app(scope, receive, send)

        self.app = app_with_transport

    def data_received(self, data: bytes) -> None:
        self._last_active = self.loop.time()
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:  # a request's headers are in
            self._disarm_headers_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._last_active = self.loop.time()
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self._arm_headers_timer()  # waiting for the next request's headers

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_headers_timer()
        super().connection_lost(exc)

    def _arm_headers_timer(self) -> None:
        self._disarm_headers_timer()
        self._headers_timer = self.loop.call_later(HEADERS_TIMEOUT, self.transport.close)

    def _disarm_headers_timer(self) -> None:
        if self._headers_timer is not None:
            self._headers_timer.cancel()
            self._headers_timer = None

    @property
    def _idle(self) -> bool:
        """No request in progress, and not already being closed."""
        busy = self.cycle is not None and not self.cycle.response_complete
        return not busy and not self.transport.is_closing()

    def _make_room(self) -> None:
        """At the cap, close the longest-idle other connection (if any is idle)."""
        cap = self.config.limit_concurrency
        if cap is None or len(self.connections) < cap:
            return
        idle = [
            c
            for c in self.connections
            if isinstance(c, _TransportExposingH11Protocol) and c is not self and c._idle
        ]
        if idle:
            min(idle, key=lambda c: c._last_active).transport.close()


def connection_cap() -> int:
    """MAX_CONNECTIONS, or half the process's file-descriptor limit if that is lower."""
    try:
        import resource
    except ImportError:  # Windows: no rlimit to respect
        return MAX_CONNECTIONS
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return MAX_CONNECTIONS
    return max(1, min(MAX_CONNECTIONS, soft // 2))


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()
        self.loop: asyncio.AbstractEventLoop | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        # uvicorn's backlog is also how many connections asyncio accepts per wake-up: keep
        # that batch small (ACCEPT_BATCH), so that closing idle connections at the cap
        # (between batches) frees descriptors before the process runs out, while the kernel
        # still queues bursts of hundreds of connections (LISTEN_BACKLOG).
        for sock in sockets or ():
            sock.listen(LISTEN_BACKLOG)
        self.loop = asyncio.get_running_loop()
        self.ready.set()


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback address, IPv4-mapped IPv6 (``::ffff:127.0.0.1``) included."""
    return is_loopback_host(host)


class SandboxServer(WebhookControls):
    """A Fluz-compatible GraphQL server on a real socket, with in-memory seeded state.

    Use it as a context manager, sync or async (asyncio and trio alike)::

        with SandboxServer(token_ttl=5) as sandbox:
            httpx.post(sandbox.url, ...)

        async with SandboxServer(faults=Faults(reset_rate=0.2)) as sandbox:
            ...

    ``port=0`` (the default) picks a free port. A host that is not loopback is refused
    (ValueError) unless ``allow_remote=True``. Keyword options are SandboxOptions fields;
    pass ``options=`` instead to give a whole SandboxOptions.

    The control methods (``reset``, ``configure``, ``set_faults``, ``advance_clock``,
    ``skip_delays``) and the readers (``counters``, ``balances``) run on the server's thread
    and return when done; they raise RuntimeError when the server is not running.
    """

    def __init__(
        self,
        *,
        host: str = DEFAULT_HOST,
        port: int = 0,
        allow_remote: bool = False,
        options: SandboxOptions | None = None,
        **option_fields: Any,
    ) -> None:
        if not allow_remote and not is_loopback(host):
            raise ValueError(
                f"refusing to serve on non-loopback host {host!r} without allow_remote"
            )
        if options is not None and option_fields:
            raise TypeError("pass either options= or option keywords, not both")
        if not is_loopback(host):
            logger.warning(
                "the sandbox will listen on %s, reachable from other machines; its "
                "credentials are public test values (the same on every installation)",
                host,
            )
        self.options = options or SandboxOptions(**option_fields)
        self.host = host
        self._requested_port = port
        self._sandbox: Sandbox | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._failure: BaseException | None = None
        self._credentials: SandboxCredentials | None = None
        self._seed_data: SeedData | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> SandboxServer:
        """Bind, start serving in a background thread, return once requests are answered."""
        if self._thread is not None:
            raise RuntimeError("the sandbox is already running")
        self._socket = bind_socket(self.host, self._requested_port)
        self._sandbox = Sandbox(self.options)
        self._server = _Server(uvicorn_config(SandboxApp(self._sandbox)))
        self._thread = threading.Thread(target=self._serve, name="fluz-sandbox", daemon=True)
        self._thread.start()
        if not self._server.ready.wait(START_TIMEOUT) or self._failure is not None:
            self.stop()
            raise RuntimeError("the sandbox did not start") from self._failure
        self._refresh_identity()
        return self

    def _serve(self) -> None:
        assert self._server is not None
        assert self._socket is not None
        try:
            asyncio.run(self._server.serve(sockets=[self._socket]))
        except BaseException as exc:  # reported by start(); a thread cannot raise to it
            self._failure = exc
            self._server.ready.set()

    def stop(self) -> None:
        """Stop serving and release the port (idempotent)."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(STOP_TIMEOUT)
        if self._socket is not None:
            self._socket.close()
        self._thread = self._server = self._socket = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> SandboxServer:
        # Starting blocks for ~20 ms: keep the caller's event loop free meanwhile.
        return await anyio.to_thread.run_sync(self.start)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await anyio.to_thread.run_sync(self.stop)

    def serve_forever(self, ready: Callable[[SandboxServer], None] | None = None) -> None:
        """Serve in the calling thread until SIGINT/SIGTERM (the CLI); ``ready`` is called
        once the server answers."""
        self._socket = bind_socket(self.host, self._requested_port)
        self._sandbox = Sandbox(self.options)
        server = self._server = _Server(uvicorn_config(SandboxApp(self._sandbox)))
        if ready is not None:
            threading.Thread(target=self._announce, args=(server, ready), daemon=True).start()
        try:
            server.run(sockets=[self._socket])
        finally:
            self._socket.close()

    def _announce(self, server: _Server, ready: Callable[[SandboxServer], None]) -> None:
        if server.ready.wait(START_TIMEOUT):
            self._refresh_identity()
            ready(self)

    # -- addresses and credentials ---------------------------------------------------------

    @property
    def port(self) -> int:
        if self._socket is None:
            raise RuntimeError("the sandbox is not running")
        port: int = self._socket.getsockname()[1]
        return port

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def url(self) -> str:
        """The GraphQL endpoint, ``http://127.0.0.1:<port>/api/v1/graphql``."""
        return self.base_url + GRAPHQL_PATH

    @property
    def admin_url(self) -> str:
        return self.base_url + ADMIN_PATH

    @property
    def credentials(self) -> SandboxCredentials:
        if self._credentials is None:
            raise RuntimeError("the sandbox is not running")
        return self._credentials

    @property
    def seed_data(self) -> SeedData:
        if self._seed_data is None:
            raise RuntimeError("the sandbox is not running")
        return self._seed_data

    @property
    def api_key(self) -> str:
        return self.credentials.api_key

    @property
    def app_id(self) -> str:
        return self.credentials.app_id

    @property
    def user_id(self) -> str:
        return self.credentials.user_id

    @property
    def account_id(self) -> str:
        return self.credentials.account_id

    @property
    def seat_id(self) -> str:
        return self.credentials.seat_id

    def _refresh_identity(self) -> None:
        self._credentials, self._seed_data = self._call(
            lambda sandbox: (sandbox.credentials(), sandbox.seed_data())
        )

    # -- controls (run on the server thread) -----------------------------------------------

    def _call(self, action: Callable[[Sandbox], T]) -> T:
        server, sandbox = self._server, self._sandbox
        if server is None or server.loop is None or sandbox is None or not server.started:
            raise RuntimeError("the sandbox is not running")
        if threading.current_thread() is self._thread:
            return action(sandbox)
        done: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            try:
                done.set_result(action(sandbox))
            except BaseException as exc:
                done.set_exception(exc)

        server.loop.call_soon_threadsafe(run)
        return done.result(STOP_TIMEOUT)

    def reset(self, seed: int | None = None) -> None:
        """Back to the starting state, options and faults (a fresh world from ``seed`` if
        given); counters, idempotency keys and refresh tokens are cleared, the clock is
        un-advanced. Cheap (about a millisecond): call it between tests."""
        self._call(lambda sandbox: sandbox.reset(seed))
        self._refresh_identity()

    def configure(self, **changes: Any) -> None:
        """Change runtime options (SandboxOptions fields but seed); ValueError if unknown."""
        self._call(lambda sandbox: sandbox.configure(**changes))

    def set_faults(self, faults: Faults | None = None, **fields: Any) -> None:
        """Replace the faults: a Faults, or its fields as keywords."""
        chosen = faults if faults is not None else Faults(**fields)
        if faults is not None and fields:
            chosen = dataclasses.replace(faults, **fields)
        self._call(lambda sandbox: sandbox.set_faults(chosen))

    def clear_faults(self) -> None:
        self.set_faults(Faults())

    def advance_clock(self, seconds: float) -> None:
        """Move sandbox time forward (expire tokens, pass reveal and issuer delays)."""
        self._call(lambda sandbox: sandbox.advance_clock(seconds))

    def skip_delays(self) -> None:
        """Make every pending gift card revealable and bulk order complete, now."""
        self._call(lambda sandbox: sandbox.skip_delays())

    def add_gift_cards(
        self, reveal_delays: Sequence[float], merchant_slug: str = "starbucks"
    ) -> dict[str, float]:
        """Seed one gift card per delay on the sandbox user's account, revealable that many
        seconds from now, without a purchase (for load tests of reveal polling). Returns
        ``{gift card id: ready time on the sandbox clock}``; ValueError if an input is bad."""
        delays = list(reveal_delays)
        return self._call(lambda sandbox: sandbox.add_gift_cards(delays, merchant_slug))

    def counters(self) -> SandboxCounters:
        return self._call(lambda sandbox: sandbox.counters_snapshot())

    def balances(self, account_id: str | None = None) -> AccountBalances:
        """Balances of an account (the sandbox user's by default); KeyError if unknown."""
        return self._call(lambda sandbox: sandbox.balances(account_id))

    def __repr__(self) -> str:
        where = self.url if self._socket is not None else "stopped"
        return f"<SandboxServer {where}>"


def bind_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, backlog=LISTEN_BACKLOG)


def uvicorn_config(app: SandboxApp) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        http=_TransportExposingH11Protocol,
        lifespan="off",
        log_config=None,  # never reconfigure the host process's logging
        access_log=False,
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=2,
        timeout_keep_alive=KEEP_ALIVE_TIMEOUT,
        limit_concurrency=connection_cap(),
        backlog=ACCEPT_BATCH,
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
    )
