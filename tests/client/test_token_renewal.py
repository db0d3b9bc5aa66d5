"""Token renewal under failure: shared outcomes, broken refresh tokens, a bounded cache,
the triggering view's options, out-of-range claims."""

from __future__ import annotations

import uuid
from typing import Any

import anyio
import httpx
import pytest

from fluz import (
    AuthenticationError,
    FluzClient,
    FluzError,
    ResponseDecodeError,
    ServerError,
)
from fluz._auth import MemoryTokenStore, TokenManager, UserToken, make_user_token
from fluz._config import make_identity
from fluz.sandbox import Faults, SandboxServer

from .fakes import FakeFluz, gql, gql_error, make_jwt, merchants_page
from .test_idempotency import purchase_input

pytestmark = pytest.mark.anyio


def sandbox_client(sandbox: SandboxServer, **options: Any) -> FluzClient:
    settings: dict[str, Any] = {
        "api_key": sandbox.api_key,
        "user_id": sandbox.user_id,
        "account_id": sandbox.account_id,
        "url": sandbox.url,
        "retry_base_delay": 0.01,
        "retry_max_delay": 0.02,
        **options,
    }
    return FluzClient(**settings)


async def gather_errors(count: int, call: Any) -> list[BaseException]:
    errors: list[BaseException] = []

    async def one() -> None:
        try:
            await call()
        except FluzError as exc:
            errors.append(exc)

    async with anyio.create_task_group() as tg:
        for _ in range(count):
            tg.start_soon(one)
    return errors


# ------------------------------------------------------------------ 1. shared outcome


@pytest.mark.fluz_sandbox(
    faults=Faults(unavailable_rate=1.0, operations=frozenset({"generateUserAccessToken"}))
)
async def test_ten_callers_during_a_token_outage_send_one_renewals_requests(
    fluz_sandbox: SandboxServer,
) -> None:
    async with sandbox_client(fluz_sandbox, max_retries=2) as fluz:
        errors = await gather_errors(10, fluz.get_wallet)
    assert len(errors) == 10
    assert all(isinstance(e, ServerError) and e.operation == "GetWallet" for e in errors)
    counters = fluz_sandbox.counters()
    assert counters.requests_by_operation["generateUserAccessToken"] == 3  # 1 + max_retries
    assert "getWallet" not in counters.requests_by_operation


async def test_a_refused_api_key_is_tried_once_for_a_hundred_concurrent_callers(
    fluz_sandbox: SandboxServer,
) -> None:
    async with sandbox_client(fluz_sandbox, api_key="revoked-key-0123456789") as fluz:
        errors = await gather_errors(100, fluz.get_wallet)
    assert len(errors) == 100
    assert all(isinstance(e, AuthenticationError) for e in errors)
    assert fluz_sandbox.counters().requests_by_operation["generateUserAccessToken"] == 1


async def test_a_waiter_takes_over_when_the_renewing_caller_is_cancelled() -> None:
    identity = make_identity(str(uuid.uuid4()), str(uuid.uuid4()), None, ["LIST_OFFERS"])
    started = anyio.Event()
    calls = 0

    async def renew(_: UserToken | None) -> UserToken:
        nonlocal calls
        calls += 1
        if calls == 1:
            started.set()
            await anyio.sleep_forever()
        return make_user_token(make_jwt(600), None, 30.0)

    tokens = TokenManager()
    results: list[str] = []

    async def waiter() -> None:
        results.append((await tokens.user_token(identity, renew)).access_token)

    async with anyio.create_task_group() as tg, anyio.create_task_group() as leader:
        leader.start_soon(tokens.user_token, identity, renew)
        await started.wait()
        tg.start_soon(waiter)
        await anyio.sleep(0.01)
        leader.cancel_scope.cancel()
    assert calls == 2
    assert len(results) == 1


# ------------------------------------------------------------------ 2. broken refresh


@pytest.mark.parametrize(
    "broken_refresh",
    [
        gql_error("AR-0001", "refreshToken is invalid"),
        gql({"refreshUserAccessToken": None}),
        gql(
            {
                "refreshUserAccessToken": {
                    "token": None,
                    "accessToken": make_jwt(exp=1e20),
                    "refreshToken": "r",
                    "scopes": [],
                }
            }
        ),
    ],
    ids=["AR-0001", "null-payload", "undecodable-token"],
)
async def test_a_broken_refresh_token_falls_back_to_minting(broken_refresh: httpx.Response) -> None:
    fake = FakeFluz(token_lifetime=0.0)  # every call finds its token due
    fake.on("RefreshUserAccessToken", broken_refresh)
    fake.on("GetMerchants", merchants_page(1))
    async with fake.client() as fluz:
        for _ in range(3):
            await fluz.get_merchants()
    assert len(fake.seen("GenerateUserAccessToken")) == 3
    assert len(fake.seen("GetMerchants")) == 3


async def test_a_refresh_token_is_dropped_when_refresh_and_mint_both_fail() -> None:
    fake = FakeFluz(token_lifetime=0.0)
    fake.on("RefreshUserAccessToken", gql_error("AR-0001", "refreshToken is invalid"))
    fake.on(
        "GenerateUserAccessToken",
        fake.token_reply("GenerateUserAccessToken"),
        gql_error("GE-9999", status=503),
        lambda _: fake.token_reply("GenerateUserAccessToken"),
    )
    fake.on("GetMerchants", merchants_page(1))
    async with fake.client(max_retries=0) as fluz:
        await fluz.get_merchants()
        with pytest.raises(ServerError):
            await fluz.get_merchants()
        await fluz.get_merchants()  # mints: the refused refresh token is not offered again
    assert len(fake.seen("RefreshUserAccessToken")) == 1


async def test_a_token_step_refusing_its_input_is_not_the_callers_validation_error() -> None:
    fake = FakeFluz().on("GenerateUserAccessToken", gql_error("AR-0001", "userId is invalid"))
    async with fake.client() as fluz:
        with pytest.raises(AuthenticationError) as caught:
            await fluz.get_merchants()
    assert caught.value.operation == "GetMerchants"
    assert caught.value.code == "AR-0001"


# ------------------------------------------------------------------ 3. bounded cache


async def test_the_token_cache_keeps_only_the_most_recent_identities() -> None:
    fake = FakeFluz()
    fake.on("GetMerchants", merchants_page(1))
    async with fake.client(token_cache_size=3) as fluz:
        views = [fluz.for_user(str(uuid.uuid4()), str(uuid.uuid4())) for _ in range(5)]
        for view in views:
            await view.get_merchants()
        store = fluz._tokens.store
        assert isinstance(store, MemoryTokenStore)
        assert len(store) == 3
        assert fluz._tokens._flights == {}
        await views[-1].get_merchants()  # still cached
        assert len(fake.seen("GenerateUserAccessToken")) == 5
        await views[0].get_merchants()  # evicted: minted again
        assert len(fake.seen("GenerateUserAccessToken")) == 6


async def test_an_expired_token_without_refresh_token_is_dropped_from_the_cache() -> None:
    store = MemoryTokenStore(max_identities=10)
    identity = make_identity(str(uuid.uuid4()), str(uuid.uuid4()), None, ["LIST_OFFERS"])
    await store.put(identity, make_user_token(make_jwt(-5), None, 30.0))
    assert await store.get(identity) is None
    assert len(store) == 0
    other = make_identity(str(uuid.uuid4()), str(uuid.uuid4()), None, ["LIST_OFFERS"])
    await store.put(identity, make_user_token(make_jwt(-5), None, 30.0))
    await store.put(other, make_user_token(make_jwt(600), None, 30.0))
    assert len(store) == 1  # the expired least-recently-used record went on put


async def test_forget_token_drops_one_identity_only() -> None:
    fake = FakeFluz()
    fake.on("GetMerchants", merchants_page(1))
    async with fake.client() as fluz:
        other = fluz.for_user(str(uuid.uuid4()), str(uuid.uuid4()))
        await fluz.get_merchants()
        await other.get_merchants()
        await other.forget_token()
        await fluz.get_merchants()
        await other.get_merchants()
    assert len(fake.seen("GenerateUserAccessToken")) == 3


async def test_the_same_scopes_in_another_order_share_one_token() -> None:
    fake = FakeFluz()
    fake.on("GetMerchants", merchants_page(1))
    user, account = str(uuid.uuid4()), str(uuid.uuid4())
    async with fake.client() as fluz:
        await fluz.for_user(user, account, scopes=["LIST_OFFERS", "LIST_PAYMENT"]).get_merchants()
        await fluz.for_user(user, account, scopes=["LIST_PAYMENT", "LIST_OFFERS"]).get_merchants()
    assert len(fake.seen("GenerateUserAccessToken")) == 1


def test_a_token_cache_size_below_one_is_a_configuration_error() -> None:
    from fluz import ConfigurationError

    with pytest.raises(ConfigurationError, match="max_identities"):
        FakeFluz().client(token_cache_size=0)


# ------------------------------------------------------------------ 4. the caller's view


async def test_token_calls_use_the_retries_of_the_view_that_needed_them() -> None:
    fake = FakeFluz().on("GenerateUserAccessToken", gql_error("GE-9999", status=503))
    async with fake.client(max_retries=3) as fluz:
        with pytest.raises(ServerError):
            await fluz.with_options(max_retries=0).get_merchants()
    assert len(fake.seen("GenerateUserAccessToken")) == 1


async def test_token_calls_use_the_timeout_of_the_view_that_needed_them() -> None:
    fake = FakeFluz()
    fake.on("GetMerchants", merchants_page(1))
    async with fake.client() as fluz:
        await fluz.with_options(timeout=1.5).get_merchants()
    (mint,) = fake.seen("GenerateUserAccessToken")
    assert mint.request.extensions["timeout"]["read"] == 1.5


async def test_renewal_after_a_rejected_token_fails_naming_the_callers_operation_and_key() -> None:
    fake = FakeFluz(refresh_tokens=False)
    fake.on(
        "GenerateUserAccessToken",
        fake.token_reply("GenerateUserAccessToken"),
        gql_error("GE-9999", status=503),
    )
    fake.on("PurchaseGiftCard", httpx.Response(401))
    request = purchase_input()
    async with fake.client(max_retries=0) as fluz:
        with pytest.raises(ServerError) as caught:
            await fluz.purchase_gift_card(input=request)
    assert caught.value.operation == "PurchaseGiftCard"
    assert caught.value.idempotency_key == str(request.idempotency_key)
    assert isinstance(caught.value.__cause__, ServerError)
    assert caught.value.__cause__.operation == "GenerateUserAccessToken"


# ------------------------------------------------------------------ 5. claims out of range


@pytest.mark.parametrize("exp", [1e20, 1.7e12, float("inf")], ids=["1e20", "ms", "inf"])
async def test_an_out_of_range_exp_claim_is_a_fluz_error(exp: float) -> None:
    fake = FakeFluz()
    token = make_jwt(exp=exp)
    fake.on(
        "GenerateUserAccessToken",
        gql(
            {
                "generateUserAccessToken": {
                    "token": None,
                    "accessToken": token,
                    "refreshToken": None,
                    "scopes": [],
                }
            }
        ),
    )
    async with fake.client() as fluz:
        with pytest.raises(ResponseDecodeError) as caught:
            await fluz.get_merchants()
    assert caught.value.operation == "GetMerchants"
    assert caught.value.request_sent is False
    assert fake.seen("GetMerchants") == []
