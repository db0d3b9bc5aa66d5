"""RedisEventStore against a real redis-server: a webhook event retried to another
replica is processed once fleet-wide; a failed or abandoned claim lets it be processed."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pytest
import redis.asyncio as aioredis

from fluz.redis import RedisEventStore
from fluz.webhooks import ClaimResult, WebhookEvent, WebhookReceiver

pytestmark = pytest.mark.anyio

SECRET = "whsec_fleet_test"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # redis-py's asyncio client runs on asyncio only


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url)
    try:
        yield client
    finally:
        await client.aclose()


def delivery(event_id: str) -> dict[str, Any]:
    body = json.dumps({"eventType": "TRANSACTION_CREATE", "recordId": "r-1"}).encode()
    signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {
        "content": body,
        "headers": {
            "Content-Type": "application/json",
            "X-HMAC-Signature": signature,
            "X-Event-ID": event_id,
        },
    }


async def test_two_replicas_claim_one_event_once(redis: aioredis.Redis) -> None:
    first, second = RedisEventStore(redis), RedisEventStore(redis)
    assert await first.claim("evt-1", lease=60) is ClaimResult.CLAIMED
    assert await second.claim("evt-1", lease=60) is ClaimResult.IN_PROGRESS
    await first.complete("evt-1", ttl=3600)
    assert await second.claim("evt-1", lease=60) is ClaimResult.DONE
    assert 3_590_000 <= await redis.pttl("fluz:evt:evt-1") <= 3_600_000


async def test_a_released_claim_lets_another_replica_process_the_retry(
    redis: aioredis.Redis,
) -> None:
    first, second = RedisEventStore(redis), RedisEventStore(redis)
    assert await first.claim("evt-2", lease=60) is ClaimResult.CLAIMED
    await first.release("evt-2")
    assert await second.claim("evt-2", lease=60) is ClaimResult.CLAIMED


async def test_an_abandoned_claim_expires_after_its_lease(redis: aioredis.Redis) -> None:
    first, second = RedisEventStore(redis), RedisEventStore(redis)
    assert await first.claim("evt-3", lease=0.2) is ClaimResult.CLAIMED
    await anyio.sleep(0.3)
    assert await second.claim("evt-3", lease=60) is ClaimResult.CLAIMED


async def test_a_replica_cannot_release_the_claim_another_replica_took_over(
    redis: aioredis.Redis,
) -> None:
    slow, other = RedisEventStore(redis), RedisEventStore(redis)
    assert await slow.claim("evt-4", lease=0.1) is ClaimResult.CLAIMED
    await anyio.sleep(0.2)  # the lease lapsed; the retry went to the other replica
    assert await other.claim("evt-4", lease=60) is ClaimResult.CLAIMED
    await slow.release("evt-4")  # the slow handler failed late
    assert await RedisEventStore(redis).claim("evt-4", lease=60) is ClaimResult.IN_PROGRESS


async def test_a_retried_delivery_to_another_replica_runs_the_handler_once(
    redis: aioredis.Redis,
) -> None:
    handled: list[WebhookEvent] = []

    async def handler(event: WebhookEvent) -> None:
        handled.append(event)

    replicas = [
        WebhookReceiver(handler, secret=SECRET, store=RedisEventStore(redis)) for _ in range(2)
    ]
    statuses = []
    for replica in (*replicas, replicas[0]):
        transport = httpx.ASGITransport(app=replica)
        async with httpx.AsyncClient(transport=transport) as http:
            response = await http.post("http://replica.test/hook", **delivery("evt-5"))
            statuses.append(response.status_code)
    assert statuses == [200, 200, 200]
    assert len(handled) == 1


@pytest.mark.parametrize("anyio_backend", ["trio"])
async def test_under_trio_the_event_store_says_it_needs_asyncio(redis_url: str) -> None:
    from fluz import ConfigurationError

    store = RedisEventStore(aioredis.Redis.from_url(redis_url))
    with pytest.raises(ConfigurationError, match="needs asyncio"):
        await store.claim("evt-6", lease=1)
