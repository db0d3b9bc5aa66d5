"""A real ASGI server on loopback for the webhook tests, and a recording endpoint."""

from __future__ import annotations

import asyncio
import socket
import threading
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import uvicorn

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.ready.set()


class AsgiServer:
    """Serve *app* with uvicorn on 127.0.0.1:<free port> in a daemon thread."""

    def __init__(self, app: App) -> None:
        self.app = app
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._server = _Server(
            uvicorn.Config(app, lifespan="on", log_config=None, access_log=False)
        )
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}/hook"

    def _run(self) -> None:
        asyncio.run(self._server.serve(sockets=[self._socket]))

    def __enter__(self) -> AsgiServer:
        self._thread.start()
        if not self._server.ready.wait(10):
            raise RuntimeError("the test server did not start")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.should_exit = True
        self._thread.join(10)
        self._socket.close()


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class RecordingEndpoint:
    """Records every request; answers the next status of ``statuses`` (then 200).
    ``hang`` (a threading.Event) makes every answer wait until it is set."""

    statuses: list[int] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    hang: threading.Event | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                await send({"type": message["type"] + ".complete"})
                if message["type"] == "lifespan.shutdown":
                    return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.requests.append(Received(headers, b"".join(chunks)))
        if self.hang is not None:
            # A threading.Event, set from the test's thread: wait for it off the loop.
            await asyncio.to_thread(self.hang.wait, 30)
        status = self.statuses.pop(0) if self.statuses else 200
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})


SCOPES = ["PURCHASE_GIFTCARD", "REQUEST_INTERNAL_TRANSFER", "MANAGE_APPROVALS", "LIST_APPROVALS"]
GENERATE = """mutation($u: UUID!, $a: UUID!, $s: [ScopeType!]!) {
  generateUserAccessToken(userId: $u, accountId: $a, scopes: $s) { accessToken } }"""
PURCHASE = """mutation($i: PurchaseGiftCardInput!) { purchaseGiftCard(input: $i) { purchaseId } }"""


class Api:
    """Plain GraphQL over httpx against one sandbox, as its user (never FluzClient)."""

    def __init__(self, sandbox: Any, http: Any) -> None:
        self.sandbox = sandbox
        self.http = http
        self._token: str | None = None

    def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        if self._token is None:
            ids = {"u": self.sandbox.user_id, "a": self.sandbox.account_id, "s": SCOPES}
            headers = {"Authorization": f"Basic {self.sandbox.api_key}"}
            body = self.http.post(
                self.sandbox.url, json={"query": GENERATE, "variables": ids}, headers=headers
            ).json()
            self._token = body["data"]["generateUserAccessToken"]["accessToken"]
        response = self.http.post(
            self.sandbox.url,
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {self._token}"},
        )
        body = response.json()
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    def purchase(self, **fields: Any) -> dict[str, Any]:
        return self.data(PURCHASE, {"i": {"idempotencyKey": str(uuid.uuid4()), **fields}})
