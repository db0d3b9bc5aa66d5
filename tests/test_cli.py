"""The `fluz` command against the sandbox: output, --json shapes, secrets and exit codes.

Most tests call ``fluz._cli.run(argv, backend=...)`` in-process (on asyncio and trio); a
few run the real ``python -m fluz`` process.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from fluz import DEFAULT_SCOPES
from fluz._cli import ExitCode, run
from fluz._cli._parser import SUBCOMMANDS
from fluz.sandbox import Faults, SandboxServer

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
NOBODY_LISTENS = "http://127.0.0.1:9/api/v1/graphql"  # the discard port: refused


@pytest.fixture
def sandbox(fluz_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> SandboxServer:
    """The sandbox, with the FLUZ_* environment pointing at it (as `fluz sandbox` prints)."""
    for name, value in sandbox_environ(fluz_sandbox).items():
        monkeypatch.setenv(name, value)
    for name in ("FLUZ_ENVIRONMENT", "FLUZ_SEAT_ID", "FLUZ_SCOPES"):
        monkeypatch.delenv(name, raising=False)
    return fluz_sandbox


def sandbox_environ(server: SandboxServer) -> dict[str, str]:
    return {
        "FLUZ_URL": server.url,
        "FLUZ_API_KEY": server.api_key,
        "FLUZ_USER_ID": server.user_id,
        "FLUZ_ACCOUNT_ID": server.account_id,
    }


def without_fluz_environ() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("FLUZ_")}


class Cli:
    """Runs `fluz ARGS` in-process on one anyio backend and keeps what it printed."""

    def __init__(self, backend: str, capsys: pytest.CaptureFixture[str]) -> None:
        self.backend = backend
        self.capsys = capsys
        self.out = self.err = ""

    def __call__(self, *argv: str) -> int:
        code = run(list(argv), backend=self.backend)
        self.out, self.err = self.capsys.readouterr()
        return code

    def json(self, *argv: str, expect: int = ExitCode.OK) -> Any:
        code = self("--json", *argv)
        assert code == expect, (self.out, self.err)
        return json.loads(self.out)


@pytest.fixture
def cli(anyio_backend: str, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(anyio_backend, capsys)


# ---------------------------------------------------------------------------- help, usage


def test_help_lists_every_command_and_the_exit_codes(cli: Cli) -> None:
    assert cli("--help") == ExitCode.OK
    for command in SUBCOMMANDS:
        assert command in cli.out
    for code in ExitCode:
        assert re.search(rf"^\s+{int(code)}\s+\w", cli.out, re.MULTILINE), code


@pytest.mark.parametrize("command", [c for c in SUBCOMMANDS if c != "sandbox"])
def test_every_command_has_help_with_exit_codes(cli: Cli, command: str) -> None:
    assert cli(command, "--help") == ExitCode.OK
    assert f"usage: fluz {command}" in cli.out
    assert "exit codes:" in cli.out


def test_sandbox_command_has_help(cli: Cli) -> None:
    assert cli("sandbox", "--help") == ExitCode.OK
    assert "usage: fluz sandbox" in cli.out
    assert "--reveal-delay" in cli.out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ((), "usage: fluz"),
        (("reveal", "not-a-uuid"), "not a UUID"),
        (("quote", "amazon", "-5"), "'-5' must be greater than 0"),
        # Dollars, by the client's money rule: the message says dollars, never cents.
        (("quote", "amazon", "1.005"), "not an amount in dollars: '1.005' must have at most 2"),
        (("purchase", "amazon", "ten"), "not an amount in dollars: 'ten'"),
        (
            ("purchase", "amazon", "5", "--bank-card", UNKNOWN_ID, "--paypal", UNKNOWN_ID),
            "not allowed",
        ),
        (("frobnicate",), "invalid choice"),
        (("--json", "sandbox"), "put `sandbox` first"),
    ],
)
def test_bad_arguments_are_usage_errors(cli: Cli, argv: tuple[str, ...], message: str) -> None:
    assert cli(*argv) == ExitCode.USAGE
    assert message in cli.err
    assert cli.out == ""


def test_missing_configuration_is_a_usage_error_naming_the_variable(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FLUZ_API_KEY", raising=False)
    assert cli("wallet") == ExitCode.USAGE
    assert "FLUZ_API_KEY" in cli.err
    assert "Traceback" not in cli.err


def test_a_page_size_over_the_limit_is_a_usage_error(cli: Cli, sandbox: SandboxServer) -> None:
    error = cli.json("gift-cards", "--page-size", "21", expect=ExitCode.USAGE)["error"]
    assert error["type"] == "ValidationError"
    assert sandbox.counters().requests == 0  # refused before sending


# ---------------------------------------------------------------------------- commands


def test_token_shows_scopes_and_expiry_but_never_the_token(
    cli: Cli, sandbox: SandboxServer
) -> None:
    data = cli.json("token")
    assert data["scopes"] == list(DEFAULT_SCOPES)
    assert data["userId"] == sandbox.user_id
    assert 0 < data["expiresIn"] <= sandbox.options.token_ttl + 1
    assert data["refreshToken"] is True
    assert cli("token", "--scopes", "LIST_OFFERS") == ExitCode.OK
    assert re.search(r"scopes\s+LIST_OFFERS$", cli.out, re.MULTILINE)
    assert "expires" in cli.out
    assert "eyJ" not in cli.out + cli.err  # no JWT, whatever its field
    assert sandbox.counters().tokens_minted == 2


def test_merchants_pages_through_the_catalog(cli: Cli, sandbox: SandboxServer) -> None:
    data = cli.json("merchants", "--name", "Store", "--limit", "5", "--page-size", "2")
    assert data["count"] == 5
    assert data["more"] is True
    assert all("Store" in m["name"] for m in data["merchants"])
    # 5 rows plus one more to tell whether more exist: three pages of two.
    assert sandbox.counters().requests_by_operation["getMerchants"] == 3

    assert cli("merchants", "--limit", "0") == ExitCode.OK
    header, *rows, footer = cli.out.strip().splitlines()
    assert header.split() == ["NAME", "SLUG", "OFFERS"]
    assert footer == f"{len(rows)} merchants"
    assert any(row.startswith("Amazon ") and " amazon " in row for row in rows)


def test_quote_shows_the_best_offer(cli: Cli, sandbox: SandboxServer) -> None:
    offer = cli.json("quote", "starbucks", "25")["offer"]
    uuid.UUID(offer["offerId"])
    assert offer["denominationsType"] == "FIXED"
    assert cli("quote", "starbucks", "25") == ExitCode.OK
    assert offer["offerId"] in cli.out
    assert "$10/$25/$50/$100" in cli.out


@pytest.mark.fluz_sandbox(reveal_delay=0)
def test_purchase_prints_ids_and_key_then_reveal_masks_the_code(
    cli: Cli, sandbox: SandboxServer
) -> None:
    balance = sandbox.balances().cash_total
    bought = cli.json("purchase", "amazon", "25")
    purchase = bought["purchase"]
    card_id = purchase["giftCard"]["giftCardId"]
    uuid.UUID(bought["idempotencyKey"])
    assert purchase["purchaseDisplayId"].startswith("GC-")
    assert sandbox.balances().cash_total == balance - 25

    masked = cli.json("reveal", card_id)
    shown = cli.json("reveal", card_id, "--show-secrets")
    code = shown["code"]
    assert shown["secretsShown"] is True
    assert len(code) >= 8
    assert masked["secretsShown"] is False
    assert masked["code"] == "********" + code[-4:]

    assert cli("reveal", card_id) == ExitCode.OK
    assert code not in cli.out + cli.err
    assert "--show-secrets" in cli.out
    assert cli("reveal", card_id, "--show-secrets") == ExitCode.OK
    assert code in cli.out


def test_purchase_text_names_the_funding_source(cli: Cli, sandbox: SandboxServer) -> None:
    account = sandbox.seed_data.bank_account_id
    assert cli("purchase", "target", "20", "--bank-account", account) == ExitCode.OK
    assert f"$20.00 from bank account {account}" in cli.out
    assert re.search(r"idempotency key\s+[0-9a-f-]{36}", cli.out)
    assert "next: fluz reveal " in cli.out


def test_the_same_idempotency_key_buys_once(cli: Cli, sandbox: SandboxServer) -> None:
    key = str(uuid.uuid4())
    first = cli.json("purchase", "amazon", "10", "--idempotency-key", key)
    balance = sandbox.balances().cash_total
    again = cli.json("purchase", "amazon", "10", "--idempotency-key", key)
    assert again["purchase"]["purchaseId"] == first["purchase"]["purchaseId"]
    assert again["idempotencyKey"] == key
    assert sandbox.counters().purchases == 1
    assert sandbox.balances().cash_total == balance


@pytest.mark.fluz_sandbox(reveal_delay=0.5)
def test_reveal_reports_each_poll_and_the_backoff(cli: Cli, sandbox: SandboxServer) -> None:
    data = cli.json("purchase", "amazon", "5", "--reveal")
    assert data["reveal"]["attempts"] == 3  # polls at 0, 0.3 and 0.9 s
    lines = [line for line in cli.err.splitlines() if "poll" in line]
    assert "poll 1 not ready, next poll in 0.30s" in lines[0]
    assert "poll 2 not ready, next poll in 0.60s" in lines[1]
    assert "poll 3 ready" in lines[2]
    assert len(lines) == 3


def test_gift_cards_and_purchases_are_paged_tables(cli: Cli, sandbox: SandboxServer) -> None:
    for amount in ("5", "6", "7"):
        assert cli("purchase", "amazon", amount) == ExitCode.OK
    assert cli("gift-cards", "--limit", "2", "--page-size", "1") == ExitCode.OK
    header, *rows, footer = cli.out.strip().splitlines()
    assert header.split() == ["GIFT", "CARD", "ID", "MERCHANT", "STATUS", "CREATED"]
    assert len(rows) == 2
    assert footer.startswith("2 gift cards (more exist")

    data = cli.json("purchases", "--limit", "0", "--page-size", "2")
    assert data["count"] == 3
    assert data["more"] is False
    assert [p["purchaseAmount"] for p in data["purchases"]] == [7.0, 6.0, 5.0]  # newest first
    active = cli.json("gift-cards", "--status", "ACTIVE")
    assert active["count"] == 3
    assert cli.json("gift-cards", "--status", "INACTIVE")["count"] == 0


def test_wallet_shows_balances_and_funding_sources(cli: Cli, sandbox: SandboxServer) -> None:
    wallet = cli.json("wallet")["wallet"]
    cash = wallet["balances"]["cashBalance"]["availableBalance"]
    assert float(cash) == float(sandbox.balances().cash_total)
    assert cli("wallet") == ExitCode.OK
    assert f"available ${float(cash):,.2f}" in cli.out
    for section in ("balances", "spend accounts", "bank cards", "bank accounts", "PayPal"):
        assert f"\n{section}\n" in f"\n{cli.out}"
    assert "*4242" in cli.out  # card numbers only as their last four digits


def test_options_go_before_or_after_the_command(cli: Cli, sandbox: SandboxServer) -> None:
    assert cli("wallet", "--json", "--max-retries", "0") == ExitCode.OK
    assert "wallet" in json.loads(cli.out)
    assert cli("--url", sandbox.url, "wallet", "--json") == ExitCode.OK
    assert "wallet" in json.loads(cli.out)


# ---------------------------------------------------------------------------- exit codes


def test_a_wrong_api_key_is_an_auth_failure(
    cli: Cli, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLUZ_API_KEY", "wrong-api-key-1234")
    assert cli("wallet") == ExitCode.AUTH
    assert cli.err.startswith("error: AuthenticationError")
    assert "hint: check FLUZ_API_KEY" in cli.err
    error = cli.json("token", expect=ExitCode.AUTH)["error"]
    assert error["type"] == "AuthenticationError"
    assert error["exitCode"] == ExitCode.AUTH
    assert error["requestId"]
    assert "wrong-api-key-1234" not in cli.out + cli.err


def test_a_missing_scope_is_an_auth_failure(cli: Cli, sandbox: SandboxServer) -> None:
    error = cli.json("purchase", "amazon", "5", "--scopes", "LIST_OFFERS", expect=ExitCode.AUTH)
    assert error["error"]["type"] == "PermissionDeniedError"
    assert sandbox.counters().purchases == 0


def test_an_error_reported_by_fluz_is_an_api_error(cli: Cli, sandbox: SandboxServer) -> None:
    assert cli("reveal", UNKNOWN_ID) == ExitCode.API_ERROR
    assert "AR-0001" in cli.err
    error = cli.json("purchase", "no-such-merchant", "5", expect=ExitCode.API_ERROR)["error"]
    assert error["code"] == "AR-0001"
    assert error["operation"] == "PurchaseGiftCard"
    uuid.UUID(error["idempotencyKey"])


@pytest.mark.fluz_sandbox(reveal_delay=60)
def test_a_reveal_past_its_deadline_is_a_timeout(cli: Cli, sandbox: SandboxServer) -> None:
    assert cli("purchase", "amazon", "5", "--reveal", "--timeout", "0.3") == ExitCode.TIMEOUT
    assert "error: RevealTimeoutError" in cli.err
    (card,) = sandbox.counters().reveal_polls
    # The purchase was printed before the reveal started waiting.
    assert re.search(rf"gift card id\s+{card}$", cli.out, re.MULTILINE)
    # The purchase went through: the hint says not to buy again, and how to reveal later.
    assert f"do not buy again; reveal it later with: fluz reveal {card}" in cli.err


@pytest.mark.fluz_sandbox(faults=Faults(latency=1.0, operations=frozenset({"getWallet"})))
def test_an_http_timeout_is_a_timeout(cli: Cli, sandbox: SandboxServer) -> None:
    argv = ("wallet", "--request-timeout", "0.2", "--max-retries", "0")
    assert cli.json(*argv, expect=ExitCode.TIMEOUT)["error"]["type"] == "FluzTimeoutError"


def test_an_unreachable_server_has_its_own_exit_code(cli: Cli, sandbox: SandboxServer) -> None:
    assert cli("--url", NOBODY_LISTENS, "--max-retries", "0", "wallet") == ExitCode.UNREACHABLE
    assert "error: TransportError" in cli.err
    assert "hint: check FLUZ_URL" in cli.err


@pytest.mark.fluz_sandbox(
    faults=Faults(drop_after_commit_rate=1.0, operations=frozenset({"purchaseGiftCard"}), limit=1)
)
def test_a_purchase_whose_answer_was_lost_can_be_retried_with_the_printed_key(
    cli: Cli, sandbox: SandboxServer
) -> None:
    card = sandbox.seed_data.bank_card_id
    argv = ("purchase", "amazon", "5", "--bank-card", card, "--balance-amount", "2")
    assert cli(*argv, "--max-retries", "0") == ExitCode.UNREACHABLE
    assert sandbox.counters().purchases == 1  # committed, though the answer never came
    command = re.search(r"^hint: .*: (fluz purchase .*)$", cli.err, re.MULTILINE)
    assert command, cli.err
    assert command.group(1) == (
        f"fluz purchase amazon 5.00 --bank-card {card} --balance-amount 2.00 "
        f"--idempotency-key {command.group(1).split()[-1]}"
    )

    retried = cli.json(*shlex.split(command.group(1))[1:])
    assert sandbox.counters().purchases == 1  # the retry returned the same purchase
    assert retried["purchase"]["purchaseAmount"] == 5.0


@pytest.mark.fluz_sandbox(
    faults=Faults(unavailable_rate=1.0, operations=frozenset({"generateUserAccessToken"}))
)
def test_a_purchase_that_was_never_sent_prints_no_retry_hint(
    cli: Cli, sandbox: SandboxServer
) -> None:
    # The token step failed (503 after its retries): the purchase never left, so there is
    # nothing to reconcile and no "may have gone through" advice.
    assert cli("purchase", "amazon", "5", "--max-retries", "0") == ExitCode.API_ERROR
    assert sandbox.counters().purchases == 0
    assert "may have gone through" not in cli.err
    assert "was not sent" in cli.err


# ---------------------------------------------------------------------------- processes


def test_python_m_fluz_runs_the_command(sandbox: SandboxServer) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "fluz", "--json", "wallet"],
        env={**without_fluz_environ(), **sandbox_environ(sandbox)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "balances" in json.loads(done.stdout)["wallet"]


def test_import_fluz_does_not_import_the_cli() -> None:
    code = (
        "import sys, fluz; print(sorted(m for m in sys.modules if m.partition('.')[0] == 'fluz'))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    loaded = set(done.stdout.strip()[2:-2].split("', '"))
    assert "fluz._client" in loaded  # the probe sees fluz's own modules ...
    for lazy in ("fluz._cli", "fluz.sandbox"):  # ... but neither the CLI nor the sandbox
        assert not {m for m in loaded if m == lazy or m.startswith(lazy + ".")}


@pytest.fixture
def served_sandbox() -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "fluz", "sandbox", "--port", "0", "--reveal-delay", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    yield process
    if process.poll() is None:
        process.kill()
        process.wait()


def test_fluz_sandbox_prints_the_environment_to_use_it(
    served_sandbox: subprocess.Popen[str],
) -> None:
    assert served_sandbox.stdout is not None
    exports: dict[str, str] = {}
    for line in served_sandbox.stdout:
        found = re.match(r"\s+export (FLUZ_\w+)=(\S+)$", line)
        if found:
            exports[found.group(1)] = found.group(2)
        if "FLUZ_SEAT_ID" in exports:
            break
    assert set(exports) == {
        "FLUZ_URL",
        "FLUZ_API_KEY",
        "FLUZ_USER_ID",
        "FLUZ_ACCOUNT_ID",
        "FLUZ_SEAT_ID",
    }
    done = subprocess.run(
        [sys.executable, "-m", "fluz", "--json", "purchase", "amazon", "5", "--reveal"],
        env={**without_fluz_environ(), **exports},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["reveal"]["attempts"] >= 1

    served_sandbox.send_signal(signal.SIGINT)
    assert served_sandbox.wait(timeout=15) == 0
