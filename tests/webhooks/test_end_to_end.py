"""End to end: FluzClient drives the sandbox, the sandbox delivers signed events to a real
WebhookReceiver under uvicorn on loopback; every event is processed exactly once despite a
duplicate delivery of each and a handler that fails once."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from decimal import Decimal

import anyio
import anyio.to_thread
import pytest
from fluz_graphql.input_types import PurchaseGiftCardInput, RequestInternalTransferInput

from fluz import FluzClient
from fluz.sandbox import SandboxServer
from fluz.webhooks import ApprovalCreate, TransactionCreate, WebhookEvent, WebhookReceiver

from .helpers import AsgiServer

pytestmark = pytest.mark.anyio

SCOPES = ["PURCHASE_GIFTCARD", "LIST_PURCHASES", "REQUEST_INTERNAL_TRANSFER", "MANAGE_APPROVALS"]


class Handler:
    """The app's business logic: records each processed event; fails its first call."""

    def __init__(self) -> None:
        self.calls = 0
        self.processed: list[WebhookEvent] = []
        self.approval_created = threading.Event()  # the receiver runs on its own thread

    async def __call__(self, event: WebhookEvent) -> None:
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("database unavailable")  # Fluz (the sandbox) must retry
        self.processed.append(event)
        if isinstance(event, ApprovalCreate):
            self.approval_created.set()


async def test_purchase_and_approval_events_are_processed_exactly_once(
    fluz_sandbox: SandboxServer,
) -> None:
    handler = Handler()
    receiver = WebhookReceiver(handler, secret=fluz_sandbox.webhook_secret)
    with AsgiServer(receiver) as server:
        fluz_sandbox.configure(
            webhook_urls=(server.url,), webhook_backoff=0.02, webhook_duplicate_rate=1.0
        )
        seeds = fluz_sandbox.seed_data
        async with FluzClient(
            api_key=fluz_sandbox.api_key,
            user_id=fluz_sandbox.user_id,
            account_id=fluz_sandbox.account_id,
            url=fluz_sandbox.url,
            scopes=SCOPES,
        ) as fluz:
            await fluz.purchase_gift_card(
                input=PurchaseGiftCardInput(merchantSlug="amazon", amount=10)
            )
            await fluz.request_internal_transfer(
                input=RequestInternalTransferInput(
                    amount=20,
                    sourceUserCashBalanceId=uuid.UUID(seeds.cash_balance_id),
                    destinationUserCashBalanceId=uuid.UUID(seeds.second_cash_balance_id),
                )
            )
            # As the docs describe: the approvalId arrives with APPROVAL_CREATE.
            assert await anyio.to_thread.run_sync(handler.approval_created.wait, 10)
            created = next(e for e in handler.processed if isinstance(e, ApprovalCreate))
            assert created.approval_id is not None
            await fluz.approve_approval_request(approval_id=uuid.UUID(created.approval_id))
        deliveries = await anyio.to_thread.run_sync(fluz_sandbox.wait_for_webhooks)

    kinds = Counter(e.event_type for e in handler.processed)
    assert kinds == {"TRANSACTION_CREATE": 1, "APPROVAL_CREATE": 1, "APPROVAL_APPROVE": 1}
    assert len({e.event_id for e in handler.processed}) == 3
    assert handler.calls == 4  # three events + the one failed call
    assert all(d.status == "DELIVERED" for d in deliveries)
    # Every event was sent twice (duplicate fault) and answered 200 both times ...
    assert all([a.status_code for a in d.attempts][-2:] == [200, 200] for d in deliveries)
    assert all(d.attempts[-1].duplicate for d in deliveries)
    # ... and the first one was retried after the handler's failure (500).
    assert [a.status_code for a in deliveries[0].attempts] == [500, 200, 200]
    purchase = next(e for e in handler.processed if isinstance(e, TransactionCreate))
    assert purchase.amount == Decimal("10.00")
    assert purchase.account_id == fluz_sandbox.account_id
