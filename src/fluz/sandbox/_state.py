"""The sandbox's in-memory world: accounts, money, catalog, purchases, cards.

Objects here are also the GraphQL source objects: the executable schema maps each camelCase
field to the snake_case attribute of the same name (ariadne's name conversion), so a
dataclass field ``gift_card_id`` answers ``giftCardId``. Amounts are ``Decimal``; fields the
schema types as String are formatted by properties ("100.00", "6.00000" as the docs show).
Fake secrets (gift-card codes, card numbers, CVVs) are kept out of reprs.

Everything is mutated only on the server's event-loop thread.
"""

from __future__ import annotations

import base64
import random
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

CENT = Decimal("0.01")
ZERO = Decimal(0)

Redemption = Literal["code_pin", "code", "url"]


def fmt2(amount: Decimal) -> str:
    return str(amount.quantize(CENT))


def fmt5(amount: Decimal) -> str:
    return str(amount.quantize(Decimal("0.00001")))


class Clock:
    """Wall-clock time plus an offset that tests advance to expire tokens or skip delays."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def datetime(self, at: float | None = None) -> datetime:
        return datetime.fromtimestamp(self.now() if at is None else at, UTC)


# -- identity ---------------------------------------------------------------------------------


@dataclass
class App:
    app_id: str
    app_secret: str = field(repr=False)
    name: str
    scopes: frozenset[str]
    operator_account_id: str  # Basic auth acts as this account ("the app's operator account")

    @property
    def api_key(self) -> str:
        return base64.b64encode(f"{self.app_id}:{self.app_secret}".encode()).decode()


@dataclass
class User:
    user_id: str
    first_name: str
    last_name: str
    email: str
    phone: str


@dataclass
class Seat:
    seat_id: str
    seat_name: str


@dataclass
class Business:
    business_id: str
    business_name: str
    dba_name: str | None = None


@dataclass
class RefreshGrant:
    app_id: str
    user_id: str
    account_id: str
    seat_id: str | None
    scopes: tuple[str, ...]
    expires_at: float


# -- money ------------------------------------------------------------------------------------


@dataclass
class Balance:
    """RewardsBalance / CashBalance of the schema: amounts as 2-decimal strings."""

    available: Decimal = ZERO
    pending: Decimal = ZERO
    lifetime: Decimal = ZERO

    def credit(self, amount: Decimal) -> None:
        self.available += amount
        self.lifetime += amount

    @property
    def available_balance(self) -> str:
        return fmt2(self.available)

    @property
    def pending_balance(self) -> str:
        return fmt2(self.pending)

    @property
    def total_balance(self) -> str:
        return fmt2(self.available + self.pending)

    @property
    def lifetime_balance(self) -> str:
        return fmt2(self.lifetime)


@dataclass
class UserCashBalance:
    """A spend account; the default one is "the Fluz balance" purchases debit."""

    user_cash_balance_id: str
    nickname: str
    created_at: datetime
    is_default: bool = False
    status: str = "ACTIVE"
    closed_at: datetime | None = None
    available: Decimal = ZERO
    lifetime: Decimal = ZERO
    # The last copy balances_view took: shared while the balance is unchanged (see there).
    snapshot: UserCashBalance | None = field(default=None, compare=False, repr=False)

    def credit(self, amount: Decimal) -> None:
        self.available += amount
        self.lifetime += amount

    @property
    def total_cash_balance(self) -> str:
        return fmt2(self.available)

    @property
    def available_cash_balance(self) -> str:
        return fmt2(self.available)

    @property
    def lifetime_cash_balance(self) -> str:
        return fmt2(self.lifetime)


@dataclass
class BankCard:
    bank_card_id: str
    owner_account_id: str
    added_user_id: str
    cardholder_name: str
    last_four_digits: str
    expiration_month: str
    expiration_year: str
    card_processor: str
    billing_address_id: str | None
    card_type: str = "DEBIT"
    card_status: str = "ACTIVE"
    nickname: str | None = None
    preferred_merchant_category_code: str | None = None

    @property
    def status(self) -> str:
        return self.card_status


@dataclass
class BankAccount:
    bank_account_id: str
    account_id: str
    account_name: str
    last_four: str
    platform_item_id: str
    bank_institution_auth_id: str
    bank_name: str
    ach_routing: str = "021000021"
    type: str = "CHECKING"
    status: str = "ENABLED"
    auth_charge_backup_payment_method: bool = True
    billing_address_id: str | None = None
    nickname: str | None = None
    balance: Decimal = Decimal("5000.00")  # what Plaid last reported
    pending_transactions: Decimal = ZERO
    balance_updated_at: datetime | None = None

    @property
    def subtype(self) -> str:
        return self.type.lower()


@dataclass
class Paypal:
    paypal_vault_id: str
    user_id: str
    email: str
    status: str = "ACTIVE"


@dataclass
class UserAddress:
    user_address_id: str
    street_address_line_1: str
    country: str
    city: str
    state: str
    postal_code: str
    street_address_line_2: str | None = None
    approved_at: float = 0.0  # the card issuer approves it then (VC-0020 before)

    @property
    def street_address(self) -> str:
        return " ".join(filter(None, (self.street_address_line_1, self.street_address_line_2)))


# -- catalog ----------------------------------------------------------------------------------


@dataclass
class OfferRate:
    max_user_reward_value: float
    denominations: list[str]
    cashback_voucher_reward_value: float = 0.0
    boost_reward_value: float = 0.0
    display_boost_reward: bool = False
    allowed_payment_methods: list[str] = field(
        default_factory=lambda: ["CREDIT_CARD", "DEBIT_CARD", "BANK_ACCOUNT", "FLUZPAY"]
    )


@dataclass
class StockInfoFixedType:
    denomination: str
    available_stock: str


@dataclass
class StockInfoVariableType:
    description: str
    min_denomination: str
    max_denomination: str


@dataclass
class Offer:
    offer_id: str
    offering_merchant_id: str
    type: str  # GIFT_CARD_OFFER | EXCLUSIVE_RATE_OFFER | CARD_LINKED_OFFER
    reward: float  # percent of the amount credited as rewards
    denominations_type: str | None = None  # FIXED | VARIABLE
    fixed: list[Decimal] = field(default_factory=list)
    minimum: Decimal = ZERO
    maximum: Decimal = ZERO
    stock: dict[Decimal, int] | None = None  # FIXED with stock info: denomination -> count
    has_stock_info: bool = False
    exclusive_rate_id: str | None = None
    clo_details: dict[str, Any] | None = None

    @property
    def offer_rates(self) -> list[OfferRate]:
        if self.denominations_type == "FIXED":
            denominations = [fmt_plain(d) for d in self.fixed]
        elif self.denominations_type == "VARIABLE":
            denominations = [fmt_plain(self.minimum), fmt_plain(self.maximum)]
        else:
            denominations = []
        return [OfferRate(max_user_reward_value=self.reward, denominations=denominations)]

    @property
    def stock_info(self) -> list[StockInfoFixedType | StockInfoVariableType] | None:
        """Docs: only when hasStockInfo; FIXED lists the denominations in stock."""
        if not self.has_stock_info:
            return None
        if self.denominations_type == "VARIABLE":
            low, high = fmt_plain(self.minimum), fmt_plain(self.maximum)
            return [
                StockInfoVariableType(
                    f"Available denominations range from ${low} to ${high}", low, high
                )
            ]
        return [
            StockInfoFixedType(fmt_plain(value), str(count))
            for value, count in (self.stock or {}).items()
            if count > 0
        ]

    @property
    def purchasable(self) -> bool:
        return self.type != "CARD_LINKED_OFFER"


def fmt_plain(amount: Decimal) -> str:
    """Denominations as the docs print them: "10", "12.5"."""
    return format(amount.normalize(), "f")


@dataclass
class Merchant:
    merchant_id: str
    name: str
    slug: str
    offers: list[Offer]
    redemption: Redemption = "code_pin"


# -- purchases and cards ----------------------------------------------------------------------


@dataclass
class GiftCard:
    gift_card_id: str
    purchaser_user_id: str
    account_id: str
    merchant: Merchant
    created_at: datetime
    end_date: datetime
    ready_at: float  # sandbox clock time when the details can be revealed
    user_cash_balance_id: str | None
    code: str | None = field(default=None, repr=False)
    pin: str | None = field(default=None, repr=False)
    url: str | None = field(default=None, repr=False)
    status: str = "ACTIVE"

    @property
    def terms_and_conditions(self) -> str:
        return f"Sandbox gift card for {self.merchant.name}. Not redeemable anywhere."


@dataclass
class VirtualCardAuthorizationSetting:
    virtual_card_asa_settings_id: str
    virtual_card_id: str
    lock_date: str
    spend_limit: Decimal
    spend_limit_duration: str
    lock_card_next_use: bool = False
    card_nickname: str | None = None
    locked_by_user: bool = False
    tokenized: bool = False

    def _limit(self, duration: str) -> float | None:
        return float(self.spend_limit) if duration == self.spend_limit_duration else None

    @property
    def daily_spend_limit(self) -> float | None:
        return self._limit("DAILY")

    @property
    def weekly_spend_limit(self) -> float | None:
        return self._limit("WEEKLY")

    @property
    def monthly_spend_limit(self) -> float | None:
        return self._limit("MONTHLY")

    @property
    def annual_spend_limit(self) -> float | None:
        return self._limit("ANNUAL")

    @property
    def lifetime_spend_limit(self) -> float | None:
        return self._limit("LIFETIME")

    daily_spent = weekly_spent = monthly_spent = annual_spent = lifetime_spent = 0.0


@dataclass
class VirtualCard:
    virtual_card_id: str
    user_id: str
    account_id: str
    offer_id: str
    cardholder_name: str
    card_number: str = field(repr=False)
    cvv: str = field(repr=False)
    expiry_month: str
    expiry_year: str
    created_at: datetime
    authorization_setting: VirtualCardAuthorizationSetting
    primary_funding_source: str = "FLUZ_BALANCE"
    bank_account_id: str | None = None
    user_cash_balance_id: str | None = None
    billing_address: UserAddress | None = None
    status: str = "ACTIVE"
    card_type: str = "MULTI_USE"
    used_amount: float = 0.0

    @property
    def virtual_card_last_4(self) -> str:
        return self.card_number[-4:]

    @property
    def initial_amount(self) -> float:
        return float(self.authorization_setting.spend_limit)

    @property
    def expiry_mmyy(self) -> str:
        return self.expiry_month + self.expiry_year[-2:]

    @property
    def card_holder_name(self) -> str:
        return self.cardholder_name


@dataclass
class BulkOrder:
    order_id: str
    account_id: str
    offer_id: str
    items: list[dict[str, Any]]
    ready_at: float
    virtual_cards: list[VirtualCard] = field(default_factory=list)
    completed: bool = False


@dataclass
class UserPurchase:
    purchase_id: str
    purchase_display_id: str
    user_id: str
    account_id: str
    purchase_amount: Decimal
    fluzpay_amount: Decimal
    seat_reward_value: Decimal
    created_at: datetime
    purchase_bank_card_id: str | None = None
    bank_account_id: str | None = None
    paypal_vault_id: str | None = None
    gift_card: GiftCard | None = None
    virtual_card: VirtualCard | None = None
    memo: str | None = None
    transaction_category: str | None = None
    attachment_url: str | None = None


@dataclass
class Transaction:
    record_id: str
    transaction_type: str
    amount: Decimal
    created_at: datetime
    connected_app_id: str
    connected_app_name: str
    status: str = "COMPLETED"
    channel: str = "API"
    cashback: Decimal = ZERO
    fee: Decimal = ZERO
    memo: str | None = None
    transaction_category: str | None = None
    attachment_id: str | None = None

    @property
    def attachment_url(self) -> str | None:
        if self.attachment_id is None:
            return None
        return f"https://sandbox.fluz.invalid/attachments/{self.attachment_id}?signature=sandbox"


@dataclass
class AuthorizedUser:
    auth_user_id: str
    roles: list[str]
    status: str
    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None


@dataclass
class ApprovalRequest:
    approval_id: str
    approval_type: str
    approval_code: int
    message_id: str
    created_at: datetime
    status: str = "PENDING"


@dataclass
class Account:
    """An account (GraphQL ``Account``) and everything that belongs to it."""

    account_id: str
    type: str
    account_name: str
    user: User
    seats: list[Seat]
    referral_code: str
    business: Business | None = None
    cash_balances: list[UserCashBalance] = field(default_factory=list)
    rewards: Balance = field(default_factory=Balance)
    gift_card_balance: Balance = field(default_factory=Balance)
    reserve: Decimal = ZERO
    bank_cards: list[BankCard] = field(default_factory=list)
    bank_accounts: list[BankAccount] = field(default_factory=list)
    paypal_accounts: list[Paypal] = field(default_factory=list)
    addresses: list[UserAddress] = field(default_factory=list)
    purchases: list[UserPurchase] = field(default_factory=list)
    gift_cards: dict[str, GiftCard] = field(default_factory=dict)  # by id: reveals poll a lot
    transactions: list[Transaction] = field(default_factory=list)
    virtual_cards: list[VirtualCard] = field(default_factory=list)
    bulk_orders: dict[str, BulkOrder] = field(default_factory=dict)
    authorized_users: list[AuthorizedUser] = field(default_factory=list)
    approvals: list[ApprovalRequest] = field(default_factory=list)
    plaid_transactions: list[dict[str, Any]] = field(default_factory=list)
    disconnected_items: list[str] = field(default_factory=list)

    @property
    def default_cash_balance(self) -> UserCashBalance:
        return next(b for b in self.cash_balances if b.is_default)


@dataclass
class Counters:
    """What tests and the soak run assert on; read through ``SandboxServer.counters()``."""

    requests: int = 0
    requests_by_operation: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    tokens_minted: int = 0
    token_refreshes: int = 0
    purchases: int = 0
    reveal_polls: Counter[str] = field(default_factory=Counter)
    reveal_poll_times: defaultdict[str, list[float]] = field(
        default_factory=lambda: defaultdict(list)
    )
    oauth_authorizations: int = 0  # codes issued by /authorize
    oauth_exchanges: int = 0  # successful /token/exchange
    oauth_refreshes: int = 0  # successful /token/refresh


@dataclass
class SandboxState:
    """The whole world of one sandbox, rebuilt from the seed by ``reset``."""

    seed: int
    rng: random.Random
    app: App
    users: dict[str, User]
    accounts: dict[str, Account]
    main_account_id: str
    merchants: list[Merchant]
    virtual_card_offers: list[dict[str, Any]]
    bins: list[dict[str, Any]]
    mccs: list[dict[str, str]]
    ids: dict[str, str]  # named seed ids surfaced to tests (SeedData)
    refresh_grants: dict[str, RefreshGrant] = field(default_factory=dict)
    display_counter: int = 1000

    def new_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def new_hex(self, chars: int) -> str:
        return f"{self.rng.getrandbits(chars * 4):0{chars}x}"

    def digits(self, count: int) -> str:
        return "".join(str(self.rng.randrange(10)) for _ in range(count))

    def next_display_id(self, prefix: str) -> str:
        self.display_counter += 1
        return f"{prefix}-{self.display_counter}"

    def account(self, account_id: str) -> Account | None:
        return self.accounts.get(account_id)

    def offer(self, offer_id: str) -> tuple[Merchant, Offer] | None:
        for merchant in self.merchants:
            for offer in merchant.offers:
                if offer.offer_id == offer_id:
                    return merchant, offer
        return None

    def merchant_by_slug(self, slug: str) -> Merchant | None:
        return next((m for m in self.merchants if m.slug == slug), None)
