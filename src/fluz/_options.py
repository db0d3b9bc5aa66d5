"""Per-call options: what a single operation call may change, typed and checked.

Every generated operation method takes ``options=CallOptions(...)`` and
``idempotency_key=`` as keyword arguments; anything else is refused before sending
(a misspelt option is a ``TypeError`` at the call, and ``CallOptions(timout=1)`` is one
under mypy too). :meth:`FluzClient.with_options` sets the same options for every call
of a view.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from fluz_graphql.call_options import CallOptionsDict

from ._errors import ValidationError

# Headers the client sets itself: an extra header may not replace them.
RESERVED_HEADERS = frozenset(
    {"authorization", "content-type", "content-length", "host", "transfer-encoding"}
)


@dataclass(frozen=True, slots=True, kw_only=True)
class CallOptions:
    """Options of one operation call (None: the client's or view's setting).

    Attributes:
        timeout: the whole call may take at most this long, in seconds (every attempt,
            backoff and token renewal, and a body arriving slowly), and each HTTP attempt
            too; or an ``httpx.Timeout`` for each attempt's phases (the call then ends
            by ``deadline``).
        deadline: seconds the whole call may take, when it should differ from timeout.
        max_retries: retries after the first attempt.
        extra_headers: added to the request (``Authorization``, ``Content-Type``,
            ``Content-Length``, ``Host`` and ``Transfer-Encoding`` are the client's).
        idempotency_key: the key for this call's mutation input (the input object is not
            changed): the same key is processed by Fluz only once.

    Raises:
        ValidationError: a value is out of range or an extra header is reserved.
    """

    timeout: float | httpx.Timeout | None = None
    deadline: float | None = None
    max_retries: int | None = None
    extra_headers: Mapping[str, str] | None = field(default=None, repr=False)
    idempotency_key: str | uuid.UUID | None = None

    def __post_init__(self) -> None:
        check_options(
            timeout=self.timeout,
            deadline=self.deadline,
            max_retries=self.max_retries,
            extra_headers=self.extra_headers,
        )


def check_options(
    *,
    timeout: float | httpx.Timeout | None = None,
    deadline: float | None = None,
    max_retries: int | None = None,
    extra_headers: Mapping[str, str] | None = None,
) -> None:
    """Raise ValidationError naming the first option out of range."""

    def bad(name: str, rule: str, message: str) -> ValidationError:
        return ValidationError(message, field=name, rule=rule, code="CLIENT_VALIDATION")

    if timeout is not None and not isinstance(timeout, httpx.Timeout) and not _positive(timeout):
        raise bad("timeout", "positive", "timeout must be a number of seconds > 0")
    if deadline is not None and not _positive(deadline):
        raise bad("deadline", "positive", "deadline must be a number of seconds > 0")
    if max_retries is not None and (
        isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0
    ):
        raise bad("max_retries", "non_negative", "max_retries must be an integer >= 0")
    if extra_headers is not None:
        for name, value in extra_headers.items():
            if not isinstance(name, str) or not isinstance(value, str):
                raise bad("extra_headers", "str", "extra header names and values must be str")
            if name.lower() in RESERVED_HEADERS:
                raise bad("extra_headers", "reserved", f"the {name} header is set by the client")


def _positive(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


# The generated methods' **kwargs, typed by CallOptionsDict (what mypy accepts is accepted).
_KEYWORDS = frozenset(CallOptionsDict.__annotations__)


def call_options(operation: str, kwargs: dict[str, Any]) -> CallOptions | None:
    """The :class:`CallOptions` of a call from the keyword arguments a generated method
    passed on (``options=``, ``idempotency_key=``); None when there are none.

    Raises:
        TypeError: an unknown keyword argument, a non-CallOptions ``options``, or an
            idempotency key given twice.
    """
    if not kwargs:
        return None
    unknown = set(kwargs) - _KEYWORDS
    if unknown:
        raise TypeError(
            f"{operation}() got unexpected keyword argument(s) {', '.join(sorted(unknown))}: "
            "per-call options go in options=fluz.CallOptions(timeout=..., max_retries=..., "
            "extra_headers=..., idempotency_key=...)"
        )
    options = kwargs.get("options")
    if options is not None and not isinstance(options, CallOptions):
        raise TypeError(f"options must be a fluz.CallOptions, not {type(options).__name__}")
    key = kwargs.get("idempotency_key")
    if key is None:
        return options
    if options is not None and options.idempotency_key is not None:
        raise TypeError("idempotency_key given twice (as an argument and in options)")
    if not isinstance(key, str | uuid.UUID):
        raise TypeError(f"idempotency_key must be a str or UUID, not {type(key).__name__}")
    if options is None:
        return CallOptions(idempotency_key=key)
    return CallOptions(
        timeout=options.timeout,
        deadline=options.deadline,
        max_retries=options.max_retries,
        extra_headers=options.extra_headers,
        idempotency_key=key,
    )
