"""State shared by a fleet of workers on Redis (the ``redis`` extra: redis-py, cryptography).

* :class:`RedisTokenStore` — ``FluzClient(token_store=...)``: one user token per identity
  for every process and host, sealed with AES-256-GCM, renewed by one process at a time.
* :class:`RedisEventStore` — ``WebhookReceiver(store=...)``: a retried webhook event is
  processed once fleet-wide.
* :class:`RedisCatalogStore` — ``MerchantCatalog(store=...)``: the merchant catalog
  fetched once per TTL by one worker for all.

redis-py's client is asyncio-only, so these stores are too (under trio they raise
:class:`fluz.ConfigurationError`). ``import fluz`` does not import this package.
"""

from __future__ import annotations

from ._catalog import RedisCatalogStore
from ._events import RedisEventStore
from ._tokens import RedisTokenStore

__all__ = ["RedisCatalogStore", "RedisEventStore", "RedisTokenStore"]
