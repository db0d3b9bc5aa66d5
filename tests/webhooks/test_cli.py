"""fluz webhooks sign / verify / send / trigger / listen."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
from pathlib import Path

import httpx
import pytest

from fluz._cli import main
from fluz._cli._webhooks import ListenApp
from fluz.sandbox import SandboxServer
from fluz.webhooks import WebhookVerifier

from .helpers import RecordingEndpoint

SECRET = "whsec_cli_test"
BODY = b'{"eventType":"APPROVAL_CREATE","approvalId":"ap-1"}'
SIGNATURE = hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()
Endpoint = tuple[RecordingEndpoint, str]


@pytest.fixture
def body_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("FLUZ_WEBHOOK_SECRET", SECRET)
    path = tmp_path / "body.json"
    path.write_bytes(BODY)
    return str(path)


def test_sign_prints_the_hmac_of_the_file(
    body_file: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["webhooks", "sign", body_file]) == 0
    assert capsys.readouterr().out.strip() == SIGNATURE


def test_verify_accepts_a_good_signature_and_names_the_event(
    body_file: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["webhooks", "verify", body_file, "--signature", SIGNATURE]) == 0
    out = capsys.readouterr().out
    assert "signature: ok" in out
    assert "ApprovalCreate" in out


def test_verify_exits_1_on_a_bad_signature_without_printing_secrets(
    body_file: str, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = hmac.new(b"other", BODY, hashlib.sha256).hexdigest()
    assert main(["webhooks", "verify", body_file, "--signature", wrong]) == 1
    captured = capsys.readouterr()
    assert "BAD" in captured.out
    for secret in (SECRET, SIGNATURE, wrong):
        assert secret not in captured.out + captured.err


def test_a_missing_secret_is_a_usage_error(
    body_file: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("FLUZ_WEBHOOK_SECRET")
    assert main(["webhooks", "sign", body_file]) == 2
    assert "FLUZ_WEBHOOK_SECRET" in capsys.readouterr().err


def test_send_posts_a_signed_sample_event(
    body_file: str, endpoint: Endpoint, capsys: pytest.CaptureFixture[str]
) -> None:
    recorder, url = endpoint
    code = main(["webhooks", "send", url, "TRANSACTION_DECLINE", "--data", '{"amount": "5.00"}'])
    assert code == 0
    [request] = recorder.requests
    WebhookVerifier(SECRET).verify(request.body, request.headers["x-hmac-signature"])
    assert json.loads(request.body)["amount"] == "5.00"
    assert request.headers["x-event-id"] in capsys.readouterr().out


def test_trigger_makes_the_sandbox_deliver(
    fluz_sandbox: SandboxServer, endpoint: Endpoint, capsys: pytest.CaptureFixture[str]
) -> None:
    recorder, url = endpoint
    fluz_sandbox.add_webhook_endpoint(url)
    assert (
        main(["webhooks", "trigger", "WIDGET_KYC_INITIATION", "--sandbox", fluz_sandbox.base_url])
        == 0
    )
    fluz_sandbox.wait_for_webhooks()
    assert json.loads(recorder.requests[0].body)["eventType"] == "WIDGET_KYC_INITIATION"
    assert "1 endpoint(s)" in capsys.readouterr().out


@pytest.mark.anyio
async def test_listen_verifies_prints_and_forwards_the_exact_delivery(endpoint: Endpoint) -> None:
    recorder, url = endpoint
    recorder.statuses = [503]
    out = io.StringIO()
    app = ListenApp(WebhookVerifier(SECRET), out, forward_to=url)
    headers = {
        "X-HMAC-Signature": SIGNATURE,
        "X-Event-ID": "evt-9",
        "Content-Type": "application/json",
    }
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as client:
        forwarded = await client.post("http://listen.test/", content=BODY, headers=headers)
        bad = await client.post(
            "http://listen.test/", content=BODY, headers={**headers, "X-HMAC-Signature": "00" * 32}
        )
    assert forwarded.status_code == 503  # the app's answer, so Fluz's retries follow it
    assert bad.status_code == 401
    [request] = recorder.requests  # the bad one is not forwarded
    assert request.body == BODY
    assert request.headers["x-hmac-signature"] == SIGNATURE
    assert request.headers["x-event-id"] == "evt-9"
    lines = out.getvalue()
    assert "APPROVAL_CREATE evt-9  signature ok  forwarded: HTTP 503" in lines
    assert "BAD SIGNATURE" in lines
    assert "ap-1" not in lines  # no body unless --print-body


def test_listen_with_sandbox_takes_its_secret_and_registers_itself(
    fluz_sandbox: SandboxServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import uvicorn

    served: list[ListenApp] = []

    def run(server: uvicorn.Server) -> None:  # instead of serving until Ctrl-C
        served.append(server.config.app)

    monkeypatch.delenv("FLUZ_WEBHOOK_SECRET", raising=False)
    monkeypatch.setattr(uvicorn.Server, "run", run)
    argv = ["webhooks", "listen", "--sandbox", fluz_sandbox.base_url, "--port", "18799"]
    assert main([*argv, "--events", "APPROVAL_CREATE"]) == 0
    [app] = served
    body = b'{"eventType": "APPROVAL_CREATE"}'
    app.verifier.verify(body, WebhookVerifier(fluz_sandbox.webhook_secret).sign(body))
    registered = httpx.get(f"{fluz_sandbox.admin_url}/webhooks").json()["endpoints"]
    assert registered == ["http://127.0.0.1:18799/=APPROVAL_CREATE"]
    assert fluz_sandbox.webhook_secret not in capsys.readouterr().out
