"""Paging through gift cards, purchases and merchants.

Fluz lists are offset-paginated with at most 20 items per request. The ``iter_*`` helpers
and ``fluz.paginate()`` fetch page after page as you iterate and stop after a short page.

    python examples/pagination.py
"""

from __future__ import annotations

from decimal import Decimal

import anyio
from fluz_graphql.enums import GiftCardStatus
from fluz_graphql.input_types import OffsetInput

from fluz import FluzClient


async def main() -> None:
    async with FluzClient() as fluz:
        # Every active gift card, 20 per request (the documented maximum and the default).
        active = [card async for card in fluz.iter_gift_cards(status=[GiftCardStatus.ACTIVE])]
        print(f"active gift cards: {len(active)}")

        # Purchases, newest first, 5 per request: the next page is fetched only when the
        # loop gets there, so breaking out early saves requests.
        count, total = 0, Decimal(0)  # amounts are Decimal: exact cents
        async for purchase in fluz.iter_user_purchases(page_size=5):
            count, total = count + 1, total + purchase.purchase_amount
            if count <= 3:
                print(f"  {purchase.purchase_display_id}  ${purchase.purchase_amount:.2f}")
        print(f"purchases: {count}, total ${total:.2f}")

        # Any list operation that takes `paginate`: pass the method and its filters.
        stores = [m async for m in fluz.paginate(fluz.get_merchants, name="Store", page_size=5)]
        print(f"merchants named like 'Store': {len(stores)}")

        # Or one page at a time, when you keep the offset yourself (e.g. in a web UI).
        page = await fluz.get_merchants(paginate=OffsetInput(limit=10, offset=10))
        print(f"merchants 11-20: {', '.join(m.name or '?' for m in page)}")


if __name__ == "__main__":
    anyio.run(main)
