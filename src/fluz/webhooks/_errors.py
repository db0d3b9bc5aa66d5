"""Errors of webhook handling; messages name the problem, never a secret or payload value."""

from __future__ import annotations

from .._errors import FluzError


class WebhookError(FluzError):
    """Base class of the webhook errors."""


class WebhookSignatureError(WebhookError):
    """The ``X-HMAC-Signature`` header is missing, malformed or does not match the body
    (a receiver answers 401)."""


class WebhookPayloadError(WebhookError, ValueError):
    """The body is not a JSON object, or a known field has the wrong type (a receiver
    answers 400). The message names the field and the rule, not the value."""
