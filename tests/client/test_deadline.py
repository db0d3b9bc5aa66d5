"""The whole-call deadline's scope (fluz._deadline), on its own: calls in flight at once
on one event loop, each ended at its own deadline and no other."""

from __future__ import annotations

import anyio
import anyio.lowlevel
import pytest

from fluz._deadline import deadline_at, now

pytestmark = pytest.mark.anyio


async def test_concurrent_deadlines_each_end_their_own_block_and_no_other() -> None:
    outcomes: dict[str, str] = {}
    done = anyio.Event()

    async def block(name: str, seconds: float, until: anyio.Event | None) -> None:
        with deadline_at(now() + seconds):
            if until is None:
                await anyio.lowlevel.checkpoint()
            else:
                await until.wait()
            outcomes[name] = "finished"
            return
        outcomes[name] = "expired"

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(block, "latest", 0.6, anyio.Event())
            # An earlier deadline than the one armed, in a block that ends at once: the
            # deadlines after it still end their blocks.
            tasks.start_soon(block, "earliest, ends first", 0.2, None)
            tasks.start_soon(block, "second", 0.3, anyio.Event())
            tasks.start_soon(block, "ends before its deadline", 5, done)
            await anyio.sleep(0.05)
            done.set()
    assert outcomes == {
        "latest": "expired",
        "earliest, ends first": "finished",
        "second": "expired",
        "ends before its deadline": "finished",
    }


async def test_a_deadline_does_not_swallow_an_enclosing_scopes_cancellation() -> None:
    with anyio.fail_after(10):
        with anyio.CancelScope() as outer:
            with deadline_at(now() + 5):
                outer.cancel()
                await anyio.sleep(1)
            pytest.fail("the enclosing scope's cancellation was swallowed")
    assert outer.cancelled_caught
