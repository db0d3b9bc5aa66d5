"""WebhookVerifier against vectors computed here with the hmac module, independently."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from fluz import FluzError
from fluz.webhooks import (
    TransactionCreate,
    WebhookPayloadError,
    WebhookSignatureError,
    WebhookVerifier,
)

SECRET = "whsec_test_0123456789"
BODY = b'{"eventType":"TRANSACTION_CREATE","userId":"u-1","amount":"10.50"}'
DIGEST = hmac.new(SECRET.encode(), BODY, hashlib.sha256).digest()
HEX = DIGEST.hex()
B64 = base64.b64encode(DIGEST).decode()


def test_the_default_scheme_is_lowercase_hex_hmac_sha256_of_the_raw_body() -> None:
    verifier = WebhookVerifier(SECRET)
    assert verifier.sign(BODY) == HEX
    verifier.verify(BODY, HEX)


@pytest.mark.parametrize("signature", [HEX.upper(), f"sha256={HEX}", f"  {HEX} ", f"SHA256={HEX}"])
def test_hex_verification_accepts_any_case_and_the_sha256_prefix(signature: str) -> None:
    WebhookVerifier(SECRET).verify(BODY, signature)


@pytest.mark.parametrize(
    "signature",
    [B64, B64.rstrip("="), base64.urlsafe_b64encode(DIGEST).decode(), f"sha256={B64}"],
)
def test_base64_encoding_accepts_standard_urlsafe_and_unpadded(signature: str) -> None:
    verifier = WebhookVerifier(SECRET, encoding="base64")
    assert verifier.sign(BODY) == B64
    verifier.verify(BODY, signature)


def test_sign_puts_the_configured_prefix_first() -> None:
    assert WebhookVerifier(SECRET, prefix="sha256=").sign(BODY) == f"sha256={HEX}"


def test_bytes_secret_equals_its_utf8_string() -> None:
    WebhookVerifier(SECRET.encode()).verify(BODY, HEX)


def test_every_secret_of_a_rotation_is_tried() -> None:
    WebhookVerifier(["whsec_new_secret", SECRET]).verify(BODY, HEX)
    with pytest.raises(WebhookSignatureError):
        WebhookVerifier(["whsec_new_secret", "whsec_other"]).verify(BODY, HEX)


@pytest.mark.parametrize(
    ("body", "signature", "reason"),
    [
        (BODY, None, "missing"),
        (BODY, "", "missing"),
        (BODY, "zz" * 32, "not valid hex"),
        (BODY, HEX[:-2], "not an HMAC-SHA256 digest"),
        (BODY + b" ", HEX, "does not match"),
        (BODY.replace(b"10.50", b"99.50"), HEX, "does not match"),
        (BODY, hmac.new(b"other", BODY, hashlib.sha256).hexdigest(), "does not match"),
    ],
)
def test_a_bad_signature_raises_a_typed_error_naming_the_problem(
    body: bytes, signature: str | None, reason: str
) -> None:
    with pytest.raises(WebhookSignatureError, match=reason) as caught:
        WebhookVerifier(SECRET).verify(body, signature)
    assert isinstance(caught.value, FluzError)
    text = f"{caught.value} {caught.value!r}"
    assert SECRET not in text
    assert HEX[:16] not in text
    assert B64[:16] not in text


def test_hex_signature_is_refused_under_base64_and_vice_versa() -> None:
    with pytest.raises(WebhookSignatureError):
        WebhookVerifier(SECRET, encoding="base64").verify(BODY, HEX)
    with pytest.raises(WebhookSignatureError):
        WebhookVerifier(SECRET).verify(BODY, B64)


def test_construct_event_verifies_before_parsing() -> None:
    garbage = b"not json at all"
    with pytest.raises(WebhookSignatureError):
        WebhookVerifier(SECRET).construct_event(garbage, HEX)
    signed = hmac.new(SECRET.encode(), garbage, hashlib.sha256).hexdigest()
    with pytest.raises(WebhookPayloadError):
        WebhookVerifier(SECRET).construct_event(garbage, signed)
    event = WebhookVerifier(SECRET).construct_event(BODY, HEX, event_id="evt-1")
    assert isinstance(event, TransactionCreate)
    assert event.event_id == "evt-1"


def test_repr_hides_the_secret() -> None:
    verifier = WebhookVerifier([SECRET, "whsec_second"])
    assert SECRET not in repr(verifier)
    assert "whsec_second" not in repr(verifier)
    assert "2 hidden" in repr(verifier)


@pytest.mark.parametrize("secret", ["", b"", [], ["ok", ""]])
def test_an_empty_secret_is_refused(secret: object) -> None:
    with pytest.raises(ValueError, match="non-empty secret"):
        WebhookVerifier(secret)  # type: ignore[arg-type]


def test_an_unknown_encoding_is_refused() -> None:
    with pytest.raises(ValueError, match="hex, base64"):
        WebhookVerifier(SECRET, encoding="base32")  # type: ignore[arg-type]
