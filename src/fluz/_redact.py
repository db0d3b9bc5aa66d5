"""Keeping secrets out of logs, reprs and exception text.

Two layers: values the client knows are secret (API key, tokens, the secret fields of the
input being sent) are replaced wherever they appear; and shapes that look like secrets
(JWTs, Authorization header values, long digit runs such as card numbers and gift-card
codes) are masked even when the client never saw the value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Generic, TypeVar

from ._response import is_model

REDACTED = "[REDACTED]"

# Input/output fields whose values are secret, by snake_case field name.
SECRET_FIELDS = frozenset(
    {
        "api_key",
        "token",
        "access_token",
        "refresh_token",
        "card_number",
        "cvv",
        "code",
        "pin",
        "virtual_card_pin",
        "pin_auth_token",
        "public_token",
        "link_token",
    }
)
_MIN_SECRET_LEN = 3  # shorter values would mask ordinary text

_SHAPES = re.compile(
    # A UUID is an id, never a secret: matched first and kept whole (its last group can
    # be 12 digits, which the card-number rule below would otherwise mask).
    r"(?P<uuid>\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b)"
    r"|eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*"  # JWT
    r"|(?i:\b(?:basic|bearer)\s+)[\w+/=.-]{6,}"  # credentials of an Authorization header
    r"|\b\d(?:[ -]?\d){11,}\b"  # 12+ digits: card numbers, gift-card codes (not dates)
)


def _mask_shape(match: re.Match[str]) -> str:
    return match.group() if match.group("uuid") else REDACTED


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Return *text* with every known secret value and every secret-looking shape masked
    (never a part of a UUID)."""
    for secret in sorted({s for s in secrets if s and len(s) >= _MIN_SECRET_LEN}, key=len)[::-1]:
        text = text.replace(secret, REDACTED)
    return _SHAPES.sub(_mask_shape, text)


def secret_values(value: Any, _depth: int = 0) -> list[str]:
    """The values of secret fields (see SECRET_FIELDS) anywhere inside *value*: pydantic
    models, dicts and lists of them, as they are about to be sent."""
    found: list[str] = []
    if _depth > 6:
        return found
    if is_model(value):
        for name in type(value).model_fields:
            item = getattr(value, name, None)
            if item is None:
                continue
            if name in SECRET_FIELDS and isinstance(item, str):
                found.append(item)
            elif isinstance(item, list | dict) or is_model(item):
                found.extend(secret_values(item, _depth + 1))
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str) and _snake(str(key)) in SECRET_FIELDS:
                found.append(item)
            else:
                found.extend(secret_values(item, _depth + 1))
    elif isinstance(value, list):
        for item in value:
            found.extend(secret_values(item, _depth + 1))
    return found


def _snake(name: str) -> str:
    return _CAMEL.sub("_", name).lower()


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def mask(value: str | None) -> str | None:
    """A display form of a secret: None stays None, anything else becomes ``[REDACTED]``."""
    return None if value is None else REDACTED


T = TypeVar("T")


class Sealed(Generic[T]):
    """A secret held where a traceback could show it: ``repr()`` never does, so captured
    locals (Sentry, ``traceback.TracebackException(capture_locals=True)``, ``pytest -l``)
    show ``<sealed>`` instead of a token, an API key or a request body."""

    __slots__ = ("value",)

    def __init__(self, value: T) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "<sealed>"
