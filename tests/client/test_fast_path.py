"""A plain success is validated straight from the response bytes; anything else is
judged by the general path, with the same outcome as before."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
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
from fluz._operations import OperationInfo

from .fakes import FakeFluz, gift_card, gql, purchase

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


NOT_JSON_NUMBERS = ["NaN", "Infinity", "-Infinity"]


def _paths(value: Any, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """The path of every value in *value*: objects, lists and their items, scalars."""
    items = value.items() if isinstance(value, dict) else enumerate(value)
    found = [path] if path else []
    for key, item in items:
        if isinstance(item, dict | list):
            found += _paths(item, (*path, key))
        else:
            found.append((*path, key))
    return found


@pytest.mark.parametrize("constant", NOT_JSON_NUMBERS)
@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("PurchaseGiftCard", lambda: {"purchaseGiftCard": purchase()}),
        ("GetGiftCards", lambda: {"getGiftCards": [gift_card(0)]}),
    ],
    ids=["purchase", "gift-cards"],
)
def test_nan_or_infinity_in_any_value_of_a_result_is_left_to_the_general_path(
    constant: str, name: str, data: Callable[[], dict[str, Any]]
) -> None:
    # The fast path does not scan the body for them: every field a result reads must
    # refuse one (null fields and nested objects included), or a NaN amount gets through.
    body = {"data": data()}
    op = OperationInfo(name, name.startswith("Purchase"), tuple(body["data"]))
    assert _fast_path.plain_success(
        op, httpx.Response(200), json.dumps(body).encode(), raise_on_payload_errors=True
    )
    paths = _paths(body["data"])
    assert len(paths) > 10
    accepted = []
    for path in paths:
        changed = json.loads(json.dumps(body))
        parent = changed["data"]
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = "@constant@"
        content = json.dumps(changed).replace('"@constant@"', constant).encode()
        if _fast_path.plain_success(op, httpx.Response(200), content, raise_on_payload_errors=True):
            accepted.append(path)
    assert accepted == []


@pytest.mark.parametrize("constant", NOT_JSON_NUMBERS)
async def test_nan_or_infinity_as_request_id_or_errors_is_a_decode_error(constant: str) -> None:
    for body in (
        b'{"data": {"purchaseGiftCard": %s}, "extensions": {"requestId": %s}}',
        b'{"data": {"purchaseGiftCard": %s}, "errors": %s}',
    ):
        content = body % (json.dumps(purchase()).encode(), constant.encode())
        fake = FakeFluz().on("PurchaseGiftCard", httpx.Response(200, content=content))
        async with fake.client(max_retries=0) as fluz:
            with pytest.raises(ResponseDecodeError):
                await fluz.purchase_gift_card(
                    input=PurchaseGiftCardInput(merchant_slug="amazon", amount=25)
                )


async def test_nan_in_a_member_the_client_does_not_read_is_ignored_like_the_member() -> None:
    # Unknown members are ignored for forward compatibility; a NaN in one reaches nobody.
    content = b'{"data": {"purchaseGiftCard": %s}, "extensions": {"cost": NaN}}' % (
        json.dumps({**purchase(), "futureField": float("nan")}).encode()
    )
    fake = FakeFluz().on("PurchaseGiftCard", httpx.Response(200, content=content))
    async with fake.client(max_retries=0) as fluz:
        result = await fluz.purchase_gift_card(
            input=PurchaseGiftCardInput(merchant_slug="amazon", amount=25)
        )
    assert result.purchase_amount == Decimal("25.0")


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
