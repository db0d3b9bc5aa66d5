"""FluzClient against the sandbox over real loopback HTTP: the main flows end to end."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from typing import Any

import anyio
import pytest
from fluz_graphql.enums import UACRoleType
from fluz_graphql.input_types import (
    AddBankCardInput,
    AddressInput,
    CreateVirtualCardBulkOrderInput,
    CreateVirtualCardBulkOrderItemInput,
    GetOfferQuoteInput,
    OffsetInput,
    PurchaseGiftCardInput,
)

from fluz import (
    AuthenticationError,
    ConflictError,
    FluzClient,
    PermissionDeniedError,
    PollProgress,
    ServerError,
    TransportError,
    ValidationError,
    response_info,
)
from fluz._auth import MemoryTokenStore
from fluz.sandbox import Faults, SandboxServer

pytestmark = pytest.mark.anyio

FAST_RETRIES: dict[str, Any] = {"retry_base_delay": 0.005, "retry_max_delay": 0.02}


def client_for(sandbox: SandboxServer, **options: Any) -> FluzClient:
    identity = {
        "api_key": sandbox.api_key,
        "user_id": sandbox.user_id,
        "account_id": sandbox.account_id,
        "seat_id": sandbox.seat_id,
        "url": sandbox.url,
    }
    return FluzClient(**{**identity, **FAST_RETRIES, **options})


@pytest.fixture
async def fluz(fluz_sandbox: SandboxServer) -> AsyncIterator[FluzClient]:
    async with client_for(fluz_sandbox) as client:
        yield client


async def first_offer(fluz: FluzClient) -> tuple[str, uuid.UUID]:
    merchants = await fluz.get_merchants(paginate=OffsetInput(limit=5))
    assert merchants
    for merchant in merchants:
        if merchant and merchant.offers and merchant.offers[0] and merchant.offers[0].offer_id:
            return merchant.slug or "", merchant.offers[0].offer_id
    raise AssertionError("no merchant with an offer in the seeded catalog")


@pytest.mark.fluz_sandbox(reveal_delay=0.2)
async def test_quote_purchase_and_reveal(fluz_sandbox: SandboxServer, fluz: FluzClient) -> None:
    assert await fluz.marco() == "polo"
    slug, _ = await first_offer(fluz)
    quote = await fluz.get_offer_quote(input=GetOfferQuoteInput(merchantSlug=slug, denomination=25))
    assert quote is not None
    assert quote.offer_id is not None
    request = PurchaseGiftCardInput(offerId=quote.offer_id, amount=25)
    purchase = await fluz.purchase_gift_card(input=request)
    assert purchase is not None
    assert purchase.gift_card is not None
    assert purchase.gift_card.gift_card_id is not None
    info = response_info(purchase)
    assert info is not None
    assert info.request_id
    assert info.idempotency_key == str(request.idempotency_key)

    progress: list[PollProgress] = []
    details = await fluz.reveal_gift_card(
        purchase.gift_card.gift_card_id, initial_delay=0.05, on_progress=progress.append
    )
    assert details.code or details.pin or details.url
    assert details.attempts >= 2  # not ready at once with a 0.2 s reveal delay
    assert progress[-1].done
    assert [p.next_delay for p in progress[:2]] == [0.05, 0.1]
    counters = fluz_sandbox.counters()
    assert counters.purchases == 1
    assert counters.tokens_minted == 1
    assert counters.reveal_polls[str(purchase.gift_card.gift_card_id)] == details.attempts


@pytest.mark.fluz_sandbox(
    faults=Faults(drop_after_commit_rate=1.0, limit=1, operations=frozenset({"purchaseGiftCard"}))
)
async def test_lost_response_after_commit_is_retried_without_charging_twice(
    fluz_sandbox: SandboxServer, fluz: FluzClient
) -> None:
    before = fluz_sandbox.balances()
    slug, _ = await first_offer(fluz)
    purchase = await fluz.purchase_gift_card(
        input=PurchaseGiftCardInput(merchantSlug=slug, amount=10)
    )
    assert purchase is not None
    info = response_info(purchase)
    assert info is not None
    assert info.attempts == 2
    counters = fluz_sandbox.counters()
    assert counters.faults["drop_after_commit"] == 1
    assert counters.requests_by_operation["purchaseGiftCard"] == 2
    assert counters.purchases == 1
    after = fluz_sandbox.balances()
    spent = (before.gift_card + before.cash_total) - (after.gift_card + after.cash_total)
    assert spent == Decimal("10.00")


@pytest.mark.fluz_sandbox(
    faults=Faults(drop_after_commit_rate=1.0, limit=1, operations=frozenset({"addBankCard"}))
)
async def test_mutation_without_key_is_not_replayed_after_a_lost_response(
    fluz_sandbox: SandboxServer, fluz: FluzClient
) -> None:
    card = AddBankCardInput(
        cardNumber="4242424242424242",
        expirationMonth="01",
        expirationYear="2031",
        cvv="123",
        cardholderName="Test Person",
        billingAddress=AddressInput(
            streetAddressLine1="1 Main St",
            country="US",
            city="Austin",
            state="TX",
            postalCode="73301",
        ),
    )
    with pytest.raises(TransportError) as caught:
        await fluz.add_bank_card(input=card)
    assert caught.value.request_sent
    assert fluz_sandbox.counters().requests_by_operation["addBankCard"] == 1


@pytest.mark.fluz_sandbox(
    faults=Faults(
        unavailable_rate=0.5, rate_limited_rate=0.3, retry_after=0.01, reset_rate=0.2, limit=2
    )
)
async def test_transient_failures_are_ridden_out(
    fluz_sandbox: SandboxServer, fluz: FluzClient
) -> None:
    wallet = await fluz.get_wallet()
    assert wallet is not None
    counters = fluz_sandbox.counters()
    assert sum(counters.faults.values()) == 2
    assert counters.requests == 4  # token + wallet, each possibly hit by a fault


@pytest.mark.fluz_sandbox(faults=Faults(unavailable_rate=1.0, operations=frozenset({"getWallet"})))
async def test_persistent_outage_ends_in_server_error(
    fluz_sandbox: SandboxServer, fluz: FluzClient
) -> None:
    with pytest.raises(ServerError) as caught:
        await fluz.get_wallet()
    assert caught.value.code == "GE-9999"
    assert caught.value.request_id
    assert fluz_sandbox.counters().requests_by_operation["getWallet"] == 3  # 1 + 2 retries


@pytest.mark.fluz_sandbox(token_ttl=1.0)
async def test_concurrent_calls_across_an_expiry_share_one_renewal(
    fluz_sandbox: SandboxServer, fluz: FluzClient
) -> None:
    # (1,000 concurrent calls: test_auth.py, in-process; here 100 over real HTTP.)
    await fluz.get_wallet()  # a 1 s token: the client renews it after at most 1 s
    await anyio.sleep(1.05)
    fluz_sandbox.configure(token_ttl=600)  # the renewed token outlives the burst
    async with anyio.create_task_group() as tg:
        for _ in range(100):
            tg.start_soon(partial(fluz.get_user_cash_balances, paginate=OffsetInput(limit=1)))
    counters = fluz_sandbox.counters()
    assert counters.tokens_minted == 2  # the first token and exactly one renewal...
    assert counters.token_refreshes == 1  # ...with the refresh token
    assert counters.requests_by_operation["getUserCashBalances"] == 100  # none rejected


@pytest.mark.fluz_sandbox(token_ttl=1.0)
async def test_calls_rejected_for_an_expired_token_share_one_renewal_and_replay(
    fluz_sandbox: SandboxServer, fluz: FluzClient
) -> None:
    await fluz.get_wallet()
    # Blind the client to `exp` (as with a skewed clock) so that the server is the one to
    # find the token expired: the AUTH-0008 path.
    store = fluz._tokens.store
    assert isinstance(store, MemoryTokenStore)
    ((identity, record),) = store._records.items()
    store._records[identity] = dataclasses.replace(record, refresh_at=None)
    await anyio.sleep(2.05)  # exp = ceil(issued + 1 s) has passed
    fluz_sandbox.configure(token_ttl=600)
    async with anyio.create_task_group() as tg:
        for _ in range(100):
            tg.start_soon(fluz.get_wallet)
    counters = fluz_sandbox.counters()
    assert counters.tokens_minted == 2
    assert counters.token_refreshes == 1
    assert counters.requests_by_operation["getWallet"] == 201  # 1 + 100 rejected + 100 replays


async def test_token_info_describes_the_token_later_calls_reuse(
    fluz_sandbox: SandboxServer, fluz: FluzClient
) -> None:
    info = await fluz.token_info()
    assert info.renewals == 1
    assert info.refreshable
    assert "PURCHASE_GIFTCARD" in info.scopes
    assert info.expires_at is not None
    assert 0 < (info.expires_at - datetime.now(UTC)).total_seconds() <= 601  # whole seconds
    await fluz.get_wallet()
    assert (await fluz.token_info()).renewals == 1
    assert fluz_sandbox.counters().tokens_minted == 1
    assert "eyJ" not in repr(info)


async def test_missing_scope_is_permission_denied(fluz_sandbox: SandboxServer) -> None:
    async with client_for(fluz_sandbox, scopes=["LIST_OFFERS"]) as fluz:
        with pytest.raises(PermissionDeniedError) as caught:
            await fluz.get_wallet()
    assert "LIST_PAYMENT" in caught.value.message
    assert fluz_sandbox.counters().tokens_minted == 1  # no pointless renewal


async def test_wrong_api_key_is_an_authentication_error_not_a_loop(
    fluz_sandbox: SandboxServer,
) -> None:
    async with client_for(fluz_sandbox, api_key="d3Jvbmc6a2V5") as fluz:
        with pytest.raises(AuthenticationError) as caught:
            await fluz.get_wallet()
        assert caught.value.status_code == 401
        with pytest.raises(AuthenticationError):
            await fluz.get_application_users()
    assert fluz_sandbox.counters().requests == 2


async def test_idempotency_key_reused_with_other_input_is_a_conflict(fluz: FluzClient) -> None:
    slug, _ = await first_offer(fluz)
    key = uuid.uuid4()
    await fluz.purchase_gift_card(
        input=PurchaseGiftCardInput(merchantSlug=slug, amount=10, idempotencyKey=key)
    )
    replay = await fluz.purchase_gift_card(
        input=PurchaseGiftCardInput(merchantSlug=slug, amount=10, idempotencyKey=key)
    )
    assert replay is not None
    with pytest.raises(ConflictError) as caught:
        await fluz.purchase_gift_card(
            input=PurchaseGiftCardInput(merchantSlug=slug, amount=11, idempotencyKey=key)
        )
    assert caught.value.idempotency_key == str(key)


async def test_server_side_validation_and_payload_failures(fluz_sandbox: SandboxServer) -> None:
    async with client_for(fluz_sandbox, scopes=["MANAGE_SUBUSERS", "PURCHASE_GIFTCARD"]) as fluz:
        with pytest.raises(ValidationError) as caught:
            await fluz.purchase_gift_card(
                input=PurchaseGiftCardInput(offerId=uuid.uuid4(), amount=10)
            )
        assert caught.value.code == "AR-0001"
        with pytest.raises(ValidationError) as payload:
            await fluz.remove_authorized_user(auth_user_id=uuid.uuid4())
        assert payload.value.code == "AR-0001"
        raw = fluz.with_options(raise_on_payload_errors=False)
        result = await raw.remove_authorized_user(auth_user_id=uuid.uuid4())
        assert result is not None
        assert result.success is False
        added = await fluz.add_authorized_user(roles=[UACRoleType.VIEWER], email="v@example.com")
        assert added is not None
        assert added.success is True


async def test_pagination_walks_the_whole_catalog(fluz: FluzClient) -> None:
    slugs = [m.slug async for m in fluz.iter_merchants(page_size=7)]
    assert len(slugs) == len(set(slugs)) > 7
    everything = [m.slug async for m in fluz.iter_merchants()]
    assert everything == slugs


async def test_bulk_virtual_card_order_is_awaited(fluz_sandbox: SandboxServer) -> None:
    fluz_sandbox.configure(issuer_delay=0.1)
    async with client_for(fluz_sandbox, scopes=["CREATE_VIRTUALCARD"]) as fluz:
        offers = await fluz.get_virtual_card_offers()
        assert offers
        assert offers[0] is not None
        order = await fluz.create_virtual_card_bulk_order(
            input=CreateVirtualCardBulkOrderInput(
                offerId=uuid.UUID(str(offers[0].offer_id)),
                orderItems=[CreateVirtualCardBulkOrderItemInput(quantity=2, spendLimit=20)],
            )
        )
        assert order is not None
        assert order.order_id
        status = await fluz.wait_for_virtual_card_bulk_order(order.order_id, initial_delay=0.02)
    assert status.order_status.value == "COMPLETED"
