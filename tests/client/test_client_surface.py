"""What FluzClient is made of and exposes: generated methods never replace helpers, an
unclosed client warns, token requests never queue behind the calls they unblock."""

from __future__ import annotations

import gc
import json
import uuid
import warnings

import anyio
import httpx
import pytest

from fluz import FluzClient
from fluz._client import _install_operations
from fluz._transport import RequestSlots

from .fakes import ACCOUNT_ID, API_KEY, URL, USER_ID, FakeFluz, gql, make_jwt, wallet

pytestmark = pytest.mark.anyio


def test_a_generated_operation_named_like_a_helper_fails_at_class_creation() -> None:
    class Generated:
        async def reveal_gift_card(self) -> None:  # as if queries/ gained revealGiftCard
            """generated"""

    with pytest.raises(TypeError, match="reveal_gift_card"):
        _install_operations(FluzClient, Generated)
    assert FluzClient.reveal_gift_card.__module__ == "fluz._client"  # left as it was


def test_every_hand_written_helper_survived_the_wrapping() -> None:
    for name in ("reveal_gift_card", "purchase_and_reveal", "paginate", "iter_merchants"):
        assert getattr(FluzClient, name).__module__ == "fluz._client", name


async def test_an_unclosed_client_that_was_used_warns() -> None:
    fake = FakeFluz().on("GetWallet", gql({"getWallet": wallet()}))
    client = FluzClient(
        api_key=API_KEY,
        user_id=USER_ID,
        account_id=ACCOUNT_ID,
        url=URL,
        limits=httpx.Limits(max_connections=5),
    )
    client._http = httpx.AsyncClient(transport=httpx.MockTransport(fake))
    await client.get_wallet()
    await client._http.aclose()  # the pool itself, so that only FluzClient's warning is tested
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        del client
        gc.collect()
    assert any(
        issubclass(w.category, ResourceWarning) and "Unclosed FluzClient" in str(w.message)
        for w in caught
    )


async def test_a_closed_client_and_its_views_do_not_warn() -> None:
    fake = FakeFluz().on("GetWallet", gql({"getWallet": wallet()}))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        async with FluzClient(
            api_key=API_KEY, user_id=USER_ID, account_id=ACCOUNT_ID, url=URL
        ) as client:
            await client._http.aclose()
            client._http = httpx.AsyncClient(transport=httpx.MockTransport(fake))
            view = client.with_options(max_retries=0)
            await view.get_wallet()
            del view
        del client
        gc.collect()


async def test_token_renewals_do_not_queue_behind_the_calls_waiting_for_them() -> None:
    release = anyio.Event()
    minted = anyio.Event()
    mints = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal mints
        operation = json.loads(request.content)["operationName"]
        if operation == "GenerateUserAccessToken":
            mints += 1
            if mints == 2:  # the other identity's
                minted.set()
            token = {"token": None, "accessToken": make_jwt(), "refreshToken": None, "scopes": []}
            return gql({"generateUserAccessToken": token})
        await release.wait()
        return gql({"getWallet": wallet()})

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    async with FluzClient(
        api_key=API_KEY, user_id=USER_ID, account_id=ACCOUNT_ID, url=URL, http_client=http
    ) as fluz:
        fluz._slots = RequestSlots(1)  # one request at a time
        await fluz.token_info()
        other = fluz.for_user(str(uuid.uuid4()), str(uuid.uuid4()))
        async with anyio.create_task_group() as tg:
            tg.start_soon(fluz.get_wallet)  # holds the only slot until released
            await anyio.sleep(0.01)
            tg.start_soon(other.get_wallet)  # needs a token first
            with anyio.fail_after(2):
                await minted.wait()  # the mint went through while the slot was held
            release.set()
    await http.aclose()
