"""Many purchases and reveals at once: a task group with a concurrency limit.

Each task buys one gift card and reveals it. A CapacityLimiter bounds how many purchases
are in flight; reveals run outside it because a reveal spends nearly all its time
sleeping between polls (thousands of pending reveals cost only sleeping tasks). A failed
task records its error, and its idempotency key, instead of cancelling the others.

    python examples/concurrent_purchases.py [COUNT] [CONCURRENCY]
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import anyio
from fluz_graphql.input_types import PurchaseGiftCardInput

from fluz import FluzClient, FluzError, GiftCardDetails


@dataclass
class Outcome:
    request: PurchaseGiftCardInput
    details: GiftCardDetails | None = None
    error: FluzError | None = None


async def buy_and_reveal(
    fluz: FluzClient, limiter: anyio.CapacityLimiter, outcome: Outcome
) -> None:
    try:
        async with limiter:
            purchase = await fluz.purchase_gift_card(input=outcome.request)
        outcome.details = await fluz.reveal_gift_card(purchase.gift_card.gift_card_id)
    except FluzError as exc:
        outcome.error = exc


async def main(count: int = 20, concurrency: int = 5) -> list[Outcome]:
    limiter = anyio.CapacityLimiter(concurrency)
    outcomes = [
        Outcome(PurchaseGiftCardInput(merchant_slug="amazon", amount=5)) for _ in range(count)
    ]
    started = time.perf_counter()
    async with FluzClient() as fluz, anyio.create_task_group() as tasks:
        for outcome in outcomes:
            tasks.start_soon(buy_and_reveal, fluz, limiter, outcome)
    elapsed = time.perf_counter() - started

    failed = [o for o in outcomes if o.error is not None]
    revealed = [o for o in outcomes if o.details is not None]
    print(f"{len(revealed)} of {count} gift cards bought and revealed in {elapsed:.2f} s")
    print(f"(at most {concurrency} purchases in flight; {len(failed)} failed)")
    for outcome in failed:
        # Retrying with the same input object reuses its key: never a second charge.
        print(f"  failed: {outcome.error!r}; key {outcome.request.idempotency_key}")
    return outcomes


if __name__ == "__main__":
    from _spending_guard import confirm_spending  # refuses real money without --yes

    confirm_spending()
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    concurrency = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    anyio.run(main, count, concurrency)
