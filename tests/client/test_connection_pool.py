"""The client's own pool: calls in flight each get a connection of their own; responses
that set no cookie skip the cookie jar."""

from __future__ import annotations

import http.cookiejar
from typing import Any

import anyio
import httpcore
import httpx
import pytest
from httpcore._async.connection_pool import AsyncPoolRequest

from fluz import FluzClient
from fluz._transport import OwnPool
from fluz.sandbox import Faults, SandboxServer

pytestmark = pytest.mark.anyio

IN_FLIGHT = 40
ROUNDS = 3


def own_pool_client(sandbox: SandboxServer) -> FluzClient:
    """A client of *sandbox* that makes its own connection pool (no http_client given)."""
    return FluzClient(
        api_key=sandbox.api_key,
        user_id=sandbox.user_id,
        account_id=sandbox.account_id,
        url=sandbox.url,
    )


# Each wallet read takes 50 ms on the server, so the calls really are in flight together.
@pytest.mark.fluz_sandbox(faults=Faults(latency=0.05, operations=frozenset({"getWallet"})))
async def test_calls_in_flight_are_never_handed_a_connection_another_call_took(
    fluz_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
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
    async with own_pool_client(fluz_sandbox) as fluz:
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
