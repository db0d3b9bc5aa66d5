"""De-duplication of at-least-once deliveries, keyed by ``X-Event-ID``.

Fluz retries a delivery it did not see acknowledged (up to 5 times), and replicas behind
a load balancer receive each other's retries, so "have we processed this event?" needs a
store every replica shares. The protocol is claim / complete / release with TTLs, which
maps onto one Redis key per event::

    claim(id, lease)     SET fluz:evt:<id> processing NX EX <lease>   (+ GET on failure)
    complete(id, ttl)    SET fluz:evt:<id> done EX <ttl>
    release(id)          DEL fluz:evt:<id>

A claim that is never completed nor released (the process died) expires after its lease,
so Fluz's next retry is processed: a crash loses no event. A handler that fails releases
its claim for the same reason.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from enum import Enum
from typing import Protocol, runtime_checkable

from .. import _constants as C


class ClaimResult(Enum):
    """What :meth:`EventStore.claim` found."""

    CLAIMED = "claimed"  # new (or expired) event: the caller processes it
    IN_PROGRESS = "in_progress"  # another delivery holds the claim right now
    DONE = "done"  # already processed: acknowledge without processing


@runtime_checkable
class EventStore(Protocol):
    """Where processed event ids are remembered. Implementations must make ``claim``
    atomic across every process that shares the store."""

    async def claim(self, event_id: str, lease: float) -> ClaimResult:
        """Claim *event_id* for *lease* seconds unless it is claimed or done."""
        ...

    async def complete(self, event_id: str, ttl: float) -> None:
        """Mark *event_id* processed, remembered for *ttl* seconds."""
        ...

    async def release(self, event_id: str) -> None:
        """Forget a claim (its processing failed), so a redelivery is processed."""
        ...


class InMemoryEventStore:
    """A bounded, per-process :class:`EventStore` (one replica, or tests).

    At most *max_events* ids are kept; past that the oldest entries are evicted first
    (expired ones before live ones), so memory stays bounded under any load at the cost of
    forgetting the oldest ids early. Not shared between processes: with several replicas
    use a shared store.

    Args:
        max_events: the size cap (>= 1).
        clock: seconds, monotonic (injectable for tests).
    """

    def __init__(
        self,
        max_events: int = C.WEBHOOK_DEDUP_MAX_EVENTS,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_events < 1:
            raise ValueError("max_events must be >= 1")
        self.max_events = max_events
        self._clock = clock
        # event id -> (done?, expires at); insertion order = age, for eviction
        self._entries: OrderedDict[str, tuple[bool, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"<InMemoryEventStore {len(self._entries)}/{self.max_events} events>"

    # No await inside these methods: each runs atomically on the event loop.

    async def claim(self, event_id: str, lease: float) -> ClaimResult:
        now = self._clock()
        entry = self._entries.get(event_id)
        if entry is not None and entry[1] > now:
            return ClaimResult.DONE if entry[0] else ClaimResult.IN_PROGRESS
        self._put(event_id, False, now + lease, now)
        return ClaimResult.CLAIMED

    async def complete(self, event_id: str, ttl: float) -> None:
        now = self._clock()
        self._put(event_id, True, now + ttl, now)

    async def release(self, event_id: str) -> None:
        self._entries.pop(event_id, None)

    def _put(self, event_id: str, done: bool, expires_at: float, now: float) -> None:
        self._entries.pop(event_id, None)
        self._entries[event_id] = (done, expires_at)
        # Entries are in insertion order, which is nearly expiry order (one TTL for done
        # ids): drop expired ones from the old end, then the oldest live ones while over
        # the cap. Amortised O(1) per call.
        entries = self._entries
        while entries:
            oldest = next(iter(entries.values()))
            if oldest[1] > now and len(entries) <= self.max_events:
                break
            entries.popitem(last=False)
