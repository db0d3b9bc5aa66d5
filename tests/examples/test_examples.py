"""Every example runs against the sandbox, so that none of them can rot.

The examples read FLUZ_* from the environment; the ``sandbox`` fixture sets it. Most run
in-process through their ``main()`` (on asyncio and trio); the demo and the pytest example
also run as the processes a user would start.
"""

from __future__ import annotations

import re
import subprocess
import sys
import uuid

import pytest
from fluz_graphql.input_types import OffsetInput, PurchaseGiftCardInput

from fluz import FluzClient, GiftCardDetails
from fluz.sandbox import SandboxServer

from .helpers import EXAMPLES, load_example, without_fluz_environ

pytestmark = pytest.mark.anyio


@pytest.mark.fluz_sandbox(reveal_delay=0.2)
async def test_purchase_and_reveal(
    sandbox: SandboxServer, capsys: pytest.CaptureFixture[str]
) -> None:
    await load_example("purchase_and_reveal").main("target", 30)
    out = capsys.readouterr().out
    assert re.search(r"purchased GC-\d+ for \$30\.00", out)
    assert re.search(r"idempotency key [0-9a-f-]{36}", out)
    assert "code=[REDACTED]" in out  # repr(details) masks the code
    assert sandbox.counters().purchases == 1


@pytest.mark.fluz_sandbox(reveal_delay=0.05, reveal_jitter=0.1)
async def test_concurrent_purchases(
    sandbox: SandboxServer, capsys: pytest.CaptureFixture[str]
) -> None:
    outcomes = await load_example("concurrent_purchases").main(count=12, concurrency=3)
    assert [o.error for o in outcomes] == [None] * 12
    assert all(isinstance(o.details, GiftCardDetails) for o in outcomes)
    assert len({o.request.idempotency_key for o in outcomes}) == 12
    assert sandbox.counters().purchases == 12
    assert len(sandbox.counters().reveal_polls) == 12
    assert "12 of 12 gift cards bought and revealed" in capsys.readouterr().out


async def test_pagination(sandbox: SandboxServer, capsys: pytest.CaptureFixture[str]) -> None:
    async with FluzClient() as fluz:
        for n in range(1, 8):
            await fluz.purchase_gift_card(
                input=PurchaseGiftCardInput(merchantSlug="amazon", amount=n)
            )
        stores = await fluz.get_merchants(name="Store", paginate=OffsetInput(limit=20)) or []

    await load_example("pagination").main()
    out = capsys.readouterr().out
    assert "active gift cards: 7" in out
    assert "purchases: 7, total $28.00" in out  # 1 + 2 + ... + 7
    assert "GC-1007  $7.00" in out.splitlines()[1]  # newest first
    assert f"merchants named like 'Store': {len(stores)}" in out
    # Pages of 5 for the purchases: 7 items take two requests.
    assert sandbox.counters().requests_by_operation["getUserPurchases"] == 2


@pytest.mark.fluz_sandbox(reveal_delay=1.0)
async def test_error_handling(sandbox: SandboxServer, capsys: pytest.CaptureFixture[str]) -> None:
    await load_example("error_handling").main()
    rows = {
        line[:22].strip(): line[22:].split()[0] for line in capsys.readouterr().out.splitlines()
    }
    assert rows == {
        "bad configuration": "ConfigurationError",
        "negative amount": "ValidationError",
        "unknown merchant": "ValidationError",
        "unknown recipient": "NotFoundError",
        "key reused": "ConflictError",
        "reveal deadline": "RevealTimeoutError",
        "wrong API key": "AuthenticationError",
        "missing scope": "PermissionDeniedError",
        "server unreachable": "TransportError",
    }
    assert sandbox.counters().purchases == 1  # only the one the conflict needs


@pytest.mark.fluz_sandbox(reveal_delay=0.1)
@pytest.mark.parametrize("anyio_backend", ["trio"])
async def test_trio_purchase(sandbox: SandboxServer, capsys: pytest.CaptureFixture[str]) -> None:
    results = await load_example("trio_purchase").main()
    assert len(results) == 2
    assert all(r.code or r.url for r in results)
    out = capsys.readouterr().out
    assert "amazon: GC-" in out
    assert "target: GC-" in out


def test_the_pytest_example_passes_as_a_users_suite() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "test_sandbox_fixture.py"],
        cwd=EXAMPLES,
        env=without_fluz_environ(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"^\d+ passed", done.stdout.splitlines()[-1])


def test_examples_that_spend_refuse_a_real_fluz_without_yes() -> None:
    environ = {**without_fluz_environ(), "FLUZ_API_KEY": "k", "FLUZ_ENVIRONMENT": "production"}
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "purchase_and_reveal.py")],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "add --yes to spend real money" in done.stderr


# ---------------------------------------------------------------------------- the demo


def test_make_demo_runs_a_sandbox_of_its_own_and_exits_0() -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "demo.py"), "--reveal-delay", "0.5"],
        env=without_fluz_environ(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "against a local sandbox at http://127.0.0.1:" in out
    for step in range(1, 6):
        assert f"[{step}/5]" in out
    assert re.search(r"scopes\s+LIST_OFFERS", out)
    assert "poll 1  at  0.0" in out
    assert "next poll in 0.3 s" in out
    assert "next poll in 0.6 s" in out
    assert "details ready" in out
    assert re.search(r"code\s+\*{8}\w{4}$", out, re.MULTILINE)  # masked by default
    assert re.search(r"pin\s+\*{4}$", out, re.MULTILINE)
    assert "backoff          3 polls, waits 0.3 s + 0.6 s" in out
    purchase_ids = re.findall(r"purchase id\s+([0-9a-f-]{36})", out)
    assert len(purchase_ids) == 2
    assert purchase_ids[0] == purchase_ids[1]
    assert "$1,250.00 -> $1,225.00" in out
    assert "$1,225.00 -> $1,225.00" in out
    assert "same purchase returned, charged once" in out
    assert out.rstrip().endswith("sandbox stopped")
    assert "eyJ" not in out  # no token


@pytest.mark.fluz_sandbox(reveal_delay=0.1)
async def test_demo_runs_against_the_configured_fluz(
    sandbox: SandboxServer, capsys: pytest.CaptureFixture[str]
) -> None:
    await load_example("demo").main(["--yes", "--show-secrets", "--slug", "target"])
    out = capsys.readouterr().out
    assert f"demo against {sandbox.url}" in out
    assert sandbox.counters().purchases == 1
    card_id = re.search(r"gift card id\s+([0-9a-f-]{36})", out)
    assert card_id
    async with FluzClient() as fluz:
        details = await fluz.reveal_gift_card(uuid.UUID(card_id.group(1)))
    assert details.code
    assert details.pin
    assert re.search(rf"code\s+{details.code}$", out, re.MULTILINE)  # --show-secrets
    assert re.search(rf"pin\s+{details.pin}$", out, re.MULTILINE)


async def test_demo_refuses_to_spend_on_a_real_fluz_without_yes(sandbox: SandboxServer) -> None:
    with pytest.raises(SystemExit, match=r"would buy a real \$25\.00 gift card"):
        await load_example("demo").main([])
    assert sandbox.counters().requests == 0


async def test_demo_failure_exits_non_zero_naming_the_step(
    sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLUZ_API_KEY", "wrong-key-1234")
    with pytest.raises(SystemExit) as exited:
        await load_example("demo").main(["--yes"])
    message = str(exited.value.code)
    assert "demo failed at step 1" in message
    assert "AuthenticationError" in message
    assert "wrong-key-1234" not in message
