"""Polling helpers of FluzClient: gift-card reveal, purchase-then-reveal, bulk orders."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import _constants as C
from . import _telemetry
from ._errors import FluzError, RevealTimeoutError, ValidationError
from ._poll import Backoff, ProgressCallback, poll_until
from ._redact import mask

if TYPE_CHECKING:  # the models load with the first call (not at `import fluz`)
    from fluz_graphql.get_virtual_card_bulk_order_status import (
        GetVirtualCardBulkOrderStatusGetVirtualCardBulkOrderStatus as BulkOrderStatus,
    )
    from fluz_graphql.input_types import PurchaseGiftCardInput
    from fluz_graphql.purchase_gift_card import PurchaseGiftCardPurchaseGiftCard

    from ._client import FluzClient


@dataclass(frozen=True, slots=True, repr=False)  # its own __repr__ masks the secrets
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


class PollSettings:
    """The backoff and deadline of a poll (arguments of the polling helpers). A plain
    class: a frozen dataclass costs `import fluz` about 1 ms to create."""

    __slots__ = ("initial_delay", "jitter", "max_delay", "multiplier", "timeout")

    def __init__(
        self,
        initial_delay: float = C.REVEAL_INITIAL_DELAY,
        multiplier: float = C.REVEAL_MULTIPLIER,
        max_delay: float = C.REVEAL_MAX_DELAY,
        timeout: float = C.REVEAL_TIMEOUT,
        jitter: float = C.REVEAL_JITTER,
    ) -> None:
        self.initial_delay = initial_delay
        self.multiplier = multiplier
        self.max_delay = max_delay
        self.timeout = timeout
        self.jitter = jitter

    def backoff(self) -> Backoff:
        try:
            return Backoff(self.initial_delay, self.multiplier, self.max_delay, self.jitter)
        except ValueError as exc:
            raise ValidationError(str(exc), rule="backoff", code="CLIENT_VALIDATION") from None


async def reveal_gift_card(
    client: FluzClient,
    gift_card_id: uuid.UUID | str,
    settings: PollSettings,
    on_progress: ProgressCallback | None,
) -> GiftCardDetails:
    """See :meth:`FluzClient.reveal_gift_card`."""
    card_id = as_uuid(gift_card_id, "gift_card_id")
    try:
        outcome = await poll_until(
            lambda: client.reveal_gift_card_by_gift_card_id(gift_card_id=card_id),
            lambda d: d is not None and any((d.code, d.pin, d.url)),
            backoff=settings.backoff(),
            timeout=settings.timeout,
            on_progress=on_progress,
            what=f"reveal of gift card {card_id}",
            turns=client._slots.poll_turns(),
        )
    except RevealTimeoutError as exc:
        exc.operation = "RevealGiftCardByGiftCardId"
        _telemetry.revealed(exc.attempts, exc.elapsed, found=False)
        raise
    found = outcome.value
    assert found is not None
    _telemetry.revealed(outcome.attempts, outcome.elapsed, found=True)
    return GiftCardDetails(
        card_id, found.code, found.pin, found.url, outcome.attempts, outcome.elapsed
    )


async def purchase_and_reveal(
    client: FluzClient,
    request: PurchaseGiftCardInput,
    settings: PollSettings,
    on_progress: ProgressCallback | None,
) -> PurchasedGiftCard:
    """See :meth:`FluzClient.purchase_and_reveal`."""
    purchase = await client.purchase_gift_card(input=request)
    try:
        details = await reveal_gift_card(
            client, purchase.gift_card.gift_card_id, settings, on_progress
        )
    except FluzError as exc:
        exc.purchase = purchase
        raise
    return PurchasedGiftCard(purchase, details)


async def wait_for_bulk_order(
    client: FluzClient,
    order_id: str,
    settings: PollSettings,
    on_progress: ProgressCallback | None,
) -> BulkOrderStatus:
    """See :meth:`FluzClient.wait_for_virtual_card_bulk_order`."""
    from fluz_graphql.input_types import GetVirtualCardBulkOrderStatusInput

    request = GetVirtualCardBulkOrderStatusInput(order_id=order_id)
    outcome = await poll_until(
        lambda: client.get_virtual_card_bulk_order_status(input=request),
        lambda s: (
            s is not None
            and getattr(s.order_status, "value", s.order_status) in C.BULK_ORDER_TERMINAL_STATUSES
        ),
        backoff=settings.backoff(),
        timeout=settings.timeout,
        on_progress=on_progress,
        what=f"bulk virtual-card order {order_id}",
        turns=client._slots.poll_turns(),
    )
    assert outcome.value is not None
    return outcome.value


def as_uuid(value: uuid.UUID | str, name: str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ValidationError(
            f"{name} is not a valid UUID", field=name, rule="uuid", code="CLIENT_VALIDATION"
        ) from None


def _key_text(key: object) -> str | None:
    return None if key is None else str(key)
