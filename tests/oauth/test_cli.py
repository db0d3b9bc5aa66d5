"""`fluz oauth url | exchange | refresh` against the sandbox: output, masking, exit codes."""

from __future__ import annotations

import io
import json
import stat
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from fluz._cli import ExitCode, run
from fluz.sandbox import SandboxServer

from .helpers import CALLBACK, new_code


class Cli:
    def __init__(self, backend: str, capsys: pytest.CaptureFixture[str]) -> None:
        self.backend = backend
        self.capsys = capsys
        self.out = self.err = ""

    def __call__(self, *argv: str) -> int:
        code = run(["oauth", *argv], backend=self.backend)
        self.out, self.err = self.capsys.readouterr()
        return code


@pytest.fixture
def cli(
    anyio_backend: str,
    capsys: pytest.CaptureFixture[str],
    fluz_sandbox: SandboxServer,
    monkeypatch: pytest.MonkeyPatch,
) -> Cli:
    """`fluz oauth` with the OAuth environment `fluz sandbox` prints (no API key at all)."""
    c = fluz_sandbox.credentials
    for name in ("FLUZ_API_KEY", "FLUZ_URL", "FLUZ_ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FLUZ_OAUTH_URL", fluz_sandbox.base_url)
    monkeypatch.setenv("FLUZ_OAUTH_CLIENT_ID", c.oauth_client_id)
    monkeypatch.setenv("FLUZ_OAUTH_APP_SECRET", c.oauth_app_secret)
    return Cli(anyio_backend, capsys)


def test_url_then_the_browser_then_exchange_then_refresh(
    cli: Cli, fluz_sandbox: SandboxServer, tmp_path: Path
) -> None:
    assert (
        cli("--json", "url", "--redirect-uri", CALLBACK, "--scopes", "LIST_OFFERS,LIST_PAYMENT")
        == 0
    )
    built = json.loads(cli.out)
    consent = httpx.get(built["url"])  # the browser, consenting in the sandbox
    callback = parse_qs(urlsplit(consent.headers["location"]).query)
    assert callback["state"] == [built["state"]]

    saved = tmp_path / "tokens.json"
    code = callback["code"][0]
    assert cli("exchange", code, "--redirect-uri", CALLBACK, "--save", str(saved)) == 0
    assert "code exchanged" in cli.out
    assert "LIST_OFFERS, LIST_PAYMENT" in cli.out
    first = json.loads(saved.read_text())
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert first["accessToken"] not in cli.out + cli.err
    assert first["refreshToken"] not in cli.out + cli.err
    assert code not in cli.out + cli.err

    assert cli("--json", "refresh", "--tokens-file", str(saved)) == 0
    document = json.loads(cli.out)
    assert document["accessToken"] is None  # masked
    assert document["secretsShown"] is False
    renewed = json.loads(saved.read_text())
    assert renewed["refreshToken"] != first["refreshToken"]  # rotated and saved back
    assert fluz_sandbox.counters().oauth_refreshes == 1


def test_show_secrets_prints_the_tokens(
    cli: Cli, fluz_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (
        cli(
            "--json",
            "exchange",
            new_code(fluz_sandbox),
            "--redirect-uri",
            CALLBACK,
            "--show-secrets",
        )
        == 0
    )
    tokens = json.loads(cli.out)
    assert tokens["accessToken"].startswith("eyJ")
    monkeypatch.setattr("sys.stdin", io.StringIO(tokens["refreshToken"] + "\n"))
    assert cli("refresh", "--stdin", "--show-secrets") == 0
    assert "tokens renewed" in cli.out


def test_exchange_and_refresh_refuse_to_lose_the_tokens(
    cli: Cli, fluz_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = new_code(fluz_sandbox)
    assert cli("exchange", code, "--redirect-uri", CALLBACK) == ExitCode.USAGE
    assert "--save FILE or --show-secrets" in cli.err
    monkeypatch.setattr("sys.stdin", io.StringIO("whatever\n"))
    assert cli("refresh", "--stdin") == ExitCode.USAGE
    assert cli("refresh") == ExitCode.USAGE
    assert "process list" in cli.err
    assert fluz_sandbox.counters().oauth_exchanges == 0  # nothing was sent


def test_a_used_code_and_an_expired_refresh_token_are_typed_errors(
    cli: Cli, fluz_sandbox: SandboxServer, tmp_path: Path
) -> None:
    saved = tmp_path / "t.json"
    code = new_code(fluz_sandbox)
    assert cli("exchange", code, "--redirect-uri", CALLBACK, "--save", str(saved)) == 0
    assert (
        cli("--json", "exchange", code, "--redirect-uri", CALLBACK, "--save", str(saved))
        == ExitCode.API_ERROR
    )
    assert json.loads(cli.out)["error"]["type"] == "InvalidAuthorizationCodeError"
    fluz_sandbox.advance_clock(32 * 24 * 3600)
    assert cli("refresh", "--tokens-file", str(saved)) == ExitCode.AUTH
    assert "RefreshTokenExpiredError" in cli.err
    assert "authorize the app again" in cli.err


def test_bad_input_is_a_usage_error(cli: Cli) -> None:
    assert cli("url", "--redirect-uri", CALLBACK, "--scopes", "NOT_A_SCOPE") == ExitCode.USAGE
    assert "NOT_A_SCOPE" in cli.err
    assert cli("url", "--redirect-uri", CALLBACK) == ExitCode.USAGE  # --scopes is required
    assert cli() == ExitCode.USAGE  # an action is required


def test_a_wrong_app_secret_is_an_auth_failure(
    cli: Cli, fluz_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLUZ_OAUTH_APP_SECRET", "not-the-secret")
    code = new_code(fluz_sandbox)
    assert cli("exchange", code, "--redirect-uri", CALLBACK, "--show-secrets") == ExitCode.AUTH
    assert "InvalidClientError" in cli.err
    assert "not-the-secret" not in cli.err


@pytest.mark.parametrize("action", ["url", "exchange", "refresh"])
def test_every_action_has_help_with_exit_codes(cli: Cli, action: str) -> None:
    assert cli(action, "--help") == ExitCode.OK
    assert f"usage: fluz oauth {action}" in cli.out
    assert "exit codes:" in cli.out
