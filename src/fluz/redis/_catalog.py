"""The merchant catalog shared by a fleet on Redis: one copy, refreshed by one worker.

The catalog is public data (no secret in it), so it is stored as JSON as it is:
``fluz:catalog`` holds it with the TTL as the key's expiry, and
``fluz:catalog:lock`` (``SET NX PX``, extended while held) makes one worker fetch it while
the others poll for its result; a worker that dies mid-fetch lets the lock lapse.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import anyio

from .. import _constants as C
from ._shared import Lock, as_bytes, key, require_asyncio

if TYPE_CHECKING:
    from redis.asyncio import Redis


class RedisCatalogStore:
    """A :class:`fluz.MerchantCatalog` store shared by every worker of a fleet.

    Args:
        redis: a ``redis.asyncio.Redis`` client (asyncio only).
        lock_ttl: seconds a dead fetching worker can hold up the others.
        poll_interval: how often a waiting worker looks for the fetched catalog.

    Raises:
        ConfigurationError: used under trio.
    """

    def __init__(
        self,
        redis: Redis,
        *,
        lock_ttl: float = C.REDIS_RENEWAL_LOCK_TTL,
        poll_interval: float = 0.2,
        prefix: str = C.REDIS_KEY_PREFIX,
    ) -> None:
        self._redis = redis
        self.lock_ttl = lock_ttl
        self.poll_interval = poll_interval
        self._key = key("catalog", prefix=prefix)
        self._lock_key = key("catalog", "lock", prefix=prefix)

    def __repr__(self) -> str:
        return f"RedisCatalogStore(key={self._key!r})"

    async def get_or_fetch(
        self, fetch: Callable[[], Awaitable[bytes]], ttl: float
    ) -> tuple[bytes, float]:
        require_asyncio("RedisCatalogStore")
        lock = Lock(self._redis, self._lock_key, self.lock_ttl)
        while True:
            cached = await self._cached()
            if cached is not None:
                return cached
            if await lock.acquire():
                break
            await anyio.sleep(self.poll_interval)
        try:
            cached = await self._cached()
            if cached is not None:
                return cached
            data = await self._fetch_holding(lock, fetch)
            await self._redis.set(self._key, data, px=max(1, int(ttl * 1000)))
            return data, ttl
        finally:
            with anyio.CancelScope(shield=True):
                await lock.release()

    async def _cached(self) -> tuple[bytes, float] | None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.get(self._key)
            pipe.pttl(self._key)
            data, left_ms = await pipe.execute()
        value = as_bytes(data)
        return None if value is None or left_ms <= 0 else (value, left_ms / 1000)

    async def _fetch_holding(self, lock: Lock, fetch: Callable[[], Awaitable[bytes]]) -> bytes:
        result: list[bytes] = []
        failure: list[Exception] = []
        async with anyio.create_task_group() as tg:
            tg.start_soon(lock.keep)
            try:
                result.append(await fetch())
            except Exception as exc:  # raised below, outside the task group (no group)
                failure.append(exc)
            finally:
                tg.cancel_scope.cancel()
        if failure:
            raise failure[0]
        return result[0]
