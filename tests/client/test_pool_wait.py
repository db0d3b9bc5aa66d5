"""A call's own timeout bounds its wait for a free connection: ``with_options(timeout=
httpx.Timeout(..., pool=...))`` gives up after that pool timeout, whatever the client's."""

from __future__ import annotations

import anyio
import httpx
import pytest

from fluz import FluzClient, FluzTimeoutError
from fluz.sandbox import Faults, SandboxServer

pytestmark = pytest.mark.anyio


# getWallet is held 1 s by the sandbox: long enough, by a factor of 20, that the second
# call's 0.05 s pool timeout fires while the first still holds the only connection.
@pytest.mark.fluz_sandbox(faults=Faults(latency=1.0, operations=frozenset({"getWallet"})))
async def test_a_views_pool_timeout_ends_its_wait_for_the_only_connection(
    fluz_sandbox: SandboxServer,
) -> None:
    async with FluzClient(
        api_key=fluz_sandbox.api_key,
        user_id=fluz_sandbox.user_id,
        account_id=fluz_sandbox.account_id,
        url=fluz_sandbox.url,
        limits=httpx.Limits(max_connections=1),
        timeout=httpx.Timeout(30.0),  # the client's own pool timeout: 30 s
        max_retries=0,
    ) as fluz:
        await fluz.token_info()  # the token first: both calls below only send their own
        impatient = fluz.with_options(timeout=httpx.Timeout(30.0, pool=0.05))
        errors: list[FluzTimeoutError] = []
        first_done = anyio.Event()

        async def first() -> None:
            await fluz.get_wallet()
            first_done.set()

        async with anyio.create_task_group() as tg:
            tg.start_soon(first)
            await anyio.sleep(0.2)  # the first call holds the connection
            try:
                await impatient.get_merchants()
            except FluzTimeoutError as exc:
                errors.append(exc)
                gave_up_while_held = not first_done.is_set()
        (error,) = errors
        assert gave_up_while_held
        assert error.code == "PoolTimeout"
        assert error.request_sent is False
