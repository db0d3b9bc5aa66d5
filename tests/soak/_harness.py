"""What every scenario shares: results, the sandbox handle, clients and measurements."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol, TypeVar

import anyio
import httpx

from fluz import FluzClient
from fluz.sandbox import AccountBalances, Faults, SandboxCounters, SeedData

from ._canaries import SecretWatch

T = TypeVar("T")

# Every gift-card code, PIN and redemption URL the sandbox makes starts with this, so the
# secret watch recognises them wherever they turn up (see _canaries).
CANARY_PREFIX = "CANARY-"


@dataclass
class Result:
    """The outcome of one scenario: key figures (printed) and named checks (asserted)."""

    scenario: str
    size: str
    figures: dict[str, Any] = field(default_factory=dict)
    checks: dict[str, bool] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(self.checks.values())

    def check(self, name: str, ok: bool) -> None:
        self.checks[name] = self.checks.get(name, True) and bool(ok)

    def failures(self) -> list[str]:
        return [name for name, ok in self.checks.items() if not ok]

    def explain(self) -> str:
        figures = "; ".join(f"{k}: {v}" for k, v in self.figures.items())
        return f"{self.scenario} failed {self.failures()} ({figures})"


def summary_table(results: Sequence[Result]) -> str:
    """A Markdown table: scenario, size, key figures, pass/fail."""
    rows = ["| scenario | size | key figures | result |", "|---|---|---|---|"]
    for r in results:
        figures = "; ".join(f"{k} {v}" for k, v in r.figures.items())
        verdict = "pass" if r.passed else "FAIL: " + ", ".join(r.failures())
        rows.append(f"| {r.scenario} | {r.size} | {figures} | {verdict} ({r.seconds:.0f} s) |")
    return "\n".join(rows)


class SandboxHandle(Protocol):
    """The controls the scenarios use: ``fluz.sandbox.SandboxServer`` in-process, or
    :class:`RemoteSandbox` for a sandbox in its own process."""

    @property
    def url(self) -> str: ...
    @property
    def api_key(self) -> str: ...
    @property
    def user_id(self) -> str: ...
    @property
    def account_id(self) -> str: ...
    @property
    def seat_id(self) -> str: ...
    @property
    def seed_data(self) -> SeedData: ...
    def reset(self, seed: int | None = None) -> None: ...
    def configure(self, **changes: Any) -> None: ...
    def set_faults(self, faults: Faults | None = None, **fields: Any) -> None: ...
    def clear_faults(self) -> None: ...
    def counters(self) -> SandboxCounters: ...
    def balances(self, account_id: str | None = None) -> AccountBalances: ...
    def add_gift_cards(
        self, reveal_delays: Sequence[float], merchant_slug: str = "starbucks"
    ) -> dict[str, float]: ...


class RemoteSandbox:
    """``python -m fluz.sandbox`` in a child process, driven through its admin endpoint.

    The full soak runs the sandbox out of process so that client and server each get one
    of the machine's two cores (in one process they would share one interpreter lock).
    """

    def __init__(self, seed: int = 0) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        command = [sys.executable, "-m", "fluz.sandbox", "--port", "0", "--seed", str(seed)]
        self._process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
        assert self._process.stdout is not None
        base = ""
        for line in self._process.stdout:
            if line.startswith("Fluz sandbox serving "):
                base = line.split()[-1].split("/api/")[0]
                break
        if not base:
            self.stop()
            raise RuntimeError("the sandbox process did not start")
        self._admin = httpx.Client(base_url=base + "/_sandbox", timeout=60)
        self._describe = self._request("GET", "")
        self.url = base + "/api/v1/graphql"

    def _request(self, method: str, path: str, body: Any = None) -> Any:
        response = self._admin.request(method, path, json=body)
        response.raise_for_status()
        return response.json()

    def stop(self) -> None:
        if getattr(self, "_admin", None) is not None:
            self._admin.close()
        self._process.terminate()
        self._process.wait(10)

    def __enter__(self) -> RemoteSandbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def _credentials(self) -> dict[str, str]:
        credentials: dict[str, str] = self._describe["credentials"]
        return credentials

    @property
    def api_key(self) -> str:
        return self._credentials["api_key"]

    @property
    def user_id(self) -> str:
        return self._credentials["user_id"]

    @property
    def account_id(self) -> str:
        return self._credentials["account_id"]

    @property
    def seat_id(self) -> str:
        return self._credentials["seat_id"]

    @property
    def seed_data(self) -> SeedData:
        return SeedData(**self._describe["seedData"])

    def reset(self, seed: int | None = None) -> None:
        self._describe = self._request("POST", "/reset", {} if seed is None else {"seed": seed})

    def configure(self, **changes: Any) -> None:
        if isinstance(changes.get("faults"), Faults):
            changes["faults"] = changes["faults"].to_json()
        self._request("PATCH", "/options", changes)

    def set_faults(self, faults: Faults | None = None, **fields: Any) -> None:
        chosen = faults if faults is not None else Faults(**fields)
        if faults is not None and fields:
            chosen = dataclasses.replace(faults, **fields)
        self._request("PUT", "/faults", chosen.to_json())

    def clear_faults(self) -> None:
        self._request("DELETE", "/faults")

    def counters(self) -> SandboxCounters:
        return SandboxCounters(**self._request("GET", "/counters"))

    def balances(self, account_id: str | None = None) -> AccountBalances:
        query = f"?accountId={account_id}" if account_id else ""
        data = self._request("GET", "/balances" + query)
        return AccountBalances(
            account_id=data["account_id"],
            rewards=Decimal(data["rewards"]),
            gift_card=Decimal(data["gift_card"]),
            cash={k: Decimal(v) for k, v in data["cash"].items()},
        )

    def add_gift_cards(
        self, reveal_delays: Sequence[float], merchant_slug: str = "starbucks"
    ) -> dict[str, float]:
        body = {"revealDelays": list(reveal_delays), "merchantSlug": merchant_slug}
        ready: dict[str, float] = self._request("POST", "/gift-cards", body)["readyAt"]
        return ready


def make_client(sandbox: SandboxHandle, watch: SecretWatch, **options: Any) -> FluzClient:
    """A FluzClient for the sandbox user, its token responses fed to *watch*."""
    client = FluzClient(
        api_key=sandbox.api_key,
        user_id=sandbox.user_id,
        account_id=sandbox.account_id,
        seat_id=sandbox.seat_id,
        url=sandbox.url,
        **options,
    )
    watch.instrument(client)
    return client


async def run_all(
    items: Iterable[T], work: Callable[[T], Awaitable[None]], *, concurrency: int
) -> None:
    """Run ``work(item)`` for every item, at most *concurrency* at a time."""
    iterator = iter(items)

    async def worker() -> None:
        for item in iterator:  # shared: each item goes to exactly one worker
            await work(item)

    async with anyio.create_task_group() as tg:
        for _ in range(concurrency):
            tg.start_soon(worker)


# --------------------------------------------------------------------------- measurements


def rss_bytes() -> int:
    """Resident set size of this process now (Linux /proc)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def open_sockets() -> int:
    """Open socket file descriptors of this process (Linux /proc)."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                count += 1
        except OSError:  # closed meanwhile
            pass
    return count


def pool_state(client: FluzClient) -> dict[str, int]:
    """Connections of the client's httpx pool by state, and requests waiting in it.

    Reads httpx/httpcore internals (``_transport._pool``): instrumentation only."""
    pool = client._http._transport._pool  # type: ignore[attr-defined]
    states = {"idle": 0, "active": 0, "closed": 0, "waiting_requests": len(pool._requests)}
    for connection in pool.connections:
        if connection.is_closed():
            states["closed"] += 1
        elif connection.is_idle():
            states["idle"] += 1
        else:
            states["active"] += 1
    return states


class Stopwatch:
    """Wall and CPU seconds of a block (process CPU, and this thread's alone)."""

    def __enter__(self) -> Stopwatch:
        self._wall, self._cpu, self._thread = (
            time.perf_counter(),
            time.process_time(),
            time.thread_time(),
        )
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.wall = time.perf_counter() - self._wall
        self.cpu = time.process_time() - self._cpu
        self.thread_cpu = time.thread_time() - self._thread
