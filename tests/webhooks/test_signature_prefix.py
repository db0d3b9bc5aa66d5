"""A verifier with a provider-specific prefix ("v1=") accepts its own signatures with or
without the prefix, and a mismatch says exactly what to check."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from fluz.webhooks import WebhookSignatureError, WebhookVerifier

SECRET = "whsec_test_0123456789"
BODY = b'{"eventType":"TRANSACTION_CREATE","userId":"u-1","amount":"10.50"}'
HEX = hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()


@pytest.mark.parametrize("signature", [f"v1={HEX}", HEX, f"sha256={HEX}"])
def test_a_custom_prefix_is_stripped_before_comparing(signature: str) -> None:
    WebhookVerifier(SECRET, prefix="v1=").verify(BODY, signature)


def test_a_signature_under_another_prefix_is_not_decodable() -> None:
    with pytest.raises(WebhookSignatureError, match="is not valid hex"):
        WebhookVerifier(SECRET, prefix="v1=").verify(BODY, f"v2={HEX}")


def test_a_mismatch_names_the_scheme_and_what_to_check() -> None:
    with pytest.raises(WebhookSignatureError) as caught:
        WebhookVerifier(SECRET).verify(BODY + b"!", HEX)
    assert caught.value.message == (
        "X-HMAC-Signature does not match the body (HMAC-SHA256, hex): wrong secret, "
        "wrong encoding, or the body was changed in transit"
    )
