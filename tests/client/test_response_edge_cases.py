"""Answers and inputs at the edges of what the client accepts: a body with NaN or Infinity,
a 3xx status, a 401 naming a code of its own, ``errors`` that is not a list, variables that
cannot be encoded or that the document does not declare. Each is one a real server does not
give on demand, so they are scripted with ``FakeFluz``."""

from __future__ import annotations

import httpx
import pytest

from fluz import APIError, ResponseDecodeError, ValidationError

from .fakes import FakeFluz, gql, gql_error, merchants_page

pytestmark = pytest.mark.anyio

BALANCE = "query Balance { balance }"


# ------------------------------------------------------------------ the body

NOT_JSON_NUMBERS = ["NaN", "Infinity", "-Infinity"]


@pytest.mark.parametrize("constant", NOT_JSON_NUMBERS)
async def test_a_nan_or_infinite_number_in_an_answer_is_a_decode_error(constant: str) -> None:
    # NaN is not JSON; accepting it would hand the caller an amount of NaN.
    body = b'{"data": {"balance": %s}}' % constant.encode()
    fake = FakeFluz().on("Balance", httpx.Response(200, content=body))
    async with fake.client(max_retries=0) as fluz:
        with pytest.raises(ResponseDecodeError) as caught:
            await fluz.execute(BALANCE, "Balance")
    assert caught.value.code == "DECODE"
    assert caught.value.message == "response body is not a GraphQL JSON response"
    assert caught.value.status_code == 200


async def test_a_read_answered_with_nan_is_retried_and_the_number_never_returned() -> None:
    fake = FakeFluz().on(
        "Balance",
        httpx.Response(200, content=b'{"data": {"balance": NaN}}'),
        gql({"balance": 12.5}),
    )
    async with fake.client() as fluz:
        response = await fluz.execute(BALANCE, "Balance")
    assert response.json()["data"] == {"balance": 12.5}
    assert len(fake.seen("Balance")) == 2


async def test_errors_that_are_not_a_list_are_named_in_the_decode_error() -> None:
    fake = FakeFluz().on(
        "GetMerchants", httpx.Response(200, json={"data": {"getMerchants": []}, "errors": "boom"})
    )
    async with fake.client(max_retries=0) as fluz:
        with pytest.raises(ResponseDecodeError) as caught:
            await fluz.get_merchants()
    assert caught.value.code == "DECODE"
    assert caught.value.message == "response 'errors' is not a list"


# ------------------------------------------------------------------ the status


async def test_a_3xx_answer_with_data_is_an_error_not_a_success() -> None:
    # httpx does not follow redirects here; a 300 carrying data is no answer of Fluz's.
    fake = FakeFluz().on("GetMerchants", httpx.Response(300, json={"data": {"getMerchants": []}}))
    async with fake.client() as fluz:
        with pytest.raises(APIError) as caught:
            await fluz.get_merchants()
    assert caught.value.status_code == 300
    assert caught.value.message.startswith("HTTP 300")
    assert len(fake.seen("GetMerchants")) == 1  # a 3xx is not retried


async def test_a_401_with_a_code_of_its_own_still_renews_the_token_and_replays() -> None:
    # Only AUTH-0008 names a rejected token, but a 401 means it whatever the code says.
    fake = FakeFluz().on(
        "GetMerchants", gql_error("UNAUTHENTICATED", "jwt expired", status=401), merchants_page(1)
    )
    async with fake.client(max_retries=0) as fluz:
        merchants = await fluz.get_merchants()
    assert len(merchants) == 1
    first, second = fake.seen("GetMerchants")
    assert len(fake.issued) == 2  # minted, then renewed
    assert first.authorization != second.authorization


# ------------------------------------------------------------------ the variables


async def test_variables_that_cannot_be_encoded_are_refused_unsent_with_the_rule() -> None:
    fake = FakeFluz()
    async with fake.client() as fluz:
        with pytest.raises(ValidationError) as caught:
            await fluz.execute(
                "query Price($amount: Float) { price(amount: $amount) }",
                "Price",
                {"amount": float("nan")},
            )
    assert caught.value.rule == "encodable"
    assert caught.value.code == "CLIENT_VALIDATION"
    assert caught.value.operation == "Price"
    assert caught.value.message.startswith("variables cannot be encoded: ")
    assert "float" in caught.value.message  # the encoder's reason follows
    assert fake.requests == []


async def test_a_variable_the_document_does_not_declare_is_sent_as_given() -> None:
    # The server, not the client, judges variables the document does not declare.
    fake = FakeFluz().on("Balance", gql({"balance": 1}))
    async with fake.client() as fluz:
        response = await fluz.execute(BALANCE, "Balance", {"extra": 7, "unset": None})
    assert response.json()["data"] == {"balance": 1}
    assert fake.seen("Balance")[0].variables == {"extra": 7, "unset": None}
