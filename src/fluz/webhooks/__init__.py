"""Fluz webhooks: verify signatures, parse typed events, de-duplicate, receive over ASGI.

::

    from fluz.webhooks import WebhookReceiver, TransactionCreate

    async def handle(event):
        if isinstance(event, TransactionCreate):
            ...

    app = WebhookReceiver(handle, secret=os.environ["FLUZ_WEBHOOK_SECRET"])

Not imported by ``import fluz``; needs no dependency beyond the client's own.
"""

from __future__ import annotations

from ._dedup import ClaimResult, EventStore, InMemoryEventStore
from ._errors import WebhookError, WebhookPayloadError, WebhookSignatureError
from ._events import (
    EVENT_CLASSES,
    EVENT_TYPES,
    ApprovalApprove,
    ApprovalCreate,
    ApprovalDecline,
    ApprovalEvent,
    ApprovalHandlerError,
    TransactionCreate,
    TransactionDecline,
    TransactionEvent,
    TransactionUpdate,
    UnknownEvent,
    WebhookEvent,
    WidgetDepositComplete,
    WidgetEvent,
    WidgetKycInitiation,
    WidgetWithdrawComplete,
    parse_event,
)
from ._receiver import WebhookReceiver
from ._signature import WebhookVerifier

__all__ = [
    "EVENT_CLASSES",
    "EVENT_TYPES",
    "ApprovalApprove",
    "ApprovalCreate",
    "ApprovalDecline",
    "ApprovalEvent",
    "ApprovalHandlerError",
    "ClaimResult",
    "EventStore",
    "InMemoryEventStore",
    "TransactionCreate",
    "TransactionDecline",
    "TransactionEvent",
    "TransactionUpdate",
    "UnknownEvent",
    "WebhookError",
    "WebhookEvent",
    "WebhookPayloadError",
    "WebhookReceiver",
    "WebhookSignatureError",
    "WebhookVerifier",
    "WidgetDepositComplete",
    "WidgetEvent",
    "WidgetKycInitiation",
    "WidgetWithdrawComplete",
    "parse_event",
]
