"""The commands: each takes a connected client and the parsed arguments, returns a Result."""

from __future__ import annotations

import argparse
import shlex
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

from fluz_graphql.enums import GiftCardStatus
from fluz_graphql.input_types import GetOfferQuoteInput, PurchaseGiftCardInput

from .._client import FluzClient
from .._errors import (
    FluzError,
)
from .._idempotency import outcome_unknown
from .._response import response_info
from .._reveal import GiftCardDetails
from ._output import Console, Result, RevealProgress, dump, fields, masked, money, table

T = TypeVar("T")
Command = Callable[[FluzClient, argparse.Namespace, Console], Awaitable[Result]]


async def token(fluz: FluzClient, args: argparse.Namespace, console: Console) -> Result:
    """Mint a user token for the configured identity; show its scopes and expiry only."""
    info = await fluz.token_info()
    expires_at = info.expires_at
    lifetime = (expires_at - datetime.now(UTC)).total_seconds() if expires_at else None
    granted = list(info.scopes)
    data = {
        "userId": info.user_id,
        "accountId": info.account_id,
        "seatId": info.seat_id,
        "scopes": granted,
        "expiresAt": expires_at.isoformat() if expires_at else None,
        "expiresIn": round(lifetime) if lifetime is not None else None,
        "refreshToken": info.refreshable,
    }
    expiry = f"{expires_at.isoformat()} (in {lifetime:.0f} s)" if expires_at and lifetime else None
    text = "user token minted (the token itself is never shown)\n" + fields(
        [
            ("user", info.user_id),
            ("account", info.account_id),
            ("seat", info.seat_id),
            ("scopes", ", ".join(granted) or None),
            ("expires", expiry),
            ("refresh", "a refresh token was issued" if data["refreshToken"] else "none"),
        ]
    )
    return Result(data, text)


async def merchants(fluz: FluzClient, args: argparse.Namespace, console: Console) -> Result:
    found, more = await _take(
        fluz.iter_merchants(name=args.name, page_size=args.page_size), args.limit
    )
    rows = [
        (m.name, m.slug, "; ".join(_offer_summary(o) for o in m.offers or [] if o)) for m in found
    ]
    text = table(["NAME", "SLUG", "OFFERS"], rows) + _footer(len(found), "merchant", more)
    return Result({"merchants": dump(found), "count": len(found), "more": more}, text)


async def quote(fluz: FluzClient, args: argparse.Namespace, console: Console) -> Result:
    offer = await fluz.get_offer_quote(
        input=GetOfferQuoteInput(merchant_slug=args.slug, denomination=args.amount)
    )
    if offer is None:
        text = f"no offer for {args.slug} at {money(args.amount)}"
        return Result({"offer": None}, text)
    rates = next((r for r in offer.offer_rates or [] if r), None)
    text = f"best offer for {args.slug} at {money(args.amount)}\n" + fields(
        [
            ("offer id", offer.offer_id),
            ("type", _value(offer.type_)),
            ("reward", _percent(rates.max_user_reward_value) if rates else None),
            ("denominations", _denominations(offer)),
            ("exclusive rate", offer.exclusive_rate_id),
            ("payment", ", ".join(p for p in rates.allowed_payment_methods or [] if p) or None)
            if rates
            else ("payment", None),
        ]
    )
    return Result({"offer": dump(offer)}, text)


async def purchase(fluz: FluzClient, args: argparse.Namespace, console: Console) -> Result:
    """Buy a gift card with an idempotency key chosen up front, so that it can be shown,
    and reused, whatever happens to the request."""
    key = args.idempotency_key or uuid.uuid4()
    request = PurchaseGiftCardInput(
        idempotency_key=key,
        merchant_slug=args.slug,
        amount=args.amount,
        bank_account_id=args.bank_account,
        bank_card_id=args.bank_card,
        paypal_vault_id=args.paypal,
        balance_amount=args.balance_amount,
    )
    try:
        bought = await fluz.purchase_gift_card(input=request)
    except FluzError as exc:
        if outcome_unknown(exc):
            exc.add_note(
                "the purchase may have gone through. Retry with the same key, which Fluz "
                "processes only once (and the same connection options): "
                + _retry_command(args, key)
            )
        raise
    card = bought.gift_card
    info = response_info(bought)
    funding = (
        ("bank account", bought.bank_account_id)
        if bought.bank_account_id
        else ("bank card", bought.purchase_bank_card_id)
        if bought.purchase_bank_card_id
        else ("PayPal", bought.paypal_vault_id)
        if bought.paypal_vault_id
        else None
    )
    paid = (
        [f"{money(bought.fluzpay_amount)} from the Fluz balance"] if bought.fluzpay_amount else []
    )
    if funding is not None:
        external = (bought.purchase_amount or 0) - (bought.fluzpay_amount or 0)
        paid.append(f"{money(external)} from {funding[0]} {funding[1]}")
    merchant = card.merchant.name if card and card.merchant else args.slug
    data: dict[str, Any] = {
        "purchase": dump(bought),
        "idempotencyKey": str(key),
        "requestId": info.request_id if info else None,
    }
    text = f"gift card purchased: {merchant}, {money(bought.purchase_amount)}\n" + fields(
        [
            ("purchase id", bought.purchase_id),
            ("display id", bought.purchase_display_id),
            ("gift card id", card.gift_card_id if card else None),
            ("paid", " + ".join(paid) or None),
            ("reward", money(bought.seat_reward_value)),
            ("idempotency key", key),
            ("request id", data["requestId"]),
        ]
    )
    if args.reveal and card and card.gift_card_id:
        console.partial(text)  # the purchase is done: show it before the reveal wait
        try:
            details = await _reveal(fluz, card.gift_card_id, args, console)
        except FluzError as exc:
            exc.add_note(
                f"purchase {bought.purchase_display_id} ({bought.purchase_id}) went through: "
                f"do not buy again; reveal it later with: fluz reveal {card.gift_card_id}"
            )
            raise
        data["reveal"] = _details_data(details, show=args.show_secrets)
        text = _details_text(details, show=args.show_secrets)
    elif card and card.gift_card_id:
        text += f"\nnext: fluz reveal {card.gift_card_id}"
    return Result(data, text)


async def reveal(fluz: FluzClient, args: argparse.Namespace, console: Console) -> Result:
    details = await _reveal(fluz, args.gift_card_id, args, console)
    return Result(
        _details_data(details, show=args.show_secrets),
        _details_text(details, show=args.show_secrets),
    )


async def gift_cards(fluz: FluzClient, args: argparse.Namespace, console: Console) -> Result:
    statuses = [GiftCardStatus(s) for s in args.status] if args.status else None
    cards, more = await _take(
        fluz.iter_gift_cards(status=statuses, page_size=args.page_size), args.limit
    )
    rows = [
        (
            c.gift_card_id,
            c.merchant.name if c.merchant else None,
            _value(c.status),
            _when(c.created_at),
        )
        for c in cards
    ]
    text = table(["GIFT CARD ID", "MERCHANT", "STATUS", "CREATED"], rows)
    return Result(
        {"giftCards": dump(cards), "count": len(cards), "more": more},
        text + _footer(len(cards), "gift card", more),
    )


async def purchases(fluz: FluzClient, args: argparse.Namespace, console: Console) -> Result:
    found, more = await _take(fluz.iter_user_purchases(page_size=args.page_size), args.limit)
    rows = [
        (
            p.purchase_id,
            p.purchase_display_id,
            money(p.purchase_amount),
            p.gift_card.merchant.name if p.gift_card and p.gift_card.merchant else None,
            p.gift_card.gift_card_id if p.gift_card else None,
            _when(p.created_at),
        )
        for p in found
    ]
    headers = ["PURCHASE ID", "DISPLAY ID", "AMOUNT", "MERCHANT", "GIFT CARD ID", "CREATED"]
    return Result(
        {"purchases": dump(found), "count": len(found), "more": more},
        table(headers, rows) + _footer(len(found), "purchase", more),
    )


async def wallet(fluz: FluzClient, args: argparse.Namespace, console: Console) -> Result:
    found = await fluz.get_wallet()
    if found is None:
        return Result({"wallet": None}, "no wallet")
    balances = found.balances
    parts: list[str] = []
    rows: list[tuple[object, ...]]
    if balances is not None:
        lines = []
        for label, balance in (
            ("Fluz balance (cash)", balances.cash_balance),
            ("gift-card balance", balances.gift_card_cash_balance),
            ("rewards", balances.rewards_balance),
        ):
            if balance is not None:
                pending = getattr(balance, "pending_balance", None)
                lines.append(
                    (
                        label,
                        f"available {money(balance.available_balance)}  "
                        f"total {money(balance.total_balance)}"
                        + (f"  pending {money(pending)}" if pending is not None else ""),
                    )
                )
        parts.append("balances\n" + fields(lines))
        spend = [a for a in balances.user_cash_balances or [] if a]
        if spend:
            rows = [
                (
                    a.user_cash_balance_id,
                    a.nickname,
                    _value(a.status),
                    "yes" if a.is_default else "",
                    money(a.available_cash_balance),
                )
                for a in spend
            ]
            parts.append(
                "spend accounts\n"
                + table(["ID", "NICKNAME", "STATUS", "DEFAULT", "AVAILABLE"], rows)
            )
    cards = [c for c in found.bank_cards or [] if c]
    if cards:
        rows = [
            (
                c.bank_card_id,
                f"{c.card_processor or ''} {_value(c.card_type) or ''} *{c.last_four_digits}",
                c.nickname,
                _value(c.card_status),
            )
            for c in cards
        ]
        parts.append("bank cards\n" + table(["ID", "CARD", "NICKNAME", "STATUS"], rows))
    accounts = [a for a in found.bank_accounts or [] if a]
    if accounts:
        rows = [
            (
                a.bank_account_id,
                f"{_value(a.type_)} *{a.last_four}",
                a.account_name,
                _value(a.status),
            )
            for a in accounts
        ]
        parts.append("bank accounts\n" + table(["ID", "ACCOUNT", "NAME", "STATUS"], rows))
    paypal = [p for p in found.paypal_accounts or [] if p]
    if paypal:
        rows = [(p.paypal_vault_id, p.email, _value(p.status)) for p in paypal]
        parts.append("PayPal\n" + table(["ID", "EMAIL", "STATUS"], rows))
    return Result({"wallet": dump(found)}, "\n\n".join(parts))


COMMANDS: dict[str, Command] = {
    "token": token,
    "merchants": merchants,
    "quote": quote,
    "purchase": purchase,
    "reveal": reveal,
    "gift-cards": gift_cards,
    "purchases": purchases,
    "wallet": wallet,
}


# ---------------------------------------------------------------------------- helpers


async def _reveal(
    fluz: FluzClient, gift_card_id: uuid.UUID, args: argparse.Namespace, console: Console
) -> GiftCardDetails:
    progress = RevealProgress(console.stderr, f"reveal {gift_card_id}")
    try:
        return await fluz.reveal_gift_card(gift_card_id, timeout=args.timeout, on_progress=progress)
    finally:
        progress.close()


def _details_data(details: GiftCardDetails, *, show: bool) -> dict[str, Any]:
    return {
        "giftCardId": str(details.gift_card_id),
        "code": masked(details.code, show=show),
        "pin": masked(details.pin, show=show),
        "url": masked(details.url, show=show),
        "secretsShown": show,
        "attempts": details.attempts,
        "elapsed": round(details.elapsed, 3),
    }


def _details_text(details: GiftCardDetails, *, show: bool) -> str:
    text = f"gift card {details.gift_card_id}\n" + fields(
        [
            ("code", masked(details.code, show=show)),
            ("pin", masked(details.pin, show=show)),
            ("url", masked(details.url, show=show)),
        ]
    )
    polls = "poll" if details.attempts == 1 else "polls"
    text += f"\nrevealed after {details.attempts} {polls} in {details.elapsed:.2f}s"
    if not show and any((details.code, details.pin, details.url)):
        text += "; add --show-secrets to print the code, PIN and URL"
    return text


def _retry_command(args: argparse.Namespace, key: uuid.UUID) -> str:
    """The ``fluz purchase`` command that repeats *args* exactly, with *key*: any other
    difference would be refused by Fluz as a different request under the same key."""
    argv = ["fluz", "purchase", args.slug, f"{args.amount:.2f}"]
    for flag, value in (
        ("--bank-account", args.bank_account),
        ("--bank-card", args.bank_card),
        ("--paypal", args.paypal),
        ("--balance-amount", None if args.balance_amount is None else f"{args.balance_amount:.2f}"),
    ):
        if value is not None:
            argv += [flag, str(value)]
    return shlex.join([*argv, "--idempotency-key", str(key)])


async def _take(items: AsyncIterator[T], limit: int) -> tuple[list[T], bool]:
    """Up to *limit* items (0: all) and whether more exist (one extra item is read)."""
    taken: list[T] = []
    async for item in items:
        if limit and len(taken) == limit:
            return taken, True
        taken.append(item)
    return taken, False


def _footer(count: int, noun: str, more: bool) -> str:
    plural = noun if count == 1 else noun + "s"
    return f"\n{count} {plural}" + (
        " (more exist: raise --limit, or --limit 0 for all)" if more else ""
    )


def _offer_summary(offer: Any) -> str:
    rates = next((r for r in offer.offer_rates or [] if r), None)
    reward = _percent(rates.max_user_reward_value) if rates else "?"
    kind = {"GIFT_CARD_OFFER": "gift card", "EXCLUSIVE_RATE_OFFER": "exclusive"}.get(
        _value(offer.type_) or "", "card-linked"
    )
    return f"{kind} {reward} {_denominations(offer)}"


def _denominations(offer: Any) -> str:
    rates = next((r for r in offer.offer_rates or [] if r), None)
    values = [d for d in (rates.denominations or []) if d] if rates else []
    if not values:
        return "-"
    if _value(offer.denominations_type) == "VARIABLE" and len(values) == 2:
        return f"${values[0]}-${values[1]}"
    return "/".join(f"${v}" for v in values)


def _percent(value: Decimal | None) -> str:
    return "-" if value is None else f"{value:g}%"


def _value(enum_member: Any) -> str | None:
    return None if enum_member is None else str(getattr(enum_member, "value", enum_member))


def _when(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ") if moment else None
