"""Typed webhook events: one class per documented event type, a generic one for the rest.

The payload envelope - DECISION, because the docs are cut off after the first keys
(docs/webhooks shows ``{"userId": ..., "accountId": ..., "externalReference...``):

- one flat JSON object: the common keys ``userId``, ``accountId`` and ``externalReference``
  (``externalReferenceId`` also accepted: Fluz uses that spelling elsewhere), the event's
  own fields beside them, named as in the GraphQL types (``recordId``, ``amount``,
  ``approvalId``, ``approvalType``, ``approvalCode`` ...);
- the event type under ``eventType``. No type key is visible in the docs, so ``event``,
  ``type``, ``eventName`` and ``event_type`` are accepted too, in that order;
- optional ``eventId`` (the header ``X-Event-ID`` wins) and ``createdAt`` (ISO 8601);
- should Fluz nest the event's fields under ``data``, a field missing at the top level is
  looked up there.

The sandbox (fluz.sandbox) emits exactly this shape. Whatever the real shape, nothing is
lost: ``raw`` is the whole decoded body and ``extra`` holds the keys no typed field took.

JSON numbers with a fraction are decoded as ``Decimal`` (never float: these are money),
in ``raw`` too. Reprs show only the event type and id: payload values stay out of logs.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from ._errors import WebhookPayloadError

EVENT_TYPE_KEYS = ("eventType", "event", "type", "eventName", "event_type")
ENVELOPE_KEYS = frozenset({*EVENT_TYPE_KEYS, "eventId", "createdAt", "data"})

Converter = Callable[[str, Any], Any]


def _text(name: str, value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # an id sent as a number is still an id
    raise WebhookPayloadError(f"webhook field {name!r} must be a string")


def _money(name: str, value: Any) -> Decimal:
    if isinstance(value, bool):
        raise WebhookPayloadError(f"webhook field {name!r} must be a decimal amount")
    if isinstance(value, Decimal | int):
        amount = Decimal(value)
    elif isinstance(value, str):
        try:
            amount = Decimal(value.strip())
        except InvalidOperation:
            raise WebhookPayloadError(f"webhook field {name!r} must be a decimal amount") from None
    else:
        raise WebhookPayloadError(f"webhook field {name!r} must be a decimal amount")
    if not amount.is_finite():
        raise WebhookPayloadError(f"webhook field {name!r} must be a finite amount")
    return amount


def _code(name: str, value: Any) -> int:
    """approvalCode: the docs show 600003 etc. without saying number or string."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise WebhookPayloadError(f"webhook field {name!r} must be an integer code")


def _timestamp(name: str, value: Any) -> datetime:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    raise WebhookPayloadError(f"webhook field {name!r} must be an ISO 8601 date-time")


def _object(name: str, value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    raise WebhookPayloadError(f"webhook field {name!r} must be an object")


def _from(json_key: str, converter: Converter, *aliases: str) -> dict[str, Any]:
    """Field metadata: fill the field from *json_key* (or an alias) through *converter*."""
    return {"keys": (json_key, *aliases), "convert": converter}


@dataclass(frozen=True, kw_only=True, repr=False, eq=False)
class WebhookEvent:
    """Base class of every event; also what an unknown event type parses into
    (:class:`UnknownEvent`).

    Attributes:
        event_type: the type name as sent (``"TRANSACTION_CREATE"`` ...), None if absent.
        event_id: the ``X-Event-ID`` header (or ``eventId`` of the body): the same across
            Fluz's retries of one event, so it is the de-duplication key.
        user_id, account_id: whose activity this is.
        external_reference: your own id for the user, echoed back (``externalId`` of the
            widget's pre-approved-transaction token).
        created_at: ``createdAt`` of the body, when sent.
        raw: the whole decoded body.
        extra: keys of the body that no typed attribute took (future fields land here).
    """

    EVENT_TYPE: ClassVar[str | None] = None

    event_type: str | None = None
    event_id: str | None = None
    user_id: str | None = field(default=None, metadata=_from("userId", _text))
    account_id: str | None = field(default=None, metadata=_from("accountId", _text))
    external_reference: str | None = field(
        default=None,
        metadata=_from("externalReference", _text, "externalReferenceId", "externalId"),
    )
    created_at: datetime | None = field(default=None, metadata=_from("createdAt", _timestamp))
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} event_type={self.event_type!r} event_id={self.event_id!r}>"


@dataclass(frozen=True, kw_only=True, repr=False, eq=False)
class UnknownEvent(WebhookEvent):
    """An event type this version does not know (or a body without a type key)."""


@dataclass(frozen=True, kw_only=True, repr=False, eq=False)
class TransactionEvent(WebhookEvent):
    """Common fields of TRANSACTION_* (named as the GraphQL ``Transaction`` type)."""

    record_id: str | None = field(default=None, metadata=_from("recordId", _text, "transactionId"))
    transaction_type: str | None = field(default=None, metadata=_from("transactionType", _text))
    amount: Decimal | None = field(default=None, metadata=_from("amount", _money))
    status: str | None = field(default=None, metadata=_from("status", _text))
    channel: str | None = field(default=None, metadata=_from("channel", _text))
    connected_app_id: str | None = field(default=None, metadata=_from("connectedAppId", _text))
    connected_app_name: str | None = field(default=None, metadata=_from("connectedAppName", _text))
    memo: str | None = field(default=None, metadata=_from("memo", _text))
    transaction_category: str | None = field(
        default=None, metadata=_from("transactionCategory", _text)
    )


@dataclass(frozen=True, kw_only=True, repr=False, eq=False)
class TransactionCreate(TransactionEvent):
    """TRANSACTION_CREATE: the user initiated a transaction."""

    EVENT_TYPE: ClassVar[str | None] = "TRANSACTION_CREATE"


@dataclass(frozen=True, kw_only=True, repr=False, eq=False)
class TransactionUpdate(TransactionEvent):
    """TRANSACTION_UPDATE: a transaction the user initiated was updated."""

    EVENT_TYPE: ClassVar[str | None] = "TRANSACTION_UPDATE"


@dataclass(frozen=True, kw_only=True, repr=False, eq=False)
class TransactionDecline(TransactionEvent):
    """TRANSACTION_DECLINE: a transaction the user initiated was declined."""

    EVENT_TYPE: ClassVar[str | None] = "TRANSACTION_DECLINE"

    decline_reason: str | None = field(
        default=None, metadata=_from("declineReason", _text, "reason")
    )


@dataclass(frozen=True, kw_only=True, repr=False, eq=False)
class WidgetEvent(WebhookEvent):
    """Common fields of WIDGET_* (no payload documented: amount and record id if sent)."""

    amount: Decimal | None = field(default=None, metadata=_from("amount", _money))
    record_id: str | None = field(default=None, metadata=_from("recordId", _text, "transactionId"))


@dataclass(frozen=True, kw_only=True, repr=False, eq=False)
class WidgetKycInitiation(WidgetEvent):
    """WIDGET_KYC_INITIATION: the user started KYC verification from the widget."""

    EVENT_TYPE: ClassVar[str | None] = "WIDGET_KYC_INITIATION"


@dataclass(frozen=True, kw_only=True, repr=False, eq=False)
class WidgetDepositComplete(WidgetEvent):
    """WIDGET_DEPOSIT_COMPLETE: the user sent (deposited) money into the application."""

    EVENT_TYPE: ClassVar[str | None] = "WIDGET_DEPOSIT_COMPLETE"


@dataclass(frozen=True, kw_only=True, repr=False, eq=False)
class WidgetWithdrawComplete(WidgetEvent):
    """WIDGET_WITHDRAW_COMPLETE: the user received (withdrew) money from the application."""

    EVENT_TYPE: ClassVar[str | None] = "WIDGET_WITHDRAW_COMPLETE"


@dataclass(frozen=True, kw_only=True, repr=False, eq=False)
class ApprovalEvent(WebhookEvent):
    """Common fields of APPROVAL_* (docs: "Webhook Identifiers" approvalType and
    approvalCode, e.g. ``PAYOUT``/500402; APPROVAL_CREATE carries the approvalId)."""

    approval_id: str | None = field(default=None, metadata=_from("approvalId", _text))
    approval_type: str | None = field(default=None, metadata=_from("approvalType", _text))
    approval_code: int | None = field(default=None, metadata=_from("approvalCode", _code))
    status: str | None = field(default=None, metadata=_from("status", _text))


@dataclass(frozen=True, kw_only=True, repr=False, eq=False)
class ApprovalCreate(ApprovalEvent):
    """APPROVAL_CREATE: a pending approval request was created."""

    EVENT_TYPE: ClassVar[str | None] = "APPROVAL_CREATE"


@dataclass(frozen=True, kw_only=True, repr=False, eq=False)
class ApprovalApprove(ApprovalEvent):
    """APPROVAL_APPROVE: an approver approved the request."""

    EVENT_TYPE: ClassVar[str | None] = "APPROVAL_APPROVE"


@dataclass(frozen=True, kw_only=True, repr=False, eq=False)
class ApprovalDecline(ApprovalEvent):
    """APPROVAL_DECLINE: an approver declined the request."""

    EVENT_TYPE: ClassVar[str | None] = "APPROVAL_DECLINE"


@dataclass(frozen=True, kw_only=True, repr=False, eq=False)
class ApprovalHandlerError(ApprovalEvent):
    """APPROVAL_HANDLER_ERROR: the approved action failed when Fluz carried it out."""

    EVENT_TYPE: ClassVar[str | None] = "APPROVAL_HANDLER_ERROR"

    error: dict[str, Any] | None = field(default=None, metadata=_from("error", _object))


EVENT_CLASSES: Mapping[str, type[WebhookEvent]] = {
    cls.EVENT_TYPE: cls
    for cls in (
        TransactionCreate,
        TransactionUpdate,
        TransactionDecline,
        WidgetKycInitiation,
        WidgetDepositComplete,
        WidgetWithdrawComplete,
        ApprovalCreate,
        ApprovalApprove,
        ApprovalDecline,
        ApprovalHandlerError,
    )
    if cls.EVENT_TYPE is not None
}
EVENT_TYPES: tuple[str, ...] = tuple(EVENT_CLASSES)


def decode_body(body: bytes) -> dict[str, Any]:
    """The body as a JSON object (fractions as Decimal); WebhookPayloadError otherwise."""
    try:
        data = json.loads(body, parse_float=Decimal)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise WebhookPayloadError("webhook body is not valid UTF-8 JSON") from None
    if not isinstance(data, dict):
        raise WebhookPayloadError("webhook body must be a JSON object")
    return data


def parse_event(body: bytes | Mapping[str, Any], *, event_id: str | None = None) -> WebhookEvent:
    """Parse a webhook body into its typed event. Does NOT verify the signature: use
    :meth:`WebhookVerifier.construct_event` (or verify first) on untrusted input.

    Args:
        body: the raw body bytes, or an already decoded JSON object.
        event_id: the ``X-Event-ID`` header; defaults to the body's ``eventId``.

    Returns the class registered for the event type, :class:`UnknownEvent` for any other
    type or none.

    Raises:
        WebhookPayloadError: not a JSON object, or a typed field has the wrong JSON type
            (the message names the field and the rule, never the value).
    """
    payload = decode_body(body) if isinstance(body, bytes | bytearray) else dict(body)
    event_type = next(
        (payload[key] for key in EVENT_TYPE_KEYS if isinstance(payload.get(key), str)), None
    )
    cls = EVENT_CLASSES.get(event_type or "", UnknownEvent)
    nested = payload.get("data")
    nested = nested if isinstance(nested, dict) else {}
    values: dict[str, Any] = {}
    taken: set[str] = set()
    for spec in dataclasses.fields(cls):
        keys = spec.metadata.get("keys")
        if not keys:
            continue
        for key in keys:
            source = payload if key in payload else nested if key in nested else None
            if source is None:
                continue
            if source is payload:
                taken.add(key)
            if source[key] is not None:
                values[spec.name] = spec.metadata["convert"](key, source[key])
            break
    body_id = payload.get("eventId")
    return cls(
        event_type=event_type,
        event_id=event_id if event_id is not None or not isinstance(body_id, str) else body_id,
        raw=payload,
        extra={k: v for k, v in payload.items() if k not in taken and k not in ENVELOPE_KEYS},
        **values,
    )
