"""The reveal's deadline: the last poll is made at the deadline, a poll in flight when the
deadline passes is finished and counted (its details are not thrown away), and the
backoff settings are checked before anything is sent."""

from __future__ import annotations

import math
import uuid
from typing import Any

import anyio
import httpx
import pytest

from fluz import PollProgress, RevealTimeoutError, ValidationError

from .fakes import FakeFluz, gql

pytestmark = pytest.mark.anyio

CARD = uuid.UUID("7c57c381-4b19-49e4-bbb0-404a45166ee4")
NOT_READY = {"revealGiftCardByGiftCardId": {"code": None, "pin": None, "url": None}}
READY = {"revealGiftCardByGiftCardId": {"code": "9877890000000000", "pin": "2014", "url": None}}


def slow(data: dict[str, Any], seconds: float, answered: list[float]) -> Any:
    """A reply that takes *seconds* to come back; appends the time it was sent."""

    async def answer(request: httpx.Request) -> httpx.Response:
        await anyio.sleep(seconds)
        answered.append(anyio.current_time())
        return gql(data)

    return answer


async def test_details_from_a_poll_in_flight_at_the_deadline_are_returned() -> None:
    answered: list[float] = []
    fake = FakeFluz().on(
        "RevealGiftCardByGiftCardId", slow(NOT_READY, 0, answered), slow(READY, 0.6, answered)
    )
    async with fake.client() as fluz:
        await fluz.token_info()  # the token is ready: the first poll is quick
        details = await fluz.reveal_gift_card(CARD, initial_delay=0.02, timeout=0.4)
    assert details.code == "9877890000000000"
    assert details.attempts == 2
    assert details.elapsed >= 0.6


async def test_a_poll_in_flight_at_the_deadline_is_finished_and_counted() -> None:
    answered: list[float] = []
    seen: list[PollProgress] = []
    fake = FakeFluz().on(
        "RevealGiftCardByGiftCardId", slow(NOT_READY, 0, answered), slow(NOT_READY, 0.6, answered)
    )
    async with fake.client() as fluz:
        await fluz.token_info()  # the token is ready: the first poll is quick
        start = anyio.current_time()
        with pytest.raises(RevealTimeoutError) as caught:
            # Poll 1 at 0, poll 2 at 0.02 answered at 0.62, past the 0.4 s deadline.
            await fluz.reveal_gift_card(
                CARD, initial_delay=0.02, timeout=0.4, on_progress=seen.append
            )
    error = caught.value
    # Every poll sent was answered and counted: none was cut off by the deadline.
    assert error.attempts == len(answered) == len(fake.seen("RevealGiftCardByGiftCardId"))
    assert error.attempts == 2
    assert [p.attempt for p in seen] == [1, 2]
    assert seen[-1].next_delay is None
    assert seen[-1].elapsed == error.elapsed
    assert [p.done for p in seen] == [False, False]
    assert error.elapsed == pytest.approx(answered[-1] - start, abs=0.05)
    assert error.elapsed >= 0.6
    assert f"after {error.attempts} polls" in error.message
    assert "last poll failed" not in error.message
    assert error.code == "POLL_TIMEOUT"


async def test_the_last_poll_is_made_at_the_deadline_not_after_the_next_delay() -> None:
    answered: list[float] = []
    seen: list[PollProgress] = []
    timeout = 1.0  # long beside a warm first poll (milliseconds, even on a loaded machine)
    fake = FakeFluz().on("RevealGiftCardByGiftCardId", gql(READY), slow(NOT_READY, 0, answered))
    async with fake.client() as fluz:
        # A first reveal warms the token and the reveal's path (imports, models): a cold
        # first poll can outlast the deadline on a loaded machine, and then it is the last.
        await fluz.reveal_gift_card(CARD)
        start = anyio.current_time()
        with anyio.fail_after(10), pytest.raises(RevealTimeoutError) as caught:
            await fluz.reveal_gift_card(
                CARD, initial_delay=30, timeout=timeout, on_progress=seen.append
            )
    assert caught.value.attempts == 2
    next_delay = seen[0].next_delay
    assert next_delay is not None
    assert 0 < next_delay <= timeout  # shortened to the deadline
    assert answered[1] - start >= timeout


@pytest.mark.parametrize(
    ("settings", "message", "field", "rule"),
    [
        ({"initial_delay": -1}, "poll delays must be >= 0", None, "backoff"),
        ({"max_delay": -1}, "poll delays must be >= 0", None, "backoff"),
        ({"multiplier": 0.99}, "multiplier must be >= 1", None, "backoff"),
        ({"jitter": -0.01}, "jitter must be within [0, 1]", None, "backoff"),
        ({"jitter": 1.01}, "jitter must be within [0, 1]", None, "backoff"),
        ({"timeout": 0}, "timeout must be a number > 0, not 0", "timeout", "positive"),
        ({"timeout": math.nan}, "timeout must be a number > 0, not nan", "timeout", "positive"),
    ],
    ids=["initial", "max", "multiplier", "jitter-low", "jitter-high", "timeout", "timeout-nan"],
)
async def test_a_reveal_with_bad_poll_settings_is_refused_before_polling(
    settings: dict[str, float], message: str, field: str | None, rule: str
) -> None:
    fake = FakeFluz().on("RevealGiftCardByGiftCardId", gql(READY))
    async with fake.client() as fluz:
        with pytest.raises(ValidationError) as caught:
            await fluz.reveal_gift_card(CARD, **settings)
    assert caught.value.message == message
    assert (caught.value.field, caught.value.rule) == (field, rule)
    assert caught.value.code == "CLIENT_VALIDATION"
    assert fake.seen("RevealGiftCardByGiftCardId") == []


async def test_a_gift_card_id_that_is_not_a_uuid_is_refused_before_polling() -> None:
    fake = FakeFluz()
    async with fake.client() as fluz:
        with pytest.raises(ValidationError) as caught:
            await fluz.reveal_gift_card("card-1")
    assert (caught.value.field, caught.value.rule) == ("gift_card_id", "uuid")
    assert caught.value.code == "CLIENT_VALIDATION"
    assert fake.requests == []


async def test_poll_settings_at_their_bounds_are_accepted() -> None:
    fake = FakeFluz().on("RevealGiftCardByGiftCardId", gql(NOT_READY), gql(READY))
    async with fake.client() as fluz:
        details = await fluz.reveal_gift_card(
            CARD, initial_delay=0, max_delay=0, multiplier=1.0, jitter=1.0
        )
    assert details.attempts == 2


async def test_a_reveal_timing_out_on_a_failing_poll_says_which_failure() -> None:
    fake = FakeFluz().on("RevealGiftCardByGiftCardId", httpx.Response(503))
    async with fake.client(max_retries=0) as fluz:
        with pytest.raises(RevealTimeoutError) as caught:
            await fluz.reveal_gift_card(CARD, initial_delay=0.01, timeout=0.05)
    assert caught.value.message.endswith("; the last poll failed: ServerError")


async def test_a_bulk_order_wait_that_times_out_names_the_order() -> None:
    pending = gql(
        {
            "getVirtualCardBulkOrderStatus": {
                "orderId": "b3JkZXI=",
                "orderStatus": "PENDING",
                "totalCards": 2,
                "successfulCardCreations": 0,
                "failedCardCreations": 0,
                "virtualCards": [],
            }
        }
    )
    fake = FakeFluz().on("GetVirtualCardBulkOrderStatus", pending)
    async with fake.client() as fluz:
        with pytest.raises(RevealTimeoutError) as caught:
            await fluz.wait_for_virtual_card_bulk_order(
                "b3JkZXI=", initial_delay=0.01, timeout=0.05
            )
    assert caught.value.message.startswith("bulk virtual-card order b3JkZXI= not finished after")
