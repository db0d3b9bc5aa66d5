"""Sending one operation: the request body, the attempts, the deadline's error.

:func:`send` is the loop every operation call goes through: the user token (or the API
key), one request through :mod:`fluz._transport`, the verdict of
:mod:`fluz._error_mapping`, then a token renewal and replay, a retry after backoff (never
one that could not finish before the call's deadline), or the final error. Secrets — the
Authorization value, the request body, the response body — are held in
:class:`~fluz._redact.Sealed` objects here, so a traceback rendered with its local
variables shows none of them.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from typing import TYPE_CHECKING, Any

import anyio
import httpx
from fluz_graphql.base_model import UNSET
from pydantic_core import PydanticSerializationError, to_jsonable_python

from . import _constants as C
from . import _telemetry
from ._auth import UserToken
from ._config import Identity
from ._deadline import now
from ._error_mapping import Context, Success, inspect_response, transport_failure
from ._errors import (
    ConfigurationError,
    FluzError,
    FluzTimeoutError,
    ResponseDecodeError,
    ValidationError,
)
from ._fast_path import plain_success
from ._operations import OperationInfo
from ._redact import Sealed, redact, secret_values
from ._response import CallRecord, is_model
from ._transport import ResponseTooLarge, pool_timeout, post
from ._validation import validate_variables

if TYPE_CHECKING:
    from ._client import FluzClient

logger = logging.getLogger("fluz")

# The token operations: sent in their own lane of request slots (see RequestSlots).
_TOKEN_FIELDS = frozenset({"generateUserAccessToken", "refreshUserAccessToken"})


def encode_body(
    op: OperationInfo,
    query: str,
    operation_name: str | None,
    variables: dict[str, Any],
    call: CallRecord,
) -> Sealed[bytes]:
    """The request body (sealed: it may hold card numbers), after validation.

    Raises:
        ValidationError: the variables are knowably invalid or cannot be encoded.
    """
    try:
        validate_variables(op, variables)
    except ValidationError as exc:
        exc.operation, exc.idempotency_key = op.name, call.idempotency_key
        raise
    try:
        return Sealed(
            b"".join(
                (
                    _body_start(query, operation_name),
                    _variables_json(variables),
                    b"}",
                )
            )
        )
    except (ValueError, TypeError, PydanticSerializationError) as exc:
        problem = redact(str(exc))
    raise ValidationError(
        f"variables cannot be encoded: {problem}",
        rule="encodable",
        code="CLIENT_VALIDATION",
        operation=op.name,
        idempotency_key=call.idempotency_key,
    )


def _variables_json(variables: dict[str, Any]) -> bytes:
    """The JSON object of *variables*, as the generated client's
    ``_convert_dict_to_json_serializable`` then ``to_jsonable_python`` then
    :data:`_VARIABLES_ENCODER` would write it, in one pass: ``UNSET`` variables are left
    out, a model is written by its own serializer (aliases, unset fields left out), a
    list item by item, anything else by the encoder.

    Raises:
        ValueError, TypeError, PydanticSerializationError: a value cannot be encoded.
    """
    return b"{%s}" % b",".join(
        b"%s:%s" % (_VARIABLES_ENCODER.encode(name).encode(), _value_json(value))
        for name, value in variables.items()
        if value is not UNSET
    )


def _value_json(value: Any) -> bytes:
    """*value* as JSON (see :func:`_variables_json`).

    A model's serializer would write a non-finite float as ``null``; none can reach it:
    every GraphQL ``Float`` input field is a money or decimal field whose serializer
    refuses NaN and Infinity (``money_to_json``), which raises here as before.
    """
    if is_model(value):
        serializer = type(value).__pydantic_serializer__
        return serializer.to_json(value, by_alias=True, exclude_unset=True)
    if isinstance(value, list):
        return b"[%s]" % b",".join([_value_json(item) for item in value])
    return _VARIABLES_ENCODER.encode(to_jsonable_python(value)).encode()


def deadline_passed(client: FluzClient, op: OperationInfo, call: CallRecord) -> FluzTimeoutError:
    return FluzTimeoutError(
        f"{op.name} did not complete within its {client._deadline:g} s deadline",
        code="DEADLINE",
        request_sent=call.sent,
        operation=op.name,
        request_id=call.request_id,
        idempotency_key=call.idempotency_key,
    )


async def send(
    client: FluzClient,
    op: OperationInfo,
    body: Sealed[bytes],
    variables: dict[str, Any],
    call: CallRecord,
    give_up_at: float,
) -> tuple[httpx.Response, Sealed[bytes]]:
    """Send *body* until it succeeds, a failure is final or retries run out (no retry is
    started that could not finish by *give_up_at*, on anyio's clock).

    Secrets (the Authorization value, the body, the response) are held in
    :class:`Sealed` objects here, so a traceback rendered with its locals shows none.
    """
    # Retrying repeats the request: harmless for reads and for keyed mutations only.
    may_repeat = op.retry_safe_without_key or call.idempotency_key is not None
    identity = None if op.uses_basic_auth else _require_identity(client, op, call)
    token_lane = bool(op.root_fields) and _TOKEN_FIELDS.issuperset(op.root_fields)
    wait = pool_timeout(client._http, client._timeout)
    retries = 0
    replayed = False
    renewed: UserToken | None = None  # the token renewed after a rejection, for the replay
    debug = logger.isEnabledFor(logging.DEBUG)
    client._lifecycle.used = True
    while True:
        call.attempts += 1
        call.request_id = None
        # The token is taken before waiting for a request slot, so that a renewal starts
        # at once (in its own lane) rather than behind the calls queued for slots ...
        token = None
        if identity is None:
            authorization = _api_key_authorization(client, op)
        else:
            # The token renewed after a refusal serves the replay only; later attempts
            # take the store's (renewed again if it aged during a backoff).
            token = renewed or await client._user_token(identity, op, call)
            renewed = None
        try:
            async with client._slots.held(wait, token_lane=token_lane) as waited:
                if token is not None:
                    assert identity is not None
                    if waited and not token.is_fresh(time.monotonic()):
                        # ... and checked again once the slot is held: it may have aged
                        # past its renewal time while queued, and sent anyway it would
                        # only earn a refusal (and then, queued again, maybe another).
                        token = await client._user_token(identity, op, call)
                    authorization = Sealed(f"Bearer {token.access_token}")
                started = time.perf_counter()
                sent_at = time.monotonic()
                call.sent = True
                response, content = await post(
                    client._http,
                    # Built only now, and never a local here (it holds the Authorization).
                    client._requests.build(
                        client._http,
                        client._request_url,
                        body,
                        _headers(client, authorization),
                        client._timeout,
                    ),
                    max_bytes=C.MAX_RESPONSE_BYTES,
                    entry=client._slots.entry(),
                )
        except httpx.RequestError as exc:
            failure = transport_failure(exc, _context(client, op, call, token, variables))
            retry_allowed = may_repeat or not getattr(failure.error, "request_sent", True)
        except ResponseTooLarge as exc:
            # Not retried: the same request would get the same answer.
            error = ResponseDecodeError(
                f"{exc}: not read further",
                code="RESPONSE_TOO_LARGE",
                operation=op.name,
                idempotency_key=call.idempotency_key,
                status_code=exc.status_code,
            )
            raise error from None
        else:
            outcome = plain_success(
                op, response, content.value, raise_on_payload_errors=client._raise_on_payload_errors
            ) or inspect_response(
                response,
                content.value,
                _context(client, op, call, token, variables),
                raise_on_payload_errors=client._raise_on_payload_errors,
            )
            call.request_id = (
                outcome.request_id if isinstance(outcome, Success) else (outcome.error.request_id)
            )
            if debug:
                logger.debug(
                    "fluz %s attempt %d: HTTP %d in %.1f ms, request_id=%s",
                    op.name,
                    call.attempts,
                    response.status_code,
                    (time.perf_counter() - started) * 1000,
                    call.request_id,
                )
            if isinstance(outcome, Success):
                call.response = response
                call.payload = outcome.payload
                call.result = outcome.result
                return response, content
            failure = outcome
            if failure.token_rejected and token is not None and not replayed:
                # The request was refused before being processed: replaying is safe.
                assert identity is not None
                replayed = True
                logger.debug(
                    "fluz %s: user token rejected (%s), renewing and replaying once; request_id=%s",
                    op.name,
                    failure.error.code or failure.error.status_code,
                    call.request_id,
                )
                renewed = await client._user_token(identity, op, call, token, sent_at)
                continue
            retry_allowed = may_repeat
        retries += 1
        delay = (
            client._retry.delay(retries, failure.retry_after)
            if failure.retryable and retry_allowed
            else None
        )
        if delay is None or now() + delay >= give_up_at:
            # No retry, or none that could finish before the deadline: the real
            # failure says more than a timeout would.
            raise failure.error
        logger.debug(
            "fluz %s: retry %d of %d in %.2fs after %s; request_id=%s",
            op.name,
            retries,
            client._retry.max_retries,
            delay,
            _describe(failure.error),
            call.request_id,
        )
        _telemetry.retry(retries, delay, failure.error)
        await anyio.sleep(delay)


def _api_key_authorization(client: FluzClient, op: OperationInfo) -> Sealed[str]:
    if not client._config.api_key:  # an OAuth client built without one
        no_key = ConfigurationError(
            f"{op.name} needs the app's API key: pass api_key=... or set {C.ENV_API_KEY}",
            operation=op.name,
        )
        no_key.request_sent = False
        raise no_key
    return client._basic


def _context(
    client: FluzClient,
    op: OperationInfo,
    call: CallRecord,
    token: UserToken | None,
    variables: dict[str, Any],
) -> Context:
    return Context(
        op.name, call.idempotency_key, functools.partial(_secrets, client, token, variables)
    )


def _headers(client: FluzClient, authorization: Sealed[str]) -> Sealed[dict[str, str]]:
    headers = {
        **client._extra_headers,
        "Authorization": authorization.value,
        "Content-Type": "application/json",
    }
    _telemetry.inject(headers)  # traceparent, when OpenTelemetry is on
    return Sealed(headers)


def _secrets(client: FluzClient, token: UserToken | None, variables: dict[str, Any]) -> list[str]:
    """Values to mask wherever they would appear in an error message."""
    secrets = [client._config.api_key, *secret_values(variables)]
    if token is not None:
        secrets += [token.access_token, token.refresh_token or ""]
    return secrets


def _require_identity(client: FluzClient, op: OperationInfo, call: CallRecord) -> Identity:
    if client._identity is None:
        error = ConfigurationError(
            f"{op.name} needs a user token: {client._no_identity_hint}",
            operation=op.name,
            idempotency_key=call.idempotency_key,
        )
        error.request_sent = False
        raise error
    return client._identity


# ------------------------------------------------------------------ tokens


# Variables are encoded per call; the rest of a request body is constant per operation.
_VARIABLES_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


@functools.lru_cache(maxsize=256)
def _body_start(query: str, operation_name: str | None) -> bytes:
    """``{"query":...,"operationName":...,"variables":`` of a request body, encoded once
    per operation (the query text is most of the body)."""
    head = _VARIABLES_ENCODER.encode({"query": query, "operationName": operation_name})
    return head[:-1].encode() + b',"variables":'


def readable(response: httpx.Response, content: bytes) -> httpx.Response:
    """*response* with its body read, for a caller of execute() (the client streams
    bodies to cap their size, which leaves the original unreadable)."""
    headers = [
        (name, value)
        for name, value in response.headers.multi_items()
        if name.lower() not in ("content-encoding", "content-length", "transfer-encoding")
    ]
    return httpx.Response(
        response.status_code,
        headers=headers,
        content=content,
        request=response.request,
        extensions=response.extensions,
    )


def _describe(error: FluzError) -> str:
    detail = error.code or (f"HTTP {error.status_code}" if error.status_code else "")
    return f"{type(error).__name__}({detail})" if detail else type(error).__name__
