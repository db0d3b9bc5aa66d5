"""The deterministic starting world of a sandbox: same seed, same ids, credentials, catalog."""

from __future__ import annotations

import math
import random
from datetime import timedelta
from decimal import Decimal
from typing import Any

from ._auth import GRANTED_SCOPES
from ._state import (
    Account,
    App,
    ApprovalRequest,
    AuthorizedUser,
    Balance,
    BankAccount,
    BankCard,
    Business,
    Clock,
    Merchant,
    Offer,
    Paypal,
    Redemption,
    SandboxState,
    Seat,
    User,
    UserAddress,
    UserCashBalance,
)

# The three sandbox virtual-card test offers the docs list, with the same ids.
VIRTUAL_CARD_OFFERS: tuple[tuple[str, str, str, str, bool], ...] = (
    ("ed669305-5e43-40a0-9a25-7a15ed174628", "Virtual Card", "VISA", "DEBIT", False),
    (
        "b23630f6-8d91-43df-84aa-a541e7691197",
        "Virtual Card - Mastercard Prepaid",
        "MASTERCARD",
        "PREPAID",
        False,
    ),
    (
        "592c394e-26cc-44ac-a145-a5f81301fe77",
        "Brand Locked Virtual Card - Mastercard Prepaid",
        "MASTERCARD",
        "PREPAID",
        True,
    ),
)
PROGRAM_LIMITS = {"daily_limit": "5000.00", "weekly_limit": "10000.00", "monthly_limit": "25000.00"}
MCCS = (
    ("5411", "Grocery Stores, Supermarkets"),
    ("5541", "Service Stations"),
    ("5732", "Electronics Stores"),
    ("5812", "Eating Places, Restaurants"),
    ("5999", "Miscellaneous and Specialty Retail Stores"),
)
FILLER_MERCHANTS = 19  # enough for the catalog to span two pages of the 20-item limit
EMAIL_DOMAIN = "example.com"  # reserved for examples (RFC 2606)


def _email(local: str) -> str:
    return local + "@" + EMAIL_DOMAIN


def build_state(seed: int, clock: Clock) -> SandboxState:
    """Create the seeded world; every id and secret comes from ``random.Random(seed)``."""
    # Reproducible by design; tokens and refresh tokens come from `secrets` instead.
    rng = random.Random(seed)  # noqa: S311
    state = SandboxState(
        seed=seed,
        rng=rng,
        app=App("", "", "", frozenset(), ""),
        users={},
        accounts={},
        main_account_id="",
        merchants=[],
        virtual_card_offers=[],
        bins=[],
        mccs=[{"code": code, "description": text} for code, text in MCCS],
        ids={},
    )
    now = clock.datetime()
    ago = now - timedelta(days=90)

    def user(first: str, last: str, email: str, phone: str) -> User:
        person = User(state.new_id(), first, last, email, phone)
        state.users[person.user_id] = person
        return person

    def account(kind: str, name: str, owner: User, cash: str, business: bool = False) -> Account:
        acct = Account(
            account_id=state.new_id(),
            type=kind,
            account_name=name,
            user=owner,
            seats=[Seat(state.new_id(), f"{owner.first_name}'s seat")],
            referral_code=state.new_hex(8).upper(),
            business=Business(state.new_id(), name) if business else None,
        )
        acct.cash_balances.append(
            UserCashBalance(state.new_id(), "Main", ago, is_default=True, available=Decimal(cash))
        )
        acct.cash_balances[0].lifetime = Decimal(cash)
        state.accounts[acct.account_id] = acct
        return acct

    # The user the sandbox app acts for, with a business account and a seat.
    sam = user("Sam", "Sandbox", _email("sam"), "+15555550100")
    main = account("BUSINESS", "Sandbox Business LLC", sam, "1000.00", business=True)
    assert main.business is not None
    main.business.dba_name = "Sandbox Shop"
    state.main_account_id = main.account_id
    operator = account(
        "BUSINESS",
        "Sandbox App Operator Inc",
        user("Olivia", "Operator", _email("olivia.operator"), "+15555550110"),
        "100000.00",
        business=True,
    )
    state.app = App(
        app_id=state.new_id(),
        app_secret=state.new_hex(32),
        name="Sandbox App",
        scopes=GRANTED_SCOPES,
        operator_account_id=operator.account_id,
    )
    recipient = account(
        "CONSUMER",
        "Rita Recipient",
        user("Rita", "Recipient", _email("rita"), "+15555550101"),
        "0",
    )
    for last in ("One", "Two"):  # two people sharing a phone number: lookupUser -> RC-0002
        account(
            "CONSUMER",
            f"Pat {last}",
            user("Pat", last, _email(f"pat.{last.lower()}"), "+15555550199"),
            "0",
        )
    acme = account(
        "BUSINESS",
        "Acme Supplies LLC",
        user("Alex", "Acme", _email("alex"), "+15555550120"),
        "0",
        business=True,
    )
    assert acme.business is not None
    acme.business.dba_name = "Acme"

    # Main account wallet.
    main.rewards = Balance(available=Decimal("25.00"), lifetime=Decimal("25.00"))
    main.gift_card_balance = Balance(available=Decimal("100.00"), lifetime=Decimal("100.00"))
    main.cash_balances.append(
        UserCashBalance(state.new_id(), "Marketing", ago, available=Decimal("250.00"))
    )
    main.cash_balances[1].lifetime = Decimal("250.00")
    home = UserAddress(state.new_id(), "1 Sandbox Way", "US", "Austin", "TX", "78701")
    pending = UserAddress(
        state.new_id(),
        "99 Pending Approval Rd",
        "US",
        "Austin",
        "TX",
        "78702",
        approved_at=math.inf,
    )
    main.addresses += [home, pending]
    card = BankCard(
        bank_card_id=state.new_id(),
        owner_account_id=main.account_id,
        added_user_id=sam.user_id,
        cardholder_name="Sam Sandbox",
        last_four_digits="4242",
        expiration_month="12",
        expiration_year=str(now.year + 4),
        card_processor="Visa",
        billing_address_id=home.user_address_id,
        nickname="Sandbox debit",
    )
    main.bank_cards.append(card)
    checking = BankAccount(
        bank_account_id=state.new_id(),
        account_id=main.account_id,
        account_name="Sandbox Checking",
        last_four="6789",
        platform_item_id=f"item-sandbox-{state.new_hex(12)}",
        bank_institution_auth_id=state.new_id(),
        bank_name="Sandbox Bank",
        balance_updated_at=now,
    )
    savings = BankAccount(
        bank_account_id=state.new_id(),
        account_id=main.account_id,
        account_name="Sandbox Savings",
        last_four="1111",
        platform_item_id=f"item-sandbox-{state.new_hex(12)}",
        bank_institution_auth_id=state.new_id(),
        bank_name="Sandbox Credit Union",
        type="SAVING",
        balance=Decimal("12000.00"),
        balance_updated_at=now,
    )
    main.bank_accounts += [checking, savings]
    main.disconnected_items.append(savings.platform_item_id)  # needs a Plaid relink
    paypal = Paypal(state.new_id(), sam.user_id, sam.email)
    main.paypal_accounts.append(paypal)
    spender = AuthorizedUser(
        state.new_id(), ["SPENDER"], "ACTIVE", _email("sid.spender"), None, "Sid", "Spender"
    )
    viewer = AuthorizedUser(
        state.new_id(), ["VIEWER"], "PENDING", None, "+15555550130", "Vic", "Viewer"
    )
    owner = AuthorizedUser(
        state.new_id(), ["OWNER"], "ACTIVE", sam.email, sam.phone, "Sam", "Sandbox"
    )
    main.authorized_users += [owner, spender, viewer]
    approval = ApprovalRequest(state.new_id(), "PAYOUT", 500402, state.new_id(), now)
    main.approvals.append(approval)
    main.plaid_transactions = _plaid_transactions(state, checking, now)

    state.merchants = _catalog(state)
    for offer_id, name, network, card_type, locked in VIRTUAL_CARD_OFFERS:
        bin_number = ("4" if network == "VISA" else "5") + state.digits(5)
        common = {
            "bin": bin_number,
            "bank_name": "Sandbox Issuing Bank",
            "program_limits": PROGRAM_LIMITS,
            "reward_value": "1.5",
        }
        state.bins.append(common)
        state.virtual_card_offers.append(
            {
                **common,
                "offer_id": offer_id,
                "program_name": name,
                "card_network": network,
                "card_type": card_type,
                "brand_locked": locked,
            }
        )

    state.ids.update(
        app_id=state.app.app_id,
        user_id=sam.user_id,
        account_id=main.account_id,
        seat_id=main.seats[0].seat_id,
        cash_balance_id=main.cash_balances[0].user_cash_balance_id,
        second_cash_balance_id=main.cash_balances[1].user_cash_balance_id,
        bank_card_id=card.bank_card_id,
        bank_account_id=checking.bank_account_id,
        paypal_vault_id=paypal.paypal_vault_id,
        address_id=home.user_address_id,
        pending_address_id=pending.user_address_id,
        auth_user_id=spender.auth_user_id,
        approval_id=approval.approval_id,
        operator_account_id=operator.account_id,
        recipient_account_id=recipient.account_id,
        business_account_id=acme.account_id,
    )
    return state


def _catalog(state: SandboxState) -> list[Merchant]:
    def merchant(name: str, slug: str, redemption: Redemption, *offers: dict[str, Any]) -> Merchant:
        merchant_id = state.new_id()
        built = [
            Offer(offer_id=state.new_id(), offering_merchant_id=merchant_id, **o) for o in offers
        ]
        for offer in built:
            if offer.type == "EXCLUSIVE_RATE_OFFER":
                offer.exclusive_rate_id = state.new_id()
        return Merchant(merchant_id, name, slug, built, redemption)

    def variable(low: str, high: str, reward: float, **extra: Any) -> dict[str, Any]:
        return {
            "type": "GIFT_CARD_OFFER",
            "reward": reward,
            "denominations_type": "VARIABLE",
            "minimum": Decimal(low),
            "maximum": Decimal(high),
            **extra,
        }

    def fixed(values: list[int], reward: float, **extra: Any) -> dict[str, Any]:
        return {
            "type": "GIFT_CARD_OFFER",
            "reward": reward,
            "denominations_type": "FIXED",
            "fixed": [Decimal(v) for v in values],
            **extra,
        }

    clo = {
        "type": "CARD_LINKED_OFFER",
        "reward": 10.0,
        "clo_details": {
            "current_rate_type": "REGULAR",
            "regular_rate": 10.0,
            "promo_rate": 15.0,
            "promo_base_rate": 10.0,
            "promo_max_cap": 50.0,
            "apply_promo_base_rate_after_cap": True,
            "minimum_purchase_amount": 10.0,
            "active_period_start_date": "2025-01-01",
            "active_period_end_date": "2030-12-31",
            "periods": [],
        },
    }
    merchants = [
        merchant(
            "Amazon",
            "amazon",
            "code",
            variable("1", "2000", 3.0),
            variable("25", "500", 6.0, type="EXCLUSIVE_RATE_OFFER"),
        ),
        merchant(
            "Starbucks",
            "starbucks",
            "code_pin",
            fixed(
                [10, 25, 50, 100],
                5.0,
                has_stock_info=True,
                stock={Decimal(10): 100, Decimal(25): 3, Decimal(50): 0, Decimal(100): 20},
            ),
        ),
        merchant("Target", "target", "code_pin", variable("5", "500", 2.5, has_stock_info=True)),
        merchant("Uber", "uber", "url", fixed([25, 50, 100], 4.0)),
        merchant(
            "The Home Depot",
            "home-depot",
            "code_pin",
            fixed([50, 100], 4.5),
            variable("10", "1000", 3.5),
        ),
        merchant("Local Bistro", "local-bistro", "code", clo),
    ]
    merchants += [
        merchant(
            f"Sandbox Store {n:02d}",
            f"sandbox-store-{n:02d}",
            "code",
            variable("5", "250", 1.0 + n % 5),
        )
        for n in range(1, FILLER_MERCHANTS + 1)
    ]
    return merchants


def _plaid_transactions(state: SandboxState, bank: BankAccount, now: Any) -> list[dict[str, Any]]:
    names = ("Grocer", "Coffee Bar", "Utility Co", "Payroll", "Hardware Store")
    rows = []
    for day in range(30):
        name = names[day % len(names)]
        credit = name == "Payroll"
        rows.append(
            {
                "historical_bank_transaction_id": state.new_id(),
                "platform_item_id": bank.platform_item_id,
                "bank_institution_auth_id": bank.bank_institution_auth_id,
                "bank_account_id": bank.bank_account_id,
                "transaction_id": f"txn-sandbox-{state.new_hex(10)}",
                "transaction_status": "POSTED",
                "transaction_type": "CREDIT" if credit else "DEBIT",
                "transaction_date": now - timedelta(days=day),
                "amount": 2500.0 if credit else float(state.rng.randrange(500, 9000)) / 100,
                "currency_code": "USD",
                "description": f"{name} #{state.digits(4)}",
                "merchant_name": name,
                "category": "INCOME" if credit else "GENERAL_MERCHANDISE",
                "pending": False,
            }
        )
    return rows
