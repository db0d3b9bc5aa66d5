"""Two worker processes sharing one user token and one merchant catalog through Redis.

Each worker builds its own FluzClient with a RedisTokenStore (tokens sealed with a key
derived from the API key, renewed by one process at a time) and a MerchantCatalog with a
RedisCatalogStore (the catalog fetched once for both). The parent starts both and prints
how many tokens and catalog fetches each made: one of each in total, not one per worker.

    pip install 'fluz-client[redis]'
    REDIS_URL=redis://127.0.0.1:6379/0 python examples/fleet_workers.py

Configuration comes from FLUZ_* as in the other examples (`fluz sandbox` prints them).
redis-py's client is asyncio-only, so this example runs on asyncio.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

import redis.asyncio as aioredis

from fluz import FluzClient, MerchantCatalog
from fluz.redis import RedisCatalogStore, RedisTokenStore

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


async def worker(number: int) -> dict[str, int]:
    redis = aioredis.Redis.from_url(REDIS_URL)
    api_key = os.environ["FLUZ_API_KEY"]
    try:
        # The API key is the secret: whoever holds it could mint tokens anyway.
        async with FluzClient(token_store=RedisTokenStore(redis, secret=api_key)) as fluz:
            catalog = MerchantCatalog(fluz, store=RedisCatalogStore(redis))
            merchants = await catalog.merchants()
            for _ in range(5):
                await fluz.get_wallet()
            return {
                "worker": number,
                "merchants": len(merchants),
                "tokens": fluz.token_renewals,
                "catalog_fetches": catalog.fetches,
            }
    finally:
        await redis.aclose()


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        print(json.dumps(asyncio.run(worker(int(sys.argv[2])))))
        return
    workers = [
        subprocess.Popen(
            [sys.executable, __file__, "--worker", str(n)], stdout=subprocess.PIPE, text=True
        )
        for n in (1, 2)
    ]
    results = [json.loads(w.communicate()[0]) for w in workers]
    for result in results:
        print(
            f"worker {result['worker']}: {result['merchants']} merchants, "
            f"{result['tokens']} token(s) obtained, {result['catalog_fetches']} catalog fetch(es)"
        )
    print(
        f"fleet-wide: {sum(r['tokens'] for r in results)} token(s), "
        f"{sum(r['catalog_fetches'] for r in results)} catalog fetch(es)"
    )
    if any(w.returncode for w in workers):
        sys.exit(1)


if __name__ == "__main__":
    main()
