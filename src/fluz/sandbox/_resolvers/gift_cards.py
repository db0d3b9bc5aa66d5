"""Catalog, quotes, gift-card purchases and the delayed reveal of their details."""

from __future__ import annotations

import dataclasses
import string
from datetime import timedelta
from decimal import Decimal
from typing import Any

from .._core import RequestContext, Sandbox
from .._errors import invalid, not_found
from .._state import CENT, Account, GiftCard, Merchant, Offer, UserPurchase, fmt_plain
from ._common import (
    cash_balance,
    debit,
    exactly_one,
    external_source,
    money,
    newest_first,
    operation,
    page,
    record,
)

ALPHANUMERIC = string.ascii_uppercase + string.digits
GIFT_CARD_LIFETIME = timedelta(days=5 * 365)


def refusal(offer: Offer, amount: Decimal) -> str | None:
    """Why ``offer`` cannot sell a card of ``amount``; None if it can."""
    if offer.denominations_type == "FIXED":
        if amount not in offer.fixed:
            allowed = ", ".join(fmt_plain(d) for d in offer.fixed)
            return f"amount {fmt_plain(amount)} is not one of the fixed denominations {allowed}"
        if offer.stock is not None and offer.stock.get(amount, 0) <= 0:
            return f"denomination {fmt_plain(amount)} is out of stock"
        return None
    if not offer.minimum <= amount <= offer.maximum:
        low, high = fmt_plain(offer.minimum), fmt_plain(offer.maximum)
        return f"amount {fmt_plain(amount)} is outside the range {low} to {high}"
    return None


def best_offer(merchant: Merchant, amount: Decimal) -> Offer:
    """The highest-reward GIFT_CARD_OFFER that can sell ``amount``; AR-0001 if none.

    Exclusive rates are opt-in (exclusiveRateId), never picked automatically."""
    reasons = []
    candidates = []
    for offer in merchant.offers:
        if offer.type != "GIFT_CARD_OFFER":
            continue
        reason = refusal(offer, amount)
        if reason is None:
            candidates.append(offer)
        else:
            reasons.append(reason)
    if not candidates:
        detail = "; ".join(reasons) or "it has no gift-card offers"
        raise invalid(f"{merchant.name} cannot sell this gift card: {detail}")
    return max(candidates, key=lambda offer: offer.reward)


def _merchant(ctx: RequestContext, slug: str) -> Merchant:
    merchant = ctx.state.merchant_by_slug(slug)
    if merchant is None:
        raise not_found("merchant", slug)
    return merchant


@operation("getMerchants")
def get_merchants(
    ctx: RequestContext,
    *,
    name: str | None = None,
    paginate: dict[str, Any] | None = None,
    offer_types: dict[str, Any] | None = None,
) -> list[Merchant]:
    wanted: set[str] = set()
    if offer_types and offer_types.get("gift_card_offer"):
        wanted |= {"GIFT_CARD_OFFER", "EXCLUSIVE_RATE_OFFER"}
    if offer_types and offer_types.get("card_linked_offer"):
        wanted.add("CARD_LINKED_OFFER")
    needle = (name or "").strip().lower()
    found = []
    for merchant in ctx.state.merchants:
        if needle and needle not in merchant.name.lower():
            continue
        if wanted:
            offers = [offer for offer in merchant.offers if offer.type in wanted]
            if not offers:
                continue
            if len(offers) != len(merchant.offers):
                merchant = dataclasses.replace(merchant, offers=offers)
        found.append(merchant)
    return page(found, paginate, "getMerchants")


@operation("getOfferQuote")
def get_offer_quote(ctx: RequestContext, *, input: dict[str, Any]) -> Offer:
    """The best offer for a merchant and denomination (schema DECISION: slug xor
    merchantSlug)."""
    exactly_one(slug=input.get("slug"), merchant_slug=input.get("merchant_slug"))
    merchant = _merchant(ctx, input.get("slug") or input["merchant_slug"])
    return best_offer(merchant, money(input["denomination"], "denomination"))


@operation("purchaseGiftCard")
def purchase_gift_card(ctx: RequestContext, *, input: dict[str, Any]) -> UserPurchase:
    """Buy a gift card: validates the offer and amount, charges the funding sources, creates
    the purchase and its gift card (details revealable after the reveal delay)."""
    state, account = ctx.state, ctx.account
    amount = money(input["amount"])
    merchant, offer = _purchase_offer(ctx, input, amount)
    reason = refusal(offer, amount)
    if reason is not None:
        raise invalid(f"{merchant.name} cannot sell this gift card: {reason}")

    source = external_source(account, input)
    if not any(card.card_status == "ACTIVE" for card in account.bank_cards):
        raise invalid("A bank card is required as a backup payment method before purchasing")
    balance_amount = input.get("balance_amount")
    from_balance = Decimal(0) if balance_amount is None else money(balance_amount, "balanceAmount")
    if from_balance > amount:
        raise invalid("balanceAmount cannot exceed amount")
    if source is None and from_balance < amount:
        if not input.get("default_to_balance", True):
            raise invalid(
                "No funding source covers the amount: give balanceAmount, bankCardId, "
                "bankAccountId or paypalVaultId, or leave defaultToBalance true"
            )
        from_balance = amount  # docs: the Fluz balance is the default fallback
    spend_account = cash_balance(account, input.get("user_cash_balance_id"))

    # Build everything first: a failure up to the debit leaves the account untouched (and
    # the idempotency key reusable); from the debit on, nothing can fail.
    reward = (amount * Decimal(str(offer.reward)) / 100).quantize(CENT)
    card = new_gift_card(
        ctx.sandbox,
        account,
        merchant,
        purchaser_user_id=ctx.user_id,
        reveal_delay=ctx.sandbox.reveal_delay(merchant),
        user_cash_balance_id=spend_account.user_cash_balance_id if from_balance else None,
    )
    kind, ident = source or ("", None)
    purchase = UserPurchase(
        purchase_id=state.new_id(),
        purchase_display_id=state.next_display_id("GC"),
        user_id=ctx.user_id,
        account_id=account.account_id,
        purchase_amount=amount,
        fluzpay_amount=from_balance,
        seat_reward_value=reward,
        created_at=card.created_at,
        purchase_bank_card_id=ident if kind == "bank_card_id" else None,
        bank_account_id=ident if kind == "bank_account_id" else None,
        paypal_vault_id=ident if kind == "paypal_vault_id" else None,
        gift_card=card,
        memo=input.get("memo"),
        transaction_category=input.get("transaction_category"),
    )
    debit(spend_account, from_balance, "Fluz balance")  # BAL-0001 before any change

    # Committed from here on: nothing below can fail.
    if offer.stock is not None:
        offer.stock[amount] -= 1
    account.rewards.credit(reward)
    transaction = record(
        ctx, account, "GIFT_CARD_PURCHASE", amount, cashback=reward, annotations=input
    )
    purchase.attachment_url = transaction.attachment_url
    account.gift_cards[card.gift_card_id] = card
    account.purchases.append(purchase)
    ctx.counters.purchases += 1
    return purchase


def new_gift_card(
    sandbox: Sandbox,
    account: Account,
    merchant: Merchant,
    *,
    purchaser_user_id: str,
    reveal_delay: float,
    user_cash_balance_id: str | None,
) -> GiftCard:
    """A new ACTIVE card of *merchant* for *account* (not yet added to it), revealable
    *reveal_delay* seconds from now, with the merchant's kind of redemption details."""
    state = sandbox.state
    created = sandbox.clock.datetime()
    card = GiftCard(
        gift_card_id=state.new_id(),
        purchaser_user_id=purchaser_user_id,
        account_id=account.account_id,
        merchant=merchant,
        created_at=created,
        end_date=created + GIFT_CARD_LIFETIME,
        ready_at=sandbox.clock.now() + reveal_delay,
        user_cash_balance_id=user_cash_balance_id,
    )
    prefix = sandbox.options.canary_prefix
    if merchant.redemption == "url":
        card.url = f"https://sandbox.fluz.invalid/redeem/{prefix}{state.new_hex(24)}"
    elif merchant.redemption == "code":
        card.code = prefix + "".join(state.rng.choice(ALPHANUMERIC) for _ in range(16))
    else:
        card.code, card.pin = prefix + state.digits(16), prefix + state.digits(4)
    return card


def _purchase_offer(
    ctx: RequestContext, data: dict[str, Any], amount: Decimal
) -> tuple[Merchant, Offer]:
    """The offer a purchase uses: offerId xor merchantSlug, optionally an exclusive rate."""
    exactly_one(offer_id=data.get("offer_id"), merchant_slug=data.get("merchant_slug"))
    exclusive = data.get("exclusive_rate_id")
    offer: Offer | None = None
    if data.get("offer_id"):
        found = ctx.state.offer(data["offer_id"])
        if found is None:
            raise not_found("offerId", data["offer_id"])
        merchant, offer = found
        if not offer.purchasable:
            raise invalid("Card-linked offers cannot be purchased as gift cards")
    else:
        merchant = _merchant(ctx, data["merchant_slug"])
    if exclusive:
        chosen = next((o for o in merchant.offers if o.exclusive_rate_id == exclusive), None)
        if chosen is None or (offer is not None and offer is not chosen):
            raise invalid(
                f"exclusiveRateId {exclusive} is not an exclusive rate of {merchant.name}"
            )
        return merchant, chosen
    return merchant, offer if offer is not None else best_offer(merchant, amount)


@operation("getGiftCards")
def get_gift_cards(
    ctx: RequestContext,
    *,
    status: list[str] | None = None,
    user_cash_balance_id: str | None = None,
    paginate: dict[str, Any] | None = None,
) -> list[GiftCard]:
    cards = [
        card
        for card in newest_first(ctx.account.gift_cards.values())
        if (not status or card.status in status)
        and (user_cash_balance_id is None or card.user_cash_balance_id == user_cash_balance_id)
    ]
    return page(cards, paginate, "getGiftCards")


@operation("getUserPurchases")
def get_user_purchases(
    ctx: RequestContext,
    *,
    paginate: dict[str, Any] | None = None,
    filter: dict[str, Any] | None = None,
) -> list[UserPurchase]:
    """Docs: no scope filter = the token user's purchases on all accounts; TOKEN_ACCOUNT =
    the token's account; TOKEN_USER = the token user (both = the user on the account)."""
    scopes = set((filter or {}).get("scope") or ())
    account_id = ctx.account.account_id
    purchases = [
        purchase
        for account in ctx.state.accounts.values()
        for purchase in account.purchases
        if ("TOKEN_ACCOUNT" not in scopes or purchase.account_id == account_id)
        and ((scopes == {"TOKEN_ACCOUNT"}) or purchase.user_id == ctx.user_id)
    ]
    return page(newest_first(purchases), paginate, "getUserPurchases")


@operation("revealGiftCardByGiftCardId")
def reveal_gift_card(ctx: RequestContext, *, gift_card_id: str) -> dict[str, str | None]:
    """Code/pin/url of a card of the caller's account. Until the card's reveal delay has
    passed all three are null (schema DECISION: "not ready yet", not an error)."""
    card = ctx.account.gift_cards.get(gift_card_id)
    if card is None:
        raise not_found("giftCardId", gift_card_id)
    # One clock read: the instant recorded for the poll is the one readiness is judged on
    # (the soak's exact check compares the two; reading twice let a poll be recorded just
    # before readiness yet answered just after it).
    now = ctx.now
    ctx.counters.reveal_polls[card.gift_card_id] += 1
    ctx.counters.reveal_poll_times[card.gift_card_id].append(now)
    if now < card.ready_at:
        return {"code": None, "pin": None, "url": None}
    return {"code": card.code, "pin": card.pin, "url": card.url}


@operation("getReferralUrl")
def get_referral_url(ctx: RequestContext, *, input: dict[str, Any] | None = None) -> str:
    """Docs: https://fluz.app/referred-by/{code}, or the merchant's store page with
    ?referred_by={code}; the merchant is matched by id, then slug, then name."""
    code = ctx.account.referral_code
    data = input or {}
    if not any(data.get(key) for key in ("id", "slug", "name")):
        return f"https://fluz.app/referred-by/{code}"
    merchants = ctx.state.merchants
    if data.get("id"):
        merchant = next((m for m in merchants if m.merchant_id == data["id"]), None)
    elif data.get("slug"):
        merchant = next((m for m in merchants if m.slug == data["slug"]), None)
    else:
        wanted = data["name"].strip().lower()
        merchant = next((m for m in merchants if m.name.lower() == wanted), None)
    if merchant is None:
        raise invalid("No merchant matches the given id, slug or name")
    return f"https://fluz.app/store/{merchant.slug}?referred_by={code}"
