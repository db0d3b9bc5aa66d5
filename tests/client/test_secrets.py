"""Secrets never reach logs, reprs or exception text, even on failures and retries."""

from __future__ import annotations

import logging
import re
import traceback
import uuid

import httpx
import pytest
from fluz_graphql.input_types import AddBankCardInput, AddressInput, PurchaseGiftCardInput

from fluz import FluzClient, FluzError
from fluz._redact import redact
from fluz.sandbox import Faults, SandboxServer

from .fakes import FakeFluz, gql, gql_error, make_jwt, purchase

pytestmark = pytest.mark.anyio

API_KEY = "CANARY-APIKEY-a8f3c1d9e2"
ACCESS = make_jwt(300, canary="CANARY-ACCESS")
RENEWED = make_jwt(300, canary="CANARY-RENEWED")
REFRESH = "CANARY-REFRESH-5e1b7"
CODE = "CANARY-GIFTCODE-8841"
PIN = "CANARY-PIN-3307"
CARD_NUMBER = "4111111111111111"
CVV = "CANARY-CVV-91"
CANARIES = [API_KEY, ACCESS, RENEWED, REFRESH, CODE, PIN, CARD_NUMBER, CVV]


def token(
    value: str, refresh: str | None, field: str = "generateUserAccessToken"
) -> httpx.Response:
    return gql(
        {field: {"token": value, "accessToken": value, "refreshToken": refresh, "scopes": []}}
    )


def bank_card() -> AddBankCardInput:
    return AddBankCardInput(
        cardNumber=CARD_NUMBER,
        expirationMonth="01",
        expirationYear="2030",
        cvv=CVV,
        cardholderName="A Person",
        billingAddress=AddressInput(
            streetAddressLine1="1 Main St", country="US", city="X", state="NY", postalCode="10001"
        ),
    )


async def test_no_canary_in_logs_reprs_or_errors(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fake = FakeFluz()
    fake.on("GenerateUserAccessToken", token(ACCESS, REFRESH))
    fake.on("RefreshUserAccessToken", token(RENEWED, REFRESH, "refreshUserAccessToken"))
    fake.on(
        "PurchaseGiftCard",
        gql_error("AUTH-0008", f"Invalid user access token {ACCESS}"),
        gql_error("GE-9999", f"upstream failed for key {API_KEY}", status=503),
        gql({"purchaseGiftCard": purchase()}),
    )
    fake.on(
        "RevealGiftCardByGiftCardId",
        gql({"revealGiftCardByGiftCardId": {"code": None, "pin": None, "url": None}}),
        gql({"revealGiftCardByGiftCardId": {"code": CODE, "pin": PIN, "url": None}}),
        gql({"revealGiftCardByGiftCardId": {"code": [CODE], "pin": {"p": PIN}, "url": None}}),
    )
    fake.on(
        "AddBankCard",
        gql_error("AR-0001", f"card {CARD_NUMBER} with cvv {CVV} was declined"),
        httpx.ConnectError(f"connect failed; Authorization: Bearer {RENEWED}"),
    )
    errors: list[FluzError] = []
    async with fake.client(api_key=API_KEY, max_retries=1) as fluz:
        result = await fluz.purchase_and_reveal(
            PurchaseGiftCardInput(merchantSlug="shop", amount=10), initial_delay=0.001
        )
        for _ in range(2):
            try:
                await fluz.add_bank_card(input=bank_card())
            except FluzError as exc:
                errors.append(exc)
        try:
            await fluz.reveal_gift_card_by_gift_card_id(gift_card_id=uuid.uuid4())
        except FluzError as exc:
            errors.append(exc)
        outputs = [caplog.text, repr(fluz), str(fluz), repr(result.details), repr(fluz._config)]
    assert result.details.code == CODE  # the value is there for whoever asks for it
    assert len(errors) == 3
    for exc in errors:
        outputs += [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    assert caplog.records, "DEBUG logging was on: the flow must have logged"
    leaked = {c for c in CANARIES for text in outputs if c in text}
    assert not leaked


def test_redact_masks_shapes_it_was_not_told_about() -> None:
    text = redact(
        f"Bearer {ACCESS} and basic dXNlcjpwYXNz and card 4111 1111 1111 1111 "
        "and code 9877890000000000"
    )
    assert "eyJ" not in text
    assert "dXNlcjpwYXNz" not in text
    assert "4111 1111" not in text
    assert "9877890000000000" not in text
    assert redact("order 12 of 3, 2025-01-15, 10.5 ms") == "order 12 of 3, 2025-01-15, 10.5 ms"


@pytest.mark.fluz_sandbox(
    reveal_delay=0.05,
    faults=Faults(
        unavailable_rate=0.5,
        drop_after_commit_rate=0.5,
        limit=2,
        operations=frozenset({"purchaseGiftCard"}),
    ),
)
async def test_no_secret_leaks_in_the_sandbox_flows(
    fluz_sandbox: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    card_number, cvv = "4000056655665556", "739"
    errors: list[FluzError] = []
    async with FluzClient(
        api_key=fluz_sandbox.api_key,
        user_id=fluz_sandbox.user_id,
        account_id=fluz_sandbox.account_id,
        url=fluz_sandbox.url,
        retry_base_delay=0.001,
        scopes=["LIST_OFFERS", "PURCHASE_GIFTCARD", "REVEAL_GIFTCARD", "MANAGE_PAYMENT"],
    ) as fluz:
        bought = await fluz.purchase_and_reveal(
            PurchaseGiftCardInput(merchantSlug="amazon", amount=25), initial_delay=0.01
        )
        for expiry_year in ("2031", "1999"):  # the second is refused by the server
            try:
                await fluz.add_bank_card(
                    input=AddBankCardInput(
                        cardNumber=card_number,
                        expirationMonth="01",
                        expirationYear=expiry_year,
                        cvv=cvv,
                        cardholderName="Test Person",
                        billingAddress=AddressInput(
                            streetAddressLine1="1 Main St",
                            country="US",
                            city="Austin",
                            state="TX",
                            postalCode="73301",
                        ),
                    )
                )
            except FluzError as exc:
                errors.append(exc)
        tokens = list(fluz._tokens.store._records.values())  # type: ignore[attr-defined]
        secrets = [fluz_sandbox.api_key, card_number, cvv]
        secrets += [t.access_token for t in tokens] + [t.refresh_token or "" for t in tokens]
        secrets += [bought.details.code or "", bought.details.pin or ""]
        outputs = [repr(fluz), repr(bought.details)]
    assert bought.details.code
    assert fluz_sandbox.counters().faults  # the flow did go through failures and retries
    assert errors  # and through a server-side refusal
    outputs += [
        record.getMessage()
        for record in caplog.records
        if not record.name.startswith(("fluz.sandbox", "uvicorn"))
    ]
    for exc in errors:
        outputs += [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    leaked = {s for s in secrets if s for text in outputs if appears(s, text)}
    assert not leaked


def appears(secret: str, text: str) -> bool:
    """Substring match; a short secret (a CVV) must stand alone, not inside an id, a
    timing or a traceback's "line 739" where three digits turn up by chance."""
    if len(secret) >= 8:
        return secret in text
    pattern = rf"(?<![0-9A-Za-z])(?<!line ){re.escape(secret)}(?![0-9A-Za-z])"
    return re.search(pattern, text) is not None
