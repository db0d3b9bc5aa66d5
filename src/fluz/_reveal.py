"""Results of the reveal helpers: redemption details with a secret-safe repr."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from fluz_graphql.purchase_gift_card import PurchaseGiftCardPurchaseGiftCard

from ._redact import mask


@dataclass(frozen=True, slots=True)
class GiftCardDetails:
    """Redemption details of a gift card; any of code, pin and url may be None (merchants
    differ). ``repr()`` masks all three: print ``details.code`` explicitly if you must."""

    gift_card_id: uuid.UUID
    code: str | None
    pin: str | None
    url: str | None
    attempts: int  # reveal polls made
    elapsed: float  # seconds spent polling

    def __repr__(self) -> str:
        return (
            f"GiftCardDetails(gift_card_id={self.gift_card_id!s}, code={mask(self.code)}, "
            f"pin={mask(self.pin)}, url={mask(self.url)}, attempts={self.attempts}, "
            f"elapsed={self.elapsed:.2f})"
        )


@dataclass(frozen=True, slots=True)
class PurchasedGiftCard:
    """Result of :meth:`FluzClient.purchase_and_reveal`."""

    purchase: PurchaseGiftCardPurchaseGiftCard
    details: GiftCardDetails
