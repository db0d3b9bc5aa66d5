"""examples/webhook_receiver.py: the Starlette app receives the sandbox's deliveries."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import httpx

from fluz.sandbox import SandboxServer

from .helpers import AsgiServer

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "webhook_receiver.py"


def load() -> ModuleType:
    name = "fluz_example_webhook_receiver"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, EXAMPLE)
        assert spec is not None
        assert spec.loader is not None
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


def test_the_example_app_processes_each_event_once(fluz_sandbox: SandboxServer) -> None:
    example = load()
    example.LEDGER.clear()
    with AsgiServer(example.create_app(fluz_sandbox.webhook_secret)) as server:
        base = server.url.removesuffix("/hook")
        fluz_sandbox.configure(webhook_urls=(f"{base}/fluz/webhooks",), webhook_duplicate_rate=1.0)
        created = fluz_sandbox.trigger_webhook("APPROVAL_CREATE", {"approvalId": "ap-7"})
        declined = fluz_sandbox.trigger_webhook("TRANSACTION_DECLINE")
        other = fluz_sandbox.trigger_webhook("CARD_FROZEN")
        deliveries = fluz_sandbox.wait_for_webhooks()
        assert httpx.get(f"{base}/health").text == "ok"
    assert all(d.status == "DELIVERED" for d in deliveries)
    assert {
        created: "approval ap-7 (PAYOUT) to review",
        declined: "declined: INSUFFICIENT_FUNDS",
        other: "unhandled CARD_FROZEN",
    } == example.LEDGER
