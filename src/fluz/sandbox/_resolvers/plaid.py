"""Plaid-linked bank accounts (Bearer only, MANAGE_PAYMENT)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from .._core import RequestContext
from .._errors import invalid
from .._state import BankAccount, UserAddress
from ._common import bank_account, operation, page
from .wallet import new_address

LINK_TOKEN_LIFETIME = timedelta(hours=4)
# What Plaid's own sandbox issues (a prefix, not a secret).
PUBLIC_TOKEN_PREFIX = "public-sandbox-"  # noqa: S105


def _balance(bank: BankAccount) -> dict[str, Any]:
    return {
        "bank_account_id": bank.bank_account_id,
        "balance": bank.balance,
        "updated_at": bank.balance_updated_at,
    }


@operation("getPlaidBankAccounts")
def get_plaid_bank_accounts(ctx: RequestContext) -> list[BankAccount]:
    return ctx.account.bank_accounts


@operation("getPlaidBankBalances")
def get_plaid_bank_balances(ctx: RequestContext) -> list[dict[str, Any]]:
    return [_balance(bank) for bank in ctx.account.bank_accounts]


@operation("getPlaidBankAccountBalance")
def get_plaid_bank_account_balance(ctx: RequestContext, *, input: dict[str, Any]) -> dict[str, Any]:
    return _balance(bank_account(ctx.account, input["bank_account_id"]))


@operation("refreshPlaidBankAccountBalance")
def refresh_plaid_bank_account_balance(
    ctx: RequestContext, *, input: dict[str, Any]
) -> dict[str, Any]:
    bank = bank_account(ctx.account, input["bank_account_id"])
    bank.balance_updated_at = ctx.sandbox.clock.datetime()
    return _balance(bank)


@operation("getPlaidBankAccountSpendPower")
def get_plaid_bank_account_spend_power(
    ctx: RequestContext, *, input: dict[str, Any]
) -> dict[str, Any]:
    bank = bank_account(ctx.account, input["bank_account_id"])
    spend_power = bank.balance - bank.pending_transactions
    return {
        "bank_account_id": bank.bank_account_id,
        "spend_power": spend_power,
        "available_spend_power": max(spend_power, Decimal(0)),
        "last_recorded_balance": bank.balance,
        "pending_transactions": bank.pending_transactions,
        "updated_at": bank.balance_updated_at,
    }


@operation("getPlaidBankTransactions")
def get_plaid_bank_transactions(
    ctx: RequestContext, *, input: dict[str, Any] | None = None
) -> dict[str, Any]:
    data = input or {}
    if data.get("bank_account_id"):
        bank_account(ctx.account, data["bank_account_id"])
    rows = [
        row
        for row in ctx.account.plaid_transactions
        if (not data.get("bank_account_id") or row["bank_account_id"] == data["bank_account_id"])
        and (data.get("start_date") is None or row["transaction_date"] >= data["start_date"])
        and (data.get("end_date") is None or row["transaction_date"] <= data["end_date"])
    ]
    return {
        "total_count": len(rows),
        "transactions": page(rows, data.get("paginate"), "getPlaidBankTransactions"),
    }


def _item_accounts(ctx: RequestContext, platform_item_id: str) -> list[BankAccount]:
    found = [b for b in ctx.account.bank_accounts if b.platform_item_id == platform_item_id]
    if not found:
        raise invalid("No active Plaid connection found for the provided platformItemId.")
    return found


@operation("createPlaidLinkToken")
def create_plaid_link_token(ctx: RequestContext, *, input: dict[str, Any]) -> dict[str, Any]:
    """A Link token; with platformItemId it relinks that connection ("update" mode)."""
    item = input.get("platform_item_id")
    if item:
        _item_accounts(ctx, item)
    expires = ctx.sandbox.clock.datetime() + LINK_TOKEN_LIFETIME
    return {
        "link_token": f"link-sandbox-{ctx.state.new_id()}",
        "expiration": expires.isoformat().replace("+00:00", "Z"),
        "request_id": ctx.request_id,
        "mode": "update" if item else "create",
    }


@operation("completePlaidLink")
def complete_plaid_link(ctx: RequestContext, *, input: dict[str, Any]) -> dict[str, Any]:
    """Exchanges a Plaid public token (``public-sandbox-...``): relinks the given item, or
    links a new checking account."""
    if not input["public_token"].startswith(PUBLIC_TOKEN_PREFIX):
        raise invalid(
            f"publicToken must be a Plaid sandbox public token ({PUBLIC_TOKEN_PREFIX}...)"
        )
    account, state = ctx.account, ctx.state
    item = input.get("platform_item_id")
    if item:
        banks = _item_accounts(ctx, item)
        if item in account.disconnected_items:
            account.disconnected_items.remove(item)
        newly_linked = None
    else:
        bank = BankAccount(
            bank_account_id=state.new_id(),
            account_id=account.account_id,
            account_name="Linked Checking",
            last_four=state.digits(4),
            platform_item_id=f"item-sandbox-{state.new_hex(12)}",
            bank_institution_auth_id=state.new_id(),
            bank_name="Sandbox Bank",
            balance_updated_at=ctx.sandbox.clock.datetime(),
        )
        account.bank_accounts.append(bank)
        banks, newly_linked = [bank], bank.bank_institution_auth_id
    return {
        "requires_address": False,
        "bank_account_id": banks[0].bank_account_id,
        "bank_institution_auth_id": banks[0].bank_institution_auth_id,
        "newly_linked_bank_institution_auth_id": newly_linked,
        "bank_institution_name": banks[0].bank_name,
        "platform_item_id": banks[0].platform_item_id,
        "bank_accounts": banks,
    }


@operation("createPlaidLinkAddress")
def create_plaid_link_address(ctx: RequestContext, *, input: dict[str, Any]) -> UserAddress:
    if not input.get("address"):
        raise invalid("address is required")
    bank = (
        bank_account(ctx.account, input["bank_account_id"])
        if input.get("bank_account_id")
        else None
    )
    address = new_address(ctx, input["address"])
    if bank is not None:
        bank.billing_address_id = address.user_address_id
    return address


@operation("refreshPlaidBankConnections")
def refresh_plaid_bank_connections(ctx: RequestContext) -> dict[str, Any]:
    """The connections that need a relink (createPlaidLinkToken with their item id)."""
    return {
        "verify_members": [{"platform_item_id": item} for item in ctx.account.disconnected_items]
    }
