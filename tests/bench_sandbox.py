"""Figures for the sandbox (a script, not a test): throughput, start-up and reset times.

    .venv/bin/python tests/bench_sandbox.py [--requests 4000] [--concurrency 16]

Throughput: the sandbox runs as its own process (``python -m fluz.sandbox``, as ``make
sandbox`` starts it) and this process loads it over N keep-alive connections, so server and
load generator each get one of the machine's two cores. The load comes from a minimal
asyncio HTTP/1.1 client, because httpx's AsyncClient saturates its own core first (about
500 requests/s here); the httpx figure is printed too, as what an httpx-based client sees.
Each figure is the best of three rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

import anyio
import httpx

from fluz.sandbox import SandboxServer

MARCO = {"query": "{ marco }"}
PURCHASE = """
mutation($input: PurchaseGiftCardInput!) {
  purchaseGiftCard(input: $input) { purchaseId giftCard { giftCardId } }
}
"""
GENERATE = """
mutation($u: UUID!, $a: UUID!) {
  generateUserAccessToken(userId: $u, accountId: $a, scopes: [PURCHASE_GIFTCARD]) { accessToken }
}
"""
ROUNDS = 3


def start_cli(port: int = 0) -> tuple[subprocess.Popen[str], str, float]:
    """Start ``python -m fluz.sandbox``; return it, its URL and seconds until it answered."""
    started = time.perf_counter()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "fluz.sandbox", "--port", str(port), "--reveal-delay", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    url = ""
    for line in process.stdout:
        if line.startswith("Fluz sandbox serving "):
            url = line.split()[-1]
            break
    if not url:
        process.kill()
        raise RuntimeError("the sandbox CLI did not start")
    with httpx.Client() as http:
        while http.post(url, json=MARCO).status_code != 200:
            time.sleep(0.005)
    return process, url, time.perf_counter() - started


def stop_cli(process: subprocess.Popen[str]) -> None:
    process.terminate()
    process.wait(timeout=10)


async def drive(
    url: str,
    requests: int,
    concurrency: int,
    body: Callable[[], dict[str, Any]],
    headers: dict[str, str],
) -> tuple[float, list[float]]:
    """Send ``requests`` requests with ``concurrency`` workers; (requests/s, latencies)."""
    latencies: list[float] = []
    remaining = requests
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30, headers=headers) as http:
        await http.post(url, json=MARCO)  # connect once before timing

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                sent = time.perf_counter()
                response = await http.post(url, json=body())
                response.raise_for_status()
                if "errors" in response.json():
                    raise RuntimeError(response.text)
                latencies.append(time.perf_counter() - sent)

        started = time.perf_counter()
        async with anyio.create_task_group() as group:
            for _ in range(concurrency):
                group.start_soon(worker)
        elapsed = time.perf_counter() - started
    return requests / elapsed, latencies


async def drive_raw(
    url: str,
    requests: int,
    concurrency: int,
    body: Callable[[], dict[str, Any]],
    headers: dict[str, str],
) -> tuple[float, list[float]]:
    """Like ``drive``, with a minimal HTTP/1.1 client: requests/s of the server itself."""
    parsed = httpx.URL(url)
    extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    latencies: list[float] = []
    remaining = requests

    async def worker() -> None:
        nonlocal remaining
        reader, writer = await asyncio.open_connection(parsed.host, parsed.port)
        try:
            while remaining > 0:
                remaining -= 1
                payload = json.dumps(body()).encode()
                head = (
                    f"POST {parsed.raw_path.decode()} HTTP/1.1\r\nHost: {parsed.host}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
                    f"{extra}\r\n"
                )
                sent = time.perf_counter()
                writer.write(head.encode() + payload)
                status_and_headers = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":")[1])
                    for line in status_and_headers.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                answer = await reader.readexactly(length)
                latencies.append(time.perf_counter() - sent)
                if not status_and_headers.startswith(b"HTTP/1.1 200") or b'"errors"' in answer:
                    raise RuntimeError(answer.decode())
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return requests / (time.perf_counter() - started), latencies


def throughput(requests: int, concurrency: int) -> list[tuple[str, float, float, float]]:
    process, url, _ = start_cli()
    rows = []
    try:
        with SandboxServer() as twin:  # same default seed as the CLI: same credentials
            credentials, card = twin.credentials, twin.seed_data.bank_card_id
        with httpx.Client() as http:
            token = http.post(
                url,
                json={
                    "query": GENERATE,
                    "variables": {"u": credentials.user_id, "a": credentials.account_id},
                },
                headers={"Authorization": f"Basic {credentials.api_key}"},
            ).json()["data"]["generateUserAccessToken"]["accessToken"]

        def purchase() -> dict[str, Any]:
            fields = {
                "idempotencyKey": str(uuid.uuid4()),
                "merchantSlug": "amazon",
                "amount": 5,
                "bankCardId": card,
            }
            return {"query": PURCHASE, "variables": {"input": fields}}

        cases: list[tuple[str, Callable[[], dict[str, Any]], dict[str, str]]] = [
            ("marco", lambda: MARCO, {}),
            ("purchaseGiftCard", purchase, {"Authorization": f"Bearer {token}"}),
        ]
        drivers = [("", drive_raw, concurrency), (" (httpx, 8 workers)", drive, 8)]
        for name, body, headers in cases:
            for label, driver, workers in drivers:
                best: tuple[float, list[float]] = (0.0, [])
                for _ in range(ROUNDS):
                    result = anyio.run(driver, url, requests, workers, body, headers)
                    best = max(best, result, key=lambda r: r[0])
                rate, latencies = best
                quantiles = statistics.quantiles(latencies, n=100)
                rows.append((name + label, rate, quantiles[49] * 1000, quantiles[98] * 1000))
    finally:
        stop_cli(process)
    return rows


def startup() -> dict[str, float]:
    figures: dict[str, float] = {}
    cli = []
    for _ in range(ROUNDS):
        process, _, seconds = start_cli()
        stop_cli(process)
        cli.append(seconds)
    figures["CLI process start until it answers (median)"] = statistics.median(cli)

    cold = (
        "import time; started = time.perf_counter();"
        "from fluz.sandbox import SandboxServer; server = SandboxServer().start();"
        "print(time.perf_counter() - started); server.stop()"
    )
    firsts = [
        float(
            subprocess.run(
                [sys.executable, "-c", cold], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(ROUNDS)
    ]
    figures["in-process: import + first start in a fresh process (median)"] = statistics.median(
        firsts
    )
    warm, stops = [], []
    for _ in range(ROUNDS * 2):
        started = time.perf_counter()
        server = SandboxServer().start()
        warm.append(time.perf_counter() - started)
        started = time.perf_counter()
        server.stop()
        stops.append(time.perf_counter() - started)
    figures["in-process: start again, warm (median)"] = statistics.median(warm)
    figures["in-process: stop (median)"] = statistics.median(stops)

    with SandboxServer() as server:
        started = time.perf_counter()
        for _ in range(100):
            server.reset()
        figures["reset() between tests (mean of 100)"] = (time.perf_counter() - started) / 100
    return figures


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--requests", type=int, default=4000, help="per round (default 4000)")
    options.add_argument("--concurrency", type=int, default=16, help="connections (default 16)")
    args = options.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores")
    print(
        f"\nThroughput: sandbox CLI process <- this process over {args.concurrency} keep-alive "
        f"connections, {args.requests} requests per round, best of {ROUNDS}"
    )
    print(f"{'operation':<38} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    for name, rate, p50, p99 in throughput(args.requests, args.concurrency):
        print(f"{name:<38} {rate:>8.0f} {p50:>8.1f} {p99:>8.1f}")
    print("\nStart-up")
    for label, seconds in startup().items():
        print(f"{label:<62} {seconds * 1000:>8.1f} ms")


if __name__ == "__main__":
    main()
