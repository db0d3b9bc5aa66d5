"""A token store shared by every worker of a fleet, on Redis.

One record per identity under an opaque key (``fluz:token:<hmac>``), sealed with
AES-256-GCM (see :mod:`fluz.redis._shared`), expiring with the token's own ``exp`` (or,
when it has a refresh token, with that token's ``exp``, else a grace period after it).
A renewal takes a fleet-wide lock (``fluz:renew:<hmac>``, ``SET NX PX``): one process
renews, the others poll for its token; a renewer that dies stops extending the lock,
which then lapses within its TTL, and the next process takes over.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import anyio

from .. import _constants as C
from .._auth import MemoryTokenStore, Renew, UserToken, token_claims
from .._config import Identity
from .._errors import FluzError, TransportError
from ._shared import REDIS_FAILURES, Lock, Sealer, as_bytes, key, require_asyncio

if TYPE_CHECKING:
    from redis.asyncio import Redis

logger = logging.getLogger("fluz")


class _Read:
    """One Redis read of a record in progress and, once done, its result."""

    __slots__ = ("done", "token")

    def __init__(self) -> None:
        self.done = anyio.Event()
        self.token: UserToken | None = None


def _unavailable(error: BaseException, what: str) -> None:
    # The class only: a Redis error's text can carry the URL (and its password).
    logger.warning(
        "fluz: Redis unavailable for the token store (%s): %s", type(error).__name__, what
    )


class RedisTokenStore:
    """User tokens shared by every process and host that uses the same Redis and secret.

    Args:
        redis: a ``redis.asyncio.Redis`` client (asyncio only; redis-py has no trio client).
        secret: shared by every worker, at least 16 bytes: usually the app's API key.
            Tokens are sealed with a key derived from it and user ids never appear in key
            names; a worker with another secret sees no records (and renews its own).
        lock_ttl: seconds a dead renewer can hold up the others (the live one extends it).
        poll_interval: how often a waiting process looks for the renewer's token.
        local_cache_size: identities whose fresh records each process also keeps in
            memory, so a call with a fresh token costs no Redis round trip.

    Raises:
        ConfigurationError: the secret is shorter than 16 bytes; used under trio.
    """

    def __init__(
        self,
        redis: Redis,
        *,
        secret: str | bytes,
        lock_ttl: float = C.REDIS_RENEWAL_LOCK_TTL,
        poll_interval: float = C.REDIS_RENEWAL_POLL_INTERVAL,
        local_cache_size: int = C.TOKEN_CACHE_MAX_IDENTITIES,
        prefix: str = C.REDIS_KEY_PREFIX,
    ) -> None:
        self._redis = redis
        self._sealer = Sealer(secret)
        self.lock_ttl = lock_ttl
        self.poll_interval = poll_interval
        self._prefix = prefix
        self._local = MemoryTokenStore(local_cache_size)
        self._reads: dict[Identity, _Read] = {}

    def __repr__(self) -> str:
        return f"RedisTokenStore(prefix={self._prefix!r}, lock_ttl={self.lock_ttl})"

    # ------------------------------------------------------------------ TokenStore

    async def get(self, identity: Identity) -> UserToken | None:
        local = await self._local.get(identity)
        if local is not None and local.is_fresh(time.monotonic()):
            return local
        # One Redis read per identity at a time: when a token falls due, every caller of
        # this process finds it stale at once; they share the read in flight.
        reading = self._reads.get(identity)
        if reading is not None:
            await reading.done.wait()
            return reading.token
        reading = self._reads[identity] = _Read()
        try:
            reading.token = await self._read(identity)
        finally:
            del self._reads[identity]
            reading.done.set()
        return reading.token

    async def put(self, identity: Identity, token: UserToken) -> None:
        require_asyncio("RedisTokenStore")
        await self._local.put(identity, token)
        name = self._key("token", identity)
        sealed = self._sealer.seal(_dump(token), name)
        try:
            await self._redis.set(name, sealed, px=_record_ttl_ms(token))
        except REDIS_FAILURES as exc:
            _unavailable(exc, "kept in this process only")

    async def forget(self, identity: Identity) -> None:
        require_asyncio("RedisTokenStore")
        await self._local.forget(identity)
        try:
            await self._redis.delete(self._key("token", identity))
        except REDIS_FAILURES as exc:
            _unavailable(exc, "forgotten in this process only")

    # ------------------------------------------------------------------ fleet renewal

    async def renew_shared(
        self, identity: Identity, renew: Renew, usable: Callable[[UserToken | None], bool]
    ) -> UserToken:
        """A usable token for *identity*: another process's, or one this process
        obtains with *renew* while it holds the identity's fleet-wide lock.

        Raises:
            FluzError: this process's renewal failed (a waiting process whose renewer
                failed or died takes the lock and tries itself).
        """
        require_asyncio("RedisTokenStore")
        lock = Lock(self._redis, self._key("renew", identity), self.lock_ttl)
        try:
            while True:
                current = await self._read(identity, strict=True)
                if usable(current):
                    assert current is not None
                    return current
                if await lock.acquire():
                    break
                await anyio.sleep(self.poll_interval)
        except REDIS_FAILURES as exc:
            # Without Redis, no fleet-wide lock: renew for this process alone (a token
            # more for the fleet, never a failed call).
            _unavailable(exc, "renewing in this process alone")
            current = await self._local.get(identity)
            return await self._renew_holding(None, identity, renew, current)
        try:
            current = await self._read(identity)  # renewed just before we took the lock?
            if usable(current):
                assert current is not None
                return current
            return await self._renew_holding(lock, identity, renew, current)
        finally:
            with anyio.CancelScope(shield=True):
                try:
                    await lock.release()
                except REDIS_FAILURES as exc:  # it lapses with its TTL
                    _unavailable(exc, "the renewal lock lapses with its TTL")

    async def _renew_holding(
        self, lock: Lock | None, identity: Identity, renew: Renew, current: UserToken | None
    ) -> UserToken:
        outcome: list[UserToken] = []
        failure: list[FluzError] = []
        async with anyio.create_task_group() as tg:
            if lock is not None:
                tg.start_soon(lock.keep)
            try:
                outcome.append(await renew(current))
            except FluzError as exc:
                failure.append(exc)
            finally:
                tg.cancel_scope.cancel()
        if failure:
            error = failure[0]
            if (
                current is not None
                and current.refresh_token
                and not isinstance(error, TransportError)
            ):
                # Refused or garbage, and the mint after it failed too: no process may
                # offer that refresh token again (we hold the lock, so nothing newer is lost).
                await self.put(identity, dataclasses.replace(current, refresh_token=None))
            raise error
        await self.put(identity, outcome[0])
        return outcome[0]

    # ------------------------------------------------------------------ records

    def _key(self, kind: str, identity: Identity) -> str:
        parts = (
            identity.user_id,
            identity.account_id,
            identity.seat_id or "",
            *sorted(identity.scope_set),
        )
        return key(kind, self._sealer.name(*parts), prefix=self._prefix)

    async def _read(self, identity: Identity, strict: bool = False) -> UserToken | None:
        """The record in Redis (kept in this process too). If Redis fails: this
        process's copy, or with *strict* the Redis error."""
        require_asyncio("RedisTokenStore")
        name = self._key("token", identity)
        try:
            sealed = as_bytes(await self._redis.get(name))
        except REDIS_FAILURES as exc:
            if strict:
                raise
            _unavailable(exc, "using this process's copy")
            return await self._local.get(identity)
        if sealed is None:
            return None
        plain = self._sealer.open(sealed, name)
        token = _load(plain) if plain is not None else None
        if token is not None:
            await self._local.put(identity, token)
        return token


# Records carry wall-clock times (processes' monotonic clocks differ); each reader turns
# them back into its own monotonic clock.


def _to_wall(mono: float | None, now_mono: float, now_wall: float) -> float | None:
    return None if mono is None else now_wall + (mono - now_mono)


def _dump(token: UserToken) -> bytes:
    now_mono, now_wall = time.monotonic(), time.time()
    return json.dumps(
        {
            "a": token.access_token,
            "r": token.refresh_token,
            "s": list(token.scopes),
            "ra": _to_wall(token.refresh_at, now_mono, now_wall),
            "em": _to_wall(token.expires_mono, now_mono, now_wall),
            "ob": _to_wall(token.obtained_at, now_mono, now_wall),
        }
    ).encode()


def _load(plain: bytes) -> UserToken | None:
    try:
        data: dict[str, Any] = json.loads(plain)
        now_mono, now_wall = time.monotonic(), time.time()

        def mono(wall: float | None) -> float | None:
            return None if wall is None else now_mono + (float(wall) - now_wall)

        claims = token_claims(data["a"]) or {}
        exp = claims.get("exp")
        return UserToken(
            access_token=str(data["a"]),
            refresh_token=data["r"],
            refresh_at=mono(data["ra"]),
            scopes=tuple(data["s"]),
            expires_at=datetime.fromtimestamp(exp, UTC) if isinstance(exp, int | float) else None,
            obtained_at=mono(data["ob"]) or now_mono,
            expires_mono=mono(data["em"]),
        )
    except (ValueError, KeyError, TypeError, OverflowError):
        return None  # unreadable: as if absent, the next caller renews


def _record_ttl_ms(token: UserToken) -> int:
    """How long Redis keeps the record: while its access token works, or while its
    refresh token may (its own ``exp``, else a grace period past the access token)."""
    now_mono = time.monotonic()
    access_left = None if token.expires_mono is None else token.expires_mono - now_mono
    if token.refresh_token:
        refresh_exp = (token_claims(token.refresh_token) or {}).get("exp")
        if isinstance(refresh_exp, int | float) and not isinstance(refresh_exp, bool):
            left = float(refresh_exp) - time.time()
        elif access_left is not None:
            left = access_left + C.REDIS_REFRESHABLE_RECORD_GRACE
        else:
            left = C.REDIS_OPAQUE_RECORD_TTL
    else:
        left = access_left if access_left is not None else C.REDIS_OPAQUE_RECORD_TTL
    return max(1, int(left * 1000))
