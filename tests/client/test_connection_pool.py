"""The client's own pool: calls in flight each get a connection of their own; responses
that set no cookie skip the cookie jar; a transport given to it is used, and closed."""

from __future__ import annotations

import http.cookiejar
from typing import Any

import anyio
import httpcore
import httpx
import pytest
from httpcore._async.connection_pool import AsyncPoolRequest

from fluz import ConfigurationError, FluzClient
from fluz._transport import OwnPool
from fluz.sandbox import Faults, SandboxServer

from .fakes import ACCOUNT_ID, API_KEY, URL, USER_ID, FakeFluz, gql, wallet

pytestmark = pytest.mark.anyio

IN_FLIGHT = 40
ROUNDS = 3


def own_pool_client(
    sandbox: SandboxServer, transport: httpx.AsyncBaseTransport | None = None
) -> FluzClient:
    """A client of *sandbox* that makes its own connection pool (no http_client given)."""
    return FluzClient(
        api_key=sandbox.api_key,
        user_id=sandbox.user_id,
        account_id=sandbox.account_id,
        url=sandbox.url,
        transport=transport,
    )


# Each wallet read takes 50 ms on the server, so the calls really are in flight together.
@pytest.mark.fluz_sandbox(faults=Faults(latency=0.05, operations=frozenset({"getWallet"})))
@pytest.mark.parametrize("given_transport", [False, True], ids=["default", "given"])
async def test_calls_in_flight_are_never_handed_a_connection_another_call_took(
    fluz_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch, given_transport: bool
) -> None:
    """httpcore 1.0's pool hands an idle connection to every request arriving before the
    first one starts using it; all but one then find it busy and queue again (a herd
    that cut throughput and made latencies of seconds, which let 2-second tokens expire
    in flight). The client lets one request at a time into the pool until it owns a
    connection."""
    taken_by_another = 0
    opened = 0
    clear = AsyncPoolRequest.clear_connection
    create = httpcore.AsyncConnectionPool.create_connection

    def counting_clear(request: AsyncPoolRequest) -> None:
        nonlocal taken_by_another
        taken_by_another += 1
        clear(request)

    def counting_create(pool: httpcore.AsyncConnectionPool, origin: Any) -> Any:
        nonlocal opened
        opened += 1
        return create(pool, origin)

    monkeypatch.setattr(AsyncPoolRequest, "clear_connection", counting_clear)
    monkeypatch.setattr(httpcore.AsyncConnectionPool, "create_connection", counting_create)
    # The pool keeps what the transport is told to keep (httpx's default: 20 connections).
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    transport = httpx.AsyncHTTPTransport(limits=limits) if given_transport else None
    async with own_pool_client(fluz_sandbox, transport) as fluz:
        await fluz.token_info()
        for _ in range(ROUNDS):
            async with anyio.create_task_group() as tg:
                for _ in range(IN_FLIGHT):
                    tg.start_soon(fluz.get_wallet)

    assert taken_by_another == 0
    # Connections are kept alive, not closed and reopened round after round (httpcore
    # closed idle ones whenever it held more than max_keepalive_connections of any state).
    assert opened <= IN_FLIGHT + 1


async def test_own_pool_reads_no_cookies_from_responses_that_set_none(
    fluz_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Fluz API sets no cookies; httpx would still hand every response to
    http.cookiejar (a tenth of a call). The client's own pool skips that."""
    handed_to_cookiejar = 0
    extract = http.cookiejar.CookieJar.extract_cookies

    def counting_extract(jar: http.cookiejar.CookieJar, response: Any, request: Any) -> None:
        nonlocal handed_to_cookiejar
        handed_to_cookiejar += 1
        extract(jar, response, request)

    monkeypatch.setattr(http.cookiejar.CookieJar, "extract_cookies", counting_extract)
    async with own_pool_client(fluz_sandbox) as fluz:
        await fluz.get_wallet()
        await fluz.get_wallet()

    assert handed_to_cookiejar == 0


@pytest.mark.parametrize("pool_class", [httpx.AsyncClient, OwnPool])
async def test_own_pool_keeps_and_sends_back_cookies_a_server_sets(
    pool_class: type[httpx.AsyncClient],
) -> None:
    """A cookie a server does set (a load balancer's affinity cookie, say) is kept and sent
    back as plain httpx does, alongside the pool's own cookies. MockTransport: the sandbox
    sets no cookies."""
    seen: list[str | None] = []

    def respond(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("cookie"))
        headers = {"set-cookie": "affinity=node-2; Path=/"} if len(seen) == 1 else {}
        return httpx.Response(200, json={"data": {}}, headers=headers)

    async with pool_class(transport=httpx.MockTransport(respond), cookies={"pool": "p"}) as pool:
        for _ in range(3):
            await pool.post("https://api.example.test/graphql", content=b"{}")
        assert pool.cookies["affinity"] == "node-2"

    assert seen == ["pool=p", "pool=p; affinity=node-2", "pool=p; affinity=node-2"]


# ------------------------------------------------------------------ a transport of the user's


class CountingTransport(httpx.AsyncHTTPTransport):
    def __init__(self) -> None:
        super().__init__()
        self.requests: list[str] = []
        self.closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request.url.path)
        return await super().handle_async_request(request)

    async def aclose(self) -> None:
        self.closed = True
        await super().aclose()


async def test_own_pool_sends_through_a_given_transport_and_closes_it(
    fluz_sandbox: SandboxServer,
) -> None:
    transport = CountingTransport()
    async with own_pool_client(fluz_sandbox, transport) as fluz:
        await fluz.get_wallet()
        await fluz.get_wallet()
        assert not transport.closed

    # The token's mint, then the two calls: every request went through it.
    assert transport.requests == [httpx.URL(fluz_sandbox.url).path] * 3
    assert transport.closed


async def test_calls_through_a_transport_without_httpcore_are_in_flight_together() -> None:
    """The entry lock that keeps calls from sharing a connection is released by httpcore's
    trace events; a transport that sends none (MockTransport, ASGITransport) must not get
    it, or it would hold every call behind the one being answered."""
    fake = FakeFluz().on("GetWallet", gql({"getWallet": wallet()}))
    together = 5
    inside = 0
    all_inside = anyio.Event()

    async def answer(request: httpx.Request) -> httpx.Response:
        nonlocal inside
        if b"GetWallet" in request.content:
            inside += 1
            if inside == together:
                all_inside.set()
            await all_inside.wait()
        return fake(request)

    async with FluzClient(
        api_key=API_KEY,
        user_id=USER_ID,
        account_id=ACCOUNT_ID,
        url=URL,
        transport=httpx.MockTransport(answer),
    ) as fluz:
        await fluz.token_info()
        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                for _ in range(together):
                    tg.start_soon(fluz.get_wallet)

    assert inside == together


def test_a_transport_is_refused_beside_a_pool_of_the_users_or_limits() -> None:
    """Either would silently drop it: a pool the user passes has its own transport, and
    httpx gives limits only to the default transport it makes."""
    with pytest.raises(ConfigurationError, match="your http_client"):
        FluzClient(
            api_key=API_KEY,
            http_client=httpx.AsyncClient(),
            transport=httpx.MockTransport(lambda r: httpx.Response(200)),
        )
    with pytest.raises(ConfigurationError, match=r"AsyncHTTPTransport\(limits=...\)"):
        FluzClient(
            api_key=API_KEY,
            transport=httpx.MockTransport(lambda r: httpx.Response(200)),
            limits=httpx.Limits(max_connections=5),
        )
