"""A null where the client declared a value: a ResponseDecodeError that says what to do;
a null anywhere else: the result, so that a completed purchase is never lost over it."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fluz_graphql.fragments import GiftCard, UserPurchase
from fluz_graphql.input_types import PurchaseGiftCardInput

from fluz import ResponseDecodeError, response_info

from .fakes import FakeFluz, gql

pytestmark = pytest.mark.anyio


def purchase_payload(**changes: Any) -> dict[str, Any]:
    """A purchase response object with every selected field present (null by default)."""
    gift_card = {f.alias or n: None for n, f in GiftCard.model_fields.items()}
    gift_card["giftCardId"] = str(uuid.uuid4())
    payload = {f.alias or n: None for n, f in UserPurchase.model_fields.items()}
    payload.update(purchaseId=str(uuid.uuid4()), purchaseAmount=25, giftCard=gift_card)
    payload.update(changes)
    return payload


async def test_a_null_required_field_names_the_field_and_what_reconciles_the_purchase() -> None:
    payload = purchase_payload(giftCard=None)
    fake = FakeFluz().on("PurchaseGiftCard", gql({"purchaseGiftCard": payload}, rid="req-7"))
    request = PurchaseGiftCardInput(merchant_slug="amazon", amount=25)
    async with fake.client() as fluz:
        with pytest.raises(ResponseDecodeError) as caught:
            await fluz.purchase_gift_card(input=request)
    error = caught.value
    assert "purchaseGiftCard.giftCard is null, but the client requires a value" in error.message
    assert "may have been carried out" in error.message
    assert error.request_id == "req-7"
    assert error.idempotency_key == str(request.idempotency_key)
    assert error.ids == {"purchaseGiftCard.purchaseId": payload["purchaseId"]}
    assert error.operation == "PurchaseGiftCard"
    assert error.__context__ is None  # pydantic's error (which may quote values) not chained
    assert len(fake.seen("PurchaseGiftCard")) == 1  # not retried: it was answered


async def test_nulls_in_fields_the_client_does_not_require_keep_the_purchase() -> None:
    payload = purchase_payload(createdAt=None, memo=None, virtualCard=None)
    payload["giftCard"].update(status=None, merchant=None, endDate=None)
    fake = FakeFluz().on("PurchaseGiftCard", gql({"purchaseGiftCard": payload}, rid="req-8"))
    async with fake.client() as fluz:
        purchase = await fluz.purchase_gift_card(
            input=PurchaseGiftCardInput(merchant_slug="amazon", amount=25)
        )
    # Typed without None checks: UUIDs, the gift card, and the response metadata.
    gift_card_id: uuid.UUID = purchase.gift_card.gift_card_id
    purchase_id: uuid.UUID = purchase.purchase_id
    assert (str(purchase_id), str(gift_card_id)) == (
        payload["purchaseId"],
        payload["giftCard"]["giftCardId"],
    )
    assert purchase.gift_card.status is None
    assert response_info(purchase).request_id == "req-8"


async def test_a_query_with_a_null_list_item_names_its_index() -> None:
    fake = FakeFluz().on("GetGiftCards", gql({"getGiftCards": [None]}))
    async with fake.client() as fluz:
        with pytest.raises(ResponseDecodeError, match=r"getGiftCards\.0 is null") as caught:
            await fluz.get_gift_cards()
    assert "may have been carried out" not in caught.value.message  # a query changes nothing


async def test_the_decode_error_quotes_no_secret_of_the_response() -> None:
    canary = "4111111111111111"
    payload = {
        "virtualCardId": None,  # required: the decode fails
        "cardNumber": canary,
        "expiryMMYY": "12/30",
        "cvv": "987",
        "cardHolderName": "A B",
        "billingAddress": None,
    }
    fake = FakeFluz().on(
        "RevealVirtualCardByVirtualCardId",
        gql({"revealVirtualCardByVirtualCardId": payload}),
    )
    async with fake.client() as fluz:
        with pytest.raises(ResponseDecodeError) as caught:
            await fluz.reveal_virtual_card_by_virtual_card_id(virtual_card_id=uuid.uuid4())
    text = f"{caught.value} {caught.value!r} {caught.value.ids}"
    assert "revealVirtualCardByVirtualCardId.virtualCardId is null" in text
    assert canary not in text
    assert "987" not in text
