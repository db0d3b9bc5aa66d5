"""The input rules a caller relies on before anything is sent: required variables,
non-blank idempotency keys, amounts (principal > 0, parts >= 0, filters exempt), the
"exactly one of" and funding-source rules, page bounds at their limits.

Each refusal is checked to have sent nothing (not even a token request); each
acceptance is checked to have reached the server.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest
from fluz_graphql.input_types import (
    OffsetInput,
    PurchaseGiftCardInput,
    TransactionFilterInput,
    TransferInternalBalanceInput,
)

from fluz import FluzClient, ValidationError

from .fakes import FakeFluz, gql, purchase

pytestmark = pytest.mark.anyio

OFFER = uuid.UUID("0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f")
Call = Callable[[FluzClient], Awaitable[Any]]


async def refused(call: Call) -> ValidationError:
    fake = FakeFluz()
    async with fake.client() as fluz:
        with pytest.raises(ValidationError) as caught:
            await call(fluz)
    assert fake.requests == []
    assert caught.value.code == "CLIENT_VALIDATION"  # refused by the client, not by Fluz
    return caught.value


async def test_a_required_variable_given_as_none_is_refused() -> None:
    error = await refused(lambda f: f.reveal_gift_card_by_gift_card_id(gift_card_id=None))
    assert (error.field, error.rule) == ("giftCardId", "required")
    assert error.message == "giftCardId is required"


async def test_an_optional_variable_given_as_none_is_sent_without_it() -> None:
    fake = FakeFluz().on("GetGiftCards", gql({"getGiftCards": []}))
    async with fake.client() as fluz:
        await fluz.get_gift_cards(paginate=None)
    assert len(fake.seen("GetGiftCards")) == 1


async def test_a_blank_idempotency_key_is_refused() -> None:
    transfer = TransferInternalBalanceInput(
        amount=5,
        idempotency_key="   ",
        source_user_cash_balance_id=uuid.uuid4(),
        destination_user_cash_balance_id=uuid.uuid4(),
    )
    error = await refused(lambda f: f.transfer_internal_balance(input=transfer))
    assert (error.field, error.rule) == ("input.idempotency_key", "non_empty")
    assert "must not be blank" in error.message


async def test_a_per_call_key_that_is_not_a_uuid_is_refused_for_a_uuid_keyed_input() -> None:
    order = PurchaseGiftCardInput(offer_id=OFFER, amount=10)
    error = await refused(lambda f: f.purchase_gift_card(input=order, idempotency_key="k-1"))
    assert (error.field, error.rule) == ("idempotency_key", "uuid")
    assert error.operation == "PurchaseGiftCard"
    assert order.idempotency_key is None  # the caller's input is untouched


async def test_an_input_built_without_validation_still_meets_the_money_rule() -> None:
    # model_construct() skips the model's own checks; the call still applies them.
    sneaky = PurchaseGiftCardInput.model_construct(offer_id=OFFER, amount=Decimal("10.005"))
    error = await refused(lambda f: f.purchase_gift_card(input=sneaky))
    assert (error.field, error.rule) == ("input.amount", "max_2_decimals")
    assert error.message.startswith("input.amount ")
    assert "decimal" in error.message


async def test_inputs_in_a_list_variable_are_checked_each_by_its_path() -> None:
    # A document of the caller's own may take a list of inputs.
    many = (
        "mutation Many($items: [PurchaseGiftCardInput!]!) {"
        " purchaseGiftCards(input: $items) { success } }"
    )
    good = PurchaseGiftCardInput(offer_id=OFFER, amount=Decimal("10"))
    sneaky = PurchaseGiftCardInput.model_construct(offer_id=OFFER, amount=Decimal("10.005"))
    error = await refused(lambda f: f.execute(many, "Many", {"items": [good, sneaky]}))
    assert (error.field, error.rule) == ("items[1].amount", "max_2_decimals")


async def test_a_negative_part_of_a_payment_is_refused() -> None:
    bad = PurchaseGiftCardInput(offer_id=OFFER, amount=10, balance_amount=-1)
    error = await refused(lambda f: f.purchase_gift_card(input=bad))
    assert (error.field, error.rule) == ("input.balance_amount", "non_negative")
    assert error.message == "input.balance_amount must not be negative"


async def test_a_zero_amount_names_the_positive_rule() -> None:
    bad = PurchaseGiftCardInput(offer_id=OFFER, amount=0)
    error = await refused(lambda f: f.purchase_gift_card(input=bad))
    assert error.message == "input.amount must be greater than 0"


@pytest.mark.parametrize(
    ("fields", "problem"),
    [({}, "neither given"), ({"merchant_slug": "shop"}, "both given")],
    ids=["neither", "both"],
)
async def test_exactly_one_of_says_which_fields_and_what_was_wrong(
    fields: dict[str, Any], problem: str
) -> None:
    offer = {"offer_id": OFFER} if fields else {}
    bad = PurchaseGiftCardInput(amount=10, **offer, **fields)
    error = await refused(lambda f: f.purchase_gift_card(input=bad))
    assert (error.field, error.rule) == ("input.offer_id", "exactly_one_of")
    assert error.message == (
        f"give exactly one of input.offer_id or input.merchant_slug ({problem})"
    )


async def test_an_empty_string_counts_as_not_given_for_exactly_one_of() -> None:
    fake = FakeFluz().on("PurchaseGiftCard", gql({"purchaseGiftCard": purchase()}))
    async with fake.client() as fluz:
        await fluz.purchase_gift_card(
            input=PurchaseGiftCardInput(offer_id=OFFER, merchant_slug="", amount=10)
        )
    assert len(fake.seen("PurchaseGiftCard")) == 1


async def test_no_funding_source_names_every_source() -> None:
    bad = PurchaseGiftCardInput(offer_id=OFFER, amount=10, default_to_balance=False)
    error = await refused(lambda f: f.purchase_gift_card(input=bad))
    assert error.message == (
        "no funding source: with default_to_balance=False give one of input.balance_amount, "
        "input.bank_account_id, input.bank_card_id, input.paypal_vault_id"
    )


@pytest.mark.parametrize(
    "source",
    [
        {"balance_amount": 0},
        {"bank_account_id": uuid.uuid4()},
        {"bank_card_id": uuid.uuid4()},
        {"paypal_vault_id": uuid.uuid4()},
    ],
    ids=["balance", "bank-account", "bank-card", "paypal"],
)
async def test_any_one_funding_source_is_enough(source: dict[str, Any]) -> None:
    fake = FakeFluz().on("PurchaseGiftCard", gql({"purchaseGiftCard": purchase()}))
    async with fake.client() as fluz:
        await fluz.purchase_gift_card(
            input=PurchaseGiftCardInput(
                offer_id=OFFER, amount=10, default_to_balance=False, **source
            )
        )
    assert len(fake.seen("PurchaseGiftCard")) == 1


async def test_filter_amounts_are_bounds_not_payments_and_may_be_zero_or_negative() -> None:
    fake = FakeFluz().on(
        "GetTransactions",
        gql({"getTransactions": {"totalCount": 0, "hasNextPage": False, "transactions": []}}),
    )
    async with fake.client() as fluz:
        await fluz.get_transactions(
            filter_=TransactionFilterInput(amount=0, final_amount=-5, fee_amount=-1)
        )
    (sent,) = fake.seen("GetTransactions")
    assert sent.variables["filter"]["amount"] == 0
    assert sent.variables["filter"]["finalAmount"] == -5


@pytest.mark.parametrize("limit", [1, 20])
async def test_page_sizes_at_their_bounds_are_accepted(limit: int) -> None:
    fake = FakeFluz().on("GetGiftCards", gql({"getGiftCards": []}))
    async with fake.client() as fluz:
        await fluz.get_gift_cards(paginate=OffsetInput(limit=limit, offset=0))
    assert fake.seen("GetGiftCards")[0].variables["paginate"] == {"limit": limit, "offset": 0}
