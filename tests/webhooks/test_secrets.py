"""Secret canaries on the webhook path: the signing secret, signatures and payload values
never reach logs, reprs or exception messages (client receiver and sandbox delivery)."""

from __future__ import annotations

import hashlib
import hmac
import logging

import httpx
import pytest

from fluz.sandbox import SandboxOptions, SandboxServer
from fluz.webhooks import (
    WebhookEvent,
    WebhookPayloadError,
    WebhookReceiver,
    WebhookSignatureError,
    WebhookVerifier,
    parse_event,
)

from .helpers import AsgiServer

CANARY = "CANARY-7f3a"
SECRET = f"{CANARY}-whsec"
FIELDS = {
    "externalReference": f"{CANARY}-customer",
    "memo": f"{CANARY}-memo",
    "amount": "4242.42",
    "recordId": f"{CANARY}-record",
}


class FailingHandler:
    """Fails with the payload in its message (as careless code does), then succeeds."""

    def __init__(self) -> None:
        self.events: list[WebhookEvent] = []

    async def __call__(self, event: WebhookEvent) -> None:
        self.events.append(event)
        if len(self.events) == 1:
            raise RuntimeError(f"could not store {dict(event.raw)}")


def test_no_secret_signature_or_payload_value_leaks_on_the_webhook_path(
    fluz_sandbox: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    handler = FailingHandler()
    good = WebhookReceiver(handler, secret=SECRET)
    wrong = WebhookReceiver(handler, secret="another-secret")
    texts: list[str] = [repr(good), repr(good.verifier)]
    with AsgiServer(good) as ok_server, AsgiServer(wrong) as bad_server:
        fluz_sandbox.configure(
            webhook_urls=(ok_server.url, bad_server.url),
            webhook_secret=SECRET,
            webhook_backoff=0.01,
            webhook_retries=2,
        )
        event_id = fluz_sandbox.trigger_webhook("TRANSACTION_CREATE", FIELDS)
        deliveries = fluz_sandbox.wait_for_webhooks()
        with httpx.Client() as http:
            texts.append(http.get(f"{fluz_sandbox.admin_url}/webhooks").text.replace(SECRET, ""))
            texts.append(http.get(fluz_sandbox.admin_url).text)
    assert {d.url: d.status for d in deliveries} == {
        ok_server.url: "DELIVERED",
        bad_server.url: "FAILED",
    }
    texts += [repr(deliveries), repr(fluz_sandbox.options), repr(handler.events)]
    texts += [str(fluz_sandbox.options.to_json())]

    body = b'{"eventType":"TRANSACTION_CREATE","memo":"%s"}' % FIELDS["memo"].encode()
    signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    for bad in (signature[:-4] + "0000", "nothex" + signature, None):
        with pytest.raises(WebhookSignatureError) as caught:
            WebhookVerifier(SECRET).verify(body, bad)
        texts += [str(caught.value), repr(caught.value)]
    bad_amount = b'{"eventType":"TRANSACTION_CREATE","amount":"%s"}' % FIELDS["memo"].encode()
    with pytest.raises(WebhookPayloadError) as payload_error:
        parse_event(bad_amount)
    texts += [str(payload_error.value), repr(payload_error.value)]
    texts += [repr(parse_event(body)), repr(SandboxOptions(webhook_secret=SECRET))]
    texts.append(caplog.text)

    assert event_id in caplog.text  # the logs do say what happened
    leaked = [t for t in texts if CANARY in t or signature in t or "4242.42" in t]
    assert leaked == []
