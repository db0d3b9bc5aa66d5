"""The merchant catalog, fetched at most once per TTL (Fluz asks for at most once a day).

:class:`MerchantCatalog` keeps the full, unfiltered catalog for ``ttl`` seconds (default
24 h). In one process it is kept in memory and fetched by one caller at a time (the
others wait for that fetch). With a shared store (``fluz.redis.RedisCatalogStore``) every
worker of a fleet reads the same copy, and one worker — the one holding the store's
lock — refreshes it when it is older than the TTL.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol

import anyio

from . import _constants as C

if TYPE_CHECKING:
    # Imported at first use (_adapter): the fragment models are a fifth of `import fluz`,
    # and nothing else needs pydantic's TypeAdapter module at import time.
    from fluz_graphql.fragments import MerchantWithOffers
    from pydantic import TypeAdapter

    from ._client import FluzClient


class CatalogStore(Protocol):
    """A catalog shared by a fleet: the serialized catalog, fetched by one worker."""

    async def get_or_fetch(
        self, fetch: Callable[[], Awaitable[bytes]], ttl: float
    ) -> tuple[bytes, float]:
        """The stored catalog and the seconds it has left, if any is stored; else the
        result of *fetch* (run by one worker for all, the others wait for it), stored for
        *ttl* seconds."""
        ...


class MerchantCatalog:
    """The full merchant catalog, fetched at most once per *ttl* seconds.

    Args:
        client: the client whose user fetches the catalog (``iter_merchants``).
        ttl: seconds a fetched catalog is used (default 24 h).
        store: a shared store for a fleet (``fluz.redis.RedisCatalogStore``); None keeps
            the catalog in this process only.

    Raises:
        ValueError: ttl is not positive.
    """

    def __init__(
        self,
        client: FluzClient,
        *,
        ttl: float = C.CATALOG_CACHE_TTL,
        store: CatalogStore | None = None,
    ) -> None:
        if not ttl > 0:
            raise ValueError("ttl must be > 0 seconds")
        self._client = client
        self.ttl = ttl
        self._store = store
        self._merchants: list[MerchantWithOffers] | None = None
        self._fetched_at = 0.0  # time.monotonic() of the copy held here
        self._lock = anyio.Lock()
        self.fetches = 0  # catalog fetches this process made (diagnostics and tests)

    def __repr__(self) -> str:
        return f"MerchantCatalog(ttl={self.ttl}, shared={self._store is not None})"

    async def merchants(self) -> list[MerchantWithOffers]:
        """Every merchant with its offers, from the cache while it is younger than the TTL.

        Raises:
            FluzError: the catalog had to be fetched and the fetch failed (nothing is
                cached then; the next call tries again).
        """
        if self._fresh():
            assert self._merchants is not None
            return self._merchants
        async with self._lock:  # one fetch (or shared-store read) per process at a time
            if not self._fresh():
                self._merchants, left = await self._load()
                # A shared copy may be older than this read: keep it for what it has left.
                self._fetched_at = time.monotonic() - (self.ttl - left)
            assert self._merchants is not None
            return self._merchants

    def invalidate(self) -> None:
        """Drop this process's copy: the next :meth:`merchants` reads or fetches again."""
        self._merchants = None

    def _fresh(self) -> bool:
        return self._merchants is not None and time.monotonic() - self._fetched_at < self.ttl

    async def _fetch(self) -> list[MerchantWithOffers]:
        self.fetches += 1
        return [merchant async for merchant in self._client.iter_merchants()]

    async def _load(self) -> tuple[list[MerchantWithOffers], float]:
        """The catalog and the seconds it has left."""
        if self._store is None:
            return await self._fetch(), self.ttl

        async def fetch_serialized() -> bytes:
            return _dump(await self._fetch())

        data, left = await self._store.get_or_fetch(fetch_serialized, self.ttl)
        return _load(data), min(left, self.ttl)


def _dump(merchants: list[MerchantWithOffers]) -> bytes:
    return _adapter().dump_json(merchants, by_alias=True)


def _load(data: bytes) -> list[MerchantWithOffers]:
    return _adapter().validate_json(data)


def _adapter() -> TypeAdapter[list[MerchantWithOffers]]:
    global _ADAPTER
    if _ADAPTER is None:
        from fluz_graphql.fragments import MerchantWithOffers
        from pydantic import TypeAdapter

        _ADAPTER = TypeAdapter(list[MerchantWithOffers])
    return _ADAPTER


_ADAPTER: TypeAdapter[list[MerchantWithOffers]] | None = None
