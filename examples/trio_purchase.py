"""The purchase-and-reveal flow on trio: FluzClient is built on anyio, so it runs on
trio as it does on asyncio.

Buys two gift cards concurrently in a nursery and reveals each under a trio deadline.

    python examples/trio_purchase.py
"""

from __future__ import annotations

import trio
from fluz_graphql.input_types import PurchaseGiftCardInput

from fluz import FluzClient, GiftCardDetails


async def buy_and_reveal(fluz: FluzClient, slug: str, results: list[GiftCardDetails]) -> None:
    purchase = await fluz.purchase_gift_card(
        input=PurchaseGiftCardInput(merchant_slug=slug, amount=25)
    )
    # Trio's own cancellation works too: the poll stops cleanly when the deadline hits.
    with trio.fail_after(60):
        details = await fluz.reveal_gift_card(purchase.gift_card.gift_card_id)
    print(f"{slug}: {purchase.purchase_display_id} revealed after {details.attempts} polls")
    results.append(details)


async def main() -> list[GiftCardDetails]:
    results: list[GiftCardDetails] = []
    async with FluzClient() as fluz, trio.open_nursery() as nursery:
        for slug in ("amazon", "target"):
            nursery.start_soon(buy_and_reveal, fluz, slug, results)
    return results


if __name__ == "__main__":
    from _spending_guard import confirm_spending  # refuses real money without --yes

    confirm_spending()
    trio.run(main)
