"""Scenario 8, a fleet on Redis: worker processes sharing one identity through a
RedisTokenStore across many token lifetimes, and a renewer killed mid-renewal.

The proofs themselves live in tests/fleet/_proof.py (the pytest short versions use them
too); here they run at full size against a redis-server started for the scenario.
"""

from __future__ import annotations

import asyncio
import functools

import anyio

from tests.fleet._proof import renewer_killed_mid_renewal, workers_share_one_token
from tests.fleet._redis_server import RedisServer

from ._canaries import SecretWatch
from ._harness import Result, SandboxHandle, Stopwatch


async def fleet_on_redis(
    sandbox: SandboxHandle,
    watch: SecretWatch,
    *,
    workers: int = 8,
    calls: int = 1000,
    seconds: float = 60.0,
    token_ttl: float = 8.0,
) -> Result:
    result = Result(
        "8. fleet on Redis", f"{workers} processes x {calls:,} calls, {token_ttl:g} s tokens"
    )
    with RedisServer() as redis, Stopwatch() as clock:
        run = await anyio.to_thread.run_sync(
            functools.partial(
                workers_share_one_token,
                sandbox,
                redis.url,
                workers=workers,
                calls=calls,
                seconds=seconds,
                token_ttl=token_ttl,
            )
        )
        sandbox.configure(token_ttl=600.0)
        killed = None
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass  # trio: redis-py's client is asyncio-only
        else:
            killed = await renewer_killed_mid_renewal(sandbox, redis.url, lock_ttl=3.0)
    result.seconds = clock.wall
    result.figures = {
        "calls ok": f"{run.ok:,} of {workers * calls:,}",
        "auth errors": run.auth_errors,
        "other errors": run.errors - run.auth_errors,
        "tokens fleet-wide": f"{run.tokens} = {run.tokens - run.refreshes} mint + "
        f"{run.refreshes} refreshes over {run.wall:.0f} s (at most {run.most_tokens})",
        "renewer killed": killed.summary() if killed else "asyncio only: not run",
    }
    result.check("no auth error reached a caller", run.auth_errors == 0)
    result.check("every call succeeded", run.ok == workers * calls)
    result.check("one mint fleet-wide, then refreshes only", run.tokens - run.refreshes == 1)
    result.check("at most one token per renewal point fleet-wide", run.tokens <= run.most_tokens)
    result.check("the run crossed token expiries", run.tokens >= 2)
    if killed is not None:
        result.check(
            "the waiter took over within one lock TTL",
            killed.recovered_after <= killed.lock_ttl + 1.0,
        )
        result.check(
            "the dead renewer's lock was respected",
            killed.recovered_after >= killed.lock_left - 0.1,
        )
        result.check("one token minted after the kill", killed.tokens == 1)
    return result
