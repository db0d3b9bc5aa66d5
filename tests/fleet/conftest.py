"""Fixtures of the fleet tests: one real redis-server per session, flushed per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ._redis_server import RedisServer


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    # No skip: a Redis that cannot start fails every test that needs it, with the reason.
    with RedisServer() as server:
        yield server


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    import redis

    with redis.Redis.from_url(redis_server.url) as sync:
        sync.flushall()
    return redis_server.url
