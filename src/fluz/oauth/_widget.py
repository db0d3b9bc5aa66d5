"""Widget pre-approved transaction tokens (``patToken``), signed on the app's server.

Why the standard library and not PyJWT: the token is one fixed HS256 shape (header,
claims, HMAC-SHA256 over them), about twenty lines with ``hmac``/``base64``/``json``. A JWT
library would add a dependency to the core package for that, and its main value -
verification, key handling, algorithm negotiation - is not needed to *sign*. The tests
verify our tokens with PyJWT, so the output is checked against a well-kept implementation.
"""

from __future__ import annotations

import base64
import hmac
import json
import math
import time
import uuid
from decimal import Decimal, InvalidOperation
from typing import Literal

from .. import _constants as C
from .._errors import ValidationError

__all__ = ["TransactionType", "sign_pat_token"]

TransactionType = Literal["DEPOSIT", "WITHDRAW"]
_TRANSACTION_TYPES = ("DEPOSIT", "WITHDRAW")
_ENCODED_HEADER = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"  # base64url {"alg":"HS256","typ":"JWT"}


def sign_pat_token(
    *,
    api_key: str,
    api_secret: str,
    amount: Decimal | int | str,
    transaction_type: TransactionType,
    external_id: str,
    expires_in: float = C.PAT_TOKEN_LIFETIME,
    now: float | None = None,
) -> str:
    """Sign a widget ``patToken`` pre-approving one transaction (HS256 with *api_secret*).

    Claims: ``amount`` (dollars and cents, a JSON number as in the docs' sample),
    ``transactionType`` (DEPOSIT: the user pays into your app; WITHDRAW: a payout to the
    user), ``apiKey``, ``externalId`` (your id for the user; Fluz echoes it in webhook
    events), ``jti`` (a fresh UUID4: Fluz's idempotency key for the transaction), ``iat``
    and ``exp`` (*expires_in* seconds later; default 5 minutes). Sign one token per
    transaction; never reuse one.

    Raises:
        ValidationError: an argument is empty, *amount* is not a positive amount with at
            most two decimals, *transaction_type* is not DEPOSIT or WITHDRAW, or
            *expires_in* is not a positive number of seconds.
    """
    for name, value in (
        ("api_key", api_key),
        ("api_secret", api_secret),
        ("external_id", external_id),
    ):
        if not isinstance(value, str) or not value.strip():
            raise _invalid(name, "non_empty", f"{name} must be a non-empty string")
    if transaction_type not in _TRANSACTION_TYPES:
        raise _invalid("transaction_type", "enum", "transaction_type must be DEPOSIT or WITHDRAW")
    if not (isinstance(expires_in, int | float) and math.isfinite(expires_in) and expires_in > 0):
        raise _invalid("expires_in", "positive", "expires_in must be a positive number of seconds")
    issued = int(time.time() if now is None else now)
    claims = {
        # A Decimal with at most two decimals prints as that decimal through float's
        # shortest round-trip repr (e.g. 10.1, 12.34): the JSON number is exact.
        "amount": float(_amount(amount)),
        "transactionType": transaction_type,
        "apiKey": api_key,
        "externalId": external_id,
        "jti": str(uuid.uuid4()),
        "iat": issued,
        "exp": issued + math.ceil(expires_in),
    }
    signing_input = f"{_ENCODED_HEADER}.{_b64_json(claims)}"
    signature = hmac.digest(api_secret.encode(), signing_input.encode(), "sha256")
    return f"{signing_input}.{_b64(signature)}"


def _amount(value: Decimal | int | str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        # A float is refused: 0.1 + 0.2 style values are how cents go missing.
        raise _invalid("amount", "decimal", "amount must be a Decimal, an int or a string")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise _invalid("amount", "decimal", "amount is not a number") from None
    if not amount.is_finite() or amount <= 0:
        raise _invalid("amount", "positive", "amount must be a positive, finite amount")
    if amount != amount.quantize(Decimal("0.01")):
        raise _invalid("amount", "cents", "amount must have at most two decimals")
    if amount >= Decimal(10) ** 13:  # beyond float's exact range for cents
        raise _invalid("amount", "max", "amount is too large")
    return amount


def _invalid(field: str, rule: str, message: str) -> ValidationError:
    return ValidationError(message, field=field, rule=rule, code="CLIENT_VALIDATION")


def _b64_json(value: object) -> str:
    return _b64(json.dumps(value, separators=(",", ":")).encode())


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
