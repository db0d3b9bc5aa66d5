"""Typed errors: server codes, HTTP statuses, payload failures, undecodable responses and
client-side validation before sending."""

from __future__ import annotations

import contextlib
import math
import re
import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fluz_graphql.enums import UACRoleType
from fluz_graphql.fragments import GiftCard, UserPurchase
from fluz_graphql.input_types import (
    CreateVirtualCardBulkOrderInput,
    CreateVirtualCardBulkOrderItemInput,
    GetOfferQuoteInput,
    OffsetInput,
    PurchaseGiftCardInput,
    TransactionFilterInput,
    UserLookupInput,
)

from fluz import (
    APIError,
    AuthenticationError,
    ConflictError,
    FluzError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ResponseDecodeError,
    ServerError,
    ValidationError,
)

from .fakes import FakeFluz, gql, gql_error

pytestmark = pytest.mark.anyio

OFFER = uuid.UUID("0b8f7d3c-2a4e-4f51-9c1d-7e6a5b4c3d21")


@pytest.mark.parametrize(
    ("reply", "expected", "code"),
    [
        (gql_error("RC-0001", "No recipient found"), NotFoundError, "RC-0001"),
        (gql_error("AR-0001", "amount must be positive"), ValidationError, "AR-0001"),
        (gql_error("IDEM-0001", "key reused with other input"), ConflictError, "IDEM-0001"),
        (
            gql_error("AUTH-0001", "not permitted for this portal"),
            PermissionDeniedError,
            "AUTH-0001",
        ),
        (
            gql_error("AUTH-0002", "Incorrect auth details.", status=401),
            AuthenticationError,
            "AUTH-0002",
        ),
        (gql_error("VC-0020", "address pending", addressId="a-1"), APIError, "VC-0020"),
        (httpx.Response(403, text="Forbidden"), PermissionDeniedError, None),
        (httpx.Response(404, text="Not Found"), APIError, None),  # a wrong URL, not an id
        (httpx.Response(409, text="Conflict"), ConflictError, None),
        (
            gql_error("RL-0001", status=429, headers={"Retry-After": "3"}),
            RateLimitedError,
            "RL-0001",
        ),
        (httpx.Response(502, text="<html>Bad Gateway</html>"), ServerError, None),
    ],
)
async def test_failures_become_typed_errors(
    reply: httpx.Response, expected: type[FluzError], code: str | None
) -> None:
    fake = FakeFluz().on("LookupUser", reply)
    async with fake.client(max_retries=0) as fluz:
        with pytest.raises(expected) as caught:
            await fluz.lookup_user(input=UserLookupInput(email="a@example.com"))
    error = caught.value
    assert error.code == code
    assert error.operation == "LookupUser"
    assert error.status_code == reply.status_code
    if code is not None:
        assert error.request_id == "rid"
        assert error.message
        assert error.message in str(error)


async def test_extensions_stay_reachable() -> None:
    fake = FakeFluz().on("LookupUser", gql_error("VC-0020", "pending", addressId="addr-1"))
    async with fake.client() as fluz:
        with pytest.raises(APIError) as caught:
            await fluz.lookup_user(input=UserLookupInput(email="a@example.com"))
    assert caught.value.extensions["addressId"] == "addr-1"


PAYLOAD_FAILURE = {
    "addAuthorizedUser": {
        "success": False,
        "authUserId": None,
        "roles": None,
        "status": None,
        "pendingActionId": None,
        "error": {"code": "AR-0001", "message": "email or phone is required"},
    }
}


async def test_payload_failures_raise_by_default() -> None:
    fake = FakeFluz().on("AddAuthorizedUser", gql(PAYLOAD_FAILURE, rid="req-9"))
    async with fake.client() as fluz:
        with pytest.raises(ValidationError) as caught:
            await fluz.add_authorized_user(roles=[UACRoleType.ADMIN], email="a@example.com")
    assert caught.value.code == "AR-0001"
    assert caught.value.message == "email or phone is required"
    assert caught.value.request_id == "req-9"


async def test_raw_view_returns_payload_failures_as_generated() -> None:
    fake = FakeFluz().on("AddAuthorizedUser", gql(PAYLOAD_FAILURE))
    async with fake.client() as fluz:
        raw = fluz.with_options(raise_on_payload_errors=False)
        result = await raw.add_authorized_user(roles=[UACRoleType.ADMIN], email="a@example.com")
    assert result is not None
    assert result.success is False
    assert result.error is not None
    assert result.error.code == "AR-0001"


@pytest.mark.parametrize(
    "reply",
    [
        httpx.Response(200, text="not json at all"),
        httpx.Response(200, json=["a", "list"]),
        httpx.Response(200, json={"data": {"lookupUser": {"recipientId": "not-a-uuid"}}}),
        httpx.Response(200, json={"data": {"lookupUser": {"recipientId": 5, "displayName": []}}}),
        httpx.Response(200, json={"data": None}),
    ],
    ids=["text", "list", "bad-uuid", "wrong-types", "null-data"],
)
async def test_undecodable_responses_raise_response_decode_error(reply: httpx.Response) -> None:
    fake = FakeFluz().on("LookupUser", reply)
    async with fake.client(max_retries=0) as fluz:
        with pytest.raises(ResponseDecodeError) as caught:
            await fluz.lookup_user(input=UserLookupInput(email="a@example.com"))
    # pydantic's own error (which would quote response values) is not chained.
    error = caught.value
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__
    assert caught.value.operation == "LookupUser"


async def test_missing_field_names_the_location_not_the_value() -> None:
    recipient = str(uuid.uuid4())
    fake = FakeFluz().on("LookupUser", gql({"lookupUser": {"recipientId": recipient}}, rid="req-x"))
    async with fake.client() as fluz:
        with pytest.raises(
            ResponseDecodeError, match=r"lookupUser\.displayName is missing from the response"
        ) as caught:
            await fluz.lookup_user(input=UserLookupInput(email="a@example.com"))
    assert caught.value.request_id == "req-x"
    assert caught.value.ids == {"lookupUser.recipientId": recipient}


# ---------------------------------------------------------------- client-side validation


PURCHASE = {
    **{field.alias or name: None for name, field in UserPurchase.model_fields.items()},
    "purchaseId": str(uuid.uuid4()),
    "purchaseAmount": 10,
    "giftCard": {
        **{field.alias or name: None for name, field in GiftCard.model_fields.items()},
        "giftCardId": str(uuid.uuid4()),
    },
}


def quote(**fields: Any) -> GetOfferQuoteInput:
    return GetOfferQuoteInput(**{"denomination": 25.0, **fields})


@pytest.mark.parametrize(
    ("call", "field", "rule"),
    [
        (
            lambda f: f.purchase_gift_card(input=PurchaseGiftCardInput(offerId=OFFER, amount=0)),
            "input.amount",
            "positive",
        ),
        (
            lambda f: f.purchase_gift_card(input=PurchaseGiftCardInput(offerId=OFFER, amount=-5)),
            "input.amount",
            "positive",
        ),
        (
            lambda f: f.purchase_gift_card(input=PurchaseGiftCardInput(amount=10)),
            "input.offer_id",
            "exactly_one_of",
        ),
        (
            lambda f: f.purchase_gift_card(
                input=PurchaseGiftCardInput(offerId=OFFER, merchantSlug="shop", amount=10)
            ),
            "input.offer_id",
            "exactly_one_of",
        ),
        (
            lambda f: f.purchase_gift_card(
                input=PurchaseGiftCardInput(offerId=OFFER, amount=10, defaultToBalance=False)
            ),
            "input.balance_amount",
            "funding_source",
        ),
        (lambda f: f.get_offer_quote(input=quote()), "input.slug", "exactly_one_of"),
        (
            lambda f: f.get_offer_quote(input=quote(slug="a", denomination=0.0)),
            "input.denomination",
            "positive",
        ),
        (lambda f: f.lookup_user(input=UserLookupInput()), "input.phone_number", "exactly_one_of"),
        (
            lambda f: f.reveal_gift_card_by_gift_card_id(gift_card_id="not-a-uuid"),
            "giftCardId",
            "uuid",
        ),
        (lambda f: f.get_gift_cards(paginate=OffsetInput(limit=21)), "paginate.limit", "page_size"),
        (lambda f: f.get_gift_cards(paginate=OffsetInput(limit=0)), "paginate.limit", "page_size"),
        (
            lambda f: f.get_gift_cards(paginate=OffsetInput(offset=-1)),
            "paginate.offset",
            "non_negative",
        ),
        (
            lambda f: f.generate_user_access_token(
                user_id=uuid.uuid4(), account_id=uuid.uuid4(), scopes=[]
            ),
            "scopes",
            "non_empty",
        ),
        (
            lambda f: f.create_virtual_card_bulk_order(
                input=CreateVirtualCardBulkOrderInput(
                    offerId=OFFER,
                    orderItems=[CreateVirtualCardBulkOrderItemInput(quantity=1, spendLimit=-1)],
                )
            ),
            "input.order_items[0].spend_limit",
            "positive",
        ),
    ],
)
async def test_knowably_bad_input_is_refused_before_sending(
    call: Any, field: str, rule: str
) -> None:
    fake = FakeFluz()
    async with fake.client() as fluz:
        with pytest.raises(ValidationError) as caught:
            await call(fluz)
    assert (caught.value.field, caught.value.rule) == (field, rule)
    assert field.split(".")[-1].split("[")[0] in caught.value.message
    assert caught.value.operation
    assert fake.requests == []  # nothing was sent, not even a token request


async def test_valid_inputs_and_filters_are_not_refused() -> None:
    fake = FakeFluz()
    fake.on("PurchaseGiftCard", gql({"purchaseGiftCard": PURCHASE}))
    fake.on(
        "GetTransactions",
        gql({"getTransactions": {"totalCount": 0, "hasNextPage": False, "transactions": []}}),
    )
    async with fake.client() as fluz:
        await fluz.purchase_gift_card(input=PurchaseGiftCardInput(merchantSlug="shop", amount=10.1))
        await fluz.purchase_gift_card(
            input=PurchaseGiftCardInput(
                offerId=OFFER, amount="0.30", defaultToBalance=False, balanceAmount=0.3
            )
        )
        # Filters may be zero or negative bounds: not amounts to pay (`amount` and
        # `final_amount` would meet the positive/non-negative rules anywhere else).
        await fluz.get_transactions(filter_=TransactionFilterInput(amount=0, finalAmount=-1))
    assert len(fake.seen("PurchaseGiftCard")) == 2
    assert len(fake.seen("GetTransactions")) == 1


@pytest.mark.parametrize(
    ("amount", "rule"),
    [
        (math.nan, "finite_number"),
        (math.inf, "finite_number"),
        (Decimal("NaN"), "finite_number"),
        (10.005, "max_2_decimals"),
        ("10.005", "max_2_decimals"),
        # What used to pass a tolerance check and go out as 0.30000000000000004.
        (0.1 + 0.2, "max_2_decimals"),
        (1.1 * 3, "max_2_decimals"),
        ("ten", "decimal_parsing"),
        (True, "decimal_type"),
        ("12345678901234.56", "exact_json_number"),
    ],
)
def test_bad_amounts_raise_the_clients_validation_error_when_the_input_is_built(
    amount: object, rule: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        PurchaseGiftCardInput(offer_id=OFFER, amount=amount)  # type: ignore[arg-type]
    assert (caught.value.field, caught.value.rule) == ("amount", rule)
    assert "PurchaseGiftCardInput" in caught.value.message
    assert caught.value.__context__ is None  # pydantic's error (with the input) not chained
    assert caught.value.__cause__ is None


async def test_what_is_validated_is_what_is_sent_exact_json_numbers() -> None:
    fake = FakeFluz()
    fake.on("PurchaseGiftCard", gql({"purchaseGiftCard": PURCHASE}))
    async with fake.client() as fluz:
        for amount in (Decimal("19.99"), "3.30", 25, 19.99, Decimal("1234567890123.45")):
            with contextlib.suppress(FluzError):
                await fluz.purchase_gift_card(
                    input=PurchaseGiftCardInput(merchant_slug="shop", amount=amount)  # type: ignore[arg-type]
                )
    sent = [seen.request.content for seen in fake.seen("PurchaseGiftCard")]
    amounts = [re.search(rb'"amount":([^,}]+)', body).group(1) for body in sent]  # type: ignore[union-attr]
    assert amounts == [b"19.99", b"3.3", b"25", b"19.99", b"1234567890123.45"]


async def test_validation_error_is_also_a_value_error() -> None:
    fake = FakeFluz()
    async with fake.client() as fluz:
        # One `except ValueError` catches the client's input refusals too.
        with pytest.raises(ValueError, match="scopes must not be empty") as caught:
            await fluz.generate_user_access_token(
                user_id=uuid.uuid4(), account_id=uuid.uuid4(), scopes=[]
            )
    assert isinstance(caught.value, ValidationError)
    assert (caught.value.field, caught.value.rule) == ("scopes", "non_empty")
    assert fake.requests == []
