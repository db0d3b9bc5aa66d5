"""Failures with no response: which error, whether it is retried, and what it means for
the idempotency key of an input sent again."""

from __future__ import annotations

import uuid

import httpx
import pytest
from fluz_graphql.input_types import PurchaseGiftCardInput

from fluz import FluzTimeoutError, TransportError

from .fakes import FakeFluz, gql, purchase

pytestmark = pytest.mark.anyio

OFFER = uuid.UUID("0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f")
CARD = uuid.UUID("7c57c381-4b19-49e4-bbb0-404a45166ee4")


async def test_a_refused_connection_is_a_transport_error_not_a_timeout() -> None:
    fake = FakeFluz().on("GetMerchants", httpx.ConnectError("refused"))
    async with fake.client(max_retries=1) as fluz:
        with pytest.raises(TransportError) as caught:
            await fluz.get_merchants()
    assert not isinstance(caught.value, FluzTimeoutError)
    assert caught.value.message == "ConnectError: refused"
    assert len(fake.seen("GetMerchants")) == 2


async def test_an_unsupported_protocol_is_not_retried_and_ends_a_reveal_at_once() -> None:
    fake = FakeFluz().on("RevealGiftCardByGiftCardId", httpx.UnsupportedProtocol("ftp"))
    async with fake.client(max_retries=3) as fluz:
        with pytest.raises(TransportError) as caught:
            await fluz.reveal_gift_card(CARD, initial_delay=0.001, timeout=5)
    assert caught.value.code == "UnsupportedProtocol"
    assert len(fake.seen("RevealGiftCardByGiftCardId")) == 1


async def test_an_input_whose_request_never_left_gets_a_new_key_when_sent_again() -> None:
    # Nothing reached Fluz, so there is nothing to replay: the next send is a new operation.
    fake = FakeFluz().on(
        "PurchaseGiftCard",
        httpx.ConnectError("refused"),
        gql({"purchaseGiftCard": purchase()}),
    )
    order = PurchaseGiftCardInput(offer_id=OFFER, amount=10)
    async with fake.client(max_retries=0) as fluz:
        with pytest.raises(TransportError) as caught:
            await fluz.purchase_gift_card(input=order)
        assert caught.value.request_sent is False
        first_key = order.idempotency_key
        await fluz.purchase_gift_card(input=order)
    keys = [s.variables["input"]["idempotencyKey"] for s in fake.seen("PurchaseGiftCard")]
    assert keys[0] == str(first_key)
    assert keys[1] != keys[0]
