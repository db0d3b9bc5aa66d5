"""Errors under a hostile review: one mapping per condition, retry_after everywhere,
errors that survive pickling and carry nothing else, secrets out of captured locals."""

from __future__ import annotations

import copy
import pickle
import traceback
import uuid

import httpx
import pytest
from fluz_graphql.input_types import AddBankCardInput, AddressInput

import fluz
from fluz import (
    APIError,
    FluzError,
    InsufficientFundsError,
    PermissionDeniedError,
    ResponseDecodeError,
    RevealTimeoutError,
    ServerError,
    TransportError,
)
from fluz._redact import redact

from .fakes import API_KEY, FakeFluz, gql, gql_error, merchants_page
from .test_idempotency import purchase_input

pytestmark = pytest.mark.anyio

CARD = uuid.UUID("7c57c381-4b19-49e4-bbb0-404a45166ee4")
CARD_NUMBER = "4111111111111111"
CVV = "8642"


async def test_retry_after_is_on_every_error_that_carried_it() -> None:
    fake = FakeFluz().on(
        "GetWallet", gql_error("GE-9999", status=503, headers={"Retry-After": "7"})
    )
    async with fake.client(max_retry_after=1) as fluz:
        with pytest.raises(ServerError) as caught:
            await fluz.get_wallet()
    assert caught.value.retry_after == 7
    assert len(fake.seen("GetWallet")) == 1  # longer than max_retry_after: not waited out


@pytest.mark.parametrize("status", [200, 403])
async def test_a_missing_scope_is_permission_denied_whatever_the_status(status: int) -> None:
    fake = FakeFluz().on(
        "GetWallet",
        gql_error("AUTH-0008", "needs LIST_PAYMENT", status=status, missingScopes=["LIST_PAYMENT"]),
    )
    async with fake.client() as fluz:
        with pytest.raises(PermissionDeniedError):
            await fluz.get_wallet()
    assert len(fake.seen("GetWallet")) == 1
    assert len(fake.issued) == 1  # no useless renewal


async def test_errors_that_are_not_a_list_are_a_decode_error_not_a_success() -> None:
    fake = FakeFluz().on(
        "GetMerchants",
        httpx.Response(200, json={"data": {"getMerchants": []}, "errors": "boom"}),
    )
    async with fake.client(max_retries=0) as fluz:
        with pytest.raises(ResponseDecodeError, match="errors"):
            await fluz.get_merchants()


async def test_an_html_404_is_a_wrong_endpoint_not_a_missing_resource() -> None:
    page = httpx.Response(404, text="<html>Not Found</html>", headers={"content-type": "text/html"})
    fake = FakeFluz().on("GetWallet", page)
    async with fake.client() as fluz:
        with pytest.raises(APIError) as caught:
            await fluz.get_wallet()
    assert type(caught.value) is APIError
    assert "url" in str(caught.value)


async def test_rl_0001_is_retried_like_a_429_whatever_the_status() -> None:
    fake = FakeFluz().on(
        "GetMerchants",
        gql_error("RL-0001", "slow down", headers={"Retry-After": "0"}),
        merchants_page(1),
    )
    async with fake.client() as fluz:
        assert await fluz.get_merchants()
    assert len(fake.seen("GetMerchants")) == 2


async def test_insufficient_funds_is_its_own_error() -> None:
    fake = FakeFluz().on(
        "PurchaseGiftCard", gql_error("BAL-0001", "the balance cannot cover 25.00")
    )
    async with fake.client() as fluz:
        with pytest.raises(InsufficientFundsError) as caught:
            await fluz.purchase_gift_card(input=purchase_input())
    assert caught.value.code == "BAL-0001"
    assert len(fake.seen("PurchaseGiftCard")) == 1  # a refusal: not retried


def every_error() -> list[FluzError]:
    classes = [getattr(fluz, name) for name in fluz.__all__]
    errors: list[FluzError] = []
    for cls in classes:
        if not (isinstance(cls, type) and issubclass(cls, FluzError)):
            continue
        if cls is RevealTimeoutError:
            error: FluzError = cls("slow", attempts=3, elapsed=1.5, code="POLL_TIMEOUT")
        else:
            error = cls("failed", code="X-1", request_id="rid", idempotency_key="k")
        error.retry_after = 2.0
        errors.append(error)
    return errors


@pytest.mark.parametrize("error", every_error(), ids=lambda e: type(e).__name__)
def test_every_error_survives_pickle_and_deepcopy(error: FluzError) -> None:
    for clone in (pickle.loads(pickle.dumps(error)), copy.deepcopy(error), copy.copy(error)):
        assert type(clone) is type(error)
        assert str(clone) == str(error)
        assert clone.__dict__ == error.__dict__


async def test_no_response_value_hangs_off_a_decode_error() -> None:
    leaky = {"revealGiftCardByGiftCardId": {"code": {"secret": "9877890000000000"}, "pin": "2014"}}
    fake = FakeFluz().on("RevealGiftCardByGiftCardId", gql(leaky))
    async with fake.client() as fluz:
        with pytest.raises(ResponseDecodeError) as caught:
            await fluz.reveal_gift_card_by_gift_card_id(gift_card_id=CARD)
    link: BaseException | None = caught.value
    while link is not None:
        assert isinstance(link, FluzError)
        assert link.__context__ is None
        link = link.__cause__
    rendered = "".join(traceback.format_exception(caught.value))
    assert "9877890000000000" not in rendered


def bank_card() -> AddBankCardInput:
    return AddBankCardInput(
        cardNumber=CARD_NUMBER,
        expirationMonth="01",
        expirationYear="2031",
        cvv=CVV,
        cardholderName="A Person",
        billingAddress=AddressInput(
            streetAddressLine1="1 Main St", country="US", city="X", state="NY", postalCode="10001"
        ),
    )


def rendered_with_locals(error: BaseException) -> str:
    return "".join(traceback.TracebackException.from_exception(error, capture_locals=True).format())


async def test_tracebacks_with_captured_locals_show_no_secrets() -> None:
    fake = FakeFluz().on("AddBankCard", gql_error("GE-9999", status=503))
    async with fake.client(max_retries=0) as fluz:
        with pytest.raises(ServerError) as caught:
            await fluz.add_bank_card(input=bank_card())
    text = rendered_with_locals(caught.value)
    assert "_send" in text  # the frames that held the secrets are there
    for secret in (API_KEY, CARD_NUMBER, CVV, *fake.issued):
        assert secret not in text


async def test_a_failed_refresh_shows_no_refresh_token_in_captured_locals() -> None:
    fake = FakeFluz(token_lifetime=0.0)
    fake.on("RefreshUserAccessToken", httpx.ReadTimeout("slow"))
    fake.on("GetMerchants", merchants_page(1))
    async with fake.client(max_retries=0) as fluz:
        await fluz.get_merchants()
        with pytest.raises(TransportError) as caught:
            await fluz.get_merchants()
    assert caught.value.request_sent is False
    text = rendered_with_locals(caught.value)
    for secret in ("refresh-1", API_KEY, *fake.issued):
        assert secret not in text


def test_redaction_never_masks_part_of_a_uuid() -> None:
    # ~1.2 % of random UUIDs end in 12 decimal digits, which the card-number rule matches.
    ids = [uuid.UUID(int=n) for n in (1, 123456789012, 2**128 - 1)]
    ids += [uuid.uuid4() for _ in range(20_000)]
    text = " ".join(str(i) for i in ids)
    assert redact(text) == text
    assert redact(f"card {CARD_NUMBER} for {ids[1]}") == f"card [REDACTED] for {ids[1]}"
