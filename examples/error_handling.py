"""Handling each fluz error type, and what to do about each.

Every error fluz raises is a ``FluzError`` subclass carrying ``code`` (Fluz's error code),
``request_id`` (quote it to Fluz support) and, for a mutation, ``idempotency_key``.
Messages are redacted: they are safe to log. This script provokes the failures it can
and prints the advice of :func:`advice` for each.

It buys two $5 gift cards (to show a key conflict and a reveal timeout): run it against
the sandbox (``fluz sandbox``, then paste its ``export`` lines).

    python examples/error_handling.py
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from fluz_graphql.input_types import PurchaseGiftCardInput, UserLookupInput

from fluz import (
    DEFAULT_SCOPES,
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    FluzClient,
    FluzError,
    FluzTimeoutError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    RevealTimeoutError,
    ServerError,
    TransportError,
    ValidationError,
)


def advice(exc: FluzError) -> str:
    """What a service should do about *exc*. Order matters: subclasses first."""
    if isinstance(exc, ConfigurationError):
        return "fix the configuration (raised by FluzClient(), before any request)"
    if isinstance(exc, ValidationError):
        return f"fix the input, do not retry (field={getattr(exc, 'field', None)})"
    if isinstance(exc, AuthenticationError):
        return "check the API key and the environment it belongs to"
    if isinstance(exc, PermissionDeniedError):
        return "ask for the missing scope (scopes=... or FLUZ_SCOPES)"
    if isinstance(exc, NotFoundError):
        return "check the id, email or phone number"
    if isinstance(exc, ConflictError):
        return "an idempotency key was reused for a different request: new purchase, new key"
    if isinstance(exc, RevealTimeoutError):
        return f"the purchase is done: reveal it again later ({exc.attempts} polls so far)"
    if isinstance(exc, RateLimitedError):
        return f"slow down; the server asked for {exc.retry_after} s"
    if isinstance(exc, TransportError) and not exc.request_sent:
        return "nothing was sent (connection failed): safe to retry"
    if isinstance(exc, ServerError | FluzTimeoutError | TransportError):
        # The outcome of a mutation is unknown: only a retry with the same key is safe.
        return f"outcome unknown: retry with the same idempotency key {exc.idempotency_key}"
    return f"unexpected Fluz error {exc.code}: log it with request id {exc.request_id}"


async def attempt(label: str, action: Callable[[], Awaitable[Any]]) -> None:
    try:
        await action()
    except FluzError as exc:
        print(f"{label:<22} {type(exc).__name__:<22} {exc.code or '-':<18} {advice(exc)}")
    else:
        print(f"{label:<22} no error")


async def main() -> None:
    # Provoked by the constructor: an unknown environment name.
    try:
        FluzClient(environment="moon")
    except ConfigurationError as exc:
        print(f"{'bad configuration':<22} {type(exc).__name__:<22} {exc.code:<18} {advice(exc)}")

    async with FluzClient(scopes=[*DEFAULT_SCOPES, "QUERY_RECIPIENT"]) as fluz:
        key = uuid.uuid4()
        await attempt(
            "negative amount",  # refused by the client, nothing is sent
            lambda: fluz.purchase_gift_card(
                input=PurchaseGiftCardInput(merchant_slug="amazon", amount=-5)
            ),
        )
        await attempt(
            "unknown merchant",  # refused by Fluz (AR-0001)
            lambda: fluz.purchase_gift_card(
                input=PurchaseGiftCardInput(merchant_slug="no-such-merchant", amount=5)
            ),
        )
        await attempt(
            "unknown recipient",
            lambda: fluz.lookup_user(input=UserLookupInput(email="nobody@example.invalid")),
        )
        first = PurchaseGiftCardInput(idempotency_key=key, merchant_slug="amazon", amount=5)
        purchase = await fluz.purchase_gift_card(input=first)
        await attempt(
            "key reused",  # same key, different amount
            lambda: fluz.purchase_gift_card(
                input=PurchaseGiftCardInput(idempotency_key=key, merchant_slug="amazon", amount=6)
            ),
        )
        card_id = purchase.gift_card.gift_card_id
        await attempt("reveal deadline", lambda: fluz.reveal_gift_card(card_id, timeout=0.05))

    async with FluzClient(api_key="not-the-api-key") as wrong_key:
        await attempt("wrong API key", wrong_key.get_wallet)

    async with FluzClient(scopes=["LIST_OFFERS"]) as read_only:
        await attempt(
            "missing scope",
            lambda: read_only.purchase_gift_card(
                input=PurchaseGiftCardInput(merchant_slug="amazon", amount=5)
            ),
        )

    # Port 9 on loopback: nobody listens. max_retries=0 to fail at once.
    async with FluzClient(url="http://127.0.0.1:9/api/v1/graphql", max_retries=0) as nowhere:
        await attempt("server unreachable", nowhere.get_wallet)

    # ServerError, RateLimitedError and FluzTimeoutError come from an unhealthy server:
    # see them with `fluz sandbox --unavailable-rate 0.5 --rate-limited-rate 0.3`.


if __name__ == "__main__":
    from _spending_guard import confirm_spending  # refuses real money without --yes

    confirm_spending()
    anyio.run(main)
