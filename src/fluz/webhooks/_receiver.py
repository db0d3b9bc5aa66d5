"""An ASGI app that receives Fluz webhooks: verify, parse, de-duplicate, handle, answer.

Mount it in any ASGI server or framework (uvicorn, hypercorn; Starlette ``Mount``,
FastAPI ``app.mount``); it runs on asyncio and trio alike (anyio).

Status codes, chosen so that Fluz retries exactly when retrying can help:

- 200 the handler succeeded, or the event was already processed (a duplicate);
- 400 the body is not a valid event, or ``X-Event-ID`` is missing (a retry cannot fix it);
- 401 the signature is missing or wrong;
- 405 not a POST; 413 the body is over ``max_body_bytes``;
- 409 another delivery of the same event is being processed right now: not 2xx, so
  should that one fail, Fluz's next retry is processed;
- 500 the handler raised or timed out: the claim is released, Fluz retries;
- 503 the de-duplication store failed before the handler ran: Fluz retries.

The handler runs before the answer (not after a 200): only then can its failure turn into
the non-2xx that makes Fluz deliver again. Keep it well under Fluz's 30 s.

Logs (logger ``fluz.webhooks``) carry the event type, the event id and the outcome, never
the secret, the signature, or body values; a failing handler is logged by its exception
class only (its message could quote the payload): log details inside your handler.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

import anyio

from .. import _constants as C
from ._dedup import ClaimResult, EventStore, InMemoryEventStore
from ._errors import WebhookPayloadError, WebhookSignatureError
from ._events import WebhookEvent
from ._signature import Encoding, WebhookVerifier

logger = logging.getLogger("fluz.webhooks")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Handler = Callable[[WebhookEvent], Awaitable[object]]

_SIGNATURE = C.WEBHOOK_SIGNATURE_HEADER.lower().encode()
_EVENT_ID = C.WEBHOOK_EVENT_ID_HEADER.lower().encode()


class WebhookReceiver:
    """ASGI app: ``await handler(event)`` once per Fluz event, however often it arrives.

    Args:
        handler: async callable taking the typed event. Keep it short (Fluz waits 30 s
            at most): enqueue slow work. Raising makes the answer 500 so Fluz retries.
        secret: the signing secret(s), or pass ``verifier=`` for a configured scheme.
        encoding, prefix: the signature scheme (see :class:`WebhookVerifier`).
        verifier: a ready :class:`WebhookVerifier` instead of the three above.
        store: the de-duplication store (default: a new :class:`InMemoryEventStore`;
            use a shared store when several processes receive webhooks).
        dedup_ttl: how long a processed event id is remembered, seconds.
        claim_ttl: how long an in-progress claim holds before it expires (a crashed
            process's claim), seconds; must exceed ``handler_timeout``.
        handler_timeout: the handler is cancelled after this many seconds (answer 500).
        max_body_bytes: larger bodies are refused with 413 without being read.

    Raises:
        ValueError: neither or both of ``secret`` and ``verifier``; bad durations.
    """

    def __init__(
        self,
        handler: Handler,
        *,
        secret: str | bytes | Sequence[str | bytes] | None = None,
        encoding: Encoding = C.WEBHOOK_DEFAULT_ENCODING,
        prefix: str = "",
        verifier: WebhookVerifier | None = None,
        store: EventStore | None = None,
        dedup_ttl: float = C.WEBHOOK_DEDUP_TTL,
        claim_ttl: float = C.WEBHOOK_CLAIM_TTL,
        handler_timeout: float = C.WEBHOOK_HANDLER_TIMEOUT,
        max_body_bytes: int = C.WEBHOOK_MAX_BODY_BYTES,
    ) -> None:
        if (secret is None) == (verifier is None):
            raise ValueError("give exactly one of secret= and verifier=")
        if verifier is None:
            assert secret is not None
            verifier = WebhookVerifier(secret, encoding=encoding, prefix=prefix)
        durations = (dedup_ttl, claim_ttl, handler_timeout)
        if any(not (math.isfinite(d) and d > 0) for d in durations):
            raise ValueError("dedup_ttl, claim_ttl and handler_timeout must be > 0")
        if claim_ttl <= handler_timeout:
            raise ValueError("claim_ttl must be longer than handler_timeout")
        if max_body_bytes < 1:
            raise ValueError("max_body_bytes must be >= 1")
        self.handler = handler
        self.verifier = verifier
        self.store: EventStore = store if store is not None else InMemoryEventStore()
        self.dedup_ttl = dedup_ttl
        self.claim_ttl = claim_ttl
        self.handler_timeout = handler_timeout
        self.max_body_bytes = max_body_bytes

    def __repr__(self) -> str:
        return f"<WebhookReceiver {self.verifier!r} store={self.store!r}>"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":  # runnable on its own under uvicorn/hypercorn
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        status, outcome = await self._handle(scope, receive)
        await send_json(send, status, {"status": outcome}, allow=status == 405)

    async def _handle(self, scope: Scope, receive: Receive) -> tuple[int, str]:
        if scope["method"] != "POST":
            return 405, "method not allowed: use POST"
        headers = request_headers(scope)
        body = await read_body(receive, headers.get(b"content-length"), self.max_body_bytes)
        if body is None:
            return 413, f"body over {self.max_body_bytes} bytes"
        event_id = headers.get(_EVENT_ID)
        try:
            event = self.verifier.construct_event(body, headers.get(_SIGNATURE), event_id=event_id)
        except WebhookSignatureError as exc:
            logger.warning("webhook rejected: %s", exc.message)
            return 401, "invalid signature"
        except WebhookPayloadError as exc:
            logger.warning("webhook rejected: %s", exc.message)
            return 400, exc.message
        if not event_id:
            logger.warning("webhook rejected: missing %s header", C.WEBHOOK_EVENT_ID_HEADER)
            return 400, f"missing {C.WEBHOOK_EVENT_ID_HEADER} header"
        return await self._process(event, event_id)

    async def _process(self, event: WebhookEvent, event_id: str) -> tuple[int, str]:
        kind = event.event_type
        try:
            claim = await self.store.claim(event_id, self.claim_ttl)
        except Exception as exc:  # the store is down: nothing done yet, let Fluz retry
            logger.error("webhook %s %s: store claim failed (%s)", kind, event_id, _name(exc))
            return 503, "event store unavailable"
        if claim is ClaimResult.DONE:
            logger.info("webhook %s %s: duplicate, acknowledged", kind, event_id)
            return 200, "duplicate"
        if claim is ClaimResult.IN_PROGRESS:
            logger.info("webhook %s %s: already in progress", kind, event_id)
            return 409, "in progress"
        try:
            with anyio.fail_after(self.handler_timeout):
                await self.handler(event)
        except BaseException as exc:
            # Cancelled too (server shutdown): the event was not processed, so the claim
            # must go or every retry would be refused until the lease expires.
            with anyio.CancelScope(shield=True):
                await self._release(kind, event_id)
            if not isinstance(exc, Exception):
                raise
            what = "timed out" if isinstance(exc, TimeoutError) else _name(exc)
            logger.error("webhook %s %s: handler failed (%s)", kind, event_id, what)
            return 500, "handler failed"
        try:
            await self.store.complete(event_id, self.dedup_ttl)
        except Exception as exc:
            # The work is done: answering 500 would make Fluz redeliver, and once the claim's
            # lease expired the event would be processed twice. So 200, and a loud log.
            logger.error(
                "webhook %s %s: processed, but not recorded as done (%s); a redelivery "
                "after the claim's lease would be processed again",
                kind,
                event_id,
                _name(exc),
            )
            return 200, "processed"
        logger.info("webhook %s %s: processed", kind, event_id)
        return 200, "processed"

    async def _release(self, kind: str | None, event_id: str) -> None:
        try:
            await self.store.release(event_id)
        except Exception as exc:  # the lease expires on its own; retries wait until then
            logger.error("webhook %s %s: store release failed (%s)", kind, event_id, _name(exc))


def _name(exc: BaseException) -> str:
    """An exception's class only: its message could quote the payload."""
    return type(exc).__name__


def request_headers(scope: Scope) -> dict[bytes, str]:
    return {bytes(k).lower(): bytes(v).decode("latin-1") for k, v in scope["headers"]}


async def read_body(receive: Receive, declared: str | None, limit: int) -> bytes | None:
    """The body, or None as soon as it is (or is declared) over *limit* bytes."""
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
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
    return b"".join(chunks)


async def send_json(send: Send, status: int, payload: Any, *, allow: bool = False) -> None:
    body = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    if allow:
        headers.append((b"allow", b"POST"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
