"""MerchantCatalog: the full catalog fetched at most once per TTL, in one process or for
a fleet through Redis (one worker fetches, the others read its copy)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest
import redis.asyncio as aioredis

from fluz import FluzClient, MerchantCatalog, ServerError
from fluz.redis import RedisCatalogStore
from fluz.sandbox import Faults, SandboxServer

pytestmark = pytest.mark.anyio


def client_for(sandbox: SandboxServer, **options: Any) -> FluzClient:
    return FluzClient(
        api_key=sandbox.api_key,
        user_id=sandbox.user_id,
        account_id=sandbox.account_id,
        url=sandbox.url,
        **options,
    )


def catalog_requests(sandbox: SandboxServer) -> int:
    return sandbox.counters().requests_by_operation["getMerchants"]


async def test_concurrent_readers_share_one_fetch_until_the_ttl_passes(
    fluz_sandbox: SandboxServer,
) -> None:
    async with client_for(fluz_sandbox) as fluz:
        catalog = MerchantCatalog(fluz, ttl=0.5)
        seen: list[int] = []

        async def read() -> None:
            seen.append(len(await catalog.merchants()))

        async with anyio.create_task_group() as tg:
            for _ in range(10):
                tg.start_soon(read)
        pages = catalog_requests(fluz_sandbox)
        assert catalog.fetches == 1
        assert len(set(seen)) == 1
        assert seen[0] > 20  # several pages: the whole catalog, not the first page
        assert pages == seen[0] // 20 + 1
        await catalog.merchants()
        assert catalog_requests(fluz_sandbox) == pages  # still fresh: no request
        await anyio.sleep(0.6)
        await catalog.merchants()
        assert catalog.fetches == 2


async def test_a_failed_fetch_caches_nothing_and_the_next_read_fetches_again(
    fluz_sandbox: SandboxServer,
) -> None:
    fluz_sandbox.configure(
        faults=Faults(unavailable_rate=1.0, limit=1, operations=frozenset({"getMerchants"}))
    )
    async with client_for(fluz_sandbox, max_retries=0) as fluz:
        catalog = MerchantCatalog(fluz)
        with pytest.raises(ServerError):
            await catalog.merchants()
        assert await catalog.merchants()
        assert catalog.fetches == 2


def test_a_ttl_that_is_not_positive_is_refused() -> None:
    with pytest.raises(ValueError, match="ttl"):
        MerchantCatalog(None, ttl=0)  # type: ignore[arg-type]


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # redis-py is asyncio-only
async def test_workers_sharing_a_redis_store_fetch_the_catalog_once_per_ttl(
    fluz_sandbox: SandboxServer, redis: aioredis.Redis
) -> None:
    clients = [client_for(fluz_sandbox) for _ in range(4)]
    catalogs = [MerchantCatalog(c, ttl=1.0, store=RedisCatalogStore(redis)) for c in clients]
    results: list[list[Any]] = []

    async def read(catalog: MerchantCatalog) -> None:
        results.append(await catalog.merchants())

    async with anyio.create_task_group() as tg:
        for catalog in catalogs:
            tg.start_soon(read, catalog)
    assert sum(c.fetches for c in catalogs) == 1
    # Every worker got the same catalog, equal to what the fetching worker read.
    assert all(result == results[0] for result in results)
    assert 0 < await redis.pttl("fluz:catalog") <= 1000
    await anyio.sleep(1.1)  # past the TTL: one worker refreshes it for all
    async with anyio.create_task_group() as tg:
        for catalog in catalogs:
            tg.start_soon(read, catalog)
    assert sum(c.fetches for c in catalogs) == 2
    for client in clients:
        await client.aclose()


@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # redis-py is asyncio-only
async def test_a_worker_reading_a_shared_copy_keeps_it_only_for_what_it_has_left(
    fluz_sandbox: SandboxServer, redis: aioredis.Redis
) -> None:
    async with client_for(fluz_sandbox) as first, client_for(fluz_sandbox) as late:
        await MerchantCatalog(first, ttl=1.0, store=RedisCatalogStore(redis)).merchants()
        await anyio.sleep(0.6)
        reader = MerchantCatalog(late, ttl=1.0, store=RedisCatalogStore(redis))
        await reader.merchants()  # the shared copy, about 0.4 s left
        assert reader.fetches == 0
        await anyio.sleep(0.5)
        await reader.merchants()  # lapsed here too: fetched again, not kept a full TTL
        assert reader.fetches == 1
