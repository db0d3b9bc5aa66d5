"""RedisTokenStore against a real redis-server: one token per identity for every client
(each client here stands for a process), sealed records, expiry from the token's exp,
one renewal at a time fleet-wide, and recovery when the renewer fails."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import pytest
import redis.asyncio as aioredis

from fluz import ConfigurationError, FluzClient
from fluz._auth import Renew, UserToken, make_user_token
from fluz._config import Identity, make_identity
from fluz.redis import RedisTokenStore
from fluz.sandbox import Faults, SandboxServer

from ._helpers import make_jwt

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    # redis-py's asyncio client runs on asyncio only (the trio case is tested below).
    return "asyncio"


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url)
    try:
        yield client
    finally:
        await client.aclose()


def client_for(sandbox: SandboxServer, store: RedisTokenStore, **options: Any) -> FluzClient:
    return FluzClient(
        api_key=sandbox.api_key,
        user_id=sandbox.user_id,
        account_id=sandbox.account_id,
        url=sandbox.url,
        token_store=store,
        retry_base_delay=0.01,
        retry_max_delay=0.02,
        **options,
    )


def store_for(redis: aioredis.Redis, sandbox: SandboxServer, **options: Any) -> RedisTokenStore:
    return RedisTokenStore(redis, secret=sandbox.api_key, **options)


async def test_clients_sharing_a_redis_store_mint_one_token_for_all(
    fluz_sandbox: SandboxServer, redis: aioredis.Redis
) -> None:
    # Five clients (five processes' worth of TokenManagers) x 10 concurrent calls each.
    clients = [client_for(fluz_sandbox, store_for(redis, fluz_sandbox)) for _ in range(5)]
    async with anyio.create_task_group() as tg:
        for client in clients:
            for _ in range(10):
                tg.start_soon(client.get_wallet)
    for client in clients:
        await client.aclose()
    counters = fluz_sandbox.counters()
    assert counters.tokens_minted == 1
    assert sum(client.token_renewals for client in clients) == 1


async def test_without_a_shared_store_each_client_mints_its_own(
    fluz_sandbox: SandboxServer,
) -> None:
    # The control for the test above: the default in-process store is per client.
    clients = [
        FluzClient(
            api_key=fluz_sandbox.api_key,
            user_id=fluz_sandbox.user_id,
            account_id=fluz_sandbox.account_id,
            url=fluz_sandbox.url,
        )
        for _ in range(3)
    ]
    for client in clients:
        await client.get_wallet()
        await client.aclose()
    assert fluz_sandbox.counters().tokens_minted == 3


async def test_records_in_redis_show_no_token_and_no_user(
    fluz_sandbox: SandboxServer, redis: aioredis.Redis
) -> None:
    async with client_for(fluz_sandbox, store_for(redis, fluz_sandbox)) as client:
        await client.get_wallet()
        identity = client._identity
        assert identity is not None
        token = await client._tokens.store.get(identity)
    assert token is not None
    assert token.refresh_token
    keys = [k async for k in redis.scan_iter("*")]
    assert len(keys) == 1
    raw = await redis.get(keys[0])
    dump = keys[0] + raw
    for secret in (token.access_token, token.refresh_token, fluz_sandbox.user_id):
        for part in (secret, secret.split(".")[1] if secret.count(".") == 2 else secret):
            assert part.encode() not in dump
    assert fluz_sandbox.account_id.encode() not in dump


async def test_a_store_with_another_secret_sees_no_record(
    fluz_sandbox: SandboxServer, redis: aioredis.Redis
) -> None:
    identity = make_identity(fluz_sandbox.user_id, fluz_sandbox.account_id, None, None)
    token = make_user_token(make_jwt(lifetime=600), "refresh", skew=30)
    await store_for(redis, fluz_sandbox).put(identity, token)
    other = RedisTokenStore(redis, secret="another-app-key-0123456789")
    assert await other.get(identity) is None
    again = await store_for(redis, fluz_sandbox).get(identity)
    assert again is not None
    assert again.access_token == token.access_token


async def test_a_record_moved_to_another_identitys_key_is_refused(
    fluz_sandbox: SandboxServer, redis: aioredis.Redis
) -> None:
    store = store_for(redis, fluz_sandbox)
    alice = make_identity(fluz_sandbox.user_id, fluz_sandbox.account_id, None, None)
    bob = make_identity(fluz_sandbox.account_id, fluz_sandbox.user_id, None, None)
    await store.put(alice, make_user_token(make_jwt(lifetime=600), None, skew=30))
    await redis.set(store._key("token", bob), await redis.get(store._key("token", alice)))
    assert await store_for(redis, fluz_sandbox).get(bob) is None


async def test_a_record_expires_with_its_tokens_exp(
    fluz_sandbox: SandboxServer, redis: aioredis.Redis
) -> None:
    store = store_for(redis, fluz_sandbox)
    identity = make_identity(fluz_sandbox.user_id, fluz_sandbox.account_id, None, None)
    await store.put(identity, make_user_token(make_jwt(lifetime=120), None, skew=30))
    ttl_ms = await redis.pttl(store._key("token", identity))
    assert 110_000 <= ttl_ms <= 120_000
    # With a refresh token whose own exp is later, the record lives until that exp.
    refresh = make_jwt(lifetime=3_600)
    await store.put(identity, make_user_token(make_jwt(lifetime=120), refresh, skew=30))
    ttl_ms = await redis.pttl(store._key("token", identity))
    assert 3_590_000 <= ttl_ms <= 3_600_000


async def test_a_token_renewed_by_another_process_is_seen_when_due(
    fluz_sandbox: SandboxServer, redis: aioredis.Redis
) -> None:
    fluz_sandbox.configure(token_ttl=2.0)
    async with (
        client_for(fluz_sandbox, store_for(redis, fluz_sandbox)) as first,
        client_for(fluz_sandbox, store_for(redis, fluz_sandbox)) as second,
    ):
        await first.get_wallet()
        await second.get_wallet()
        await anyio.sleep(1.6)  # past the renewal point (half of a 2-3 s lifetime)
        await first.get_wallet()  # renews (refresh) for both
        await second.get_wallet()  # reads first's token from Redis
    counters = fluz_sandbox.counters()
    assert counters.tokens_minted == 2
    assert counters.token_refreshes == 1
    assert (first.token_renewals, second.token_renewals) == (2, 0)


class _GatedStore(RedisTokenStore):
    """A store whose token request, made while it holds the fleet-wide renewal lock,
    sets *holding* and then waits for *gate*: the test decides when the renewer fails."""

    def __init__(
        self, redis: aioredis.Redis, *, holding: anyio.Event, gate: anyio.Event, **options: Any
    ) -> None:
        super().__init__(redis, **options)
        self._holding = holding
        self._gate = gate

    async def renew_shared(
        self, identity: Identity, renew: Renew, usable: Callable[[UserToken | None], bool]
    ) -> UserToken:
        async def gated(current: UserToken | None) -> UserToken:
            self._holding.set()
            await self._gate.wait()
            return await renew(current)

        return await super().renew_shared(identity, gated, usable)


class _LockWatchingRedis(aioredis.Redis):
    """A Redis client that sets *refused* when a ``SET NX`` (taking a lock) is refused."""

    refused: anyio.Event

    async def set(self, *args: Any, **kwargs: Any) -> Any:
        done = await super().set(*args, **kwargs)
        if kwargs.get("nx") and not done:
            self.refused.set()
        return done


async def test_a_waiting_process_takes_over_when_the_renewer_fails(
    fluz_sandbox: SandboxServer, redis: aioredis.Redis, redis_url: str
) -> None:
    # The first renewer's token request fails for good (no retries); the second client,
    # waiting on the lock, then renews itself instead of failing with it. Events, not a
    # stagger, order them: the renewer's request is held until the other was refused the lock.
    fluz_sandbox.configure(
        faults=Faults(unavailable_rate=1.0, operations={"generateUserAccessToken"}, limit=1)
    )
    holding, gate = anyio.Event(), anyio.Event()
    renewer = _GatedStore(redis, holding=holding, gate=gate, secret=fluz_sandbox.api_key)
    waiter_redis = _LockWatchingRedis.from_url(redis_url)
    waiter_redis.refused = anyio.Event()
    failing = client_for(fluz_sandbox, renewer, max_retries=0)
    waiting = client_for(fluz_sandbox, store_for(waiter_redis, fluz_sandbox), max_retries=0)
    outcomes: dict[str, object] = {}

    async def call(name: str, client: FluzClient) -> None:
        try:
            outcomes[name] = await client.get_wallet()
        except Exception as exc:
            outcomes[name] = exc

    with anyio.fail_after(60):  # a guard against a hang only, far beyond any load
        async with anyio.create_task_group() as tg:
            tg.start_soon(call, "failing", failing)
            await holding.wait()  # the failing client holds the lock
            tg.start_soon(call, "waiting", waiting)
            await waiter_redis.refused.wait()  # the waiting client was refused it: it waits
            gate.set()
    await failing.aclose()
    await waiting.aclose()
    await waiter_redis.aclose()
    assert isinstance(outcomes["failing"], Exception)
    assert not isinstance(outcomes["waiting"], Exception)
    assert fluz_sandbox.counters().tokens_minted == 1
    assert (failing.token_renewals, waiting.token_renewals) == (0, 1)


@pytest.mark.parametrize("anyio_backend", ["trio"])
async def test_under_trio_the_redis_store_says_it_needs_asyncio(
    fluz_sandbox: SandboxServer, redis_url: str
) -> None:
    store = RedisTokenStore(aioredis.Redis.from_url(redis_url), secret=fluz_sandbox.api_key)
    async with client_for(fluz_sandbox, store) as client:
        with pytest.raises(ConfigurationError, match="needs asyncio"):
            await client.get_wallet()


def test_a_short_secret_is_a_configuration_error(redis_url: str) -> None:
    with pytest.raises(ConfigurationError, match="at least 16 bytes"):
        RedisTokenStore(aioredis.Redis.from_url(redis_url), secret="short")


def test_the_stores_repr_shows_no_secret(redis_url: str) -> None:
    store = RedisTokenStore(aioredis.Redis.from_url(redis_url), secret="s3cret-app-key-0123456789")
    assert "s3cret" not in repr(store)
    assert "s3cret" not in repr(store._sealer)


async def test_concurrent_callers_of_one_process_share_one_redis_read(
    fluz_sandbox: SandboxServer, redis: aioredis.Redis
) -> None:
    async with client_for(fluz_sandbox, store_for(redis, fluz_sandbox)) as first:
        await first.get_wallet()  # the token is in Redis
    await redis.config_resetstat()
    async with (
        client_for(fluz_sandbox, store_for(redis, fluz_sandbox)) as second,
        anyio.create_task_group() as tg,
    ):
        for _ in range(200):
            tg.start_soon(second.get_wallet)
    stats = await redis.info("commandstats")
    assert stats["cmdstat_get"]["calls"] == 1
    assert fluz_sandbox.counters().tokens_minted == 1


async def test_with_redis_down_calls_still_succeed_renewing_in_process(
    fluz_sandbox: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    down = aioredis.Redis.from_url(f"redis://:hunter2@127.0.0.1:{port}/0")
    async with client_for(fluz_sandbox, store_for(down, fluz_sandbox)) as fluz:
        await fluz.get_wallet()
        await fluz.get_wallet()
    await down.aclose()
    assert fluz_sandbox.counters().tokens_minted == 1  # the process's own copy is reused
    warnings = [r.getMessage() for r in caplog.records if "Redis unavailable" in r.getMessage()]
    assert warnings
    assert "hunter2" not in caplog.text


async def test_a_renewal_slower_than_the_lock_ttl_keeps_its_lock(
    fluz_sandbox: SandboxServer, redis: aioredis.Redis
) -> None:
    # The renewer extends its lock while it works: a waiting process does not take the
    # lock over (and mint a second token) just because the renewal is slow.
    fluz_sandbox.configure(
        faults=Faults(latency=1.0, operations=frozenset({"generateUserAccessToken"}))
    )
    clients = [
        client_for(fluz_sandbox, store_for(redis, fluz_sandbox, lock_ttl=0.3)) for _ in range(3)
    ]
    async with anyio.create_task_group() as tg:
        for client in clients:
            tg.start_soon(client.get_wallet)
    for client in clients:
        await client.aclose()
    assert fluz_sandbox.counters().tokens_minted == 1
