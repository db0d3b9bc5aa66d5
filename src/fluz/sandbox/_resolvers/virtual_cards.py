"""Virtual cards: offers and BINs, single and bulk creation, edits, locks, reveal."""

from __future__ import annotations

import base64
import calendar
from datetime import date
from decimal import Decimal
from typing import Any

from .._config import MIN_VIRTUAL_CARD_SPEND_LIMIT
from .._core import RequestContext
from .._errors import ADDRESS_PENDING_APPROVAL, SandboxError, invalid
from .._state import (
    Account,
    AuthorizedUser,
    BulkOrder,
    UserAddress,
    UserPurchase,
    VirtualCard,
    VirtualCardAuthorizationSetting,
)
from ._common import at_most_one, bank_account, cash_balance, money, operation, record
from .wallet import luhn_valid, new_address, saved_address

DEFAULT_LOCK_MONTHS = 47  # docs: lockDate defaults to 47 months ahead
PROGRAM_LIMIT_BY_DURATION = {
    "DAILY": "daily_limit",
    "WEEKLY": "weekly_limit",
    "MONTHLY": "monthly_limit",
}
MAX_BULK_CARDS = 100


@operation("getBINs")
def get_bins(ctx: RequestContext) -> list[dict[str, Any]]:
    return ctx.state.bins


@operation("getVirtualCardOffers")
def get_virtual_card_offers(
    ctx: RequestContext, *, input: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    wanted = input or {}
    offers = [
        offer
        for offer in ctx.state.virtual_card_offers
        if (
            wanted.get("card_brand_locked") is None
            or offer["brand_locked"] == wanted["card_brand_locked"]
        )
        and (wanted.get("card_type") is None or offer["card_type"] == wanted["card_type"])
        and (wanted.get("card_network") is None or offer["card_network"] == wanted["card_network"])
    ]
    return sorted(offers, key=lambda offer: Decimal(offer["reward_value"]), reverse=True)


def virtual_card_offer(ctx: RequestContext, offer_id: str | None) -> dict[str, Any]:
    if not offer_id:
        raise invalid("offerId is required (see getVirtualCardOffers)")
    offer = next((o for o in ctx.state.virtual_card_offers if o["offer_id"] == offer_id), None)
    if offer is None:
        raise invalid(f"offerId {offer_id} is not a virtual-card offer (see getVirtualCardOffers)")
    return offer


def _spend_limit(value: float | None, duration: str, offer: dict[str, Any]) -> Decimal:
    """Docs: at least $5, at most 2 decimals, within the program limit for the duration."""
    limit = money(value, "spendLimit", Decimal(MIN_VIRTUAL_CARD_SPEND_LIMIT))
    key = PROGRAM_LIMIT_BY_DURATION.get(duration)
    ceiling = offer["program_limits"][key] if key else None
    if ceiling is not None and limit > Decimal(ceiling):
        raise invalid(f"spendLimit exceeds the program's {duration.lower()} limit {ceiling}")
    return limit


def _lock_date(value: str | None, today: date) -> date:
    if value is None:
        months = today.month - 1 + DEFAULT_LOCK_MONTHS
        year, month = today.year + months // 12, months % 12 + 1
        return date(year, month, min(today.day, calendar.monthrange(year, month)[1]))
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise invalid("lockDate must be a date in yyyy-mm-dd format") from None
    if parsed <= today:
        raise invalid("lockDate must be in the future")
    return parsed


def _auth_user(account: Account, ident: str) -> AuthorizedUser:
    found = next((u for u in account.authorized_users if u.auth_user_id == ident), None)
    if found is None or found.status != "ACTIVE" or "OWNER" in found.roles:
        raise invalid(f"authUserId {ident} is not an ACTIVE authorized user (OWNER excluded)")
    return found


def _card_number(ctx: RequestContext, bin_number: str) -> str:
    partial = bin_number + ctx.state.digits(15 - len(bin_number))
    return next(partial + d for d in "0123456789" if luhn_valid(partial + d))


def _new_card(
    ctx: RequestContext,
    account: Account,
    offer: dict[str, Any],
    settings: dict[str, Any],
    holder: str,
    address: UserAddress | None,
) -> VirtualCard:
    """A card from validated settings (spend_limit, duration, lock_date, funding...)."""
    state = ctx.state
    card_id = state.new_id()
    lock_date: date = settings["lock_date"]
    card = VirtualCard(
        virtual_card_id=card_id,
        user_id=ctx.user_id,
        account_id=account.account_id,
        offer_id=offer["offer_id"],
        cardholder_name=holder,
        card_number=_card_number(ctx, offer["bin"]),
        cvv=state.digits(3),
        expiry_month=f"{lock_date.month:02d}",
        expiry_year=str(lock_date.year),
        created_at=ctx.sandbox.clock.datetime(),
        authorization_setting=VirtualCardAuthorizationSetting(
            virtual_card_asa_settings_id=state.new_id(),
            virtual_card_id=card_id,
            lock_date=lock_date.isoformat(),
            spend_limit=settings["spend_limit"],
            spend_limit_duration=settings["duration"],
            lock_card_next_use=bool(settings.get("lock_card_next_use")),
            card_nickname=settings.get("card_nickname"),
        ),
        primary_funding_source=settings["funding"],
        bank_account_id=settings.get("bank_account_id"),
        user_cash_balance_id=settings.get("user_cash_balance_id"),
        billing_address=address,
    )
    account.virtual_cards.append(card)
    return card


def _settings(
    ctx: RequestContext, account: Account, offer: dict[str, Any], data: dict[str, Any]
) -> dict[str, Any]:
    duration = data.get("spend_limit_duration") or "LIFETIME"
    funding = data.get("primary_funding_source") or "FLUZ_BALANCE"
    settings = {
        "spend_limit": _spend_limit(data.get("spend_limit"), duration, offer),
        "duration": duration,
        "lock_date": _lock_date(data.get("lock_date"), ctx.sandbox.clock.datetime().date()),
        "lock_card_next_use": data.get("lock_card_next_use"),
        "card_nickname": data.get("card_nickname"),
        "funding": funding,
    }
    if funding == "BANK_ACCOUNT":
        if not data.get("bank_account_id"):
            raise invalid("bankAccountId is required when primaryFundingSource is BANK_ACCOUNT")
        settings["bank_account_id"] = bank_account(account, data["bank_account_id"]).bank_account_id
    else:
        spend = cash_balance(account, data.get("user_cash_balance_id"))
        settings["user_cash_balance_id"] = spend.user_cash_balance_id
    return settings


def _default_address(ctx: RequestContext, account: Account) -> UserAddress | None:
    return next((a for a in account.addresses if a.approved_at <= ctx.now), None)


@operation("createVirtualCard")
def create_virtual_card(ctx: RequestContext, *, input: dict[str, Any]) -> VirtualCard:
    """A card for the caller or an ACTIVE authorized user. VC-0020 (with
    ``extensions.addressId``) while the billing address awaits the issuer's approval:
    retry with that id as userAddressId once approved (after the issuer delay)."""
    account = ctx.account
    offer = virtual_card_offer(ctx, input.get("offer_id"))
    settings = _settings(ctx, account, offer, input)
    holder = f"{account.user.first_name} {account.user.last_name}"
    auth_user = None
    if input.get("auth_user_id"):
        auth_user = _auth_user(account, input["auth_user_id"])
        holder = f"{auth_user.first_name or ''} {auth_user.last_name or ''}".strip() or holder
    which = at_most_one(
        user_address_id=input.get("user_address_id"), billing_address=input.get("billing_address")
    )
    if which == "user_address_id":
        address: UserAddress | None = saved_address(account, input["user_address_id"])
    elif which == "billing_address":
        delay = ctx.sandbox.options.issuer_delay if auth_user else 0.0
        address = new_address(ctx, input["billing_address"], approved_at=ctx.now + delay)
    else:
        address = _default_address(ctx, account)
    if address is not None and address.approved_at > ctx.now:
        raise SandboxError(
            ADDRESS_PENDING_APPROVAL,
            "The billing address is pending approval by the card issuer; retry with "
            "extensions.addressId as userAddressId once it is approved",
            addressId=address.user_address_id,
        )
    card = _new_card(ctx, account, offer, settings, holder, address)
    amount = settings["spend_limit"]
    # Docs: creating a card counts as a purchase (cards appear via getUserPurchases).
    account.purchases.append(
        UserPurchase(
            purchase_id=ctx.state.new_id(),
            purchase_display_id=ctx.state.next_display_id("VC"),
            user_id=ctx.user_id,
            account_id=account.account_id,
            purchase_amount=amount,
            fluzpay_amount=Decimal(0),
            seat_reward_value=Decimal(0),
            created_at=card.created_at,
            virtual_card=card,
            memo=input.get("memo"),
            transaction_category=input.get("transaction_category"),
        )
    )
    record(ctx, account, "VIRTUAL_CARD", amount, annotations=input)
    return card


@operation("createVirtualCardBulkOrder")
def create_virtual_card_bulk_order(ctx: RequestContext, *, input: dict[str, Any]) -> dict[str, Any]:
    """Validates every item now; the cards exist once the issuer delay has passed."""
    account = ctx.account
    offer = virtual_card_offer(ctx, input["offer_id"])
    items = input["order_items"]
    if not items:
        raise invalid("orderItems must not be empty")
    if any(item["quantity"] < 1 for item in items):
        raise invalid("quantity must be at least 1")
    if sum(item["quantity"] for item in items) > MAX_BULK_CARDS:
        raise invalid(f"A bulk order holds at most {MAX_BULK_CARDS} cards")
    validated = [
        {**_settings(ctx, account, offer, item), "quantity": item["quantity"]} for item in items
    ]
    raw = f"{ctx.state.new_id()}|{ctx.state.new_id()}"
    order_id = base64.b64encode(raw.encode()).decode()  # docs: base64("uuid|uuid")
    account.bulk_orders[order_id] = BulkOrder(
        order_id=order_id,
        account_id=account.account_id,
        offer_id=offer["offer_id"],
        items=validated,
        ready_at=ctx.now + ctx.sandbox.options.issuer_delay,
    )
    return {"order_id": order_id, "order_status": "PENDING"}


@operation("getVirtualCardBulkOrderStatus")
def get_virtual_card_bulk_order_status(
    ctx: RequestContext, *, input: dict[str, Any]
) -> dict[str, Any]:
    account = ctx.account
    order = account.bulk_orders.get(input["order_id"])
    if order is None:
        raise invalid(f"orderId {input['order_id']} was not found")
    if not order.completed and ctx.now >= order.ready_at:
        offer = virtual_card_offer(ctx, order.offer_id)
        holder = f"{account.user.first_name} {account.user.last_name}"
        address = _default_address(ctx, account)
        for item in order.items:
            for _ in range(item["quantity"]):
                order.virtual_cards.append(_new_card(ctx, account, offer, item, holder, address))
        order.completed = True
    total = sum(item["quantity"] for item in order.items)
    return {
        "order_id": order.order_id,
        "order_status": "COMPLETED" if order.completed else "PENDING",
        "virtual_cards": order.virtual_cards if order.completed else [],
        "successful_card_creations": len(order.virtual_cards),
        "failed_card_creations": 0,
        "total_cards": total,
    }


@operation("addVirtualCardAddress")
def add_virtual_card_address(ctx: RequestContext, *, input: dict[str, Any]) -> UserAddress:
    """A billing address; for an authorized user's cards it awaits issuer approval."""
    delay = 0.0
    if input.get("auth_user_id"):
        _auth_user(ctx.account, input["auth_user_id"])
        delay = ctx.sandbox.options.issuer_delay
    return new_address(ctx, input["billing_address"], approved_at=ctx.now + delay)


def _card(ctx: RequestContext, ident: str) -> VirtualCard:
    card = next((c for c in ctx.account.virtual_cards if c.virtual_card_id == ident), None)
    if card is None:
        raise invalid(f"virtualCardId {ident} was not found")
    if card.status == "INACTIVE":
        raise invalid(f"virtual card {ident} is inactive")
    return card


@operation("editVirtualCard")
def edit_virtual_card(ctx: RequestContext, *, input: dict[str, Any]) -> VirtualCard:
    card = _card(ctx, input["virtual_card_id"])
    setting = card.authorization_setting
    offer = virtual_card_offer(ctx, card.offer_id)
    duration = input.get("spend_limit_duration") or setting.spend_limit_duration
    limit = input.get("spend_limit")
    spend_limit = _spend_limit(
        float(setting.spend_limit) if limit is None else limit, duration, offer
    )
    today = ctx.sandbox.clock.datetime().date()
    lock_date = _lock_date(input["lock_date"], today) if input.get("lock_date") else None
    funding = input.get("primary_funding_source")
    if funding == "BANK_ACCOUNT":
        if not input.get("bank_account_id"):
            raise invalid("bankAccountId is required when primaryFundingSource is BANK_ACCOUNT")
        bank_account(ctx.account, input["bank_account_id"])
    # Validated: apply.
    setting.spend_limit, setting.spend_limit_duration = spend_limit, duration
    if lock_date is not None:
        setting.lock_date = lock_date.isoformat()
    if input.get("lock_card_next_use") is not None:
        setting.lock_card_next_use = input["lock_card_next_use"]
    if input.get("card_nickname") is not None:
        setting.card_nickname = input["card_nickname"]
    if funding is not None:
        card.primary_funding_source = funding
        card.bank_account_id = input.get("bank_account_id") if funding == "BANK_ACCOUNT" else None
    return card


@operation("lockVirtualCard")
def lock_virtual_card(ctx: RequestContext, *, input: dict[str, Any]) -> dict[str, Any]:
    card = _card(ctx, input["virtual_card_id"])
    card.status = "LOCKED"
    card.authorization_setting.locked_by_user = True
    return {"virtual_card_id": card.virtual_card_id, "locked": True}


@operation("unlockVirtualCard")
def unlock_virtual_card(ctx: RequestContext, *, input: dict[str, Any]) -> dict[str, Any]:
    card = _card(ctx, input["virtual_card_id"])
    card.status = "ACTIVE"
    card.authorization_setting.locked_by_user = False
    return {"virtual_card_id": card.virtual_card_id, "unlocked": True}


@operation("revealVirtualCardByVirtualCardId")
def reveal_virtual_card(ctx: RequestContext, *, virtual_card_id: str) -> VirtualCard:
    return _card(ctx, virtual_card_id)
