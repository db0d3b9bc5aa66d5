"""What the Redis stores share: the asyncio check, key derivation, sealing, a lock.

Secrecy (decided here, see the README's "Across a fleet"): every value fluz writes to Redis
is sealed with AES-256-GCM (``cryptography``), and every key naming a user is an
HMAC-SHA256 of its identity, both with keys derived (HKDF-SHA256) from a secret the
workers share — by default the app's API key. Why the API key: whoever holds it can mint
any user's token anyway, so it is exactly the trust boundary; another Redis user (or a
dump of the database) sees neither tokens nor which users the app acts for. The key
name is the GCM associated data, so a record cannot be moved to another identity's key.
AES-GCM from ``cryptography`` rather than anything home-made: a well-kept library is
the only acceptable source of an AEAD.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import uuid
from typing import TYPE_CHECKING, Any

import anyio
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from redis.exceptions import RedisError

from .. import _constants as C
from .._errors import ConfigurationError

if TYPE_CHECKING:
    from redis.asyncio import Redis

_NONCE_BYTES = 12
# What a Redis call raises when Redis is down, slow or refuses (redis-py wraps socket errors).
REDIS_FAILURES = (RedisError, OSError)


def require_asyncio(what: str) -> None:
    """redis-py's client runs on asyncio only.

    Raises:
        ConfigurationError: called under another event loop (trio).
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        raise ConfigurationError(
            f"{what} needs asyncio: redis-py's client runs on asyncio only (not trio)"
        ) from None


class Sealer:
    """AES-256-GCM sealing and HMAC key naming, with keys derived from *secret*."""

    __slots__ = ("_aead", "_name_key")

    def __init__(self, secret: str | bytes) -> None:
        raw = secret.encode() if isinstance(secret, str) else bytes(secret)
        if len(raw) < 16:
            raise ConfigurationError("the Redis store's secret must be at least 16 bytes")
        okm = HKDF(algorithm=hashes.SHA256(), length=64, salt=None, info=b"fluz.redis v1").derive(
            raw
        )
        self._aead = AESGCM(okm[:32])
        self._name_key = okm[32:]

    def __repr__(self) -> str:
        return "Sealer(<secret>)"

    def name(self, *parts: str) -> str:
        """An opaque name for *parts* (hex HMAC-SHA256, 128 bits)."""
        digest = hmac.new(self._name_key, "\x1f".join(parts).encode(), hashlib.sha256)
        return digest.hexdigest()[:32]

    def seal(self, plaintext: bytes, key: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, key.encode())

    def open(self, sealed: bytes, key: str) -> bytes | None:
        """The plaintext, or None when *sealed* was not sealed for *key* with this secret
        (another secret, a tampered or moved value): treated as no record at all."""
        try:
            return self._aead.decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], key.encode())
        except (InvalidTag, ValueError):
            return None


_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""
_EXTEND = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
"""


class Lock:
    """A lock with a TTL on one Redis key (``SET NX PX``), released and extended only by
    its owner (a check-and-act script), so a holder that outlived its TTL cannot free
    the lock of the process that took it over."""

    def __init__(self, redis: Redis, key: str, ttl: float) -> None:
        self._redis = redis
        self.key = key
        self.ttl_ms = max(1, int(ttl * 1000))
        self._owner = uuid.uuid4().hex

    async def acquire(self) -> bool:
        return bool(await self._redis.set(self.key, self._owner, nx=True, px=self.ttl_ms))

    async def release(self) -> None:
        await self._redis.eval(_RELEASE, 1, self.key, self._owner)

    async def keep(self) -> None:
        """Extend the lock every third of its TTL until cancelled: the lock outlives a
        slow renewal but not a dead process."""
        while True:
            await anyio.sleep(self.ttl_ms / 3000)
            try:
                await self._redis.eval(_EXTEND, 1, self.key, self._owner, self.ttl_ms)
            except REDIS_FAILURES:
                return  # the lock lapses with its TTL; the renewal goes on


def key(*parts: str, prefix: str = C.REDIS_KEY_PREFIX) -> str:
    return ":".join((prefix, *parts))


def as_bytes(value: Any) -> bytes | None:
    if value is None:
        return None
    return value if isinstance(value, bytes) else str(value).encode()
