"""A plain success is validated straight from the response bytes; anything else is
judged by the general path, with the same outcome as before."""

from __future__ import annotations

import inspect
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fluz_graphql import Client as GeneratedClient
from fluz_graphql.enums import UACRoleType
from fluz_graphql.input_types import PurchaseGiftCardInput

from fluz import (
    FluzError,
    InsufficientFundsError,
    ResponseDecodeError,
    ValidationError,
    _error_mapping,
    _fast_path,
    response_info,
)

from .fakes import FakeFluz, gql, purchase

pytestmark = pytest.mark.anyio


def test_every_generated_operation_has_a_response_envelope() -> None:
    names = [
        name
        for name, method in vars(GeneratedClient).items()
        if inspect.iscoroutinefunction(method) and not name.startswith("_")
    ]
    missing = []
    for name in names:
        operation = "".join(part.capitalize() for part in name.split("_"))
        if _fast_path.envelope(operation) is None:
            missing.append(operation)
    assert len(names) > 60
    assert missing == []


def test_a_document_of_the_callers_own_has_no_envelope() -> None:
    assert _fast_path.envelope("MyOwnQuery") is None
    assert _fast_path.envelope("") is None


@pytest.fixture
def general_path_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    judge = _error_mapping.inspect_response

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return judge(*args, **kwargs)

    monkeypatch.setattr("fluz._sending.inspect_response", counting)
    return calls


async def test_a_plain_success_is_decoded_once_into_the_results(
    general_path_calls: list[int],
) -> None:
    bought = purchase()
    fake = FakeFluz().on("PurchaseGiftCard", gql({"purchaseGiftCard": bought}, rid="r-7"))
    async with fake.client() as fluz:
        result = await fluz.purchase_gift_card(
            input=PurchaseGiftCardInput(merchant_slug="amazon", amount=25)
        )
    assert general_path_calls == []  # neither for the purchase nor for the token's mint
    assert str(result.purchase_id) == bought["purchaseId"]
    assert result.purchase_amount == Decimal("25.0")
    assert response_info(result).request_id == "r-7"
    assert response_info(result).idempotency_key


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (gql({"purchaseGiftCard": {**purchase(), "giftCard": None}}), ResponseDecodeError),
        (gql({"purchaseGiftCard": {**purchase(), "purchaseAmount": "NaN"}}), FluzError),
        (
            gql(
                {"purchaseGiftCard": purchase()},
                errors=[{"message": "no funds", "extensions": {"code": "BAL-0001"}}],
            ),
            InsufficientFundsError,
        ),
        (httpx.Response(200, content=b'{"data": {"purchaseGiftCard": NaN}}'), FluzError),
    ],
    ids=["required-null", "nan-string", "errors-beside-data", "nan-number"],
)
async def test_what_is_not_a_plain_success_is_judged_by_the_general_path(
    general_path_calls: list[int], reply: httpx.Response, error: type[FluzError]
) -> None:
    fake = FakeFluz().on("PurchaseGiftCard", reply)
    async with fake.client(max_retries=0) as fluz:
        with pytest.raises(error):
            await fluz.purchase_gift_card(
                input=PurchaseGiftCardInput(merchant_slug="amazon", amount=25)
            )
    assert general_path_calls == [1]


async def test_a_payload_reporting_failure_is_judged_by_the_general_path(
    general_path_calls: list[int],
) -> None:
    failure = {
        "addAuthorizedUser": {
            "success": False,
            "authUserId": None,
            "roles": None,
            "status": None,
            "pendingActionId": None,
            "error": {"code": "AR-0001", "message": "email or phone is required"},
        }
    }
    fake = FakeFluz().on("AddAuthorizedUser", gql(failure))
    async with fake.client() as fluz:
        with pytest.raises(ValidationError):
            await fluz.add_authorized_user(roles=[UACRoleType.ADMIN], email="a@example.com")
        assert general_path_calls == [1]
        # Told to return payload failures as they are, the client takes the fast path.
        raw = fluz.with_options(raise_on_payload_errors=False)
        result = await raw.add_authorized_user(roles=[UACRoleType.ADMIN], email="a@example.com")
    assert general_path_calls == [1]
    assert result.success is False
