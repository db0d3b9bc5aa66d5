"""The fleet proofs, shared by the short tests and ``make soak``'s full run.

* :func:`workers_share_one_token`: W worker processes x N calls sharing one identity
  across token expiries -> one mint/refresh per token lifetime fleet-wide (sandbox
  counters), no auth error.
* :func:`renewer_killed_mid_renewal`: a process holding the renewal lock is killed; a
  process waiting for it gets a token once the lock lapses, within one lock TTL.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from fluz.sandbox import SandboxCounters

ROOT = Path(__file__).resolve().parents[2]


class SandboxServer(Protocol):
    """What the proofs use of a sandbox: in-process (pytest) or remote (make soak)."""

    @property
    def url(self) -> str: ...
    @property
    def api_key(self) -> str: ...
    @property
    def user_id(self) -> str: ...
    @property
    def account_id(self) -> str: ...
    def configure(self, **changes: Any) -> None: ...
    def counters(self) -> SandboxCounters: ...


def _settings(sandbox: SandboxServer, redis_url: str, **more: Any) -> dict[str, Any]:
    return {
        "url": sandbox.url,
        "api_key": sandbox.api_key,
        "user_id": sandbox.user_id,
        "account_id": sandbox.account_id,
        "redis_url": redis_url,
        **more,
    }


def _spawn(settings: dict[str, Any]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.fleet._worker", json.dumps(settings)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


@dataclass
class FleetRun:
    workers: int
    calls: int
    token_ttl: float
    wall: float = 0.0
    results: list[dict[str, Any]] = field(default_factory=list)
    tokens: int = 0
    refreshes: int = 0

    @property
    def ok(self) -> int:
        return sum(r["ok"] for r in self.results)

    @property
    def auth_errors(self) -> int:
        return sum(r["auth_errors"] for r in self.results)

    @property
    def errors(self) -> int:
        return sum(sum(r["errors"].values()) for r in self.results)

    @property
    def most_tokens(self) -> int:
        # The client renews at half so short a lifetime (which is 2..3 s: exp is rounded
        # up to a whole second): at most one token per half lifetime, plus the first.
        return 1 + math.ceil(self.wall / (self.token_ttl / 2))

    def summary(self) -> str:
        return (
            f"{self.workers} workers x {self.calls} calls in {self.wall:.1f} s with "
            f"{self.token_ttl:g} s tokens: {self.ok} ok, {self.errors} errors "
            f"({self.auth_errors} auth), {self.tokens} tokens fleet-wide "
            f"({self.tokens - self.refreshes} mint + {self.refreshes} refreshes; "
            f"at most {self.most_tokens} allowed, {self.workers} x that without sharing)"
        )


def workers_share_one_token(
    sandbox: SandboxServer,
    redis_url: str,
    *,
    workers: int = 8,
    calls: int = 40,
    seconds: float = 4.0,
    token_ttl: float = 2.0,
    concurrency: int = 4,
) -> FleetRun:
    sandbox.configure(token_ttl=token_ttl)
    before = sandbox.counters()
    settings = _settings(
        sandbox,
        redis_url,
        mode="calls",
        calls=calls,
        seconds=seconds,
        concurrency=concurrency,
        lock_ttl=5.0,
    )
    processes = [_spawn(settings) for _ in range(workers)]
    for process in processes:  # all imported and connected: then all go at once
        assert process.stdout is not None
        line = process.stdout.readline()
        if line.strip() != "ready":
            _, err = process.communicate(timeout=30)
            raise AssertionError(f"worker did not start: {line!r} {err[-2000:]}")
    for process in processes:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    run = FleetRun(workers, calls, token_ttl)
    for process in processes:
        out, err = process.communicate(timeout=300)
        if process.returncode != 0:
            raise AssertionError(f"worker failed ({process.returncode}): {err[-2000:]}")
        run.results.append(json.loads(out.strip().splitlines()[-1]))
    run.wall = max(r["seconds"] for r in run.results)
    after = sandbox.counters()
    run.tokens = after.tokens_minted - before.tokens_minted
    run.refreshes = after.token_refreshes - before.token_refreshes
    return run


@dataclass
class KillRun:
    lock_ttl: float
    lock_left: float = 0.0  # of the killed renewer's lock when the waiter started
    recovered_after: float = 0.0  # the waiter's call took this long
    tokens: int = 0

    def summary(self) -> str:
        return (
            f"held the lock ({self.lock_ttl:g} s TTL, {self.lock_left:.2f} s "
            f"left): the waiting process got its token after {self.recovered_after:.2f} s, "
            f"{self.tokens} token minted"
        )


async def renewer_killed_mid_renewal(
    sandbox: SandboxServer, redis_url: str, *, lock_ttl: float = 1.5
) -> KillRun:
    """Asyncio only (redis-py)."""
    import anyio
    import redis.asyncio as aioredis

    from fluz import FluzClient
    from fluz.redis import RedisTokenStore

    run = KillRun(lock_ttl)
    # No shared token to begin with: a fresh one left on this Redis by an earlier run (make
    # soak runs the 8-worker proof just before) would let the renewer skip its renewal.
    redis = aioredis.Redis.from_url(redis_url)
    try:
        stale = [k async for k in redis.scan_iter("fluz:*")]
        if stale:
            await redis.delete(*stale)
    finally:
        await redis.aclose()
    before = sandbox.counters()
    hang = _spawn(_settings(sandbox, redis_url, mode="hang", lock_ttl=lock_ttl))
    try:
        assert hang.stdin is not None
        hang.stdin.close()
        assert hang.stdout is not None
        line = await anyio.to_thread.run_sync(hang.stdout.readline)
        if line.strip() != "renewing":
            raise AssertionError(f"the renewer did not start: {line!r} {hang.stderr}")
        # Mid-renewal: it holds the fleet lock (and extends it) when it dies.
        await anyio.sleep(lock_ttl / 2)
        hang.kill()
        hang.wait()
    finally:
        if hang.poll() is None:
            hang.kill()
            hang.wait()
        for stream in (hang.stdout, hang.stderr):
            if stream is not None:
                stream.close()
    redis = aioredis.Redis.from_url(redis_url)
    try:
        locks = [k async for k in redis.scan_iter("fluz:renew:*")]
        if len(locks) != 1:
            raise AssertionError(f"expected the dead renewer's lock, found {locks}")
        store = RedisTokenStore(redis, secret=sandbox.api_key, lock_ttl=lock_ttl)
        async with FluzClient(
            api_key=sandbox.api_key,
            user_id=sandbox.user_id,
            account_id=sandbox.account_id,
            url=sandbox.url,
            token_store=store,
        ) as fluz:
            run.lock_left = (await redis.pttl(locks[0])) / 1000
            started = time.monotonic()
            await fluz.get_wallet()
            run.recovered_after = time.monotonic() - started
    finally:
        await redis.aclose()
    run.tokens = sandbox.counters().tokens_minted - before.tokens_minted
    return run
