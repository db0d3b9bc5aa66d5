"""Idempotency keys: made when missing, kept when given, reused on retries, reported."""

from __future__ import annotations

import uuid

import httpx
import pytest
from fluz_graphql.input_types import (
    AddBankCardInput,
    AddressInput,
    CreateTransferInput,
    PurchaseGiftCardInput,
)

from fluz import FluzTimeoutError, ServerError, TransportError, response_info

from .fakes import FakeFluz, gql, gql_error, purchase

pytestmark = pytest.mark.anyio

OFFER = uuid.UUID("0b8f7d3c-2a4e-4f51-9c1d-7e6a5b4c3d21")


def purchase_input(**extra: object) -> PurchaseGiftCardInput:
    return PurchaseGiftCardInput(offerId=OFFER, amount=25.0, **extra)


def bank_card_input() -> AddBankCardInput:
    return AddBankCardInput(
        cardNumber="4111111111111111",
        expirationMonth="01",
        expirationYear="2030",
        cvv="123",
        cardholderName="A Person",
        billingAddress=AddressInput(
            streetAddressLine1="1 Main St", country="US", city="X", state="NY", postalCode="10001"
        ),
    )


async def test_missing_key_gets_a_uuid4_written_into_the_callers_input() -> None:
    fake = FakeFluz().on("PurchaseGiftCard", gql({"purchaseGiftCard": purchase()}))
    request = purchase_input()
    assert request.idempotency_key is None
    async with fake.client() as fluz:
        result = await fluz.purchase_gift_card(input=request)
    key = request.idempotency_key
    assert isinstance(key, uuid.UUID)
    assert key.version == 4
    # Set, not a default: the caller's own serialisation of the input carries it too.
    assert "idempotency_key" in request.model_fields_set
    assert request.model_dump(mode="json", by_alias=True, exclude_unset=True)[
        "idempotencyKey"
    ] == str(key)
    (sent,) = fake.seen("PurchaseGiftCard")
    assert sent.variables["input"]["idempotencyKey"] == str(key)
    info = response_info(result)
    assert info is not None
    assert info.idempotency_key == str(key)
    assert info.operation == "PurchaseGiftCard"
    assert info.request_id == "rid"


async def test_callers_own_key_is_sent_as_given() -> None:
    fake = FakeFluz().on("PurchaseGiftCard", gql({"purchaseGiftCard": purchase()}))
    mine = uuid.uuid4()
    async with fake.client() as fluz:
        await fluz.purchase_gift_card(input=purchase_input(idempotencyKey=mine))
    assert fake.seen("PurchaseGiftCard")[0].variables["input"]["idempotencyKey"] == str(mine)


async def test_each_new_input_gets_a_new_key() -> None:
    fake = FakeFluz().on("PurchaseGiftCard", gql({"purchaseGiftCard": purchase()}))
    async with fake.client() as fluz:
        await fluz.purchase_gift_card(input=purchase_input())
        await fluz.purchase_gift_card(input=purchase_input())
    keys = {s.variables["input"]["idempotencyKey"] for s in fake.seen("PurchaseGiftCard")}
    assert len(keys) == 2


async def test_every_keyed_input_of_one_call_gets_its_key_after_one_of_the_callers() -> None:
    # A document of the caller's own may carry several inputs: the caller's key on the
    # first does not stop the next from getting one.
    two = (
        "mutation Two($first: PurchaseGiftCardInput!, $second: PurchaseGiftCardInput!) {"
        " a: purchaseGiftCard(input: $first) { success }"
        " b: purchaseGiftCard(input: $second) { success } }"
    )
    fake = FakeFluz().on("Two", gql({"a": {"success": True}, "b": {"success": True}}))
    mine = uuid.uuid4()
    first, second = purchase_input(idempotencyKey=mine), purchase_input()
    async with fake.client() as fluz:
        await fluz.execute(two, "Two", {"first": first, "second": second})
    assert first.idempotency_key == mine
    assert isinstance(second.idempotency_key, uuid.UUID)
    assert second.idempotency_key.version == 4
    sent = fake.seen("Two")[0].variables
    assert sent["second"]["idempotencyKey"] == str(second.idempotency_key)


async def test_string_typed_keys_get_a_uuid_string() -> None:
    fake = FakeFluz().on(
        "CreateTransfer",
        gql(
            {"createTransfer": {"success": True, "message": None, "transferId": str(uuid.uuid4())}}
        ),
    )
    request = CreateTransferInput(amount=5.0)
    async with fake.client() as fluz:
        await fluz.create_transfer(input=request)
    assert isinstance(request.idempotency_key, str)
    assert uuid.UUID(request.idempotency_key).version == 4


async def test_the_same_key_is_reused_on_every_retry() -> None:
    fake = FakeFluz().on(
        "PurchaseGiftCard",
        gql_error("GE-9999", status=503),
        httpx.ReadTimeout("timed out"),
        gql({"purchaseGiftCard": purchase()}),
    )
    async with fake.client(max_retries=2) as fluz:
        result = await fluz.purchase_gift_card(input=purchase_input())
    keys = [s.variables["input"]["idempotencyKey"] for s in fake.seen("PurchaseGiftCard")]
    assert len(keys) == 3
    assert len(set(keys)) == 1
    info = response_info(result)
    assert info is not None
    assert info.attempts == 3
    assert info.idempotency_key == keys[0]


async def test_the_key_is_on_the_error_when_retries_run_out() -> None:
    fake = FakeFluz().on("PurchaseGiftCard", gql_error("GE-9999", status=503))
    request = purchase_input()
    async with fake.client(max_retries=1) as fluz:
        with pytest.raises(ServerError) as caught:
            await fluz.purchase_gift_card(input=request)
    assert caught.value.idempotency_key == str(request.idempotency_key)
    assert str(request.idempotency_key) in str(caught.value)
    assert len(fake.seen("PurchaseGiftCard")) == 2


async def test_retrying_the_same_input_after_a_failure_reuses_its_key() -> None:
    fake = FakeFluz().on(
        "PurchaseGiftCard", gql_error("GE-9999", status=503), gql({"purchaseGiftCard": purchase()})
    )
    request = purchase_input()
    async with fake.client(max_retries=0) as fluz:
        with pytest.raises(ServerError):
            await fluz.purchase_gift_card(input=request)
        await fluz.purchase_gift_card(input=request)  # the caller's own retry
    first, second = fake.seen("PurchaseGiftCard")
    assert first.variables["input"]["idempotencyKey"] == second.variables["input"]["idempotencyKey"]


async def test_a_copy_of_an_input_whose_outcome_is_unknown_reuses_its_key() -> None:
    fake = FakeFluz().on(
        "PurchaseGiftCard", gql_error("GE-9999", status=503), gql({"purchaseGiftCard": purchase()})
    )
    request = purchase_input()
    async with fake.client(max_retries=0) as fluz:
        with pytest.raises(ServerError):
            await fluz.purchase_gift_card(input=request)
        copy = request.model_copy()
        await fluz.purchase_gift_card(input=copy)  # recognised by its key's value
    first, second = fake.seen("PurchaseGiftCard")
    assert first.variables["input"]["idempotencyKey"] == str(request.idempotency_key)
    assert second.variables["input"]["idempotencyKey"] == str(request.idempotency_key)
    assert copy.idempotency_key == request.idempotency_key


@pytest.mark.parametrize(
    "failure",
    [gql_error("GE-9999", status=503), httpx.ReadTimeout("slow"), httpx.Response(502)],
    ids=["503", "read-timeout", "502"],
)
async def test_mutation_without_key_is_not_retried_once_it_may_have_arrived(
    failure: httpx.Response | Exception,
) -> None:
    fake = FakeFluz().on("AddBankCard", failure)
    async with fake.client(max_retries=3) as fluz:
        with pytest.raises((ServerError, FluzTimeoutError)) as caught:
            await fluz.add_bank_card(input=bank_card_input())
    assert len(fake.seen("AddBankCard")) == 1
    assert caught.value.idempotency_key is None
    if isinstance(caught.value, TransportError):
        assert caught.value.request_sent


async def test_a_per_call_key_does_not_make_a_mutation_without_a_key_field_retried() -> None:
    # AddBankCardInput has no idempotencyKey: Fluz never sees the key, so a replay could
    # add the card twice. The call goes as one without a key.
    fake = FakeFluz().on("AddBankCard", gql_error("GE-9999", status=503))
    async with fake.client(max_retries=3) as fluz:
        with pytest.raises(ServerError) as caught:
            await fluz.add_bank_card(input=bank_card_input(), idempotency_key=uuid.uuid4())
    assert len(fake.seen("AddBankCard")) == 1
    assert caught.value.idempotency_key is None


async def test_mutation_without_key_is_retried_after_a_connect_error() -> None:
    bank_card = {
        "bankCardId": str(uuid.uuid4()),
        "ownerAccountId": None,
        "addedUserId": None,
        "cardType": "DEBIT",
        "cardProcessor": "Visa",
        "cardholderName": "A Person",
        "lastFourDigits": "1111",
        "expirationMonth": "01",
        "expirationYear": "2030",
        "cardStatus": "ACTIVE",
        "billingAddressId": None,
        "nickname": None,
        "preferredMerchantCategoryCode": None,
    }
    fake = FakeFluz().on(
        "AddBankCard", httpx.ConnectError("refused"), gql({"addBankCard": bank_card})
    )
    async with fake.client(max_retries=2) as fluz:
        card = await fluz.add_bank_card(input=bank_card_input())
    assert card is not None
    assert card.last_four_digits == "1111"
    assert len(fake.seen("AddBankCard")) == 2


async def test_queries_carry_no_key() -> None:
    fake = FakeFluz().on("GetReferralUrl", gql({"getReferralUrl": "https://fluz.app/r/x"}))
    async with fake.client() as fluz:
        assert await fluz.get_referral_url() == "https://fluz.app/r/x"
    assert "idempotencyKey" not in str(fake.seen("GetReferralUrl")[0].variables)


async def test_the_key_is_on_the_error_when_the_token_call_fails() -> None:
    fake = FakeFluz().on("GenerateUserAccessToken", gql_error("GE-9999", status=503))
    request = purchase_input()
    async with fake.client(max_retries=1) as fluz:
        with pytest.raises(ServerError) as caught:
            await fluz.purchase_gift_card(input=request)
    # The error is about the caller's operation, which was never sent; the token step
    # is its cause.
    assert caught.value.operation == "PurchaseGiftCard"
    assert caught.value.request_sent is False
    assert "PurchaseGiftCard was not sent" in str(caught.value)
    assert isinstance(caught.value.__cause__, ServerError)
    assert caught.value.__cause__.operation == "GenerateUserAccessToken"
    assert caught.value.idempotency_key == str(request.idempotency_key)
    assert fake.seen("PurchaseGiftCard") == []
