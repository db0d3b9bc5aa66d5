"""One worker process of the fleet proofs: ``python -m tests.fleet._worker '<json>'``.

Modes:
* ``calls``: print ``ready``, wait for a line on stdin (the parent's go), make ``calls``
  calls (paced over ``seconds``) with a RedisTokenStore, print one JSON line of outcomes.
* ``hang``: make one call whose token renewal takes the fleet lock and then never
  finishes (prints ``renewing`` once it holds the lock), to be killed mid-renewal.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from typing import Any

import redis.asyncio as aioredis

from fluz import AuthenticationError, FluzClient, FluzError, PermissionDeniedError
from fluz._auth import UserToken
from fluz.redis import RedisTokenStore


async def _calls(settings: dict[str, Any], fluz: FluzClient) -> dict[str, Any]:
    errors: Counter[str] = Counter()
    auth_errors = 0
    ok = 0
    samples: list[str] = []
    calls, seconds = settings["calls"], settings["seconds"]
    # Every worker has imported and built its client: start together on the parent's go.
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    started = time.monotonic()

    async def lane(first: int) -> None:
        # A few calls in flight per worker (closed loop: a slow server slows the run
        # down instead of piling calls up), each call not before its slot in the run.
        nonlocal ok, auth_errors
        for index in range(first, calls, settings["concurrency"]):
            await asyncio.sleep(max(0.0, started + index * seconds / calls - time.monotonic()))
            try:
                await fluz.get_wallet()
                ok += 1
            except FluzError as exc:
                errors[f"{type(exc).__name__} {exc.code}"] += 1
                if len(samples) < 3:
                    samples.append(str(exc)[:300])
                auth_errors += isinstance(exc, AuthenticationError | PermissionDeniedError)

    await asyncio.gather(*(lane(k) for k in range(settings["concurrency"])))
    return {
        "ok": ok,
        "errors": dict(errors),
        "samples": samples,
        "auth_errors": auth_errors,
        "renewals": fluz.token_renewals,
        "seconds": time.monotonic() - started,
    }


async def _hang(fluz: FluzClient) -> dict[str, Any]:
    async def renew_forever(*args: Any) -> UserToken:
        print("renewing", flush=True)
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    fluz._token_source.renew = renew_forever  # type: ignore[method-assign]
    await fluz.get_wallet()
    return {}


async def main(settings: dict[str, Any]) -> None:
    redis = aioredis.Redis.from_url(settings["redis_url"])
    store = RedisTokenStore(redis, secret=settings["api_key"], lock_ttl=settings["lock_ttl"])
    async with FluzClient(
        api_key=settings["api_key"],
        user_id=settings["user_id"],
        account_id=settings["account_id"],
        url=settings["url"],
        token_store=store,
    ) as fluz:
        if settings["mode"] == "hang":
            result = await _hang(fluz)
        else:
            result = await _calls(settings, fluz)
    await redis.aclose()
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
