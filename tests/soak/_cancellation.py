"""Scenario 6, cancellation: purchases and reveals cancelled at random points.

Purchases are cancelled before sending, mid-request (the sandbox adds latency) and during
retry backoff (it also resets some connections); reveals while polling or sleeping. Then:
no task is left running, the connection pool holds no stuck request or connection, every
socket is released when the client closes, no cancelled poller polls again, and every
cancelled purchase reconciles: replaying its input (same idempotency key) returns the
purchase committed before the cancel, or creates it - exactly once either way.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator

import anyio
from fluz_graphql.input_types import DepositCashBalanceInput, PurchaseGiftCardInput

from fluz import FluzClient, FluzError
from fluz.sandbox import Faults

from ._canaries import SecretWatch
from ._harness import (
    CANARY_PREFIX,
    Result,
    SandboxHandle,
    Stopwatch,
    make_client,
    open_sockets,
    pool_state,
    run_all,
)

AMOUNT = 5
PURCHASE_CANCEL_WINDOW = 0.04  # s: the sandbox adds 10 ms per purchase, retries wait 10+ ms
REVEAL_CANCEL_WINDOW = 0.8  # s: polls at 0, 0.3 and 0.9 s: cancelled polling or sleeping
REVEAL_READY_AFTER = 30.0  # s: longer than the run, so every reveal is still pending
# A poller cancelled within the window would poll again at most 0.6 s later: no poll for
# this long proves none is left.
SETTLE = 1.0


async def _purchases_by_memo(fluz: FluzClient) -> dict[str, list[uuid.UUID]]:
    found: dict[str, list[uuid.UUID]] = {}
    async for item in fluz.iter_user_purchases():
        if item.memo and item.memo.startswith("cancel-"):
            found.setdefault(item.memo, []).append(item.purchase_id)
    return found


async def cancellation(
    sandbox: SandboxHandle, watch: SecretWatch, *, cancels: int = 1000, concurrency: int = 25
) -> Result:
    result = Result("6. cancellation", f"{cancels:,} cancels")
    sandbox.configure(canary_prefix=CANARY_PREFIX, reveal_delay=0)
    rng = random.Random(6)
    cards = list(sandbox.add_gift_cards([REVEAL_READY_AFTER] * 50))
    purchases: list[PurchaseGiftCardInput] = []
    cancelled: list[PurchaseGiftCardInput] = []
    reveals_cancelled = 0
    completed = 0
    unexpected: list[str] = []
    sockets_before_client = open_sockets()
    tasks_before = len(anyio.get_running_tasks())

    async with make_client(
        sandbox, watch, retry_base_delay=0.01, retry_max_delay=0.05, max_retries=3
    ) as fluz:
        await fluz.deposit_cash_balance(
            input=DepositCashBalanceInput(
                amount=AMOUNT * 2 * cancels, bankAccountId=sandbox.seed_data.bank_account_id
            )
        )
        sandbox.set_faults(
            Faults(latency=0.01, reset_rate=0.15, operations=frozenset({"purchaseGiftCard"}))
        )

        def events() -> Iterator[int]:
            index = 0
            while len(cancelled) + reveals_cancelled < cancels:
                yield index
                index += 1

        async def event(index: int) -> None:
            nonlocal reveals_cancelled, completed
            try:
                if index % 2 == 0:
                    request = PurchaseGiftCardInput(
                        merchantSlug="amazon",
                        amount=AMOUNT,
                        memo=f"cancel-{index}",
                        # Half carry the caller's key, half get one from the client.
                        idempotencyKey=uuid.uuid4() if index % 4 == 0 else None,
                    )
                    purchases.append(request)
                    with anyio.move_on_after(rng.uniform(0, PURCHASE_CANCEL_WINDOW)) as scope:
                        await fluz.purchase_gift_card(input=request)
                    if scope.cancelled_caught:
                        cancelled.append(request)
                        return
                else:
                    card = cards[index % len(cards)]
                    with anyio.move_on_after(rng.uniform(0, REVEAL_CANCEL_WINDOW)) as scope:
                        await fluz.reveal_gift_card(card)
                    if scope.cancelled_caught:
                        reveals_cancelled += 1
                        return
                completed += 1
            except FluzError as exc:  # e.g. a purchase whose retries all met resets
                watch.scan_object(exc, "purchase error")
                completed += 1

        with Stopwatch() as clock:
            await run_all(events(), event, concurrency=concurrency)
        sandbox.clear_faults()
        pool_after = pool_state(fluz)
        tasks_after = len(anyio.get_running_tasks())
        polls_after = sandbox.counters().total_reveal_polls
        await anyio.sleep(SETTLE)
        zombie_polls = sandbox.counters().total_reveal_polls - polls_after

        committed = await _purchases_by_memo(fluz)
        keyless = [r for r in cancelled if r.idempotency_key is None]
        returned_original = 0
        created_by_replay = 0
        mismatched = 0
        for request in purchases:  # replay every purchase whose outcome the caller lacks
            if request.memo in committed and request not in cancelled:
                continue
            try:
                replayed = await fluz.purchase_gift_card(input=request)
            except FluzError as exc:
                unexpected.append(f"replay: {exc!r}")
                continue
            assert replayed is not None
            if request.memo in committed:
                returned_original += 1
                mismatched += committed[request.memo] != [replayed.purchase_id]
            else:
                created_by_replay += 1
        final = await _purchases_by_memo(fluz)
        sockets_open = open_sockets()
    # The client is closed: its sockets go, and the server closes its ends on seeing EOF.
    for _ in range(100):  # up to 5 s: polling /proc, there is nothing to wait on
        if open_sockets() <= sockets_before_client:
            break
        await anyio.sleep(0.05)
    sockets_closed = open_sockets()

    exactly_once = len(final) == len(purchases) and all(len(v) == 1 for v in final.values())
    result.seconds = clock.wall
    result.figures = {
        "cancelled": f"{len(cancelled)} purchases, {reveals_cancelled} reveals "
        f"({completed} calls finished first)",
        "tasks": f"{tasks_before} before, {tasks_after} after",
        "pool after": f"{pool_after['active']} active, {pool_after['idle']} idle, "
        f"{pool_after['waiting_requests']} waiting",
        "sockets": f"{sockets_before_client} before client, {sockets_open} open, "
        f"{sockets_closed} after close",
        "polls after cancel": zombie_polls,
        "reconciled": f"{returned_original} replays returned the original, "
        f"{created_by_replay} created once",
        "purchases at sandbox": f"{sum(len(v) for v in final.values())} for {len(purchases)}",
    }
    result.check(
        f"{cancels:,} cancellations happened", len(cancelled) + reveals_cancelled >= cancels
    )
    result.check("no task left running", tasks_after == tasks_before)
    result.check("no request stuck in the pool", pool_after["waiting_requests"] == 0)
    result.check("no connection stuck active", pool_after["active"] == 0)
    result.check("every socket released on close", sockets_closed <= sockets_before_client)
    result.check("no cancelled poller polled again", zombie_polls == 0)
    # The key is written into the input before anything can be cancelled: always at hand.
    result.check("every cancelled purchase had its key to replay with", not keyless)
    result.check("replays returned the committed purchase", mismatched == 0 and not unexpected)
    result.check("each purchase exists exactly once", exactly_once)
    return result
