"""Calls in flight over the client's own pool each get a connection of their own."""

from __future__ import annotations

from typing import Any

import anyio
import httpcore
import pytest
from httpcore._async.connection_pool import AsyncPoolRequest

from fluz import FluzClient
from fluz.sandbox import Faults, SandboxServer

pytestmark = pytest.mark.anyio

IN_FLIGHT = 40
ROUNDS = 3


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
    async with FluzClient(
        api_key=fluz_sandbox.api_key,
        user_id=fluz_sandbox.user_id,
        account_id=fluz_sandbox.account_id,
        url=fluz_sandbox.url,
    ) as fluz:
        await fluz.token_info()
        for _ in range(ROUNDS):
            async with anyio.create_task_group() as tg:
                for _ in range(IN_FLIGHT):
                    tg.start_soon(fluz.get_wallet)

    assert taken_by_another == 0
    # Connections are kept alive, not closed and reopened round after round (httpcore
    # closed idle ones whenever it held more than max_keepalive_connections of any state).
    assert opened <= IN_FLIGHT + 1
