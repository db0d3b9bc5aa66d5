"""Benchmark (``make bench``): per-call overhead of FluzClient, loopback throughput,
``import fluz`` time, and memory of pending reveals. Every figure is printed with its
ratio to raw httpx measured in the same run.

Per call, on one in-process ``httpx.MockTransport`` answering with canned bodies (captured
from the sandbox, so they are real responses; no network and no server work is measured),
for three workloads: the 20-item ``getGiftCards`` page, a ``purchaseGiftCard`` and a
20-merchant ``getMerchants`` page with offers, rates and stock info:

* raw httpx   - ``AsyncClient.post(json=<the same request body>)`` + ``response.json()``:
                the least any client must do (build and send the request, parse the JSON).
* raw+models  - raw httpx, but the body validated straight from its bytes into the generated
                models (``Envelope.model_validate_json``): the floor of any typed client.
* generated   - the bare ariadne-codegen client: its variable serialisation + the above.
* FluzClient  - the generated method through FluzClient on its own pool (the default;
                ``transport=`` puts the same MockTransport under it): auth header from
                the cached token, idempotency key, client-side validation, error/payload
                checks, retry bookkeeping, response metadata on every item. Its pool
                skips the cookie jar for responses that set no cookie (raw httpx pays
                for it on every response).
* your pool   - the same, on a plain ``httpx.AsyncClient`` passed as ``http_client=``.
* gql         - the gql library's async client, when installed ("n/a" otherwise).

Each figure is printed as a ratio to raw httpx and to raw+models (what typed results cost
at least: the rest is the client's own overhead).

Short batches of calls rotate through the columns, so that load from other processes
falls on all of them alike; a run's figure is the median over its batches, in
microseconds of CPU time per call (the calls never wait on I/O). Several runs print the
best and the median ratio.

Throughput: the sandbox as its own process (``python -m fluz.sandbox``), FluzClient and
raw httpx (default limits) calling getWallet with 1 and with 50 calls in flight, in
interleaved rounds: best and median calls/s, and how much of a core the sandbox process
and this one used (the side near 1.00 is the bottleneck).

Import times are medians of fresh interpreters, timed inside the interpreter around the
import statement, with a warm bytecode cache (in a temporary PYTHONPYCACHEPREFIX, so
nothing is written to the source tree) as for an installed package.

Pending reveals: soak scenario 7 with 10,000 pollers (peak RSS growth, KiB per poller).

Run: ``python -m tests.bench`` (``--quick`` for a short smoke run, ``--no-reveals`` to skip
the minute-long reveal figure).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import anyio
import httpx
from fluz_graphql import Client as GeneratedClient
from fluz_graphql.get_gift_cards import GetGiftCards
from fluz_graphql.get_merchants import GetMerchants
from fluz_graphql.input_types import OffsetInput, PurchaseGiftCardInput
from fluz_graphql.purchase_gift_card import PurchaseGiftCard
from pydantic import BaseModel, create_model

from fluz import FluzClient
from fluz.sandbox import SandboxServer

from .bench_sandbox import start_cli, stop_cli

URL = "http://127.0.0.1:9/api/v1/graphql"
PAGE = OffsetInput(limit=20, offset=0)
THROUGHPUT_ROUNDS = 5
Call = Callable[[], Awaitable[None]]


class Workload:
    """One operation: how each column calls it, and the canned response it gets."""

    def __init__(
        self,
        name: str,
        operation: str,
        model: type[BaseModel],
        call: Callable[[Any], Awaitable[Any]] | None,
        items: Callable[[Any], int],
    ) -> None:
        self.name, self.operation, self.model = name, operation, model
        self.call: Callable[[Any], Awaitable[Any]] = call or _unset
        self.items = items
        self.input: Any = None
        self.request: dict[str, Any] = {}
        self.response = b""


async def _unset(client: Any) -> Any:
    raise NotImplementedError


def workloads() -> list[Workload]:
    buy = Workload("purchaseGiftCard", "PurchaseGiftCard", PurchaseGiftCard, None, lambda r: 1)
    buy.call = lambda c: c.purchase_gift_card(input=buy.input)
    page = Workload(
        "20-item getGiftCards page",
        "GetGiftCards",
        GetGiftCards,
        lambda c: c.get_gift_cards(paginate=PAGE),
        len,
    )
    merchants = Workload(
        "20 merchants with offers, rates, stock info",
        "GetMerchants",
        GetMerchants,
        lambda c: c.get_merchants(paginate=PAGE),
        len,
    )
    return [page, buy, merchants]


async def capture(sandbox: SandboxServer, work: list[Workload]) -> str:
    """Fill each workload's request and response from the sandbox; the Authorization."""
    seen: dict[str, Any] = {}

    async def on_request(request: httpx.Request) -> None:
        seen["request"] = json.loads(request.content)
        seen["auth"] = request.headers["authorization"]

    async def on_response(response: httpx.Response) -> None:
        seen["response"] = await response.aread()

    hooks: dict[str, list[Callable[..., Any]]] = {
        "request": [on_request],
        "response": [on_response],
    }
    async with httpx.AsyncClient(event_hooks=hooks) as http, client_for(sandbox, http) as fluz:
        # Amazon sells any amount in a range: 25 purchases never run out of stock.
        slug = "amazon"
        work[1].input = PurchaseGiftCardInput(merchant_slug=slug, amount=Decimal("25"))
        for _ in range(25):  # enough gift cards for a full page
            await work[1].call(fluz)
        for w in work:
            result = await w.call(fluz)
            assert w.items(result) == (20 if w is not work[1] else 1), w.name
            w.request, w.response = seen["request"], seen["response"]
    return str(seen["auth"])


def client_for(sandbox: SandboxServer, http: httpx.AsyncClient | None = None) -> FluzClient:
    return FluzClient(
        api_key=sandbox.api_key,
        user_id=sandbox.user_id,
        account_id=sandbox.account_id,
        seat_id=sandbox.seat_id,
        url=sandbox.url,
        http_client=http,
    )


def transport(work: list[Workload], token: bytes) -> httpx.MockTransport:
    headers = {"content-type": "application/json"}
    bodies = {w.operation.encode(): w.response for w in work}

    def handler(request: httpx.Request) -> httpx.Response:
        name = json.loads(request.content).get("operationName", "").encode()
        return httpx.Response(200, content=bodies.get(name, token), headers=headers)

    return httpx.MockTransport(handler)


def token_body() -> bytes:
    import base64

    def b64(d: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()

    now = int(time.time())
    jwt = f"{b64({'alg': 'HS256'})}.{b64({'iat': now, 'exp': now + 3600})}.sig"
    field: dict[str, Any] = {"token": jwt, "accessToken": jwt, "refreshToken": None, "scopes": []}
    return json.dumps({"data": {"generateUserAccessToken": field}}).encode()


def gql_column(work: Workload, mock: httpx.MockTransport) -> Call | None:
    """The gql library's client for *work*, if gql is installed."""
    try:
        from gql import Client, gql  # type: ignore[import-not-found]
        from gql.transport.httpx import HTTPXAsyncTransport  # type: ignore[import-not-found]
    except ImportError:
        return None
    document = gql(work.request["query"])
    client = Client(transport=HTTPXAsyncTransport(URL, transport=mock))
    session: Any = None

    async def call() -> None:
        nonlocal session
        if session is None:
            session = await client.connect_async()
        await session.execute(document, variable_values=work.request["variables"])

    return call


async def per_call(work: list[Workload], auth: str, rounds: int, batch: int, runs: int) -> None:
    token = token_body()
    for w in work:
        mock = transport(work, token)
        fluz = bench_client(transport=mock)
        fluz_on_yours = bench_client(http_client=httpx.AsyncClient(transport=mock))
        # The generated client's HttpClient protocol is narrower than httpx's signature.
        generated_http: Any = httpx.AsyncClient(transport=mock)
        generated = GeneratedClient(url=URL, http_client=generated_http)
        raw = httpx.AsyncClient(transport=mock)
        expected = await w.call(generated)
        for client in (fluz, fluz_on_yours):  # the same result, or the figures mean nothing
            assert await w.call(client) == expected, w.name
        columns = columns_for(w, auth, raw, generated, fluz, fluz_on_yours, mock)
        ratios: dict[str, list[float]] = {name: [] for name in columns}
        floors: dict[str, list[float]] = {name: [] for name in columns}
        micros: dict[str, list[float]] = {name: [] for name in columns}
        for _ in range(runs):
            result = await measure({k: v for k, v in columns.items() if v}, rounds, batch)
            for name, value in result.items():
                micros[name].append(value)
                ratios[name].append(value / result["raw httpx"])
                floors[name].append(value / result["raw+models"])
        print(f"per call, {w.name} (CPU time; best / median of {runs} runs):")
        for name in columns:
            if not ratios[name]:
                print(f"  {name:<11}      n/a (not installed)")
                continue
            print(
                f"  {name:<11} {min(micros[name]):7.1f} us/call   "
                f"{min(ratios[name]):5.2f}x / {statistics.median(ratios[name]):5.2f}x raw httpx"
                f"   {min(floors[name]):5.2f}x / {statistics.median(floors[name]):5.2f}x raw+models"
            )
        await fluz.aclose()
        await fluz_on_yours.aclose()
        await generated_http.aclose()
        await raw.aclose()


def bench_client(**pool: Any) -> FluzClient:
    return FluzClient(
        api_key="bench-api-key",
        user_id="6f1c8a52-8d7e-4a4b-9a55-3e0e4c1b2a10",
        account_id="0b9d2b4e-63a7-4d8e-8f0a-2c6f3c7e5d21",
        url=URL,
        **pool,
    )


def columns_for(
    w: Workload,
    auth: str,
    raw: httpx.AsyncClient,
    generated: GeneratedClient,
    fluz: FluzClient,
    fluz_on_yours: FluzClient,
    mock: httpx.MockTransport,
) -> dict[str, Call | None]:
    body, headers = w.request, {"Authorization": auth}
    envelope: Any = create_model(f"{w.operation}Envelope", data=(w.model, ...))

    async def raw_call() -> None:
        response = await raw.post(URL, json=body, headers=headers)
        assert response.json()["data"]

    async def raw_models_call() -> None:
        response = await raw.post(URL, json=body, headers=headers)
        assert envelope.model_validate_json(response.content).data

    async def generated_call() -> None:
        await w.call(generated)

    async def fluz_call() -> None:
        await w.call(fluz)

    async def fluz_on_yours_call() -> None:
        await w.call(fluz_on_yours)

    return {
        "raw httpx": raw_call,
        "raw+models": raw_models_call,
        "generated": generated_call,
        "FluzClient": fluz_call,
        "your pool": fluz_on_yours_call,
        "gql": gql_column(w, mock),
    }


async def measure(columns: dict[str, Call | None], rounds: int, batch: int) -> dict[str, float]:
    """Median CPU microseconds per call of each column, batches rotating through them."""
    calls = {name: call for name, call in columns.items() if call is not None}
    samples: dict[str, list[float]] = {name: [] for name in calls}
    order = list(calls.items())
    for call in calls.values():  # warm-up
        for _ in range(20):
            await call()
    for _ in range(rounds):
        order = order[1:] + order[:1]  # no column always runs first
        for name, call in order:
            start = time.process_time()
            for _ in range(batch):
                await call()
            samples[name].append((time.process_time() - start) / batch * 1e6)
    return {name: statistics.median(values) for name, values in samples.items()}


async def throughput(
    url: str, api_key: str, identity: dict[str, str], calls: int, server_pid: int
) -> None:
    """Calls per second against the sandbox process, 1 and 50 in flight, with the CPU
    share (of one core) the sandbox process and this one used meanwhile: a side at 1.00
    is the bottleneck."""
    async with FluzClient(
        api_key=api_key, url=url, user_id=identity["user_id"], account_id=identity["account_id"]
    ) as fluz:
        await fluz.get_wallet()
        seen: dict[str, Any] = {}

        async def grab(request: httpx.Request) -> None:
            seen["body"], seen["auth"] = request.content, request.headers["authorization"]

        probe = fluz.with_options()
        probe._http = httpx.AsyncClient(event_hooks={"request": [grab]})
        await probe.get_wallet()
        await probe._http.aclose()
        async with httpx.AsyncClient() as raw:
            headers = {"Authorization": seen["auth"], "Content-Type": "application/json"}

            async def raw_call() -> None:
                response = await raw.post(url, content=seen["body"], headers=headers)
                assert "errors" not in response.json()

            async def fluz_call() -> None:
                await fluz.get_wallet()

            columns = {"raw httpx": raw_call, "FluzClient": fluz_call}
            runs: dict[tuple[str, int], list[tuple[float, float, float]]] = {}
            for _ in range(THROUGHPUT_ROUNDS):  # rounds interleaved: load falls on all alike
                for name, call in columns.items():
                    for in_flight in (1, 50):
                        runs.setdefault((name, in_flight), []).append(
                            await measured_rate(call, calls, in_flight, server_pid)
                        )
            print(
                f"throughput over loopback, getWallet, sandbox process ({THROUGHPUT_ROUNDS} "
                f"rounds x {calls} calls; best / median calls/s, median CPU share of the "
                "sandbox process / this one):"
            )
            for name in columns:
                cells = []
                for in_flight in (1, 50):
                    rounds = runs[(name, in_flight)]
                    rates = [r for r, _, _ in rounds]
                    cells.append(
                        f"{in_flight:2} in flight {max(rates):4.0f} / "
                        f"{statistics.median(rates):4.0f}/s (CPU "
                        f"{statistics.median(c for _, c, _ in rounds):.2f} / "
                        f"{statistics.median(c for _, _, c in rounds):.2f})"
                    )
                ratios = [
                    fifty[0] / one[0]
                    for one, fifty in zip(runs[(name, 1)], runs[(name, 50)], strict=True)
                ]
                print(
                    f"  {name:<11} " + "   ".join(cells) + f"   50/1 per round: "
                    f"median {statistics.median(ratios):.2f}x, best {max(ratios):.2f}x"
                )


async def measured_rate(
    call: Call, calls: int, in_flight: int, server_pid: int
) -> tuple[float, float, float]:
    """(calls/s, CPU share of the server process, CPU share of this process)."""
    server, client, wall = _process_cpu(server_pid), time.process_time(), time.perf_counter()
    calls_per_second = await rate(call, calls, in_flight)
    wall = time.perf_counter() - wall
    return (
        calls_per_second,
        (_process_cpu(server_pid) - server) / wall,
        (time.process_time() - client) / wall,
    )


def _process_cpu(pid: int) -> float:
    """CPU seconds (user + system) process *pid* has used (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def rate(call: Call, calls: int, in_flight: int) -> float:
    remaining = calls

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await call()

    started = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for _ in range(in_flight):
            tg.start_soon(worker)
    return calls / (time.perf_counter() - started)


def import_times(statements: list[str], runs: int) -> list[float]:
    """Median milliseconds each statement takes in a fresh interpreter (runs interleaved)."""
    with tempfile.TemporaryDirectory() as cache:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = cache
        probes = [
            f"import time; t = time.perf_counter(); {s}; print(time.perf_counter() - t)"
            for s in statements
        ]
        times: list[list[float]] = [[] for _ in statements]
        for attempt in range(runs + 1):
            for probe, samples in zip(probes, times, strict=True):
                out = subprocess.run(
                    [sys.executable, "-c", probe], env=env, check=True, capture_output=True
                )
                if attempt:  # the first run fills the bytecode cache
                    samples.append(float(out.stdout) * 1000)
    return [statistics.median(samples) for samples in times]


def pending_reveals(pollers: int) -> None:
    from .soak._canaries import SecretWatch
    from .soak._harness import CANARY_PREFIX
    from .soak._scale import scale

    with SandboxServer() as sandbox:
        watch = SecretWatch(CANARY_PREFIX)
        result = anyio.run(lambda: scale(sandbox, watch, pollers=pollers))
    print(f"pending reveals (soak scenario 7, {pollers:,} pollers, results kept):")
    print(f"  peak RSS growth {result.figures['peak RSS growth']}")
    print(f"  checks {'passed' if result.passed else 'FAILED: ' + result.explain()}")


def main() -> None:
    quick = "--quick" in sys.argv
    rounds, batch, runs, imports, calls = (10, 10, 2, 3, 300) if quick else (60, 20, 5, 21, 1500)
    # The same default seed as the sandbox process started below: the same credentials.
    with SandboxServer() as sandbox:
        work = workloads()
        auth = anyio.run(capture, sandbox, work)
        api_key = sandbox.api_key
        identity = {"user_id": sandbox.user_id, "account_id": sandbox.account_id}
    anyio.run(per_call, work, auth, rounds, batch, runs)

    process, url, _ = start_cli()
    try:
        anyio.run(throughput, url, api_key, identity, calls, process.pid)
    finally:
        stop_cli(process)

    deps, models, whole = import_times(
        ["import httpx, pydantic", "import fluz_graphql", "import fluz"], imports
    )
    print(f"import time (median of {imports} fresh interpreters, warm bytecode cache):")
    print(f"  import httpx, pydantic   {deps:7.1f} ms")
    print(f"  import fluz_graphql      {models:7.1f} ms   (generated models and client)")
    print(f"  import fluz              {whole:7.1f} ms   ({whole / deps:.2f}x httpx+pydantic)")
    if "--no-reveals" not in sys.argv:
        pending_reveals(300 if quick else 10_000)


if __name__ == "__main__":
    main()
