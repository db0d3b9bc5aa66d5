"""getTransactions (every purchase, deposit, withdrawal and transfer) and annotations."""

from __future__ import annotations

import operator
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from .._core import RequestContext
from .._errors import invalid
from .._state import Transaction
from ._common import newest_first, operation, page


def _value(name: str) -> Callable[[Transaction], Any]:
    def amount(t: Transaction) -> Decimal:
        return t.amount

    def percentage(t: Transaction) -> Decimal:
        return (t.cashback * 100 / t.amount) if t.amount else Decimal(0)

    getters: dict[str, Callable[[Transaction], Any]] = {
        "amount": amount,
        "final_amount": lambda t: t.amount - t.fee,
        "cashback_amount": lambda t: t.cashback,
        "cashback_percentage": percentage,
        "fee_amount": lambda t: t.fee,
        "created": lambda t: t.created_at,
        "updated": lambda t: t.created_at,
    }
    return getters[name]


COMPARISONS = {"": operator.eq, "_gte": operator.ge, "_lte": operator.le}


def _matches(transaction: Transaction, filters: dict[str, Any]) -> bool:
    for key, wanted in filters.items():
        if wanted is None:
            continue
        if key == "record_id":
            if transaction.record_id not in wanted:
                return False
            continue
        if key == "status":
            if transaction.status not in wanted:
                return False
            continue
        suffix = "_gte" if key.endswith("_gte") else "_lte" if key.endswith("_lte") else ""
        field = key.removesuffix(suffix)
        actual = _value(field)(transaction)
        if isinstance(wanted, float):
            wanted = Decimal(str(wanted))
        if not COMPARISONS[suffix](actual, wanted):
            return False
    return True


@operation("getTransactions")
def get_transactions(
    ctx: RequestContext,
    *,
    filter: dict[str, Any] | None = None,
    paginate: dict[str, Any] | None = None,
) -> dict[str, Any]:
    matching = [t for t in newest_first(ctx.account.transactions) if _matches(t, filter or {})]
    transactions = page(matching, paginate, "getTransactions")
    offset = (paginate or {}).get("offset") or 0
    return {
        "transactions": transactions,
        "total_count": len(matching),
        "has_next_page": offset + len(transactions) < len(matching),
    }


@operation("updateTransactionMetadata")
def update_transaction_metadata(ctx: RequestContext, *, input: dict[str, Any]) -> dict[str, Any]:
    """Sets memo / category / attachment; failures come back as {success: false, error}."""
    transaction = next(
        (t for t in ctx.account.transactions if t.record_id == input["transaction_id"]), None
    )
    if transaction is None:
        raise invalid(f"transactionId {input['transaction_id']} was not found")
    for name in ("memo", "transaction_category", "attachment_id"):
        if input.get(name) is not None:
            setattr(transaction, name, input[name])
    ctx.sandbox.webhooks.transaction("TRANSACTION_UPDATE", ctx.account, transaction)
    return {"success": True, "error": None}
