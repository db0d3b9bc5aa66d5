"""An input being sent by one call cannot be sent by another at the same time: the second
call is refused before sending, with the field, the key and what to do instead."""

from __future__ import annotations

import uuid

import anyio
import httpx
import pytest
from fluz_graphql.input_types import PurchaseGiftCardInput

from fluz import ConfigurationError, ValidationError

from .fakes import FakeFluz, gql, purchase

pytestmark = pytest.mark.anyio

OFFER = uuid.UUID("0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f")


async def test_an_input_in_flight_is_refused_naming_its_field_and_key() -> None:
    arrived, release = anyio.Event(), anyio.Event()

    async def slow_purchase(request: httpx.Request) -> httpx.Response:
        arrived.set()
        await release.wait()
        return gql({"purchaseGiftCard": purchase()})

    fake = FakeFluz().on("PurchaseGiftCard", slow_purchase)
    order = PurchaseGiftCardInput(offer_id=OFFER, amount=10)
    async with fake.client() as fluz, anyio.create_task_group() as tg:
        tg.start_soon(lambda: fluz.purchase_gift_card(input=order))
        with anyio.fail_after(5):
            await arrived.wait()
        with pytest.raises(ValidationError) as caught:
            await fluz.purchase_gift_card(input=order)
        release.set()
    error = caught.value
    key = str(order.idempotency_key)
    assert (error.field, error.rule, error.code) == (
        "input.idempotencyKey",
        "input_in_flight",
        "CLIENT_VALIDATION",
    )
    assert error.idempotency_key == key
    assert error.operation == "PurchaseGiftCard"
    assert error.message.endswith(
        "Build one input per operation, or pass idempotency_key= per call."
    )
    assert len(fake.seen("PurchaseGiftCard")) == 1


async def test_a_client_without_a_user_refuses_a_user_operation_unsent_with_its_key() -> None:
    fake = FakeFluz()
    order = PurchaseGiftCardInput(offer_id=OFFER, amount=10)
    async with fake.client(user_id=None, account_id=None) as fluz:
        with pytest.raises(ConfigurationError) as caught:
            await fluz.purchase_gift_card(input=order)
    assert caught.value.request_sent is False
    assert caught.value.idempotency_key == str(order.idempotency_key)
    assert fake.requests == []
