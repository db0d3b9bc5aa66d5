"""The webhook de-duplication store on Redis: a retried event is processed once fleet-wide.

One key per event, ``fluz:evt:<event id>``: a claim is ``SET NX PX <lease>`` holding
``p:<this store's owner id>``, completion overwrites it with ``done`` for the TTL, a release
deletes it only if this store still holds the claim (a claim whose lease lapsed may be
another replica's by then). Event ids are not secrets (they name a delivery, grant
nothing), so they are used as they are; the receiver has already checked their form.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from .. import _constants as C
from ..webhooks._dedup import ClaimResult
from ._shared import as_bytes, key, require_asyncio

if TYPE_CHECKING:
    from redis.asyncio import Redis

# Atomic claim: set if absent, else say what is there (a key that expired between the
# two steps cannot be misread: both run in one script).
_CLAIM = """
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 'claimed' end
return redis.call('get', KEYS[1])
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""
_DONE = b"done"


class RedisEventStore:
    """A :class:`fluz.webhooks.EventStore` every replica shares through one Redis.

    Args:
        redis: a ``redis.asyncio.Redis`` client (asyncio only).
        prefix: key prefix (default ``fluz``).

    Raises:
        ConfigurationError: used under trio.
    """

    def __init__(self, redis: Redis, *, prefix: str = C.REDIS_KEY_PREFIX) -> None:
        self._redis = redis
        self._prefix = prefix
        self._claim_value = f"p:{uuid.uuid4().hex}"

    def __repr__(self) -> str:
        return f"RedisEventStore(prefix={self._prefix!r})"

    def _key(self, event_id: str) -> str:
        return key("evt", event_id, prefix=self._prefix)

    async def claim(self, event_id: str, lease: float) -> ClaimResult:
        require_asyncio("RedisEventStore")
        found = as_bytes(
            await self._redis.eval(_CLAIM, 1, self._key(event_id), self._claim_value, _ms(lease))
        )
        if found == b"claimed":
            return ClaimResult.CLAIMED
        return ClaimResult.DONE if found == _DONE else ClaimResult.IN_PROGRESS

    async def complete(self, event_id: str, ttl: float) -> None:
        require_asyncio("RedisEventStore")
        await self._redis.set(self._key(event_id), _DONE, px=_ms(ttl))

    async def release(self, event_id: str) -> None:
        require_asyncio("RedisEventStore")
        await self._redis.eval(_RELEASE, 1, self._key(event_id), self._claim_value)


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))
