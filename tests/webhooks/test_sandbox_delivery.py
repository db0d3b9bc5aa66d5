"""The sandbox delivers signed events like Fluz: headers, retries, FAILED, faults, admin."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading

import httpx
import pytest

from fluz.sandbox import SandboxOptions, SandboxServer
from fluz.sandbox._cli import options_from, parser
from fluz.sandbox._webhooks import EVENT_TYPES as SANDBOX_EVENT_TYPES
from fluz.webhooks import EVENT_TYPES, ApprovalApprove, ApprovalCreate, TransactionCreate
from fluz.webhooks import parse_event as client_parse_event

from .helpers import Api, RecordingEndpoint

Endpoint = tuple[RecordingEndpoint, str]
FAST = {"webhook_backoff": 0.01, "webhook_timeout": 2.0}
INTERNAL_TRANSFER = (
    "mutation($i: RequestInternalTransferInput!) { requestInternalTransfer(input: $i) { success } }"
)
APPROVE = "mutation($id: UUID!) { approveApprovalRequest(approvalId: $id) { success } }"


def listen(sandbox: SandboxServer, url: str, **options: object) -> None:
    sandbox.configure(webhook_urls=(url,), **{**FAST, **options})


def test_the_sandbox_knows_exactly_the_documented_event_types() -> None:
    assert set(SANDBOX_EVENT_TYPES) == set(EVENT_TYPES)


def test_a_purchase_delivers_a_signed_transaction_create_with_fluz_headers(
    fluz_sandbox: SandboxServer, api: Api, endpoint: Endpoint
) -> None:
    recorder, url = endpoint
    listen(fluz_sandbox, url)
    assert api.purchase(merchantSlug="amazon", amount=10)["purchaseGiftCard"]["purchaseId"]
    [delivery] = fluz_sandbox.wait_for_webhooks()
    assert delivery.status == "DELIVERED"
    [request] = recorder.requests
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-event-id"] == delivery.event_id
    expected = hmac.new(fluz_sandbox.webhook_secret.encode(), request.body, hashlib.sha256)
    assert request.headers["x-hmac-signature"] == expected.hexdigest()
    payload = json.loads(request.body)
    assert payload["eventType"] == "TRANSACTION_CREATE"
    assert payload["userId"] == fluz_sandbox.user_id
    assert payload["accountId"] == fluz_sandbox.account_id
    assert payload["transactionType"] == "GIFT_CARD_PURCHASE"
    assert payload["amount"] == "10.00"
    event = client_parse_event(request.body, event_id=delivery.event_id)
    assert isinstance(event, TransactionCreate)
    assert not event.extra  # the client types every field the sandbox sends


def test_approval_request_and_decision_deliver_approval_events(
    fluz_sandbox: SandboxServer, api: Api, endpoint: Endpoint
) -> None:
    recorder, url = endpoint
    listen(fluz_sandbox, url)
    seeds = fluz_sandbox.seed_data
    transfer = {
        "amount": 20,
        "sourceUserCashBalanceId": seeds.cash_balance_id,
        "destinationUserCashBalanceId": seeds.second_cash_balance_id,
    }
    api.data(INTERNAL_TRANSFER, {"i": transfer})
    api.data(APPROVE, {"id": seeds.approval_id})
    fluz_sandbox.wait_for_webhooks()
    events = [client_parse_event(r.body) for r in recorder.requests]
    created = next(e for e in events if isinstance(e, ApprovalCreate))
    assert (created.approval_type, created.approval_code, created.status) == (
        "PAYOUT",
        500402,
        "PENDING",
    )
    approved = next(e for e in events if isinstance(e, ApprovalApprove))
    assert (approved.approval_id, approved.status) == (seeds.approval_id, "APPROVED")


def test_an_endpoint_receives_only_the_events_it_subscribed_to(
    fluz_sandbox: SandboxServer, api: Api, endpoint: Endpoint
) -> None:
    recorder, url = endpoint
    listen(fluz_sandbox, f"{url}=APPROVAL_APPROVE,APPROVAL_DECLINE")
    api.purchase(merchantSlug="amazon", amount=10)
    api.data(APPROVE, {"id": fluz_sandbox.seed_data.approval_id})
    fluz_sandbox.wait_for_webhooks()
    assert [json.loads(r.body)["eventType"] for r in recorder.requests] == ["APPROVAL_APPROVE"]


def test_a_non_2xx_answer_is_retried_with_the_same_id_and_body_until_delivered(
    fluz_sandbox: SandboxServer, endpoint: Endpoint
) -> None:
    recorder, url = endpoint
    recorder.statuses = [500, 404, 302]
    listen(fluz_sandbox, url)
    fluz_sandbox.trigger_webhook("TRANSACTION_DECLINE")
    [delivery] = fluz_sandbox.wait_for_webhooks()
    assert delivery.status == "DELIVERED"
    assert [a.status_code for a in delivery.attempts] == [500, 404, 302, 200]
    assert len({(r.headers["x-event-id"], r.body) for r in recorder.requests}) == 1
    assert fluz_sandbox.webhook_counters()["retries"] == 3


def test_after_the_last_retry_the_delivery_is_failed(
    fluz_sandbox: SandboxServer, endpoint: Endpoint
) -> None:
    recorder, url = endpoint
    recorder.statuses = [503] * 10
    listen(fluz_sandbox, url)
    fluz_sandbox.trigger_webhook("APPROVAL_CREATE")
    [delivery] = fluz_sandbox.wait_for_webhooks()
    assert delivery.status == "FAILED"
    assert len(delivery.attempts) == 6  # docs: up to 5 retries after the first attempt
    assert fluz_sandbox.webhook_counters()["failed"] == 1


def test_a_timeout_counts_as_a_failed_attempt(
    fluz_sandbox: SandboxServer, endpoint: Endpoint
) -> None:
    recorder, url = endpoint
    recorder.hang = threading.Event()
    listen(fluz_sandbox, url, webhook_timeout=0.1, webhook_retries=1)
    try:
        fluz_sandbox.trigger_webhook("APPROVAL_CREATE")
        [delivery] = fluz_sandbox.wait_for_webhooks()
    finally:
        recorder.hang.set()
    assert delivery.status == "FAILED"
    assert [a.error for a in delivery.attempts] == ["ReadTimeout", "ReadTimeout"]


@pytest.mark.fluz_sandbox(
    webhook_urls=["http://127.0.0.1:9/unreachable"], webhook_retries=1, webhook_backoff=0.01
)
def test_the_marker_registers_endpoints_and_a_refused_connection_fails(
    fluz_sandbox: SandboxServer,
) -> None:
    fluz_sandbox.trigger_webhook("TRANSACTION_CREATE")
    [delivery] = fluz_sandbox.wait_for_webhooks()
    assert delivery.status == "FAILED"
    assert [a.error for a in delivery.attempts] == ["ConnectError", "ConnectError"]


def test_a_slow_endpoint_never_delays_the_graphql_response(
    fluz_sandbox: SandboxServer, api: Api, endpoint: Endpoint
) -> None:
    recorder, url = endpoint
    recorder.hang = threading.Event()  # the endpoint answers only once we let it
    listen(fluz_sandbox, url)
    try:
        assert api.purchase(merchantSlug="amazon", amount=10)["purchaseGiftCard"]
        assert fluz_sandbox.webhook_deliveries()[0].status == "PENDING"
    finally:
        recorder.hang.set()
    assert fluz_sandbox.wait_for_webhooks()[0].status == "DELIVERED"


def test_duplicate_fault_delivers_an_event_twice_with_the_same_id(
    fluz_sandbox: SandboxServer, endpoint: Endpoint
) -> None:
    recorder, url = endpoint
    listen(fluz_sandbox, url, webhook_duplicate_rate=1.0)
    fluz_sandbox.trigger_webhook("TRANSACTION_CREATE")
    [delivery] = fluz_sandbox.wait_for_webhooks()
    assert [a.duplicate for a in delivery.attempts] == [False, True]
    first, second = recorder.requests
    assert (first.headers["x-event-id"], first.body) == (second.headers["x-event-id"], second.body)


def test_reorder_fault_swaps_consecutive_events(
    fluz_sandbox: SandboxServer, endpoint: Endpoint
) -> None:
    recorder, url = endpoint
    listen(fluz_sandbox, url, webhook_reorder=True)
    first = fluz_sandbox.trigger_webhook("APPROVAL_CREATE")
    second = fluz_sandbox.trigger_webhook("APPROVAL_APPROVE")
    fluz_sandbox.wait_for_webhooks()
    assert [r.headers["x-event-id"] for r in recorder.requests] == [second, first]


def test_delay_fault_holds_deliveries_back(fluz_sandbox: SandboxServer, endpoint: Endpoint) -> None:
    recorder, url = endpoint
    listen(fluz_sandbox, url, webhook_delay=0.3)
    fluz_sandbox.trigger_webhook("TRANSACTION_CREATE")
    assert recorder.requests == []
    assert fluz_sandbox.wait_for_webhooks()[0].status == "DELIVERED"


def test_base64_and_prefix_schemes_are_configurable(
    fluz_sandbox: SandboxServer, endpoint: Endpoint
) -> None:
    recorder, url = endpoint
    listen(
        fluz_sandbox,
        url,
        webhook_encoding="base64",
        webhook_prefix="sha256=",
        webhook_secret="whsec_chosen",
    )
    fluz_sandbox.trigger_webhook("TRANSACTION_CREATE")
    fluz_sandbox.wait_for_webhooks()
    [request] = recorder.requests
    digest = hmac.new(b"whsec_chosen", request.body, hashlib.sha256).digest()
    assert request.headers["x-hmac-signature"] == "sha256=" + base64.b64encode(digest).decode()


def test_the_admin_api_registers_endpoints_triggers_and_reports_deliveries(
    fluz_sandbox: SandboxServer, endpoint: Endpoint
) -> None:
    recorder, url = endpoint
    fluz_sandbox.configure(**FAST)
    admin = fluz_sandbox.admin_url
    with httpx.Client() as http:
        added = http.post(
            f"{admin}/webhooks/endpoints", json={"url": url, "events": ["TRANSACTION_DECLINE"]}
        )
        assert added.status_code == 200
        assert added.json()["endpoints"] == [f"{url}=TRANSACTION_DECLINE"]
        fired = http.post(
            f"{admin}/webhooks/trigger",
            json={"eventType": "TRANSACTION_DECLINE", "fields": {"amount": "1.23"}},
        ).json()
        assert fired["deliveries"] == 1
        fluz_sandbox.wait_for_webhooks()
        report = http.get(f"{admin}/webhooks").json()
        assert report["secret"] == fluz_sandbox.webhook_secret
        assert report["deliveries"][0]["status"] == "DELIVERED"
        assert report["deliveries"][0]["event_id"] == fired["eventId"]
        assert report["counters"]["delivered"] == 1
        bad = http.post(f"{admin}/webhooks/endpoints", json={"url": url, "events": ["NOPE"]})
        assert bad.status_code == 400
        assert "unknown event type" in bad.json()["error"]
        removed = http.request("DELETE", f"{admin}/webhooks/endpoints", json={"url": url})
        assert removed.json()["endpoints"] == []
    assert json.loads(recorder.requests[0].body)["amount"] == "1.23"


def test_reset_restores_the_start_up_endpoints_and_forgets_deliveries(
    fluz_sandbox: SandboxServer, endpoint: Endpoint
) -> None:
    _, url = endpoint
    listen(fluz_sandbox, url)
    fluz_sandbox.trigger_webhook("TRANSACTION_CREATE")
    fluz_sandbox.wait_for_webhooks()
    fluz_sandbox.reset()
    assert fluz_sandbox.webhook_deliveries() == []
    assert fluz_sandbox.trigger_webhook("TRANSACTION_CREATE") is None  # no endpoint left


def test_the_secret_is_stable_per_seed_and_hidden_from_options_json() -> None:
    with SandboxServer(webhook_urls=["http://127.0.0.1:9/h"]) as a, SandboxServer() as b:
        assert a.webhook_secret == b.webhook_secret
        assert a.webhook_secret not in json.dumps(a.options.to_json())
    options = SandboxOptions(webhook_secret="whsec_mine")
    assert "whsec_mine" not in repr(options)
    assert "whsec_mine" not in json.dumps(options.to_json())


def test_the_cli_takes_repeatable_webhook_urls_with_event_filters() -> None:
    args = parser().parse_args(
        [
            "--webhook-url",
            "http://127.0.0.1:1/a=APPROVAL_CREATE",
            "--webhook-url",
            "https://x.test/b?q=1",
        ]
    )
    options = options_from(args)
    assert options.webhook_urls == ("http://127.0.0.1:1/a=APPROVAL_CREATE", "https://x.test/b?q=1")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("ftp://x.test/h", "http"),
        ("not a url", "http"),
        ("http://x.test/h=TRANSACTION_CREAT", "unknown event type"),
    ],
)
def test_bad_webhook_options_are_refused(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SandboxOptions(webhook_urls=(spec,))
    with pytest.raises(ValueError, match="encoding"):
        SandboxOptions(webhook_encoding="base32")
    with pytest.raises(ValueError, match="retries"):
        SandboxOptions(webhook_retries=-1)


def test_start_up_prints_the_signing_secret_and_the_endpoints(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from fluz.sandbox._cli import announce

    url = "http://127.0.0.1:9/hook=APPROVAL_CREATE"
    with SandboxServer(webhook_urls=[url], webhook_prefix="sha256=") as server:
        announce(server)
        secret = server.webhook_secret
    out = capsys.readouterr().out
    assert f"webhook key  {secret}" in out
    assert "sha256=hex HMAC-SHA256" in out
    assert url in out
