"""The reveal poller: documented backoff, deadline, cancellation, progress, bulk orders."""

from __future__ import annotations

import json
import uuid
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest
from fluz_graphql.input_types import PurchaseGiftCardInput

from fluz import (
    FluzClient,
    GiftCardDetails,
    NotFoundError,
    PollProgress,
    RevealTimeoutError,
    ValidationError,
)
from fluz import _constants as C
from fluz._poll import Backoff

from .fakes import FakeFluz, gql, gql_error, purchase

pytestmark = pytest.mark.anyio

CARD = uuid.UUID("7c57c381-4b19-49e4-bbb0-404a45166ee4")
NOT_READY = gql({"revealGiftCardByGiftCardId": {"code": None, "pin": None, "url": None}})
READY = gql(
    {"revealGiftCardByGiftCardId": {"code": "9877890000000000", "pin": "2014", "url": None}}
)
FAST = {"initial_delay": 0.001, "max_delay": 0.004}


async def test_polls_until_details_arrive() -> None:
    fake = FakeFluz().on("RevealGiftCardByGiftCardId", NOT_READY, NOT_READY, NOT_READY, READY)
    async with fake.client() as fluz:
        details = await fluz.reveal_gift_card(CARD, **FAST)
    assert (details.code, details.pin, details.url) == ("9877890000000000", "2014", None)
    assert details.gift_card_id == CARD
    assert details.attempts == 4
    polls = fake.seen("RevealGiftCardByGiftCardId")
    assert len(polls) == 4
    assert {p.variables["giftCardId"] for p in polls} == {str(CARD)}


async def test_url_only_cards_count_as_revealed() -> None:
    url_only = gql(
        {
            "revealGiftCardByGiftCardId": {
                "code": None,
                "pin": None,
                "url": "https://cards.example/r/abc",
            }
        }
    )
    fake = FakeFluz().on("RevealGiftCardByGiftCardId", url_only)
    async with fake.client() as fluz:
        details = await fluz.reveal_gift_card(str(CARD))
    assert details.url == "https://cards.example/r/abc"
    assert details.attempts == 1


async def test_delays_follow_the_documented_schedule() -> None:
    fake = FakeFluz().on("RevealGiftCardByGiftCardId", *[NOT_READY] * 6, READY)
    seen: list[PollProgress] = []
    async with fake.client() as fluz:
        await fluz.reveal_gift_card(
            CARD, initial_delay=0.001, multiplier=2.0, max_delay=0.01, on_progress=seen.append
        )
    assert [p.next_delay for p in seen] == [0.001, 0.002, 0.004, 0.008, 0.01, 0.01, None]
    assert [p.attempt for p in seen] == list(range(1, 8))
    assert [p.done for p in seen] == [False] * 6 + [True]


async def test_the_progress_of_the_last_poll_carries_the_reveals_elapsed_time() -> None:
    fake = FakeFluz().on("RevealGiftCardByGiftCardId", NOT_READY, READY)
    seen: list[PollProgress] = []
    async with fake.client() as fluz:
        details = await fluz.reveal_gift_card(CARD, on_progress=seen.append, **FAST)
    first, last = seen
    assert last.done
    assert last.elapsed == details.elapsed  # the same clock reading, not a second one
    assert last.elapsed > first.elapsed  # a backoff passed between the two polls


def test_default_schedule_is_300ms_doubling_capped_at_180s() -> None:
    backoff = Backoff(initial_delay=0.3, multiplier=2.0, max_delay=180.0)
    delays = [backoff.delay(n) for n in range(1, 12)]
    assert delays[:4] == pytest.approx([0.3, 0.6, 1.2, 2.4])
    assert delays[-1] == 180.0
    assert max(delays) == 180.0
    assert backoff.delay(10_000) == 180.0  # no overflow on very long polls


def test_jitter_only_shortens_delays_within_its_band() -> None:
    backoff = Backoff(initial_delay=1.0, multiplier=2.0, max_delay=180.0, jitter=0.25)
    delays = [backoff.delay(3) for _ in range(200)]
    assert all(3.0 <= d <= 4.0 for d in delays)
    assert len(set(delays)) > 1


async def test_async_progress_callbacks_are_awaited() -> None:
    fake = FakeFluz().on("RevealGiftCardByGiftCardId", NOT_READY, READY)
    seen: list[int] = []

    async def report(progress: PollProgress) -> None:
        await anyio.lowlevel.checkpoint()
        seen.append(progress.attempt)

    async with fake.client() as fluz:
        await fluz.reveal_gift_card(CARD, on_progress=report, **FAST)
    assert seen == [1, 2]


async def test_deadline_raises_reveal_timeout_with_attempts_and_elapsed() -> None:
    fake = FakeFluz().on("RevealGiftCardByGiftCardId", NOT_READY)
    async with fake.client() as fluz:
        with pytest.raises(RevealTimeoutError) as caught:
            await fluz.reveal_gift_card(CARD, initial_delay=0.005, max_delay=0.02, timeout=0.2)
    error = caught.value
    # The first poll is immediate and the last one is made at the deadline.
    assert error.attempts == len(fake.seen("RevealGiftCardByGiftCardId")) >= 2
    assert error.elapsed >= 0.2  # the whole timeout passed before giving up
    assert str(CARD) in error.message
    assert error.operation == "RevealGiftCardByGiftCardId"


async def test_cancelling_stops_polling_at_once() -> None:
    fake = FakeFluz().on("RevealGiftCardByGiftCardId", NOT_READY)
    async with fake.client() as fluz:
        with anyio.move_on_after(0.03):
            await fluz.reveal_gift_card(CARD, initial_delay=0.005, max_delay=0.005)
        polls = len(fake.seen("RevealGiftCardByGiftCardId"))
        assert polls >= 1
        await anyio.sleep(0.03)
    assert len(fake.seen("RevealGiftCardByGiftCardId")) == polls


async def test_reveal_errors_propagate() -> None:
    fake = FakeFluz().on("RevealGiftCardByGiftCardId", gql_error("RC-0001", "no such card"))
    async with fake.client() as fluz:
        with pytest.raises(NotFoundError):
            await fluz.reveal_gift_card(CARD)
        with pytest.raises(ValidationError, match="gift_card_id"):
            await fluz.reveal_gift_card("not-a-uuid")
    assert len(fake.seen("RevealGiftCardByGiftCardId")) == 1


async def test_many_pending_reveals_are_just_sleeping_tasks() -> None:
    polls: dict[str, int] = {}

    def reveal(request: httpx.Request) -> httpx.Response:
        card = json.loads(request.content)["variables"]["giftCardId"]
        polls[card] = polls.get(card, 0) + 1
        return READY if polls[card] == 3 else NOT_READY

    fake = FakeFluz().on("RevealGiftCardByGiftCardId", reveal)
    cards = [uuid.uuid4() for _ in range(1000)]
    results: list[GiftCardDetails] = []

    async def one(card: uuid.UUID) -> None:
        results.append(await fluz.reveal_gift_card(card, initial_delay=0.01, max_delay=0.02))

    async with fake.client() as fluz, anyio.create_task_group() as tg:
        for card in cards:
            tg.start_soon(one, card)
    assert len(results) == 1000
    assert all(r.attempts == 3 and r.code for r in results)
    assert len(fake.issued) == 1


class PollsInProgress:
    """Wraps the generated poll method *name* of *fluz*: ``peak`` is the most calls of it
    that were in progress at once."""

    def __init__(self, fluz: FluzClient, name: str) -> None:
        self.in_progress = self.peak = 0
        poll = getattr(fluz, name)

        async def counted(**kwargs: Any) -> Any:
            self.in_progress += 1
            self.peak = max(self.peak, self.in_progress)
            try:
                return await poll(**kwargs)
            finally:
                self.in_progress -= 1

        setattr(fluz, name, counted)


async def test_pending_reveals_wait_for_a_turn_rather_than_as_calls_in_progress() -> None:
    # Polls beyond the client's turns wait in line (cheap) instead of as calls queued for
    # a connection (~14 KiB each); each still counts once, and every one is made.
    async def slow_ready(request: httpx.Request) -> httpx.Response:
        await anyio.sleep(0.01)
        return READY

    fake = FakeFluz().on("RevealGiftCardByGiftCardId", *[slow_ready] * 300)
    results: list[GiftCardDetails] = []
    async with fake.client() as fluz:
        polls = PollsInProgress(fluz, "reveal_gift_card_by_gift_card_id")

        async def one() -> None:
            results.append(await fluz.reveal_gift_card(uuid.uuid4()))

        async with anyio.create_task_group() as tg:
            for _ in range(300):
                tg.start_soon(one)
    assert polls.peak == C.DEFAULT_MAX_IN_FLIGHT * C.POLL_TURNS_PER_SLOT < 300
    assert len(results) == 300
    assert all(r.attempts == 1 and r.code for r in results)
    assert len(fake.seen("RevealGiftCardByGiftCardId")) == 300


async def test_reveals_cancelled_while_waiting_for_a_turn_give_every_turn_back() -> None:
    release = anyio.Event()

    async def held(request: httpx.Request) -> httpx.Response:
        await release.wait()
        return READY

    slots = C.DEFAULT_MAX_IN_FLIGHT
    turns = slots * C.POLL_TURNS_PER_SLOT
    fake = FakeFluz().on("RevealGiftCardByGiftCardId", *[held] * slots, READY)
    async with fake.client() as fluz:
        await fluz.token_info()
        with anyio.move_on_after(0.3):
            async with anyio.create_task_group() as tg:
                # All slots busy, the other turns' polls waiting for one, 50 for a turn.
                for _ in range(turns + 50):
                    tg.start_soon(fluz.reveal_gift_card, uuid.uuid4())
        assert len(fake.seen("RevealGiftCardByGiftCardId")) == slots
        # Every turn came back: as many polls as before can be in progress again.
        assert fluz._slots.poll_turns().value == turns
        details = await fluz.reveal_gift_card(CARD)
    assert details.attempts == 1


def test_details_repr_masks_the_secrets() -> None:
    details = GiftCardDetails(
        CARD, "9877890000000000", "2014", "https://x.example/r/s3cret", 2, 0.9
    )
    text = repr(details)
    assert "9877890000000000" not in text
    assert "2014" not in text
    assert "s3cret" not in text
    assert str(CARD) in text
    assert "attempts=2" in text


async def test_purchase_and_reveal() -> None:
    bought = purchase()
    fake = FakeFluz()
    fake.on("PurchaseGiftCard", gql({"purchaseGiftCard": bought}))
    fake.on("RevealGiftCardByGiftCardId", NOT_READY, READY)
    async with fake.client() as fluz:
        result = await fluz.purchase_and_reveal(
            PurchaseGiftCardInput(merchantSlug="shop", amount=25), **FAST
        )
    assert str(result.purchase.purchase_id) == bought["purchaseId"]
    assert result.details.code == "9877890000000000"
    assert (
        fake.seen("RevealGiftCardByGiftCardId")[0].variables["giftCardId"]
        == (bought["giftCard"]["giftCardId"])
    )


async def test_purchase_and_reveal_failure_carries_the_purchase() -> None:
    fake = FakeFluz()
    fake.on("PurchaseGiftCard", gql({"purchaseGiftCard": purchase()}))
    fake.on("RevealGiftCardByGiftCardId", NOT_READY)
    async with fake.client() as fluz:
        with pytest.raises(RevealTimeoutError) as caught:
            await fluz.purchase_and_reveal(
                PurchaseGiftCardInput(merchantSlug="shop", amount=25), timeout=0.02, **FAST
            )
    assert caught.value.purchase is not None
    assert caught.value.purchase.gift_card.gift_card_id is not None


def bulk_status(status: str | None) -> httpx.Response:
    data: dict[str, Any] = {
        "orderId": "b3JkZXI=",
        "orderStatus": status,
        "totalCards": 2,
        "successfulCardCreations": 2 if status == "COMPLETED" else 0,
        "failedCardCreations": 0,
        "virtualCards": [],
    }
    return gql({"getVirtualCardBulkOrderStatus": data})


@pytest.mark.parametrize("final", ["COMPLETED", "FAILED"])
async def test_bulk_orders_are_awaited_until_terminal(final: str) -> None:
    fake = FakeFluz().on(
        "GetVirtualCardBulkOrderStatus",
        bulk_status("PENDING"),
        bulk_status("PROCESSING"),
        bulk_status(final),
    )
    async with fake.client() as fluz:
        status = await fluz.wait_for_virtual_card_bulk_order("b3JkZXI=", **FAST)
    assert status.order_status.value == final
    assert len(fake.seen("GetVirtualCardBulkOrderStatus")) == 3
    assert fake.seen("GetVirtualCardBulkOrderStatus")[0].variables == {
        "input": {"orderId": "b3JkZXI="}
    }


async def test_a_bulk_order_without_a_status_or_with_an_unknown_one_is_still_pending() -> None:
    # Fluz may answer before the order has a status, or with a status added since this
    # client was generated: neither ends the wait, and neither breaks it.
    fake = FakeFluz().on(
        "GetVirtualCardBulkOrderStatus",
        bulk_status(None),
        bulk_status("QUEUED"),
        bulk_status("COMPLETED"),
    )
    async with fake.client() as fluz:
        status = await fluz.wait_for_virtual_card_bulk_order("b3JkZXI=", **FAST)
    assert status.order_status is not None
    assert status.order_status.value == "COMPLETED"
    assert len(fake.seen("GetVirtualCardBulkOrderStatus")) == 3


async def test_bulk_order_waits_take_turns_with_the_other_polls() -> None:
    # 300 orders awaited at once poll no more at a time than the client's poll turns, as
    # reveals do: pending waits must not flood the connection pool.
    async def slow_completed(request: httpx.Request) -> httpx.Response:
        await anyio.sleep(0.01)
        return bulk_status("COMPLETED")

    fake = FakeFluz().on("GetVirtualCardBulkOrderStatus", *[slow_completed] * 300)
    finished = 0
    async with fake.client() as fluz:
        polls = PollsInProgress(fluz, "get_virtual_card_bulk_order_status")

        async def one(index: int) -> None:
            nonlocal finished
            await fluz.wait_for_virtual_card_bulk_order(f"order-{index}")
            finished += 1

        async with anyio.create_task_group() as tg:
            for index in range(300):
                tg.start_soon(one, index)
    assert polls.peak == C.DEFAULT_MAX_IN_FLIGHT * C.POLL_TURNS_PER_SLOT < 300
    assert finished == 300
    assert len(fake.seen("GetVirtualCardBulkOrderStatus")) == 300


async def test_bulk_order_progress_is_reported_after_each_poll() -> None:
    fake = FakeFluz().on(
        "GetVirtualCardBulkOrderStatus", bulk_status("PENDING"), bulk_status("COMPLETED")
    )
    seen: list[PollProgress] = []
    async with fake.client() as fluz:
        await fluz.wait_for_virtual_card_bulk_order("b3JkZXI=", on_progress=seen.append, **FAST)
    assert [(p.attempt, p.done) for p in seen] == [(1, False), (2, True)]
    assert seen[0].next_delay == pytest.approx(0.001)
    assert seen[1].next_delay is None
