"""InMemoryEventStore: claim / complete / release with TTLs, bounded size."""

from __future__ import annotations

import pytest

from fluz.webhooks import ClaimResult, EventStore, InMemoryEventStore

pytestmark = pytest.mark.anyio


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_new_event_is_claimed_and_a_second_claim_sees_it_in_progress() -> None:
    store = InMemoryEventStore()
    assert isinstance(store, EventStore)
    assert await store.claim("e1", 60) is ClaimResult.CLAIMED
    assert await store.claim("e1", 60) is ClaimResult.IN_PROGRESS
    assert await store.claim("e2", 60) is ClaimResult.CLAIMED


async def test_a_completed_event_is_done_until_its_ttl_passes() -> None:
    clock = FakeClock()
    store = InMemoryEventStore(clock=clock)
    await store.claim("e1", 60)
    await store.complete("e1", 3600)
    clock.now += 3599
    assert await store.claim("e1", 60) is ClaimResult.DONE
    clock.now += 2
    assert await store.claim("e1", 60) is ClaimResult.CLAIMED


async def test_a_released_claim_lets_the_redelivery_be_processed() -> None:
    store = InMemoryEventStore()
    await store.claim("e1", 60)
    await store.release("e1")
    assert await store.claim("e1", 60) is ClaimResult.CLAIMED


async def test_an_abandoned_claim_expires_after_its_lease() -> None:
    clock = FakeClock()
    store = InMemoryEventStore(clock=clock)
    await store.claim("e1", 60)
    clock.now += 61
    assert await store.claim("e1", 60) is ClaimResult.CLAIMED


async def test_the_store_never_holds_more_than_its_cap_and_evicts_the_oldest() -> None:
    clock = FakeClock()
    store = InMemoryEventStore(max_events=100, clock=clock)
    for n in range(1000):
        await store.claim(f"e{n}", 60)
        await store.complete(f"e{n}", 3600)
        clock.now += 0.001
        assert len(store) <= 100
    assert await store.claim("e999", 60) is ClaimResult.DONE
    assert await store.claim("e0", 60) is ClaimResult.CLAIMED  # evicted: forgotten early


async def test_expired_entries_are_dropped_as_new_ones_arrive() -> None:
    clock = FakeClock()
    store = InMemoryEventStore(clock=clock)
    for n in range(50):
        await store.claim(f"old{n}", 60)
        await store.complete(f"old{n}", 10)
    clock.now += 11
    await store.claim("new", 60)
    assert len(store) == 1


def test_a_cap_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="max_events"):
        InMemoryEventStore(0)
