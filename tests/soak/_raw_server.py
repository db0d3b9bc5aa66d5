"""A loopback HTTP/1.1 server that answers with whatever bytes a case scripts.

For responses a real GraphQL server cannot produce on demand (truncated or oversized
bodies, HTML error pages, resets, silence), sent over a real socket so that the whole
httpx/httpcore stack runs. It runs as tasks of the caller's event loop (anyio: asyncio
and trio). The request path names the case (``/case-name``); token requests get a JWT
with a canary claim, so user operations can reach the case.
"""

from __future__ import annotations

import base64
import json
import socket
import struct
import time
import uuid
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

import anyio
from anyio.abc import SocketAttribute, SocketStream, TaskGroup

Handler = Callable[[SocketStream, dict[str, Any]], Awaitable[None]]

MAX_HEAD = 64 * 1024


def jwt(lifetime: float = 300.0, **claims: Any) -> str:
    """An unsigned-looking JWT (the client never checks signatures)."""

    def b64(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    now = int(time.time())
    payload = {"iat": now, "exp": now + lifetime, "jti": uuid.uuid4().hex, **claims}
    return f"{b64({'alg': 'HS256', 'typ': 'JWT'})}.{b64(payload)}.c2lnbmF0dXJlLXNpZ25hdHVyZQ"


def http_response(
    status: int,
    body: bytes = b"",
    *,
    reason: str = "",
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
    content_length: int | None = None,
) -> bytes:
    """The bytes of an HTTP/1.1 response (Content-Length as given, else the body's)."""
    lines = [f"HTTP/1.1 {status} {reason or 'Status'}", f"Content-Type: {content_type}"]
    length = len(body) if content_length is None else content_length
    lines.append(f"Content-Length: {length}")
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def graphql_body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()


def replying(data: bytes, *, close: bool = False) -> Handler:
    """A handler that sends *data* (then closes the connection if *close*)."""

    async def handle(stream: SocketStream, request: dict[str, Any]) -> None:
        await stream.send(data)
        if close:
            await stream.aclose()

    return handle


async def reset(stream: SocketStream) -> None:
    """Close with RST ("connection reset by peer") instead of FIN."""
    raw = stream.extra(SocketAttribute.raw_socket)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    await stream.aclose()


class RawServer:
    """``async with RawServer(cases) as server: server.url("case")``.

    *cases* maps a case name to a handler; the handler writes the raw response (or resets,
    or never answers). Token requests are answered with ``token`` (a canary JWT)."""

    def __init__(self, cases: dict[str, Handler], token: str) -> None:
        self.cases = cases
        self.token = token
        self.requests: dict[str, int] = {}
        self._tg: TaskGroup | None = None
        self.port = 0

    def url(self, case: str) -> str:
        return f"http://127.0.0.1:{self.port}/{case}"

    async def __aenter__(self) -> RawServer:
        listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
        self.port = listener.extra(SocketAttribute.local_port)
        self._tg = anyio.create_task_group()
        await self._tg.__aenter__()
        self._tg.start_soon(listener.serve, self._serve)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._tg is not None
        self._tg.cancel_scope.cancel()
        await self._tg.__aexit__(exc_type, exc, traceback)

    async def _serve(self, stream: SocketStream) -> None:
        async with stream:
            buffer = b""
            while True:
                request, buffer = await _read_request(stream, buffer)
                if request is None:
                    return
                case = request["path"].strip("/")
                self.requests[case] = self.requests.get(case, 0) + 1
                if b"UserAccessToken" in request["body"] and not case.startswith("token-"):
                    field = json.loads(request["body"])["operationName"]
                    field = field[0].lower() + field[1:]
                    body = {
                        "data": {
                            field: {
                                "token": self.token,
                                "accessToken": self.token,
                                "refreshToken": None,
                                "scopes": [],
                            }
                        }
                    }
                    await stream.send(http_response(200, graphql_body(body), reason="OK"))
                    continue
                await self.cases[case](stream, request)


async def _read_request(stream: SocketStream, buffer: bytes) -> tuple[dict[str, Any] | None, bytes]:
    """One request off the connection: (request, leftover bytes), or (None, b"") at EOF."""
    try:
        while b"\r\n\r\n" not in buffer:
            if len(buffer) > MAX_HEAD:
                return None, b""
            buffer += await stream.receive()
        head, _, rest = buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = {
            k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])
        }
        length = int(headers.get("content-length", "0"))
        while len(rest) < length:
            rest += await stream.receive()
    except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError):
        return None, b""
    request = {"method": method, "path": path, "headers": headers, "body": rest[:length]}
    return request, rest[length:]
