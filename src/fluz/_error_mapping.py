"""From an HTTP exchange to a success payload or a typed :class:`~fluz.FluzError`.

One mapping per condition, whatever the HTTP status: the Fluz code decides first (so
``AUTH-0008`` with ``missingScopes`` is a missing scope on HTTP 200 and on 403 alike),
then the status, and only for a body that is a GraphQL response; a body that is not one
(an HTML error page from a proxy or a wrong URL) never becomes "not found" or "invalid
input". Messages are redacted here, before they reach an exception.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

import httpx
from pydantic_core import from_json

from . import _constants as C
from ._errors import (
    APIError,
    FluzError,
    FluzTimeoutError,
    PermissionDeniedError,
    ResponseDecodeError,
    TransportError,
    error_class,
    status_error_class,
)
from ._redact import redact
from ._retry import parse_retry_after

# httpx errors raised before any byte of the request could have reached the server.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


# The records below are plain classes rather than dataclasses: a frozen dataclass costs
# `import fluz` about 1 ms to create (it compiles six methods), and more per instance.


class Context:
    """What an error needs to name: the operation, the call's key and what to redact."""

    __slots__ = ("idempotency_key", "operation", "secrets")

    def __init__(
        self,
        operation: str,
        idempotency_key: str | None,
        secrets: Callable[[], Iterable[str]],
    ) -> None:
        self.operation = operation
        self.idempotency_key = idempotency_key
        # Called only when an error is built (walking the input for secrets costs time on
        # every call otherwise); never in a traceback's captured locals or a repr.
        self.secrets = secrets


class Failure:
    __slots__ = ("error", "retry_after", "retryable", "token_rejected")

    def __init__(
        self,
        error: FluzError,
        retryable: bool,  # a retry could succeed (the kind of failure, not yet the operation)
        retry_after: float | None = None,
        token_rejected: bool = False,  # renew the user token and replay once
    ) -> None:
        self.error = error
        self.retryable = retryable
        self.retry_after = retry_after
        self.token_rejected = token_rejected


class Success:
    __slots__ = ("payload", "request_id", "result")

    def __init__(
        self, payload: dict[str, Any] | None, request_id: str | None, result: Any = None
    ) -> None:
        self.payload = payload  # None: decoded straight into *result* (fluz._fast_path)
        self.request_id = request_id
        self.result = result  # the generated model of ``data``, when the fast path made it


def inspect_response(
    response: httpx.Response,
    content: bytes,
    ctx: Context,
    *,
    raise_on_payload_errors: bool,
) -> Success | Failure:
    """Judge *response* (its body is *content*)."""
    status = response.status_code
    payload = decode_json(content)
    if not isinstance(payload, dict):
        payload = None
    request_id = _request_id(payload) or response.headers.get("x-request-id")
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    is_graphql = payload is not None and ("data" in payload or "errors" in payload)
    errors = payload.get("errors") if payload is not None else None

    def failure(
        cls: type[FluzError],
        message: str,
        code: str | None = None,
        *,
        retryable: bool,
        extensions: dict[str, Any] | None = None,
        token_rejected: bool = False,
    ) -> Failure:
        error = cls(
            redact(message, ctx.secrets()),
            code=code,
            request_id=request_id,
            idempotency_key=ctx.idempotency_key,
            operation=ctx.operation,
            status_code=status,
            extensions=extensions,
        )
        error.retry_after = retry_after
        return Failure(error, retryable, retry_after, token_rejected)

    if is_graphql and errors is not None and not isinstance(errors, list):
        return failure(
            ResponseDecodeError, "response 'errors' is not a list", "DECODE", retryable=True
        )
    first = _pick_error(errors) if errors else None
    if first is not None:
        code = _error_code(first)
        extensions = first.get("extensions") if isinstance(first.get("extensions"), dict) else None
        # A token lacking a scope is refused with the same code as an expired one; a new
        # token for the same scopes cannot help, so no renewal then.
        missing_scope = bool(extensions and extensions.get("missingScopes"))
        if missing_scope:
            cls: type[FluzError] = PermissionDeniedError
        elif code:
            cls = error_class(code, status if status >= 300 else None)
        else:
            cls = status_error_class(status, graphql_body=True) if status >= 300 else APIError
        return failure(
            cls,
            str(first.get("message") or "")
            or (_status_text(response) if status >= 300 else "GraphQL error"),
            code,
            retryable=status in C.RETRYABLE_STATUS or code in C.RETRYABLE_CODES,
            extensions=extensions,
            token_rejected=not missing_scope and (code in C.TOKEN_REJECTED_CODES or status == 401),
        )
    if not 200 <= status <= 299:
        cls = status_error_class(status, graphql_body=is_graphql)
        message = _status_text(response)
        if cls is APIError and not is_graphql:
            message += " (not a GraphQL response: check the client's url or environment)"
        return failure(
            cls,
            message,
            retryable=status in C.RETRYABLE_STATUS,
            token_rejected=status == 401,
        )
    if not is_graphql or payload is None:
        return failure(
            ResponseDecodeError,
            "response body is not a GraphQL JSON response",
            "DECODE",
            retryable=True,
        )
    data = payload.get("data")
    if not isinstance(data, dict):
        return failure(ResponseDecodeError, "response has no data object", "DECODE", retryable=True)
    if raise_on_payload_errors:
        for field, value in data.items():
            if isinstance(value, dict) and value.get("success") is False:
                detail = value.get("error")
                if not isinstance(detail, dict):
                    detail = {}
                pcode = detail.get("code")
                pcode = str(pcode) if pcode else None
                pmessage = detail.get("message") or value.get("message")
                return failure(
                    error_class(pcode),
                    str(pmessage or f"{field} reported success: false"),
                    pcode,
                    retryable=pcode in C.RETRYABLE_CODES,
                )
    return Success(payload, request_id)


def transport_failure(exc: httpx.RequestError, ctx: Context) -> Failure:
    """The failure of an exchange that produced no response."""
    sent = not isinstance(exc, _NOT_SENT)
    cls = FluzTimeoutError if isinstance(exc, httpx.TimeoutException) else TransportError
    what = type(exc).__name__
    detail = redact(str(exc), ctx.secrets())
    return Failure(
        cls(
            f"{what}: {detail}" if detail else what,
            request_sent=sent,
            code=what,
            operation=ctx.operation,
            idempotency_key=ctx.idempotency_key,
        ),
        retryable=not isinstance(exc, httpx.UnsupportedProtocol),
    )


def decode_json(content: bytes) -> Any:
    """The decoded JSON body, or None if it is not JSON."""
    # NaN and Infinity are not JSON: accepting them would turn an amount into NaN.
    try:
        return from_json(content, allow_inf_nan=False)  # pydantic-core: 2/3 of json.loads
    except ValueError:
        pass
    try:  # what only the stdlib accepts: a UTF-8 BOM, UTF-16/32, lone surrogate escapes
        return json.loads(content, parse_constant=_reject_constant)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the stack
        return None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _status_text(response: httpx.Response) -> str:
    return f"HTTP {response.status_code} {response.reason_phrase}".strip()


def _pick_error(errors: list[Any]) -> dict[str, Any]:
    """The most telling error of a GraphQL ``errors`` list (one with a code first)."""
    dicts = [e for e in errors if isinstance(e, dict)]
    for e in dicts:
        if _error_code(e):
            return e
    return dicts[0] if dicts else {"message": "malformed errors list"}


def _error_code(error: dict[str, Any]) -> str | None:
    ext = error.get("extensions")
    code = ext.get("code") if isinstance(ext, dict) else None
    return str(code) if code else None


def _request_id(payload: dict[str, Any] | None) -> str | None:
    ext = payload.get("extensions") if payload else None
    rid = ext.get("requestId") if isinstance(ext, dict) else None
    return str(rid) if rid else None
