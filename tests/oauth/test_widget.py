"""Widget patToken: HS256, the documented claims, verified by PyJWT."""

from __future__ import annotations

import uuid
from decimal import Decimal

import jwt
import pytest

from fluz import ValidationError
from fluz.oauth import sign_pat_token

SECRET = "widget-api-secret-0123456789abcdef"


def sign(**overrides: object) -> str:
    args: dict[str, object] = {
        "api_key": "app-api-key",
        "api_secret": SECRET,
        "amount": Decimal("25.10"),
        "transaction_type": "DEPOSIT",
        "external_id": "user-42",
    } | overrides
    return sign_pat_token(**args)  # type: ignore[arg-type]


def test_pyjwt_verifies_the_token_and_its_claims() -> None:
    token = sign()
    claims = jwt.decode(
        token, SECRET, algorithms=["HS256"], options={"require": ["exp", "iat", "jti"]}
    )
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
    assert claims["amount"] == 25.1
    assert claims["transactionType"] == "DEPOSIT"
    assert claims["apiKey"] == "app-api-key"
    assert claims["externalId"] == "user-42"
    assert uuid.UUID(claims["jti"]).version == 4
    assert claims["exp"] - claims["iat"] == 300


def test_a_wrong_secret_fails_verification() -> None:
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(sign(), "another-secret-of-32-bytes-or-more!", algorithms=["HS256"])


def test_every_token_has_a_fresh_jti() -> None:
    jtis = {jwt.decode(sign(), SECRET, algorithms=["HS256"])["jti"] for _ in range(100)}
    assert len(jtis) == 100


def test_expiry_is_enforced_by_a_verifier() -> None:
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(sign(expires_in=60, now=1_000_000), SECRET, algorithms=["HS256"])


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"amount": Decimal("0")}, "amount"),
        ({"amount": Decimal("-5")}, "amount"),
        ({"amount": Decimal("1.005")}, "amount"),
        ({"amount": Decimal("NaN")}, "amount"),
        ({"amount": 10.5}, "amount"),  # floats refused: money is Decimal
        ({"amount": "ten"}, "amount"),
        ({"transaction_type": "deposit"}, "transaction_type"),
        ({"external_id": ""}, "external_id"),
        ({"api_secret": ""}, "api_secret"),
        ({"expires_in": 0}, "expires_in"),
    ],
)
def test_bad_arguments_name_the_field(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        sign(**overrides)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("amount", "expected"), [("0.01", 0.01), (12, 12.0), ("1234567.89", 1234567.89)]
)
def test_amounts_are_exact_json_numbers(amount: object, expected: float) -> None:
    token = sign(amount=amount)
    payload = token.split(".")[1]
    import base64

    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
    assert f'"amount":{expected!r}' in raw
