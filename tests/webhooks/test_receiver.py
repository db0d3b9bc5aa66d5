"""WebhookReceiver as an ASGI app: status codes, de-duplication, failure paths, logs."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pytest

from fluz.webhooks import (
    ApprovalCreate,
    ClaimResult,
    InMemoryEventStore,
    WebhookEvent,
    WebhookReceiver,
    WebhookVerifier,
)

pytestmark = pytest.mark.anyio

SECRET = "whsec_receiver_test"
URL = "http://receiver.test/hook"


def signed(
    payload: dict[str, Any], event_id: str = "evt-1", secret: str = SECRET
) -> dict[str, Any]:
    body = json.dumps(payload).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-HMAC-Signature": signature}
    if event_id:
        headers["X-Event-ID"] = event_id
    return {"content": body, "headers": headers}


APPROVAL = {"eventType": "APPROVAL_CREATE", "approvalId": "ap-1", "approvalCode": 500402}


class Handler:
    def __init__(self, failures: int = 0, delay: float = 0.0) -> None:
        self.events: list[WebhookEvent] = []
        self.calls = 0
        self.failures = failures
        self.delay = delay

    async def __call__(self, event: WebhookEvent) -> None:
        self.calls += 1
        if self.delay:
            await anyio.sleep(self.delay)
        if self.failures:
            self.failures -= 1
            raise RuntimeError("handler broke")
        self.events.append(event)


async def post(app: WebhookReceiver, **request: Any) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as client:
        return await client.post(URL, **request)


async def test_a_signed_event_reaches_the_handler_typed_and_gets_200() -> None:
    handler = Handler()
    response = await post(WebhookReceiver(handler, secret=SECRET), **signed(APPROVAL))
    assert response.status_code == 200
    assert response.json() == {"status": "processed"}
    [event] = handler.events
    assert isinstance(event, ApprovalCreate)
    assert (event.event_id, event.approval_id, event.approval_code) == ("evt-1", "ap-1", 500402)


async def test_a_redelivered_event_is_acknowledged_without_running_the_handler_again() -> None:
    handler = Handler()
    app = WebhookReceiver(handler, secret=SECRET)
    first = await post(app, **signed(APPROVAL))
    second = await post(app, **signed(APPROVAL))
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json() == {"status": "duplicate"}
    assert handler.calls == 1


async def test_a_failing_handler_answers_500_and_the_retry_is_processed() -> None:
    handler = Handler(failures=1)
    app = WebhookReceiver(handler, secret=SECRET)
    failed = await post(app, **signed(APPROVAL))
    retried = await post(app, **signed(APPROVAL))
    assert failed.status_code == 500
    assert retried.status_code == 200
    assert handler.calls == 2
    assert len(handler.events) == 1


async def test_a_handler_past_its_timeout_is_cancelled_answers_500_and_releases_the_claim() -> None:
    store = InMemoryEventStore()
    handler = Handler(delay=5)
    app = WebhookReceiver(handler, secret=SECRET, store=store, handler_timeout=0.05, claim_ttl=60)
    response = await post(app, **signed(APPROVAL))
    assert response.status_code == 500
    assert await store.claim("evt-1", 60) is ClaimResult.CLAIMED


async def test_a_delivery_while_the_same_event_is_in_progress_gets_409() -> None:
    gate = anyio.Event()

    async def slow(event: WebhookEvent) -> None:
        await gate.wait()

    app = WebhookReceiver(slow, secret=SECRET)
    statuses: list[int] = []

    async def deliver() -> None:
        statuses.append((await post(app, **signed(APPROVAL))).status_code)

    async with anyio.create_task_group() as tg:
        tg.start_soon(deliver)
        await anyio.sleep(0.05)
        statuses.append((await post(app, **signed(APPROVAL))).status_code)
        gate.set()
    assert statuses == [409, 200]


@pytest.mark.parametrize(
    "request_",
    [
        signed(APPROVAL, secret="whsec_wrong"),
        {**signed(APPROVAL), "headers": {"X-Event-ID": "evt-1"}},
        {**signed(APPROVAL), "content": json.dumps({**APPROVAL, "approvalId": "ap-2"}).encode()},
    ],
    ids=["wrong secret", "no signature", "tampered body"],
)
async def test_a_bad_signature_gets_401_and_never_reaches_the_handler(request_: Any) -> None:
    handler = Handler()
    response = await post(WebhookReceiver(handler, secret=SECRET), **request_)
    assert response.status_code == 401
    assert handler.calls == 0


async def test_a_signed_but_invalid_body_gets_400() -> None:
    handler = Handler()
    app = WebhookReceiver(handler, secret=SECRET)
    response = await post(app, **signed({"eventType": "TRANSACTION_CREATE", "amount": "x"}))
    assert response.status_code == 400
    assert "'amount'" in response.json()["status"]
    no_id = await post(app, **signed(APPROVAL, event_id=""))
    assert no_id.status_code == 400
    assert handler.calls == 0


async def test_a_body_over_the_cap_gets_413_declared_or_streamed() -> None:
    handler = Handler()
    app = WebhookReceiver(handler, secret=SECRET, max_body_bytes=64)
    big = signed({**APPROVAL, "padding": "x" * 100})
    assert (await post(app, **big)).status_code == 413

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted while read
        for _ in range(10):
            yield b"x" * 10

    streamed = await post(app, content=chunks(), headers=big["headers"])
    assert streamed.status_code == 413
    assert handler.calls == 0


async def test_only_post_is_allowed() -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=WebhookReceiver(Handler(), secret=SECRET))
    ) as client:
        response = await client.get(URL)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


async def test_a_configured_base64_scheme_is_used() -> None:
    verifier = WebhookVerifier(SECRET, encoding="base64", prefix="sha256=")
    handler = Handler()
    body = json.dumps(APPROVAL).encode()
    headers = {"X-HMAC-Signature": verifier.sign(body), "X-Event-ID": "e"}
    app = WebhookReceiver(handler, verifier=verifier)
    assert (await post(app, content=body, headers=headers)).status_code == 200


def test_bad_configuration_is_refused() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        WebhookReceiver(Handler())
    with pytest.raises(ValueError, match="claim_ttl"):
        WebhookReceiver(Handler(), secret=SECRET, handler_timeout=30, claim_ttl=10)


async def test_logs_name_type_id_and_outcome_but_no_secret_signature_or_values(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    payload = {**APPROVAL, "approvalId": "VALUE-approval", "userId": "VALUE-user"}
    request = signed(payload)
    app = WebhookReceiver(Handler(failures=1), secret=SECRET)
    await post(app, **request)  # handler fails
    await post(app, **request)  # processed
    await post(app, **request)  # duplicate
    await post(app, **signed(payload, secret="whsec_wrong"))  # bad signature
    text = caplog.text
    for expected in ("evt-1", "APPROVAL_CREATE", "RuntimeError"):
        assert expected in text
    for secret in ("VALUE-", SECRET, request["headers"]["X-HMAC-Signature"], "handler broke"):
        assert secret not in text
    assert SECRET not in repr(app)


class BrokenStore(InMemoryEventStore):
    """A shared store that fails on one of its calls (Redis down)."""

    def __init__(self, failing: str) -> None:
        super().__init__()
        self.failing = failing

    async def claim(self, event_id: str, lease: float) -> ClaimResult:
        if self.failing == "claim":
            raise ConnectionError("store down")
        return await super().claim(event_id, lease)

    async def complete(self, event_id: str, ttl: float) -> None:
        if self.failing == "complete":
            raise ConnectionError("store down")
        await super().complete(event_id, ttl)

    async def release(self, event_id: str) -> None:
        if self.failing == "release":
            raise ConnectionError("store down")
        await super().release(event_id)


async def test_a_store_that_cannot_claim_answers_503_before_the_handler_runs() -> None:
    handler = Handler()
    app = WebhookReceiver(handler, secret=SECRET, store=BrokenStore("claim"))
    assert (await post(app, **signed(APPROVAL))).status_code == 503
    assert handler.calls == 0


async def test_a_store_that_cannot_complete_still_answers_200_for_work_done() -> None:
    handler = Handler()
    app = WebhookReceiver(handler, secret=SECRET, store=BrokenStore("complete"))
    assert (await post(app, **signed(APPROVAL))).status_code == 200
    assert handler.calls == 1


async def test_a_store_that_cannot_release_still_answers_500_for_a_failed_handler() -> None:
    handler = Handler(failures=1)
    app = WebhookReceiver(handler, secret=SECRET, store=BrokenStore("release"))
    assert (await post(app, **signed(APPROVAL))).status_code == 500
