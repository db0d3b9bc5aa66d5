"""Polling through transient failures, exact poll counts, and a charged purchase that
came back without its gift card."""

from __future__ import annotations

import httpx
import pytest
from fluz_graphql.input_types import PurchaseGiftCardInput

from fluz import (
    NotFoundError,
    ResponseDecodeError,
    RevealTimeoutError,
    ServerError,
)
from fluz.sandbox import Faults, SandboxServer

from .fakes import FakeFluz, gql, gql_error, purchase
from .test_integration_sandbox import client_for, first_offer
from .test_reveal import CARD, FAST, NOT_READY, READY, bulk_status

pytestmark = pytest.mark.anyio


async def test_the_reveal_keeps_polling_through_transient_failures() -> None:
    fake = FakeFluz().on(
        "RevealGiftCardByGiftCardId",
        NOT_READY,
        gql_error("GE-9999", status=503),
        httpx.ReadTimeout("slow"),
        gql_error("RL-0001", status=429),
        READY,
    )
    async with fake.client(max_retries=0) as fluz:
        details = await fluz.reveal_gift_card(CARD, **FAST)
    assert details.code == "9877890000000000"
    assert details.attempts == 5


async def test_a_permanent_error_still_ends_the_reveal_at_once() -> None:
    fake = FakeFluz().on(
        "RevealGiftCardByGiftCardId",
        gql_error("GE-9999", status=503),
        gql_error("RC-0001", "no such card"),
        READY,
    )
    async with fake.client(max_retries=0) as fluz:
        with pytest.raises(NotFoundError):
            await fluz.reveal_gift_card(CARD, **FAST)
    assert len(fake.seen("RevealGiftCardByGiftCardId")) == 2


async def test_a_reveal_timing_out_after_a_transient_failure_names_it_as_cause() -> None:
    fake = FakeFluz().on("RevealGiftCardByGiftCardId", gql_error("GE-9999", status=503))
    async with fake.client(max_retries=0) as fluz:
        with pytest.raises(RevealTimeoutError) as caught:
            await fluz.reveal_gift_card(CARD, initial_delay=0.005, timeout=0.05)
    assert isinstance(caught.value.__cause__, ServerError)
    assert caught.value.attempts == len(fake.seen("RevealGiftCardByGiftCardId"))


async def test_a_bulk_order_wait_keeps_polling_through_transient_failures() -> None:
    fake = FakeFluz().on(
        "GetVirtualCardBulkOrderStatus",
        bulk_status("PENDING"),
        gql_error("GE-9999", status=503),
        httpx.ConnectError("refused"),
        bulk_status("COMPLETED"),
    )
    async with fake.client(max_retries=0) as fluz:
        status = await fluz.wait_for_virtual_card_bulk_order("b3JkZXI=", **FAST)
    assert status.order_status is not None
    assert len(fake.seen("GetVirtualCardBulkOrderStatus")) == 4


async def test_a_charged_purchase_without_its_gift_card_raises_with_the_purchase() -> None:
    # The gift card of a gift-card purchase is @required (queries/), so the purchase call
    # itself raises; what the caller needs to reconcile (the purchase id, the key) is on it.
    bought = purchase()
    bought["giftCard"] = None
    fake = FakeFluz().on("PurchaseGiftCard", gql({"purchaseGiftCard": bought}))
    request = PurchaseGiftCardInput(merchant_slug="shop", amount=25)
    async with fake.client() as fluz:
        with pytest.raises(ResponseDecodeError) as caught:
            await fluz.purchase_and_reveal(request)
    assert caught.value.ids["purchaseGiftCard.purchaseId"] == bought["purchaseId"]
    assert caught.value.idempotency_key == str(request.idempotency_key)
    assert "may have been carried out" in str(caught.value)
    assert fake.seen("RevealGiftCardByGiftCardId") == []


@pytest.mark.fluz_sandbox(
    reveal_delay=60,
    faults=Faults(latency=0.05, operations=frozenset({"revealGiftCardByGiftCardId"})),
)
async def test_reveal_attempts_equal_the_polls_the_server_saw(
    fluz_sandbox: SandboxServer,
) -> None:
    async with client_for(fluz_sandbox) as fluz:
        slug, _ = await first_offer(fluz)
        bought = await fluz.purchase_gift_card(
            input=PurchaseGiftCardInput(merchantSlug=slug, amount=10)
        )
        assert bought is not None
        assert bought.gift_card is not None
        card = bought.gift_card.gift_card_id
        assert card is not None
        with pytest.raises(RevealTimeoutError) as caught:
            # Polls at 0, 0.1, 0.3 and the last one at the deadline, 0.35.
            await fluz.reveal_gift_card(card, initial_delay=0.1, timeout=0.35)
    assert caught.value.attempts == fluz_sandbox.counters().reveal_polls[str(card)]
    assert caught.value.attempts >= 3


async def test_transport_errors_that_never_sent_anything_are_transient_too() -> None:
    fake = FakeFluz().on(
        "RevealGiftCardByGiftCardId", httpx.ConnectError("refused"), NOT_READY, READY
    )
    async with fake.client(max_retries=0) as fluz:
        details = await fluz.reveal_gift_card(CARD, **FAST)
    assert details.attempts == 3
