"""The ``X-HMAC-Signature`` scheme: signing and constant-time verification of raw bodies.

What Fluz's docs show (docs/webhooks): the header name and that it carries an HMAC-SHA256
of "the payload". What they do not show (the page is cut before its verification section):
which secret signs, hex or base64, and whether a prefix such as ``sha256=`` is sent. So the
scheme is explicit here, with the likeliest reading as the default - lowercase hex of
HMAC-SHA256(secret, raw body), no prefix - and both unknowns configurable. Check the
defaults against one real delivery before going live (README, "Webhooks").

Always verify the exact bytes received, before parsing: re-serialising JSON changes bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence
from typing import Literal

from .. import _constants as C
from ._errors import WebhookSignatureError
from ._events import WebhookEvent, parse_event

Encoding = Literal["hex", "base64"]
_ENCODINGS = ("hex", "base64")
# Tolerated on any signature we verify (the prefix carries no secret, so accepting it
# cannot weaken the check); sent only when the scheme's ``prefix`` says so.
_KNOWN_PREFIX = "sha256="


class WebhookVerifier:
    """Signs and verifies Fluz webhook bodies with one or more secrets.

    Args:
        secret: the signing secret, or several (during a rotation every one is tried).
            ``str`` is encoded as UTF-8. Which Fluz secret signs is not documented; the
            app secret is the likeliest (README).
        encoding: ``"hex"`` (default; either case accepted) or ``"base64"`` (standard or
            URL-safe alphabet, padding optional).
        prefix: text put before the signature by :meth:`sign`, e.g. ``"sha256="``.
            Verification accepts a signature with or without ``sha256=`` either way.

    Raises:
        ValueError: no secret, an empty secret, or an unknown encoding. The message never
            contains a secret.

    The secret is kept out of ``repr()``.
    """

    __slots__ = ("_secrets", "encoding", "prefix")

    def __init__(
        self,
        secret: str | bytes | Sequence[str | bytes],
        *,
        encoding: Encoding = C.WEBHOOK_DEFAULT_ENCODING,
        prefix: str = "",
    ) -> None:
        candidates = [secret] if isinstance(secret, str | bytes) else list(secret)
        keys = tuple(s.encode() if isinstance(s, str) else bytes(s) for s in candidates)
        if not keys or any(not key for key in keys):
            raise ValueError("webhook secret: give at least one non-empty secret")
        if encoding not in _ENCODINGS:
            raise ValueError(f"webhook encoding must be one of {', '.join(_ENCODINGS)}")
        self._secrets = keys
        self.encoding: Encoding = encoding
        self.prefix = prefix

    def __repr__(self) -> str:
        return (
            f"WebhookVerifier(secrets=<{len(self._secrets)} hidden>, "
            f"encoding={self.encoding!r}, prefix={self.prefix!r})"
        )

    def sign(self, body: bytes) -> str:
        """The header value for *body*, signed with the first secret."""
        digest = hmac.new(self._secrets[0], body, hashlib.sha256).digest()
        if self.encoding == "hex":
            encoded = digest.hex()
        else:
            encoded = base64.b64encode(digest).decode("ascii")
        return self.prefix + encoded

    def verify(self, body: bytes, signature: str | None) -> None:
        """Check *signature* (the ``X-HMAC-Signature`` value) against the raw *body*.

        Comparison is constant-time (``hmac.compare_digest``) on the decoded digests.

        Raises:
            WebhookSignatureError: the signature is missing, not decodable in the
                configured encoding, or matches no secret. The message names the problem,
                never the secret, the expected signature or the one received.
        """
        if signature is None or not signature.strip():
            raise WebhookSignatureError(f"missing {C.WEBHOOK_SIGNATURE_HEADER} header")
        received = self._decode(signature.strip())
        matched = False
        for key in self._secrets:
            expected = hmac.new(key, body, hashlib.sha256).digest()
            # No early exit: the time taken does not reveal which secret matched.
            matched |= hmac.compare_digest(expected, received)
        if not matched:
            raise WebhookSignatureError(
                f"{C.WEBHOOK_SIGNATURE_HEADER} does not match the body "
                f"(HMAC-SHA256, {self.encoding}): wrong secret, wrong encoding, "
                "or the body was changed in transit"
            )

    def construct_event(
        self, body: bytes, signature: str | None, *, event_id: str | None = None
    ) -> WebhookEvent:
        """Verify *body* against *signature*, then parse it (:func:`parse_event`).

        Args:
            body: the raw request body, exactly as received.
            signature: the ``X-HMAC-Signature`` header value.
            event_id: the ``X-Event-ID`` header value.

        Raises:
            WebhookSignatureError: see :meth:`verify` (nothing is parsed then).
            WebhookPayloadError: the verified body is not a valid event.
        """
        self.verify(body, signature)
        return parse_event(body, event_id=event_id)

    def _decode(self, signature: str) -> bytes:
        if signature[: len(_KNOWN_PREFIX)].lower() == _KNOWN_PREFIX:
            signature = signature[len(_KNOWN_PREFIX) :]
        elif self.prefix and signature.startswith(self.prefix):
            signature = signature[len(self.prefix) :]
        try:
            if self.encoding == "hex":
                decoded = bytes.fromhex(signature)
            else:
                standard = signature.replace("-", "+").replace("_", "/")
                padded = standard + "=" * (-len(standard) % 4)
                decoded = base64.b64decode(padded, validate=True)
        except (ValueError, binascii.Error):
            raise WebhookSignatureError(
                f"{C.WEBHOOK_SIGNATURE_HEADER} is not valid {self.encoding}"
            ) from None
        if len(decoded) != hashlib.sha256().digest_size:
            raise WebhookSignatureError(
                f"{C.WEBHOOK_SIGNATURE_HEADER} is not an HMAC-SHA256 digest "
                f"(expected 32 bytes of {self.encoding})"
            )
        return decoded
