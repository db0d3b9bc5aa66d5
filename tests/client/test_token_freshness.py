"""A user token is fresh when it reaches the server, not only when a call picked it.

Both tests run on a fake monotonic clock (the one ``fluz._auth`` and ``fluz._sending``
read), so "the token aged while the call waited" is exact, not a race with real time.
"""

from __future__ import annotations

import json
import time
import types

import anyio
import httpx
import pytest

from fluz import FluzClient
from fluz._transport import RequestSlots

from .fakes import ACCOUNT_ID, API_KEY, URL, USER_ID, FakeFluz, gql, gql_error, wallet

pytestmark = pytest.mark.anyio

LIFETIME = 300.0  # renewed 30 s (the default skew) before it expires


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    shim = types.SimpleNamespace(
        monotonic=fake.monotonic, time=time.time, perf_counter=time.perf_counter
    )
    monkeypatch.setattr("fluz._auth.time", shim)
    monkeypatch.setattr("fluz._sending.time", shim)
    return fake


def client_for(handler: httpx.AsyncBaseTransport) -> FluzClient:
    return FluzClient(
        api_key=API_KEY,
        user_id=USER_ID,
        account_id=ACCOUNT_ID,
        url=URL,
        http_client=httpx.AsyncClient(transport=handler),
    )


async def test_a_token_that_aged_while_queued_for_a_slot_is_renewed_before_sending(
    clock: FakeClock,
) -> None:
    fake = FakeFluz(token_lifetime=LIFETIME)
    release = anyio.Event()
    wallets: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        operation = json.loads(request.content)["operationName"]
        if operation != "GetWallet":
            return fake.token_reply(operation)
        wallets.append(request.headers["authorization"])
        if len(wallets) == 1:
            await release.wait()  # the first call holds the only slot
        return gql({"getWallet": wallet()})

    async with client_for(httpx.MockTransport(handler)) as fluz:
        fluz._slots = RequestSlots(1)
        await fluz.token_info()  # token #1, fresh until 1270
        async with anyio.create_task_group() as tg:
            tg.start_soon(fluz.get_wallet)
            await anyio.wait_all_tasks_blocked()
            tg.start_soon(fluz.get_wallet)  # picks token #1, then queues for the slot
            await anyio.wait_all_tasks_blocked()
            clock.now += LIFETIME - 10  # past its renewal time (not yet expired)
            release.set()

    assert len(fake.issued) == 2
    assert wallets == [f"Bearer {fake.issued[0]}", f"Bearer {fake.issued[1]}"]


async def test_a_replay_after_a_refusal_uses_a_token_that_outlives_the_refused_round_trip(
    clock: FakeClock,
) -> None:
    """The refused request took 500 s; the token another call renewed meanwhile has 80 s
    left: the replay would be refused too, so a new one is obtained."""
    fake = FakeFluz(token_lifetime=LIFETIME)
    first_sent = anyio.Event()
    other_done = anyio.Event()
    wallets: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        operation = json.loads(request.content)["operationName"]
        if operation != "GetWallet":
            return fake.token_reply(operation)
        wallets.append(request.headers["authorization"])
        if len(wallets) == 1:  # sent at 1000 with token #1 ...
            first_sent.set()
            await other_done.wait()
            clock.now = 1500.0  # ... refused at 1500 (expired on the server's clock)
            return gql_error("AUTH-0008", "User access token has expired")
        return gql({"getWallet": wallet()})

    async with client_for(httpx.MockTransport(handler)) as fluz:
        await fluz.token_info()  # token #1 at 1000
        async with anyio.create_task_group() as tg:
            tg.start_soon(fluz.get_wallet)
            await first_sent.wait()
            clock.now = 1280.0  # token #1 due for renewal: the other call renews (#2)
            await fluz.get_wallet()
            other_done.set()

    # #2 (obtained at 1280, expires at 1580) is fresh at 1500 but would not outlive
    # another 500 s round trip; the replay went with #3.
    assert len(fake.issued) == 3
    assert wallets == [
        f"Bearer {fake.issued[0]}",
        f"Bearer {fake.issued[1]}",
        f"Bearer {fake.issued[2]}",
    ]
