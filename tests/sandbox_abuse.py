"""Figures for the sandbox under abuse (a script, not a test): what one unauthenticated
client on the machine can cost the server that listens on a developer's port.

    .venv/bin/python -m tests.sandbox_abuse [padded] [introspection] [sockets] [deposits]

The sandbox runs as its own process (``python -m fluz.sandbox``), so its RSS is read from
/proc and its event loop competes with nobody. Sections (all by default):

- padded: 40 distinct queries of just under 1 MiB, padded with comments, no credentials:
  server RSS before/after, time per request.
- introspection: one request of 166 aliased ``__schema`` selections (CPU seconds, response
  size), then 8 of them in parallel while ``{ marco }`` is timed.
- sockets: 300 connections that send nothing, one that sends a body at 1 byte per 1.5 s, and
  a server limited to 256 file descriptors (``ulimit -n 256``) asked for ``{ marco }`` while
  300 idle connections are held open.
- deposits: 2,000 spend accounts (as many as allowed), then 2,000 deposits with distinct
  idempotency keys: server RSS growth per stored deposit.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from tests.bench_sandbox import MARCO, start_cli, stop_cli


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def padded(process: subprocess.Popen[str], url: str) -> None:
    print("== 40 comment-padded queries just under 1 MiB, no credentials")
    before = rss_mb(process.pid)
    times: list[float] = []
    statuses: dict[int, int] = {}
    with httpx.Client(timeout=60) as http:
        for n in range(40):
            query = f"# {n}\n{{ marco }}\n" + "#\n" * 345_000
            sent = time.perf_counter()
            response = http.post(url, json={"query": query})
            times.append(time.perf_counter() - sent)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    after = rss_mb(process.pid)
    print(f"   body {len(json.dumps({'query': query})):,} bytes; statuses {statuses}")
    print(f"   server RSS {before:.0f} MB -> {after:.0f} MB (+{after - before:.0f} MB)")
    print(
        f"   per request: median {statistics.median(times) * 1000:.0f} ms, max "
        f"{max(times) * 1000:.0f} ms (the loop is blocked meanwhile)"
    )
    print("== 40 valid comment-padded queries of 64,000 characters (under the size limit)")
    before = rss_mb(process.pid)
    statuses = {}
    with httpx.Client(timeout=60) as http:
        for n in range(40):
            query = f"#{n:02}\n{{ marco }}\n" + "#\n" * 31_990
            response = http.post(url, json={"query": query})
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    after = rss_mb(process.pid)
    print(f"   {len(query):,} characters each; statuses {statuses}")
    print(f"   server RSS {before:.0f} MB -> {after:.0f} MB (+{after - before:.0f} MB)")


INTROSPECTION = (
    "{ "
    + " ".join(f"a{n}: __schema {{ types {{ name fields {{ name }} }} }}" for n in range(166))
    + " }"
)


def introspection(process: subprocess.Popen[str], url: str) -> None:
    print("== 166 aliased __schema selections, no credentials")
    with httpx.Client(timeout=120) as http:
        cpu = cpu_seconds(process.pid)
        sent = time.perf_counter()
        response = http.post(url, json={"query": INTROSPECTION})
        wall = time.perf_counter() - sent
        cpu = cpu_seconds(process.pid) - cpu
    code = (response.json().get("errors") or [{}])[0].get("extensions", {}).get("code", "-")
    print(
        f"   one request: HTTP {response.status_code} ({code}), {len(response.content):,} "
        f"bytes, {wall:.2f} s wall, {cpu:.2f} s server CPU"
    )

    async def parallel() -> tuple[float, float]:
        async with httpx.AsyncClient(timeout=120) as client:
            flood = [
                asyncio.ensure_future(client.post(url, json={"query": INTROSPECTION}))
                for _ in range(8)
            ]
            await asyncio.sleep(0.05)
            sent = time.perf_counter()
            await client.post(url, json=MARCO)
            marco = time.perf_counter() - sent
            await asyncio.gather(*flood)
            return marco, time.perf_counter() - sent

    marco, total = asyncio.run(parallel())
    print(f"   8 in parallel: {{ marco }} answered after {marco:.2f} s (flood done {total:.2f} s)")


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.setblocking(False)
    return sock


def _closed(sock: socket.socket) -> bool:
    try:
        return sock.recv(4096) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def _wait_closed(socks: list[socket.socket], seconds: float) -> tuple[int, float | None]:
    """How many of ``socks`` the server closed within ``seconds``, and when the last did."""
    started = time.monotonic()
    closed: set[int] = set()
    last = None
    while time.monotonic() - started < seconds and len(closed) < len(socks):
        for index, sock in enumerate(socks):
            if index not in closed and _closed(sock):
                closed.add(index)
                last = time.monotonic() - started
        time.sleep(0.2)
    return len(closed), last


def sockets(process: subprocess.Popen[str], url: str, wait: float) -> None:
    port = httpx.URL(url).port or 80
    print(f"== idle and slow connections (watched for {wait:.0f} s)")
    idle = [_connect(port) for _ in range(300)]
    count, last = _wait_closed(idle, wait)
    when = f", the last after {last:.1f} s" if last is not None else ""
    print(f"   300 connections sending nothing: {count} closed by the server{when}")
    for sock in idle:
        sock.close()

    slow = _connect(port)
    slow.sendall(
        b"POST /api/v1/graphql HTTP/1.1\r\nhost: 127.0.0.1\r\n"
        b"content-type: application/json\r\ncontent-length: 64\r\n\r\n"
    )
    started = time.monotonic()
    sent = 0
    while time.monotonic() - started < wait and not _closed(slow):
        try:
            slow.sendall(b" ")
            sent += 1
        except OSError:
            break
        time.sleep(1.5)
    held = time.monotonic() - started
    state = "still open" if held >= wait else "ended by the server"
    print(f"   body at 1 byte / 1.5 s: {state} after {held:.1f} s ({sent} bytes sent)")
    slow.close()


def low_fd_limit(wait: float) -> None:
    print("== server limited to 256 file descriptors, 300 idle connections held open")

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))

    with tempfile.TemporaryFile("w+") as log:
        _held_open(limit, log, wait)
        log.seek(0)
        errors = log.read().count("Too many open files")
    print(f"   server log: {errors:,} 'Too many open files'")


def _held_open(limit: Callable[[], None], log: Any, wait: float) -> None:
    process, url = _start_limited(limit, log)
    port = httpx.URL(url).port or 80
    try:
        idle = []
        for _ in range(300):
            try:
                idle.append(_connect(port))
            except OSError:
                break
        time.sleep(0.5)
        outcomes = []
        started = time.monotonic()
        while time.monotonic() - started < wait:
            sent = time.perf_counter()
            try:
                response = httpx.post(url, json=MARCO, timeout=3)
                outcomes.append(
                    f"HTTP {response.status_code} in {time.perf_counter() - sent:.2f} s"
                )
                break
            except httpx.HTTPError as exc:
                outcomes.append(type(exc).__name__)
        elapsed = time.monotonic() - started
        print(
            f"   {len(idle)} connected; {{ marco }} attempts over {elapsed:.1f} s: "
            f"{', '.join(outcomes)}"
        )
        for sock in idle:
            sock.close()
    finally:
        stop_cli(process)


def _start_limited(preexec: Callable[[], None], log: Any) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "fluz.sandbox", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        env=env,
        preexec_fn=preexec,
    )
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("Fluz sandbox serving "):
            return process, line.split()[-1]
    raise RuntimeError("the sandbox CLI did not start")


def deposits(process: subprocess.Popen[str], url: str, count: int) -> None:
    print(f"== {count:,} spend accounts, then {count:,} deposits with distinct keys")
    admin = url.replace("/api/v1/graphql", "/_sandbox")
    with httpx.Client(timeout=30) as http:
        described = http.get(admin).json()
        creds, seeds = described["credentials"], described["seedData"]
        minted = http.post(
            url,
            json={
                "query": "mutation($u: UUID!, $a: UUID!) { generateUserAccessToken(userId: $u,"
                " accountId: $a, scopes: [MANAGE_PAYMENT, MAKE_DEPOSIT]) { accessToken } }",
                "variables": {"u": creds["user_id"], "a": creds["account_id"]},
            },
            headers={"Authorization": f"Basic {creds['api_key']}"},
        ).json()
        http.headers["Authorization"] = (
            "Bearer " + minted["data"]["generateUserAccessToken"]["accessToken"]
        )
        created = refused = 0
        for n in range(count):
            body = http.post(
                url,
                json={
                    "query": "mutation($i: CreateUserCashBalanceInput!) "
                    "{ createUserCashBalance(input: $i) { userCashBalanceId } }",
                    "variables": {"i": {"nickname": f"spend {n}"}},
                },
            ).json()
            if body.get("errors"):
                refused += 1
            else:
                created += 1
        before = rss_mb(process.pid)
        deposit = (
            "mutation($i: DepositCashBalanceInput!) { depositCashBalance(input: $i) "
            "{ balances { cashBalance { availableBalance } } } }"
        )
        for _ in range(count):
            body = http.post(
                url,
                json={
                    "query": deposit,
                    "variables": {
                        "i": {
                            "idempotencyKey": str(uuid.uuid4()),
                            "amount": 1,
                            "bankAccountId": seeds["bank_account_id"],
                        }
                    },
                },
            ).json()
            assert "errors" not in body, body
        after = rss_mb(process.pid)
    print(f"   spend accounts created {created:,}, refused {refused:,}")
    print(
        f"   server RSS {before:.0f} MB -> {after:.0f} MB after {count:,} deposits: "
        f"{(after - before) * 1024 / count:.1f} KB per stored deposit"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "sections", nargs="*", default=["padded", "introspection", "sockets", "deposits"]
    )
    parser.add_argument("--wait", type=float, default=20.0, help="seconds to watch sockets")
    parser.add_argument("--accounts", type=int, default=2000)
    args = parser.parse_args()
    for section in args.sections:
        process, url, _ = start_cli()
        try:
            if section == "padded":
                padded(process, url)
            elif section == "introspection":
                introspection(process, url)
            elif section == "sockets":
                sockets(process, url, args.wait)
            elif section == "deposits":
                deposits(process, url, args.accounts)
        finally:
            stop_cli(process)
        if section == "sockets":
            low_fd_limit(args.wait)


if __name__ == "__main__":
    main()
