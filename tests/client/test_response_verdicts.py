"""What the client makes of an answer: a success, which error (and whether it is retried),
for the answers a real server only gives on a bad day — ``{data: null}``, a
``{success: false}`` payload, several errors at once, error extensions on a non-2xx
status, a request id only in a header, an answer too large to read."""

from __future__ import annotations

import gzip
import json
import uuid
from typing import Any

import httpx
import pytest
from fluz_graphql.enums import UACRoleType
from fluz_graphql.input_types import PurchaseGiftCardInput

import fluz._constants as C
from fluz import (
    APIError,
    AuthenticationError,
    InsufficientFundsError,
    NotFoundError,
    PermissionDeniedError,
    ResponseDecodeError,
    ServerError,
)

from .fakes import FakeFluz, gql, merchants_page

pytestmark = pytest.mark.anyio

OFFER = uuid.UUID("0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f")


def with_errors(*errors: Any, status: int = 200, **body: Any) -> httpx.Response:
    return httpx.Response(status, json={"errors": list(errors), **body})


async def test_data_null_is_a_decode_error_and_a_read_retries_it() -> None:
    fake = FakeFluz().on("GetMerchants", httpx.Response(200, json={"data": None}))
    async with fake.client(max_retries=2) as fluz:
        with pytest.raises(ResponseDecodeError) as caught:
            await fluz.get_merchants()
    assert caught.value.message == "response has no data object"
    assert caught.value.code == "DECODE"
    assert len(fake.seen("GetMerchants")) == 3


async def test_a_body_that_is_not_graphql_is_a_decode_error_and_retried() -> None:
    fake = FakeFluz().on(
        "GetMerchants", httpx.Response(200, json={"hello": "proxy"}), merchants_page(1)
    )
    async with fake.client() as fluz:
        await fluz.get_merchants()
    assert len(fake.seen("GetMerchants")) == 2


def payload_failure(code: str | None, message: str | None = None, **value: Any) -> httpx.Response:
    error = None if code is None and message is None else {"code": code, "message": message}
    return gql(
        {
            "addAuthorizedUser": {
                "success": False,
                "authUserId": None,
                "roles": None,
                "status": None,
                "pendingActionId": None,
                "error": error,
                **value,
            }
        }
    )


async def add_user(fake: FakeFluz, **options: Any) -> None:
    async with fake.client(**options) as fluz:
        await fluz.add_authorized_user(roles=[UACRoleType.ADMIN], email="a@example.com")


async def test_a_success_false_payload_is_raised_as_its_code_and_not_retried() -> None:
    fake = FakeFluz().on("AddAuthorizedUser", payload_failure("BAL-0001", "balance too low"))
    with pytest.raises(InsufficientFundsError) as caught:
        await add_user(fake, max_retries=3)
    assert (caught.value.code, caught.value.message) == ("BAL-0001", "balance too low")
    assert len(fake.seen("AddAuthorizedUser")) == 1


async def test_a_success_false_payload_with_a_retryable_code_is_retried() -> None:
    busy = {"success": False, "error": {"code": "GE-9999", "message": "try again"}}
    fake = FakeFluz().on("GetMerchants", gql({"getMerchants": busy}), merchants_page(1))
    async with fake.client(max_retries=2) as fluz:
        await fluz.get_merchants()
    assert len(fake.seen("GetMerchants")) == 2


async def test_a_mutation_without_a_key_is_not_retried_even_for_a_retryable_code() -> None:
    fake = FakeFluz().on("AddAuthorizedUser", payload_failure("GE-9999", "try again"))
    with pytest.raises(ServerError):
        await add_user(fake, max_retries=2)
    assert len(fake.seen("AddAuthorizedUser")) == 1


async def test_a_success_false_payload_without_detail_names_the_field() -> None:
    fake = FakeFluz().on("AddAuthorizedUser", payload_failure(None))
    with pytest.raises(APIError) as caught:
        await add_user(fake)
    assert caught.value.message == "addAuthorizedUser reported success: false"
    assert caught.value.code is None


async def test_an_error_with_a_code_is_preferred_to_the_ones_before_it() -> None:
    fake = FakeFluz().on(
        "GetMerchants",
        with_errors(
            "not even an object",
            {"message": "something went wrong"},
            {"message": "no such merchant", "extensions": {"code": "RC-0001"}},
        ),
    )
    async with fake.client() as fluz:
        with pytest.raises(NotFoundError) as caught:
            await fluz.get_merchants()
    assert (caught.value.code, caught.value.message) == ("RC-0001", "no such merchant")


async def test_without_codes_the_first_error_object_is_reported() -> None:
    fake = FakeFluz().on(
        "GetMerchants", with_errors(42, {"message": "first"}, {"message": "second"})
    )
    async with fake.client() as fluz:
        with pytest.raises(APIError) as caught:
            await fluz.get_merchants()
    assert caught.value.message == "first"
    assert caught.value.code is None


async def test_an_errors_list_without_any_object_is_still_an_error() -> None:
    fake = FakeFluz().on("GetMerchants", with_errors("bad", 3))
    async with fake.client() as fluz:
        with pytest.raises(APIError) as caught:
            await fluz.get_merchants()
    assert caught.value.message == "malformed errors list"


async def test_an_error_without_message_or_code_on_200_says_graphql_error() -> None:
    fake = FakeFluz().on("GetMerchants", with_errors({"extensions": {}}))
    async with fake.client() as fluz:
        with pytest.raises(APIError) as caught:
            await fluz.get_merchants()
    assert caught.value.message == "GraphQL error"


async def test_an_uncoded_error_on_a_5xx_is_a_server_error_named_by_its_status() -> None:
    fake = FakeFluz().on("GetMerchants", with_errors({}, status=503))
    async with fake.client(max_retries=1) as fluz:
        with pytest.raises(ServerError) as caught:
            await fluz.get_merchants()
    assert caught.value.message == "HTTP 503 Service Unavailable"
    assert caught.value.status_code == 503
    assert len(fake.seen("GetMerchants")) == 2


async def test_extensions_of_an_error_on_a_non_2xx_status_are_kept() -> None:
    extensions = {"code": "AR-0002", "reason": "seat suspended"}
    fake = FakeFluz().on(
        "GetMerchants", with_errors({"message": "forbidden", "extensions": extensions}, status=403)
    )
    async with fake.client() as fluz:
        with pytest.raises(PermissionDeniedError) as caught:
            await fluz.get_merchants()
    assert caught.value.extensions == extensions
    assert caught.value.status_code == 403


async def test_the_request_id_is_read_from_the_header_when_the_body_has_none() -> None:
    fake = FakeFluz().on(
        "GetMerchants",
        httpx.Response(
            404,
            json={"errors": [{"message": "gone", "extensions": {"code": "RC-0001"}}]},
            headers={"x-request-id": "hdr-7"},
        ),
    )
    async with fake.client() as fluz:
        with pytest.raises(NotFoundError) as caught:
            await fluz.get_merchants()
    assert caught.value.request_id == "hdr-7"


async def test_a_401_without_a_graphql_body_renews_the_token_and_replays_once() -> None:
    fake = FakeFluz().on("GetMerchants", httpx.Response(401, text="expired"))
    async with fake.client() as fluz:
        with pytest.raises(AuthenticationError):
            await fluz.get_merchants()
    assert len(fake.seen("GetMerchants")) == 2
    assert len(fake.issued) == 2  # minted, then renewed (with its refresh token)
    first, second = fake.seen("GetMerchants")
    assert first.authorization != second.authorization


async def test_an_answer_too_large_to_read_is_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(C, "MAX_RESPONSE_BYTES", 1000)
    fake = FakeFluz().on("PurchaseGiftCard", httpx.Response(200, content=b"x" * 5000))
    async with fake.client(max_retries=3) as fluz:
        with pytest.raises(ResponseDecodeError) as caught:
            await fluz.purchase_gift_card(
                input=PurchaseGiftCardInput(offer_id=OFFER, amount=10),
                idempotency_key=str(uuid.uuid4()),
            )
    assert caught.value.code == "RESPONSE_TOO_LARGE"
    assert caught.value.status_code == 200
    assert "larger than 1000 bytes" in caught.value.message  # says which limit it hit
    assert caught.value.operation == "PurchaseGiftCard"
    assert caught.value.idempotency_key is not None
    assert len(fake.seen("PurchaseGiftCard")) == 1


async def test_execute_returns_a_readable_response_of_a_compressed_answer() -> None:
    body = json.dumps({"data": {"getMerchants": []}}).encode()
    fake = FakeFluz().on(
        "GetMerchants",
        httpx.Response(200, content=gzip.compress(body), headers={"content-encoding": "gzip"}),
    )
    async with fake.client() as fluz:
        response = await fluz.execute(
            "query GetMerchants { getMerchants { slug } }", "GetMerchants"
        )
    assert response.json() == {"data": {"getMerchants": []}}
    assert "content-encoding" not in response.headers


async def test_errors_that_are_not_a_list_are_retried_like_any_unreadable_answer() -> None:
    fake = FakeFluz().on(
        "GetMerchants", httpx.Response(200, json={"errors": "oops"}), merchants_page(1)
    )
    async with fake.client() as fluz:
        await fluz.get_merchants()
    assert len(fake.seen("GetMerchants")) == 2


async def test_a_404_with_an_empty_graphql_errors_list_is_not_found() -> None:
    fake = FakeFluz().on("GetMerchants", httpx.Response(404, json={"errors": []}))
    async with fake.client() as fluz:
        with pytest.raises(NotFoundError) as caught:
            await fluz.get_merchants()
    assert "check the client's url" not in caught.value.message
