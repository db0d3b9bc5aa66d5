"""Webhook delivery: state changes become signed POSTs to registered endpoints, like Fluz.

Endpoints come from the ``webhook_urls`` option (``URL`` for every event, or
``URL=EVENT,EVENT``): the CLI's repeatable ``--webhook-url``, the admin API and the pytest
marker all set it, and ``reset`` restores the start-up list.

Delivery follows docs/webhooks: ``POST`` with exactly ``Content-Type: application/json``,
``X-HMAC-Signature`` and ``X-Event-ID`` (plus what HTTP itself needs); a 2xx within
``webhook_timeout`` (docs: 30 s) is success; anything else (another status, a timeout, a
refused connection) is retried ``webhook_retries`` times (docs: 5) after
``webhook_backoff`` seconds, doubling; then the delivery is ``FAILED``. The retry schedule
is not documented: 1 s doubling is our choice, short values make tests fast.

The body is the envelope fluz.webhooks parses (see fluz.webhooks._events): one flat JSON
object, ``eventType``, ``eventId``, ``createdAt``, ``userId``, ``accountId``,
``externalReference``, then the event's fields. It is signed here, independently of the
client's verifier (the sandbox imports nothing of the client, so a shared bug cannot
hide): HMAC-SHA256 under ``webhook_secret`` (default: derived from the seed), in
``webhook_encoding``, after ``webhook_prefix``.

Faults on demand: ``webhook_delay`` (seconds before the first attempt),
``webhook_duplicate_rate`` (that fraction of events is delivered a second time, same id
and body, after the first success) and ``webhook_reorder`` (events to one endpoint are
delivered pairwise swapped: each odd event waits for the next one, at most
REORDER_HOLD seconds).

Deliveries run as tasks on the server's event loop: a GraphQL response never waits for
them. Everything here runs on that loop's thread.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import hmac
import json
import logging
import random
import re
import uuid
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from ._config import SandboxOptions
    from ._core import Sandbox
    from ._state import Account, ApprovalRequest, Transaction

logger = logging.getLogger("fluz.sandbox.webhooks")

# The documented event types (docs/webhooks and the approval pages).
EVENT_TYPES = (
    "TRANSACTION_CREATE",
    "TRANSACTION_UPDATE",
    "TRANSACTION_DECLINE",
    "WIDGET_KYC_INITIATION",
    "WIDGET_DEPOSIT_COMPLETE",
    "WIDGET_WITHDRAW_COMPLETE",
    "APPROVAL_CREATE",
    "APPROVAL_APPROVE",
    "APPROVAL_DECLINE",
    "APPROVAL_HANDLER_ERROR",
)
REORDER_HOLD = 2.0  # seconds an odd event waits for the next one under webhook_reorder
USER_AGENT = "fluz-sandbox-webhooks"
_EVENTS_PART = re.compile(r"[A-Z][A-Z_]*(,[A-Z][A-Z_]*)*")


@dataclass(frozen=True)
class WebhookEndpoint:
    """A registered URL and the event types it receives (None: every event)."""

    url: str
    events: frozenset[str] | None = None

    def wants(self, event_type: str) -> bool:
        return self.events is None or event_type in self.events

    def spec(self) -> str:
        return self.url if self.events is None else f"{self.url}={','.join(sorted(self.events))}"


def parse_endpoint(spec: str) -> WebhookEndpoint:
    """``URL`` or ``URL=EVENT,EVENT`` (a URL may itself contain ``=``: only a trailing
    list of upper-case names is taken as events). ValueError naming the problem."""
    url, events = spec.strip(), None
    head, sep, tail = url.rpartition("=")
    if sep and _EVENTS_PART.fullmatch(tail):
        url, events = head, frozenset(tail.split(","))
        unknown = sorted(events - set(EVENT_TYPES))
        if unknown:
            raise ValueError(
                f"webhook url: unknown event type(s) {', '.join(unknown)}; "
                f"known: {', '.join(EVENT_TYPES)}"
            )
    parsed = httpx.URL(url) if url else None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(f"webhook url must be an http(s) URL, got {url!r}")
    return WebhookEndpoint(url, events)


def default_secret(seed: int) -> str:
    """The signing secret of a sandbox without ``webhook_secret``: stable per seed."""
    return "whsec_" + hashlib.sha256(f"fluz-sandbox-webhooks:{seed}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class WebhookAttempt:
    """One POST: the HTTP status, or the error's class name when no response came."""

    status_code: int | None
    error: str | None
    duplicate: bool = False


@dataclass
class WebhookDelivery:
    """One event to one endpoint. ``status``: PENDING, DELIVERED or FAILED."""

    event_id: str
    event_type: str
    url: str
    body: bytes = field(repr=False)
    status: str = "PENDING"
    attempts: list[WebhookAttempt] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        del data["body"]
        return data


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)  # money as a string, as the GraphQL API sends amounts
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


class WebhookDispatcher:
    """Emits events for one Sandbox and delivers them; see the module docstring."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.deliveries: list[WebhookDelivery] = []
        self.counters: Counter[str] = Counter()
        self._tasks: set[asyncio.Task[None]] = set()
        self._held: dict[str, tuple[WebhookDelivery, asyncio.Event]] = {}
        # Own generator: drawing for faults must not shift the ids the world generates.
        self._rng = random.Random(sandbox.options.seed)  # noqa: S311 (fault draws, not secrets)
        self.configure()

    # -- configuration ---------------------------------------------------------------------

    def configure(self) -> None:
        """Re-read the webhook options (after a reset or a configure)."""
        options: SandboxOptions = self.sandbox.options
        self.endpoints = [parse_endpoint(spec) for spec in options.webhook_urls]
        self.secret = options.webhook_secret or default_secret(options.seed)
        self.encoding = options.webhook_encoding
        self.prefix = options.webhook_prefix

    def sign(self, body: bytes) -> str:
        digest = hmac.new(self.secret.encode(), body, hashlib.sha256).digest()
        encoded = base64.b64encode(digest).decode() if self.encoding == "base64" else digest.hex()
        return self.prefix + encoded

    def reset(self) -> None:
        """Cancel deliveries in flight, forget deliveries and counters, re-read options."""
        for task in self._tasks:
            task.cancel()
        self._tasks.clear()
        self._held.clear()
        self.deliveries.clear()
        self.counters.clear()
        self._rng.seed(self.sandbox.options.seed)
        self.configure()

    @property
    def busy(self) -> bool:
        """True while a delivery task runs (attempts, backoff, a duplicate to send)."""
        return bool(self._tasks)

    def describe(self) -> dict[str, Any]:
        return {
            "secret": self.secret,
            "encoding": self.encoding,
            "prefix": self.prefix,
            "endpoints": [e.spec() for e in self.endpoints],
            "counters": dict(self.counters),
            "deliveries": [d.to_json() for d in self.deliveries],
        }

    # -- emitting --------------------------------------------------------------------------

    def emit(self, event_type: str, account: Account, **fields: Any) -> str | None:
        """Deliver *event_type* about *account* with *fields* (camelCase keys) to every
        endpoint that wants it; returns the event id (None when no endpoint wants it)."""
        targets = [e for e in self.endpoints if e.wants(event_type)]
        if not targets:
            return None
        # From the dispatcher's generator: registering an endpoint must not shift the ids
        # the seeded world hands out next.
        event_id = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
        payload = {
            "eventType": event_type,
            "eventId": event_id,
            "createdAt": self.sandbox.clock.datetime().isoformat().replace("+00:00", "Z"),
            "userId": account.user.user_id,
            "accountId": account.account_id,
            # The widget's externalId would be echoed here; API activity has none.
            "externalReference": fields.pop("externalReference", None),
            **fields,
        }
        body = json.dumps(payload, separators=(",", ":"), default=_json_default).encode()
        self.counters["events"] += 1
        for endpoint in targets:
            delivery = WebhookDelivery(event_id, event_type, endpoint.url, body)
            self.deliveries.append(delivery)
            self._start(delivery)
        return event_id

    def transaction(self, event_type: str, account: Account, transaction: Transaction) -> None:
        self.emit(
            event_type,
            account,
            recordId=transaction.record_id,
            transactionType=transaction.transaction_type,
            amount=str(transaction.amount),
            status=transaction.status,
            channel=transaction.channel,
            connectedAppId=transaction.connected_app_id,
            connectedAppName=transaction.connected_app_name,
            memo=transaction.memo,
            transactionCategory=transaction.transaction_category,
        )

    def approval(self, event_type: str, account: Account, approval: ApprovalRequest) -> None:
        self.emit(
            event_type,
            account,
            approvalId=approval.approval_id,
            approvalType=approval.approval_type,
            approvalCode=approval.approval_code,
            status=approval.status,
        )

    # -- delivering ------------------------------------------------------------------------

    def _start(self, delivery: WebhookDelivery) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # a Sandbox driven without a server: nothing to deliver with
            logger.warning("no event loop: webhook %s stays PENDING", delivery.event_id)
            return
        release: asyncio.Event | None = None
        after: asyncio.Event | None = None
        if self.sandbox.options.webhook_reorder:
            held = self._held.pop(delivery.url, None)
            if held is None:  # odd event: wait for the next one to overtake it
                release = asyncio.Event()
                self._held[delivery.url] = (delivery, release)
            else:
                after = held[1]
        task = loop.create_task(self._deliver(delivery, wait_for=release, then_release=after))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(
        self,
        delivery: WebhookDelivery,
        *,
        wait_for: asyncio.Event | None,
        then_release: asyncio.Event | None,
    ) -> None:
        options = self.sandbox.options
        try:
            if wait_for is not None:
                try:
                    await asyncio.wait_for(wait_for.wait(), REORDER_HOLD)
                except TimeoutError:
                    self._held.pop(delivery.url, None)
            if options.webhook_delay:
                await asyncio.sleep(options.webhook_delay)
            timeout = options.webhook_timeout
            async with httpx.AsyncClient(timeout=timeout, trust_env=False) as client:
                delivered = await self._attempts(client, delivery)
                if then_release is not None:
                    then_release.set()
                    then_release = None
                draw = self._rng.random() if options.webhook_duplicate_rate else 1.0
                if delivered and draw < options.webhook_duplicate_rate:
                    self.counters["duplicates"] += 1
                    await self._post(client, delivery, duplicate=True)
        finally:
            if then_release is not None:
                then_release.set()

    async def _attempts(self, client: httpx.AsyncClient, delivery: WebhookDelivery) -> bool:
        options = self.sandbox.options
        for attempt in range(1 + options.webhook_retries):
            if attempt:
                self.counters["retries"] += 1
                await asyncio.sleep(options.webhook_backoff * 2 ** (attempt - 1))
            if await self._post(client, delivery):
                delivery.status = "DELIVERED"
                self.counters["delivered"] += 1
                return True
        delivery.status = "FAILED"
        self.counters["failed"] += 1
        logger.warning(
            "webhook %s %s to %s FAILED after %d attempts",
            delivery.event_type,
            delivery.event_id,
            delivery.url,
            len(delivery.attempts),
        )
        return False

    async def _post(
        self, client: httpx.AsyncClient, delivery: WebhookDelivery, *, duplicate: bool = False
    ) -> bool:
        headers = {
            "Content-Type": "application/json",
            "X-HMAC-Signature": self.sign(delivery.body),
            "X-Event-ID": delivery.event_id,
            "User-Agent": USER_AGENT,
        }
        self.counters["attempts"] += 1
        try:
            response = await client.post(delivery.url, content=delivery.body, headers=headers)
        except httpx.HTTPError as exc:
            delivery.attempts.append(WebhookAttempt(None, type(exc).__name__, duplicate))
            return False
        delivery.attempts.append(WebhookAttempt(response.status_code, None, duplicate))
        return 200 <= response.status_code < 300


# -- triggering by hand (admin API, SandboxServer.trigger_webhook, fluz webhooks trigger) -----


def _sample_fields(event_type: str, new_id: str) -> dict[str, Any]:
    """Plausible fields of *event_type*, overridable by the caller."""
    family = event_type.split("_", 1)[0]
    if family == "TRANSACTION":
        status = {"TRANSACTION_DECLINE": "DECLINED", "TRANSACTION_UPDATE": "COMPLETED"}
        fields: dict[str, Any] = {
            "recordId": new_id,
            "transactionType": "VIRTUAL_CARD",
            "amount": "25.00",
            "status": status.get(event_type, "PENDING"),
            "channel": "API",
        }
        if event_type == "TRANSACTION_DECLINE":
            fields["declineReason"] = "INSUFFICIENT_FUNDS"
        return fields
    if family == "APPROVAL":
        status = {
            "APPROVAL_APPROVE": "APPROVED",
            "APPROVAL_DECLINE": "DECLINED",
            "APPROVAL_HANDLER_ERROR": "APPROVED",
        }
        fields = {
            "approvalId": new_id,
            "approvalType": "PAYOUT",
            "approvalCode": 500402,
            "status": status.get(event_type, "PENDING"),
        }
        if event_type == "APPROVAL_HANDLER_ERROR":
            fields["error"] = {"code": "GE-9999", "message": "the approved transfer failed"}
        return fields
    if event_type in ("WIDGET_DEPOSIT_COMPLETE", "WIDGET_WITHDRAW_COMPLETE"):
        return {"recordId": new_id, "amount": "25.00"}
    return {}


def trigger(
    sandbox: Sandbox,
    event_type: str,
    fields: dict[str, Any] | None = None,
    account_id: str | None = None,
) -> dict[str, Any]:
    """Emit *event_type* (any upper-case name; unknown ones test a receiver's generic
    path) for an account (default: the sandbox user's) with sample fields updated by
    *fields*. Returns ``{"eventId", "deliveries"}``; ValueError for a bad name/account."""
    if not re.fullmatch(r"[A-Z][A-Z0-9_]*", event_type or ""):
        raise ValueError("eventType must be an upper-case event name, e.g. TRANSACTION_CREATE")
    account = sandbox.state.account(account_id or sandbox.state.main_account_id)
    if account is None:
        raise ValueError(f"unknown account {account_id}")
    values = {**_sample_fields(event_type, sandbox.state.new_id()), **(fields or {})}
    event_id = sandbox.webhooks.emit(event_type, account, **values)
    count = sum(1 for d in sandbox.webhooks.deliveries if d.event_id == event_id)
    return {"eventId": event_id, "deliveries": count}


# -- admin API routes (registered by _admin.AdminApi) ------------------------------------------


def admin_routes(sandbox: Sandbox) -> dict[tuple[str, str], Any]:
    """GET /webhooks (secret, endpoints, counters, deliveries); POST/DELETE
    /webhooks/endpoints {"url": "URL[=EVENT,EVENT]"} or {"url", "events": [...]};
    POST /webhooks/trigger {"eventType", "fields": {...}, "accountId"}."""

    def spec_of(body: dict[str, Any]) -> str:
        url = body.get("url")
        if not isinstance(url, str):
            raise ValueError("'url' must be a string")
        events = body.get("events")
        return url if not events else f"{url}={','.join(events)}"

    def add(body: dict[str, Any], query: dict[str, list[str]]) -> Any:
        endpoint = parse_endpoint(spec_of(body))
        urls = [s for s in sandbox.options.webhook_urls if parse_endpoint(s).url != endpoint.url]
        sandbox.configure(webhook_urls=(*urls, endpoint.spec()))
        return sandbox.webhooks.describe()

    def remove(body: dict[str, Any], query: dict[str, list[str]]) -> Any:
        url = parse_endpoint(spec_of(body)).url
        urls = [s for s in sandbox.options.webhook_urls if parse_endpoint(s).url != url]
        sandbox.configure(webhook_urls=tuple(urls))
        return sandbox.webhooks.describe()

    def fire(body: dict[str, Any], query: dict[str, list[str]]) -> Any:
        fields = body.get("fields")
        if fields is not None and not isinstance(fields, dict):
            raise ValueError("'fields' must be an object")
        return trigger(sandbox, str(body.get("eventType", "")), fields, body.get("accountId"))

    return {
        ("GET", "/webhooks"): lambda body, query: sandbox.webhooks.describe(),
        ("POST", "/webhooks/endpoints"): add,
        ("DELETE", "/webhooks/endpoints"): remove,
        ("POST", "/webhooks/trigger"): fire,
    }


# -- SandboxServer methods ---------------------------------------------------------------------


class WebhookControls:
    """The webhook half of ``SandboxServer`` (mixed in; uses its ``_call``)."""

    def _call(self, action: Any) -> Any:  # provided by SandboxServer
        raise NotImplementedError

    @property
    def webhook_secret(self) -> str:
        """The secret deliveries are signed with (configure a receiver with it)."""
        secret: str = self._call(lambda sandbox: sandbox.webhooks.secret)
        return secret

    def add_webhook_endpoint(self, url: str, events: list[str] | None = None) -> None:
        """Deliver *events* (default: every event) to *url* from now on (until a reset
        back to the start-up endpoints). ValueError for a bad URL or event name."""
        spec = url if not events else f"{url}={','.join(events)}"
        endpoint = parse_endpoint(spec)

        def add(sandbox: Sandbox) -> None:
            urls = [s for s in sandbox.options.webhook_urls if parse_endpoint(s).url != url]
            sandbox.configure(webhook_urls=(*urls, endpoint.spec()))

        self._call(add)

    def trigger_webhook(
        self, event_type: str, fields: dict[str, Any] | None = None, account_id: str | None = None
    ) -> str | None:
        """Emit an event by hand (see ``trigger``); returns its event id."""
        result = self._call(lambda sandbox: trigger(sandbox, event_type, fields, account_id))
        event_id: str | None = result["eventId"]
        return event_id

    def webhook_deliveries(self) -> list[WebhookDelivery]:
        """Copies of every delivery since the last reset, oldest first."""
        deliveries: list[WebhookDelivery] = self._call(
            lambda sandbox: [
                dataclasses.replace(d, attempts=list(d.attempts))
                for d in sandbox.webhooks.deliveries
            ]
        )
        return deliveries

    def webhook_counters(self) -> dict[str, int]:
        """events, attempts, retries, delivered, failed, duplicates."""
        counters: dict[str, int] = self._call(lambda sandbox: dict(sandbox.webhooks.counters))
        return counters

    def wait_for_webhooks(self, timeout: float = 10.0) -> list[WebhookDelivery]:
        """Block until no delivery is PENDING (and duplicates are sent); returns the
        deliveries. TimeoutError after *timeout* seconds."""
        import time

        deadline = time.monotonic() + timeout
        while self._call(lambda sandbox: sandbox.webhooks.busy):
            if time.monotonic() > deadline:
                raise TimeoutError("webhook deliveries still pending")
            time.sleep(0.01)
        return self.webhook_deliveries()
