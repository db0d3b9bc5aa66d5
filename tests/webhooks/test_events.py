"""parse_event: one typed class per documented type, generic for the rest, nothing lost."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from fluz.webhooks import (
    EVENT_CLASSES,
    EVENT_TYPES,
    ApprovalApprove,
    ApprovalCreate,
    ApprovalDecline,
    ApprovalHandlerError,
    TransactionCreate,
    TransactionDecline,
    TransactionUpdate,
    UnknownEvent,
    WebhookPayloadError,
    WidgetDepositComplete,
    WidgetKycInitiation,
    WidgetWithdrawComplete,
    parse_event,
)

COMMON = {
    "userId": "550e8400-e29b-41d4-a716-446655440000",
    "accountId": "550e8400-e29b-41d4-a716-446655440001",
    "externalReference": "customer-42",
}


def body(**fields: Any) -> bytes:
    return json.dumps({**COMMON, **fields}).encode()


def test_every_documented_type_has_its_class() -> None:
    assert set(EVENT_TYPES) == {
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
    }
    expected = {
        "TRANSACTION_CREATE": TransactionCreate,
        "TRANSACTION_UPDATE": TransactionUpdate,
        "TRANSACTION_DECLINE": TransactionDecline,
        "WIDGET_KYC_INITIATION": WidgetKycInitiation,
        "WIDGET_DEPOSIT_COMPLETE": WidgetDepositComplete,
        "WIDGET_WITHDRAW_COMPLETE": WidgetWithdrawComplete,
        "APPROVAL_CREATE": ApprovalCreate,
        "APPROVAL_APPROVE": ApprovalApprove,
        "APPROVAL_DECLINE": ApprovalDecline,
        "APPROVAL_HANDLER_ERROR": ApprovalHandlerError,
    }
    for name, cls in expected.items():
        event = parse_event(body(eventType=name))
        assert type(event) is cls
        assert EVENT_CLASSES[name] is cls
        assert event.event_type == name


def test_common_fields_are_typed_and_the_raw_body_is_kept() -> None:
    event = parse_event(
        body(eventType="TRANSACTION_CREATE", createdAt="2026-12-02T13:00:00.123Z"),
        event_id="evt-1",
    )
    assert event.user_id == COMMON["userId"]
    assert event.account_id == COMMON["accountId"]
    assert event.external_reference == "customer-42"
    assert event.created_at == datetime(2026, 12, 2, 13, 0, 0, 123000, tzinfo=UTC)
    assert event.event_id == "evt-1"
    assert event.raw["userId"] == COMMON["userId"]


def test_transaction_fields_are_typed_with_money_as_decimal() -> None:
    event = parse_event(
        body(
            eventType="TRANSACTION_DECLINE",
            recordId="rec-1",
            transactionType="VIRTUAL_CARD",
            amount="10.10",
            status="DECLINED",
            declineReason="INSUFFICIENT_FUNDS",
        )
    )
    assert isinstance(event, TransactionDecline)
    assert event.record_id == "rec-1"
    assert event.transaction_type == "VIRTUAL_CARD"
    assert event.amount == Decimal("10.10")
    assert event.status == "DECLINED"
    assert event.decline_reason == "INSUFFICIENT_FUNDS"


def test_a_json_number_amount_is_an_exact_decimal_never_a_float() -> None:
    event = parse_event(b'{"eventType": "TRANSACTION_CREATE", "amount": 0.1, "fee": 0.2}')
    assert isinstance(event, TransactionCreate)
    assert event.amount == Decimal("0.1")
    assert event.raw["fee"] == Decimal("0.2")  # untyped numbers are exact too


def test_approval_fields_are_typed_and_a_numeric_string_code_is_an_int() -> None:
    event = parse_event(
        body(
            eventType="APPROVAL_CREATE",
            approvalId="ap-1",
            approvalType="PAYOUT",
            approvalCode="500402",
        )
    )
    assert isinstance(event, ApprovalCreate)
    assert (event.approval_id, event.approval_type, event.approval_code) == (
        "ap-1",
        "PAYOUT",
        500402,
    )
    error = parse_event(body(eventType="APPROVAL_HANDLER_ERROR", error={"code": "X"}))
    assert isinstance(error, ApprovalHandlerError)
    assert error.error == {"code": "X"}


def test_widget_events_carry_their_amount() -> None:
    event = parse_event(body(eventType="WIDGET_DEPOSIT_COMPLETE", amount="5", recordId="r"))
    assert isinstance(event, WidgetDepositComplete)
    assert event.amount == Decimal(5)


def test_an_unknown_type_parses_into_a_generic_event() -> None:
    event = parse_event(body(eventType="CARD_FROZEN", cardId="c-1"))
    assert type(event) is UnknownEvent
    assert event.event_type == "CARD_FROZEN"
    assert event.extra == {"cardId": "c-1"}


def test_a_body_without_a_type_key_parses_into_a_generic_event() -> None:
    event = parse_event(body())
    assert type(event) is UnknownEvent
    assert event.event_type is None
    assert event.user_id == COMMON["userId"]


@pytest.mark.parametrize("key", ["eventType", "event", "type", "eventName", "event_type"])
def test_the_type_key_candidates_are_all_understood(key: str) -> None:
    assert isinstance(parse_event(json.dumps({key: "APPROVAL_APPROVE"}).encode()), ApprovalApprove)


def test_unknown_fields_are_kept_in_extra_and_raw() -> None:
    event = parse_event(body(eventType="TRANSACTION_UPDATE", newField={"a": 1}, memo="m"))
    assert isinstance(event, TransactionUpdate)
    assert event.memo == "m"
    assert event.extra == {"newField": {"a": 1}}
    assert event.raw["newField"] == {"a": 1}


def test_external_reference_id_spelling_is_accepted() -> None:
    data = {"eventType": "WIDGET_KYC_INITIATION", "externalReferenceId": "ext-9"}
    assert parse_event(json.dumps(data).encode()).external_reference == "ext-9"


def test_fields_nested_under_data_are_found() -> None:
    data = {"eventType": "APPROVAL_DECLINE", "data": {"approvalId": "ap-2", "userId": "u"}}
    event = parse_event(json.dumps(data).encode())
    assert isinstance(event, ApprovalDecline)
    assert (event.approval_id, event.user_id) == ("ap-2", "u")


def test_the_body_event_id_is_used_when_no_header_is_given() -> None:
    assert parse_event(b'{"eventId": "e-7"}').event_id == "e-7"
    assert parse_event(b'{"eventId": "e-7"}', event_id="hdr").event_id == "hdr"


def test_a_mapping_is_accepted_instead_of_bytes() -> None:
    assert isinstance(parse_event({"eventType": "TRANSACTION_CREATE"}), TransactionCreate)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{not json", "not valid UTF-8 JSON"),
        (b"\xff\xfe", "not valid UTF-8 JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'"text"', "must be a JSON object"),
        (
            b'{"eventType": "TRANSACTION_CREATE", "amount": "SECRETVALUE"}',
            "'amount' must be a decimal",
        ),
        (b'{"eventType": "TRANSACTION_CREATE", "amount": "NaN"}', "'amount' must be a finite"),
        (b'{"eventType": "TRANSACTION_CREATE", "amount": true}', "'amount' must be a decimal"),
        (b'{"eventType": "APPROVAL_CREATE", "approvalCode": "SECRETVALUE"}', "'approvalCode'"),
        (b'{"userId": ["SECRETVALUE"]}', "'userId' must be a string"),
        (b'{"createdAt": "SECRETVALUE"}', "'createdAt' must be an ISO 8601"),
    ],
)
def test_a_bad_body_raises_a_payload_error_naming_the_field_not_the_value(
    raw: bytes, message: str
) -> None:
    with pytest.raises(WebhookPayloadError, match=message) as caught:
        parse_event(raw)
    assert "SECRETVALUE" not in f"{caught.value} {caught.value!r}"


def test_repr_shows_type_and_id_but_no_payload_value() -> None:
    event = parse_event(body(eventType="TRANSACTION_CREATE", amount="777.77"), event_id="e-1")
    text = repr(event)
    assert "TransactionCreate" in text
    assert "e-1" in text
    for value in (*COMMON.values(), "777.77"):
        assert value not in text


def test_import_fluz_does_not_import_the_webhooks_package() -> None:
    import subprocess
    import sys

    code = "import sys, fluz; print('fluz.webhooks' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
