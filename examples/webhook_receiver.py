"""Receive Fluz webhooks in a Starlette (or FastAPI) app.

Run against a local sandbox::

    fluz sandbox --webhook-url http://127.0.0.1:8787/fluz/webhooks    # prints the secret
    export FLUZ_WEBHOOK_SECRET=...                                     # the "webhook key"
    python examples/webhook_receiver.py                                # or:
    uvicorn --factory webhook_receiver:create_app --port 8787 --app-dir examples
    fluz webhooks trigger APPROVAL_CREATE --sandbox http://127.0.0.1:8000

``WebhookReceiver`` is a plain ASGI app: route to it in Starlette as here, in FastAPI with
``app.add_route("/fluz/webhooks", receiver, methods=["POST"])`` (``app.mount`` works too,
at ``/fluz/webhooks/``), or serve it on its own (uvicorn runs it directly). It verifies
the signature on the raw body, answers 401/400 for bad deliveries, runs ``handle`` once
per event id (Fluz redelivers), and answers 500 if ``handle`` raises so that Fluz
retries.
"""

from __future__ import annotations

import logging
import os

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from fluz.webhooks import (
    ApprovalCreate,
    ApprovalHandlerError,
    TransactionCreate,
    TransactionDecline,
    WebhookEvent,
    WebhookReceiver,
)

logger = logging.getLogger("webhook_receiver")

# Stands in for your database: what this app has done, by event id.
LEDGER: dict[str, str] = {}


async def handle(event: WebhookEvent) -> None:
    """Business logic. Keep it short (Fluz waits 30 s at most); enqueue slow work.
    Raising here makes the receiver answer 500, and Fluz delivers the event again."""
    assert event.event_id is not None  # the receiver refuses deliveries without one
    match event:
        case TransactionCreate(amount=amount, record_id=record_id):
            LEDGER[event.event_id] = f"transaction {record_id} of {amount}"
        case TransactionDecline(decline_reason=reason):
            LEDGER[event.event_id] = f"declined: {reason}"
        case ApprovalCreate(approval_id=approval_id, approval_type=kind):
            LEDGER[event.event_id] = f"approval {approval_id} ({kind}) to review"
        case ApprovalHandlerError(error=error):
            LEDGER[event.event_id] = f"approved action failed: {error}"
        case _:  # other and future event types: the raw body is in event.raw
            LEDGER[event.event_id] = f"unhandled {event.event_type}"
    logger.info("processed %s %s", event.event_type, event.event_id)


async def health(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


def create_app(secret: str | None = None) -> Starlette:
    """The app, with the signing secret from FLUZ_WEBHOOK_SECRET unless given."""
    receiver = WebhookReceiver(handle, secret=secret or os.environ["FLUZ_WEBHOOK_SECRET"])
    return Starlette(
        # A Route, not a Mount: a Mount would redirect /fluz/webhooks to /fluz/webhooks/
        # and a webhook sender does not follow redirects.
        routes=[Route("/health", health), Route("/fluz/webhooks", receiver, methods=["POST"])],
    )


def main() -> None:
    import uvicorn

    logging.basicConfig(level=logging.INFO)
    uvicorn.run(create_app(), host="127.0.0.1", port=8787)


if __name__ == "__main__":
    main()
