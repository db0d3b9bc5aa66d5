"""Buy a gift card and reveal its code: the smallest complete flow.

Configuration comes from the FLUZ_* environment variables (FLUZ_API_KEY, FLUZ_USER_ID,
FLUZ_ACCOUNT_ID, and FLUZ_URL or FLUZ_ENVIRONMENT). To try it locally, run `fluz sandbox`
in one shell, paste the `export` lines it prints into another, then:

    python examples/purchase_and_reveal.py [SLUG] [AMOUNT]
"""

from __future__ import annotations

import sys
from decimal import Decimal

import anyio
from fluz_graphql.input_types import PurchaseGiftCardInput

from fluz import FluzClient, FluzError, response_info


async def main(slug: str = "amazon", amount: Decimal = Decimal("25.00")) -> None:
    async with FluzClient() as fluz:
        # No idempotency key given: the client generates one and writes it into `request`,
        # so every retry of this call reuses it and Fluz charges at most once.
        request = PurchaseGiftCardInput(merchant_slug=slug, amount=amount)
        try:
            purchase = await fluz.purchase_gift_card(input=request)
        except FluzError as exc:
            # exc.idempotency_key is the key that was sent: after an ambiguous failure
            # (timeout, 5xx), retrying with it can never buy a second card.
            sys.exit(f"purchase failed: {exc}")
        info = response_info(purchase)
        print(f"purchased {purchase.purchase_display_id} for ${purchase.purchase_amount:.2f}")
        print(f"  idempotency key {request.idempotency_key}")
        print(f"  request id      {info.request_id}")

        # The details appear a little after the purchase: poll with the documented backoff
        # (0.3 s, 0.6 s, 1.2 s ... each wait capped at 180 s, 600 s overall by default).
        # The purchase is done even if this fails: reveal later, never buy again.
        details = await fluz.reveal_gift_card(purchase.gift_card.gift_card_id)
        # repr(details) masks code, PIN and URL; read details.code to use the code itself.
        print(f"revealed after {details.attempts} polls: {details!r}")


if __name__ == "__main__":
    from _spending_guard import confirm_spending  # refuses real money without --yes

    confirm_spending()
    slug, amount = (
        (sys.argv[1], Decimal(sys.argv[2])) if len(sys.argv) > 2 else ("amazon", Decimal("25"))
    )
    anyio.run(main, slug, amount)
