"""A request refused for its token is replayed once with a token newer than the request:
one that a concurrent call obtained after it was sent is reused, not renewed again."""

from __future__ import annotations

import anyio
import httpx
import pytest

from fluz import FluzTimeoutError

from .fakes import FakeFluz, gql_error, merchants_page

pytestmark = pytest.mark.anyio


async def test_a_call_refused_after_another_renewed_reuses_that_newer_token() -> None:
    fake = FakeFluz()
    both_sent = anyio.Event()
    renewed = anyio.Event()
    first_token: list[str] = []
    arrived = 0

    async def answer(request: httpx.Request) -> httpx.Response:
        nonlocal arrived
        authorization = request.headers["authorization"]
        if not first_token:
            first_token.append(authorization)
        if authorization != first_token[0]:
            return merchants_page(1)
        arrived += 1
        if arrived == 1:  # the first call: refused once both calls are on the wire
            await both_sent.wait()
            return gql_error("AUTH-0008", "token expired")
        both_sent.set()
        # The second call is refused only after the first one renewed the token.
        with anyio.fail_after(5):
            await renewed.wait()
        await anyio.sleep(0.05)  # let the renewing call store the new token
        return gql_error("AUTH-0008", "token expired")

    def renew(request: httpx.Request) -> httpx.Response:
        renewed.set()
        return fake.token_reply("RefreshUserAccessToken")

    fake.on("GetMerchants", answer)
    fake.on("RefreshUserAccessToken", renew)
    async with fake.client() as fluz:
        await fluz.token_info()  # the token both calls are sent with
        async with anyio.create_task_group() as tg:
            tg.start_soon(fluz.get_merchants)
            tg.start_soon(fluz.get_merchants)
    assert len(fake.issued) == 2  # minted, renewed once: the second call reused it
    replays = [s for s in fake.seen("GetMerchants") if s.authorization != first_token[0]]
    assert len(replays) == 2
    assert {s.authorization for s in replays} == {f"Bearer {fake.issued[1]}"}


async def test_a_deadline_passing_during_the_renewal_names_the_refused_request() -> None:
    # The request id of the last answer Fluz gave is what its support can look up.
    async def stuck(request: httpx.Request) -> httpx.Response:
        await anyio.sleep(10)
        raise AssertionError("not reached")

    fake = FakeFluz().on("GetMerchants", gql_error("AUTH-0008", "expired", rid="req-refused"))
    fake.on("RefreshUserAccessToken", stuck)
    async with fake.client(deadline=0.3) as fluz:
        await fluz.token_info()
        with anyio.fail_after(5), pytest.raises(FluzTimeoutError) as caught:
            await fluz.get_merchants()
    assert caught.value.code == "DEADLINE"
    assert caught.value.request_id == "req-refused"
    assert caught.value.request_sent is True
