"""The ASGI application: the GraphQL endpoint, the admin endpoint, and fault injection.

Every GraphQL response - success, GraphQL error, 4xx, 401, injected 503/429 - is JSON with
``extensions.requestId`` (also in the ``x-request-id`` header). Unexpected failures become
HTTP 500 / GE-9999 without details; the traceback goes to the ``fluz.sandbox`` logger only.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import struct
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from graphql import ExecutionContext, ExecutionResult, GraphQLError, execute

from ._auth import AuthFailure
from ._config import ADMIN_PATH, BODY_TIMEOUT, GRAPHQL_PATH, MAX_BODY_BYTES
from ._core import RequestContext, Sandbox
from ._documents import prepare
from ._errors import (
    INVALID_INPUT,
    RATE_LIMITED,
    SERVER_ERROR,
    VALIDATION_FAILED,
    SandboxError,
)
from ._oauth import OAUTH_PATHS, OAuthApi
from ._schema import executable_schema

logger = logging.getLogger("fluz.sandbox")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# Key under scope["extensions"] where our uvicorn protocol puts the connection's transport,
# so that a fault can reset the connection (ASGI itself cannot).
TRANSPORT_EXTENSION = "fluz.sandbox.transport"


class Reply:
    """An HTTP reply to send, or (``abort``) a connection to reset without a response."""

    def __init__(
        self,
        status: int,
        payload: dict[str, Any] | None = None,
        headers: list[tuple[bytes, bytes]] | None = None,
        abort: bool = False,
    ) -> None:
        self.status = status
        self.payload = payload or {}
        self.headers = headers or []
        self.abort = abort


ABORT = Reply(0, abort=True)


def error_reply(status: int, code: str, message: str, **headers: str) -> Reply:
    error = {"message": message, "extensions": {"code": code}}
    raw = [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
    return Reply(status, {"errors": [error]}, raw)


class _VariableErrors(Exception):
    def __init__(self, errors: list[GraphQLError]) -> None:
        super().__init__("invalid variables")
        self.errors = errors


class _StrictExecutionContext(ExecutionContext):
    """Surfaces variable coercion failures (AR-0001, HTTP 400) instead of a data: null."""

    @classmethod
    def build(cls, *args: Any, **kwargs: Any) -> list[GraphQLError] | ExecutionContext:
        built = super().build(*args, **kwargs)
        if isinstance(built, list):
            raise _VariableErrors(built)
        return built


def format_error(error: GraphQLError) -> dict[str, Any]:
    """The JSON of one error: documented code, never a traceback."""
    original = error.original_error
    formatted: dict[str, Any] = {"message": error.message}
    if error.locations:
        formatted["locations"] = [
            {"line": loc.line, "column": loc.column} for loc in error.locations
        ]
    if error.path:
        formatted["path"] = error.path
    if isinstance(original, SandboxError):
        formatted["message"] = original.message
        formatted["extensions"] = {"code": original.code, **original.extensions}
    elif original is not None and not isinstance(original, GraphQLError):
        logger.error("resolver failed", exc_info=original)
        formatted["message"] = "Internal server error"
        formatted["extensions"] = {"code": SERVER_ERROR}
    else:
        formatted["extensions"] = {"code": (error.extensions or {}).get("code", SERVER_ERROR)}
    return formatted


class BodyTimeout(Exception):
    """The request body did not arrive within BODY_TIMEOUT (answer 408 and close)."""


BODY_TIMEOUT_REPLY_HEADERS = {"connection": "close"}


async def read_body(
    receive: Receive, declared: int | None, limit: int = MAX_BODY_BYTES
) -> bytes | None:
    """The request body, or None when it is (or is declared) over ``limit`` bytes.

    Raises BodyTimeout when the whole body takes longer than BODY_TIMEOUT: uvicorn has no
    body timeout, and a body trickled one byte at a time would hold the connection forever.
    """
    if declared is not None and declared > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(BODY_TIMEOUT):
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    break
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    return None
                chunks.append(chunk)
                if not message.get("more_body", False):
                    break
    except TimeoutError:
        raise BodyTimeout from None
    return b"".join(chunks)


async def send_json(
    send: Send, status: int, payload: Any, headers: list[tuple[bytes, bytes]]
) -> None:
    # allow_nan=False: "Infinity" is not JSON; a non-finite number is a bug to fail loudly.
    body = json.dumps(payload, separators=(",", ":"), default=str, allow_nan=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def send_reply(send: Send, reply: Reply, request_id: str) -> None:
    """Send with ``extensions.requestId`` and the ``x-request-id`` header."""
    payload = reply.payload
    payload["extensions"] = {**payload.get("extensions", {}), "requestId": request_id}
    headers = [*reply.headers, (b"x-request-id", request_id.encode())]
    await send_json(send, reply.status, payload, headers)


async def reset_connection(scope: Scope, receive: Receive) -> bool:
    """Reset the TCP connection (RST, no response). False if this server cannot."""
    transport = scope.get("extensions", {}).get(TRANSPORT_EXTENSION)
    if transport is None or transport.is_closing():
        return False
    sock = transport.get_extra_info("socket")
    if sock is not None:
        # Linger 0: close() sends RST instead of FIN, i.e. "connection reset by peer".
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
    # Wait until the server has seen the disconnect, so it does not answer with a 500.
    while (await receive())["type"] != "http.disconnect":
        pass
    return True


def _content_length(value: str | None) -> int | None:
    return int(value) if value and value.isascii() and value.isdigit() else None


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return None


class SandboxApp:
    """ASGI app serving one ``Sandbox`` at GRAPHQL_PATH and its admin API at ADMIN_PATH."""

    def __init__(self, sandbox: Sandbox) -> None:
        from ._admin import AdminApi

        self.sandbox = sandbox
        self.schema = executable_schema()
        self.admin = AdminApi(sandbox)
        self.oauth = OAuthApi(sandbox)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # no lifespan or websocket work to do
            return
        path = scope["path"]
        if path == GRAPHQL_PATH:
            await self._graphql(scope, receive, send)
        elif path == ADMIN_PATH or path.startswith(ADMIN_PATH + "/"):
            await self.admin(scope, receive, send)
        elif path in OAUTH_PATHS:  # /authorize, /token/exchange, /token/refresh
            await self.oauth(scope, receive, send)
        else:
            reply = error_reply(
                404, INVALID_INPUT, f"Not found; the GraphQL endpoint is {GRAPHQL_PATH}"
            )
            await send_reply(send, reply, str(uuid.uuid4()))

    async def _graphql(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = str(uuid.uuid4())
        self.sandbox.counters.requests += 1
        try:
            reply = await self._answer(scope, receive, request_id)
        except Exception:
            logger.exception("request %s failed", request_id)
            reply = error_reply(500, SERVER_ERROR, "Internal server error")
        if reply.abort and await reset_connection(scope, receive):
            return
        if reply.abort:  # not served by our protocol: the closest we can do
            reply = error_reply(503, SERVER_ERROR, "Service unavailable (sandbox fault)")
        await send_reply(send, reply, request_id)

    async def _answer(self, scope: Scope, receive: Receive, request_id: str) -> Reply:
        if scope["method"] != "POST":
            return error_reply(405, INVALID_INPUT, "Use POST with a JSON body", allow="POST")
        content_type = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
        if content_type != "application/json":
            return error_reply(415, INVALID_INPUT, "Content-Type must be application/json")
        declared = _header(scope, b"content-length")
        try:
            body = await read_body(receive, _content_length(declared))
        except BodyTimeout:
            message = f"Request body not received within {BODY_TIMEOUT:g} s"
            return error_reply(408, INVALID_INPUT, message, **BODY_TIMEOUT_REPLY_HEADERS)
        if body is None:
            return error_reply(413, INVALID_INPUT, f"Request body is over {MAX_BODY_BYTES} bytes")
        request = _parse_request(body)
        if isinstance(request, Reply):
            return request
        query, variables, operation_name = request

        prepared = prepare(query)
        if prepared.error_code is not None or prepared.document is None:
            errors = [format_error(e) for e in prepared.errors]
            for error in errors:
                error["extensions"] = {"code": prepared.error_code}
            return Reply(400, {"errors": errors})
        operation = prepared.operation(operation_name)
        if isinstance(operation, str):
            return error_reply(400, VALIDATION_FAILED, operation)
        root_fields = operation.root_fields
        self.sandbox.counters.requests_by_operation.update(root_fields)

        plan = self.sandbox.faults.plan(root_fields)
        if plan.failure is not None:
            self.sandbox.counters.faults[plan.failure] += 1
            if plan.failure == "unavailable":
                return error_reply(503, SERVER_ERROR, "Service unavailable (sandbox fault)")
            if plan.failure == "rate_limited":
                return error_reply(
                    429,
                    RATE_LIMITED,
                    "Too many requests (sandbox fault)",
                    retry_after=f"{plan.retry_after:g}",
                )
            if plan.failure == "reset":
                return ABORT

        try:
            principal = self.sandbox.authenticate(_header(scope, b"authorization"), root_fields)
        except AuthFailure as failure:
            return error_reply(failure.status, failure.code, failure.message)

        context = RequestContext(self.sandbox, principal, request_id, plan)
        try:
            result = execute(
                self.schema,
                prepared.document,
                context_value=context,
                variable_values=variables,
                operation_name=operation_name,
                execution_context_class=_StrictExecutionContext,
            )
            if not isinstance(result, ExecutionResult):
                result = await result
        except _VariableErrors as invalid_variables:
            errors = [format_error(e) for e in invalid_variables.errors]
            for error in errors:
                error["extensions"] = {"code": INVALID_INPUT}
            return Reply(400, {"errors": errors})
        if plan.failure == "drop_after_commit":
            return ABORT  # the work is done and stays done; the client never hears of it
        payload: dict[str, Any] = {"data": result.data}
        status = 200
        if result.errors:
            payload["errors"] = [format_error(e) for e in result.errors]
            # An unexpected failure (GE-9999) is a server error, HTTP 500, as the README's
            # error table says; documented failures (AR-0001, AUTH-0008...) stay HTTP 200.
            if any(e["extensions"]["code"] == SERVER_ERROR for e in payload["errors"]):
                status = 500
        return Reply(status, payload)


def _parse_request(body: bytes) -> tuple[str, dict[str, Any] | None, str | None] | Reply:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return error_reply(400, INVALID_INPUT, "Request body is not valid JSON")
    if isinstance(data, list):
        return error_reply(400, INVALID_INPUT, "Batched requests are not supported")
    if not isinstance(data, dict):
        return error_reply(400, INVALID_INPUT, "Request body must be a JSON object")
    query, variables, name = data.get("query"), data.get("variables"), data.get("operationName")
    if not isinstance(query, str) or not query.strip():
        return error_reply(400, INVALID_INPUT, "Request body must have a non-empty 'query' string")
    if variables is not None and not isinstance(variables, dict):
        return error_reply(400, INVALID_INPUT, "'variables' must be a JSON object")
    if name is not None and not isinstance(name, str):
        return error_reply(400, INVALID_INPUT, "'operationName' must be a string")
    return query, variables, name
