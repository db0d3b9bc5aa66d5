"""The operation registry and the input rules several areas share."""

from __future__ import annotations

import copy
import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, TypeVar

from fluz_graphql.money import MoneyError, parse_money

from .._config import PAGE_LIMIT_DEFAULT, PAGE_LIMIT_MAX, PAGE_LIMIT_MAX_BY_OPERATION
from .._core import RequestContext
from .._errors import INSUFFICIENT_FUNDS, SandboxError, invalid, not_found
from .._state import (
    CENT,
    Account,
    Balance,
    BankAccount,
    BankCard,
    Paypal,
    Transaction,
    UserCashBalance,
    fmt2,
)

T = TypeVar("T")
Resolver = Callable[..., Any]

# Root field name -> resolver(ctx, **arguments). Arguments arrive snake_cased.
OPERATIONS: dict[str, Resolver] = {}


def operation(name: str) -> Callable[[Resolver], Resolver]:
    def register(resolver: Resolver) -> Resolver:
        if name in OPERATIONS:
            raise RuntimeError(f"{name} registered twice")
        OPERATIONS[name] = resolver
        return resolver

    return register


# -- input rules ------------------------------------------------------------------------------

MAX_AMOUNT = Decimal(1_000_000_000)
# Matched with fullmatch, never match + "$" (which also matches before a trailing newline),
# and with [0-9], never \d (which also matches other scripts' digits).
E164 = re.compile(r"\+[1-9][0-9]{6,14}")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
MCC = re.compile(r"[0-9]{4}")


def ascii_digits(value: str) -> bool:
    """True for a non-empty run of 0-9 only: str.isdigit() also accepts superscripts and
    other scripts' digits (which int() may then refuse, or keep as a card's last four)."""
    return value.isascii() and value.isdigit()


def money(value: float | None, name: str = "amount", minimum: Decimal | None = None) -> Decimal:
    """A positive amount with at most 2 decimals; AR-0001 otherwise."""
    if value is None:
        raise invalid(f"{name} is required")
    try:
        # The client's rule (one rule for client, CLI and sandbox): a float is judged by its
        # shortest decimal form, so 3.3000000000000003 (1.1 * 3) has too many decimals.
        amount = parse_money(value)
    except MoneyError as exc:
        raise invalid(f"{name} {exc.message}") from None
    if amount <= 0:
        raise invalid(f"{name} must be greater than 0")
    if amount > MAX_AMOUNT:
        raise invalid(f"{name} must be at most {MAX_AMOUNT}")
    if minimum is not None and amount < minimum:
        raise invalid(f"{name} must be at least {minimum}")
    return amount.quantize(CENT)


def exactly_one(**named: object) -> str:
    """The one argument given among ``named``; AR-0001 if none or several."""
    given = [name for name, value in named.items() if value not in (None, "")]
    if len(given) != 1:
        names = " or ".join(_camel(n) for n in named)
        raise invalid(f"Provide exactly one of {names}")
    return given[0]


def at_most_one(**named: object) -> str | None:
    given = [name for name, value in named.items() if value not in (None, "")]
    if len(given) > 1:
        raise invalid(f"Provide at most one of {', '.join(_camel(n) for n in named)}")
    return given[0] if given else None


def text(value: str | None, name: str, low: int = 1, high: int = 100) -> str:
    stripped = (value or "").strip()
    if not low <= len(stripped) <= high:
        raise invalid(f"{name} must be {low} to {high} characters")
    return stripped


def phone(value: str) -> str:
    if not E164.fullmatch(value):
        raise invalid("phone number must be in E.164 format, e.g. +15555550100")
    return value


def email(value: str) -> str:
    if not EMAIL.fullmatch(value):
        raise invalid("email address is not valid")
    return value.lower()


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part.title() for part in rest)


def page(items: Sequence[T], paginate: Mapping[str, Any] | None, operation: str = "") -> list[T]:
    """One page per OffsetInput; limit above the maximum is AR-0001 (schema DECISION)."""
    paginate = paginate or {}
    limit = paginate.get("limit")
    offset = paginate.get("offset")
    maximum = PAGE_LIMIT_MAX_BY_OPERATION.get(operation, PAGE_LIMIT_MAX)
    limit = PAGE_LIMIT_DEFAULT if limit is None else limit
    offset = 0 if offset is None else offset
    if not 1 <= limit <= maximum:
        raise invalid(f"paginate.limit must be between 1 and {maximum}")
    if offset < 0:
        raise invalid("paginate.offset must be 0 or more")
    return list(items[offset : offset + limit])


def newest_first(items: Iterable[T]) -> list[T]:
    return sorted(items, key=operator.attrgetter("created_at"), reverse=True)


# -- lookups in the caller's account ----------------------------------------------------------


def cash_balance(account: Account, ident: str | None) -> UserCashBalance:
    """The ACTIVE spend account ``ident`` (the default one when None)."""
    if ident is None:
        return account.default_cash_balance
    found = next((b for b in account.cash_balances if b.user_cash_balance_id == ident), None)
    if found is None:
        raise not_found("userCashBalanceId", ident)
    if found.status != "ACTIVE":
        raise invalid(f"spend account {ident} is closed")
    return found


def bank_card(account: Account, ident: str, active: bool = True) -> BankCard:
    found = next((c for c in account.bank_cards if c.bank_card_id == ident), None)
    if found is None:
        raise not_found("bankCardId", ident)
    if active and found.card_status != "ACTIVE":
        raise invalid(f"bank card {ident} is not active")
    return found


def bank_account(account: Account, ident: str) -> BankAccount:
    found = next((a for a in account.bank_accounts if a.bank_account_id == ident), None)
    if found is None:
        raise not_found("bankAccountId", ident)
    if found.status != "ENABLED":
        raise invalid(f"bank account {ident} is not enabled")
    return found


def paypal(account: Account, ident: str) -> Paypal:
    found = next((p for p in account.paypal_accounts if p.paypal_vault_id == ident), None)
    if found is None:
        raise not_found("paypalVaultId", ident)
    if found.status != "ACTIVE":
        raise invalid(f"PayPal account {ident} is not active")
    return found


def external_source(account: Account, data: Mapping[str, Any]) -> tuple[str, str] | None:
    """The one bank card / bank account / PayPal funding source named in ``data``, checked."""
    kind = at_most_one(
        bank_card_id=data.get("bank_card_id"),
        bank_account_id=data.get("bank_account_id"),
        paypal_vault_id=data.get("paypal_vault_id"),
    )
    if kind is None:
        return None
    ident: str = data[kind]
    if kind == "bank_card_id":
        bank_card(account, ident)
    elif kind == "bank_account_id":
        bank_account(account, ident)
    else:
        paypal(account, ident)
    return kind, ident


# -- money movement ---------------------------------------------------------------------------


def debit(balance: UserCashBalance | Balance, amount: Decimal, what: str) -> None:
    if balance.available < amount:
        raise SandboxError(
            INSUFFICIENT_FUNDS,
            f"Insufficient {what}: {fmt2(balance.available)} available, {fmt2(amount)} needed",
        )
    balance.available -= amount


def record(
    ctx: RequestContext,
    account: Account,
    kind: str,
    amount: Decimal,
    *,
    cashback: Decimal = Decimal(0),
    annotations: Mapping[str, Any] | None = None,
) -> Transaction:
    """Add a transaction (getTransactions) for a money movement on ``account``."""
    notes = annotations or {}
    transaction = Transaction(
        record_id=ctx.state.new_id(),
        transaction_type=kind,
        amount=amount,
        created_at=ctx.sandbox.clock.datetime(),
        connected_app_id=ctx.state.app.app_id,
        connected_app_name=ctx.state.app.name,
        cashback=cashback,
        memo=notes.get("memo"),
        transaction_category=notes.get("transaction_category"),
        attachment_id=notes.get("attachment_id"),
    )
    account.transactions.append(transaction)
    ctx.sandbox.webhooks.transaction("TRANSACTION_CREATE", account, transaction)
    return transaction


def frozen(balance: UserCashBalance) -> UserCashBalance:
    """A copy of ``balance`` as it is now. Views taken while it is unchanged share one copy,
    so a stored idempotent result costs a pointer per spend account, not a copy of each."""
    kept = balance.snapshot
    if kept is None or kept != balance:
        kept = copy.copy(balance)
        kept.snapshot = None
        balance.snapshot = kept
    return kept


def balances_view(account: Account) -> dict[str, Any]:
    """UserBalances as of now: a snapshot, so an idempotent replay shows the original."""
    spend_accounts = [frozen(b) for b in account.cash_balances]
    active = [b for b in spend_accounts if b.status == "ACTIVE"]
    cash = Balance(
        available=sum((b.available for b in active), Decimal(0)),
        lifetime=sum((b.lifetime for b in active), Decimal(0)),
    )

    def user_cash_balances(_info: Any, paginate: Mapping[str, Any] | None = None) -> list[Any]:
        return page(newest_first(spend_accounts), paginate)

    return {
        "rewards_balance": copy.copy(account.rewards),
        "cash_balance": cash,
        "gift_card_cash_balance": copy.copy(account.gift_card_balance),
        "user_cash_balances": user_cash_balances,
    }
