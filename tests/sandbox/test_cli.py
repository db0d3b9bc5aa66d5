"""``python -m fluz.sandbox``: flags, the start-up banner, refusing remote hosts."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading

import httpx
import pytest

from fluz.sandbox import Faults, SandboxServer
from fluz.sandbox._cli import options_from, parser


def test_flags_become_options() -> None:
    args = parser().parse_args(
        [
            "--seed=9",
            "--token-ttl=30",
            "--reveal-delay=2",
            "--reveal-delay-for=starbucks=5",
            "--reveal-jitter=1",
            "--issuer-delay=0",
            "--latency=0.1",
            "--rate-limited-rate=0.2",
            "--retry-after=3",
            "--drop-after-commit-rate=0.1",
            "--fault-operations=purchaseGiftCard, marco",
            "--fault-limit=4",
        ]
    )
    options = options_from(args)
    assert (options.seed, options.token_ttl, options.reveal_delay) == (9, 30, 2)
    assert options.reveal_delay_by_merchant == {"starbucks": 5}
    assert options.faults == Faults(
        latency=0.1,
        rate_limited_rate=0.2,
        retry_after=3,
        drop_after_commit_rate=0.1,
        operations=frozenset({"purchaseGiftCard", "marco"}),
        limit=4,
    )


def test_cli_prints_url_and_credentials_and_serves_until_interrupted() -> None:
    command = [sys.executable, "-m", "fluz.sandbox", "--port", "0", "--seed", "3"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env) as process:
        try:
            banner = _read_banner(process)
            url = banner["Fluz sandbox serving"]
            with httpx.Client() as http:
                assert http.post(url, json={"query": "{ marco }"}).json()["data"] == {
                    "marco": "polo"
                }
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=10)
    assert process.returncode == 0
    with SandboxServer(seed=3) as same_seed:  # the banner shows the seed's credentials
        assert banner["API key"].split()[0] == same_seed.api_key
        assert banner["user id"] == same_seed.user_id
        assert banner["account id"] == same_seed.account_id
        assert banner["seat id"] == same_seed.seat_id


def _read_banner(process: subprocess.Popen[str]) -> dict[str, str]:
    """The banner's labelled lines (read by a thread, so a hung process fails the test)."""
    lines: queue.Queue[str] = queue.Queue()
    stdout = process.stdout
    assert stdout is not None

    def pump() -> None:
        for line in stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    banner: dict[str, str] = {}
    while "seat id" not in banner:
        line = lines.get(timeout=20)
        if line.startswith("Fluz sandbox serving "):
            banner["Fluz sandbox serving"] = line.split()[-1]
        elif line.startswith("  "):
            label, _, value = line.strip().partition("  ")
            banner[label.strip()] = value.strip()
    return banner


def test_cli_refuses_a_remote_host_without_allow_remote() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "fluz.sandbox", "--host", "0.0.0.0", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "allow_remote" in result.stderr


def test_banner_says_the_credentials_are_public_test_values(
    fluz_sandbox: SandboxServer, capsys: pytest.CaptureFixture[str]
) -> None:
    from fluz.sandbox._cli import announce

    announce(fluz_sandbox)
    printed = capsys.readouterr().out
    assert fluz_sandbox.api_key in printed
    assert "public test values" in printed


def test_allow_remote_warns_loudly_that_the_credentials_are_public() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fluz.sandbox",
            "--host",
            "0.0.0.0",
            "--port",
            "0",
            "--allow-remote",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _read_banner(process)  # serving: the warning came before
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=10)
    assert "WARNING: --allow-remote" in stderr
    assert "0.0.0.0" in stderr
    assert "PUBLIC test values" in stderr


def test_ipv4_mapped_loopback_counts_as_loopback() -> None:
    from fluz.sandbox._admin import _is_loopback
    from fluz.sandbox._runner import is_loopback

    assert is_loopback("::ffff:127.0.0.1")
    assert _is_loopback(("::ffff:127.0.0.1", 5000))
    assert not _is_loopback(("::ffff:192.168.1.20", 5000))
    assert not is_loopback("::ffff:10.0.0.1")
    SandboxServer(host="::ffff:127.0.0.1")  # no allow_remote needed
