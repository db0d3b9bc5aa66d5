"""Wallet: funding sources, bank cards, spend accounts, deposits, withdrawals, transfers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .._config import MAX_SPEND_ACCOUNTS
from .._core import RequestContext
from .._errors import RECIPIENT_NOT_FOUND, SandboxError, invalid
from .._state import (
    Account,
    BankCard,
    UserAddress,
    UserCashBalance,
    VirtualCard,
    fmt2,
    fmt5,
)
from ._common import (
    MCC,
    ascii_digits,
    balances_view,
    bank_card,
    cash_balance,
    debit,
    exactly_one,
    external_source,
    money,
    newest_first,
    operation,
    page,
    paypal,
    record,
    text,
)

CARD_PROCESSORS = (
    ("34", "Amex"),
    ("37", "Amex"),
    ("4", "Visa"),
    ("5", "Mastercard"),
    ("6", "Discover"),
)


@operation("getWallet")
def get_wallet(ctx: RequestContext) -> dict[str, Any]:
    account = ctx.account
    return {
        "bank_cards": account.bank_cards,
        "bank_accounts": account.bank_accounts,
        "paypal_accounts": account.paypal_accounts,
        "blocked_payment_types": [],
        "balances": balances_view(account),
    }


@operation("getUserCashBalances")
def get_user_cash_balances(
    ctx: RequestContext, *, paginate: dict[str, Any] | None = None
) -> list[UserCashBalance]:
    return page(newest_first(ctx.account.cash_balances), paginate)


@operation("getUserCashBalanceById")
def get_user_cash_balance_by_id(
    ctx: RequestContext, *, user_cash_balance_id: str
) -> UserCashBalance:
    found = next(
        (b for b in ctx.account.cash_balances if b.user_cash_balance_id == user_cash_balance_id),
        None,
    )
    if found is None:
        raise invalid(f"userCashBalanceId {user_cash_balance_id} was not found")
    return found


@operation("getUserAddresses")
def get_user_addresses(ctx: RequestContext) -> list[UserAddress]:
    return ctx.account.addresses


@operation("getMccList")
def get_mcc_list(ctx: RequestContext) -> list[dict[str, str]]:
    return ctx.state.mccs


# -- bank cards -------------------------------------------------------------------------------


def luhn_valid(number: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def new_address(ctx: RequestContext, data: dict[str, Any], approved_at: float = 0.0) -> UserAddress:
    """A saved address from an AddressInput; AR-0001 for a blank required field."""
    fields = ("street_address_line_1", "country", "city", "state", "postal_code")
    for name in fields:
        text(data.get(name), f"billingAddress.{name}")
    address = UserAddress(
        user_address_id=ctx.state.new_id(),
        street_address_line_1=data["street_address_line_1"].strip(),
        street_address_line_2=(data.get("street_address_line_2") or "").strip() or None,
        country=data["country"].strip(),
        city=data["city"].strip(),
        state=data["state"].strip(),
        postal_code=data["postal_code"].strip(),
        approved_at=approved_at,
    )
    ctx.account.addresses.append(address)
    return address


def saved_address(account: Account, ident: str) -> UserAddress:
    found = next((a for a in account.addresses if a.user_address_id == ident), None)
    if found is None:
        raise invalid(f"userAddressId {ident} was not found")
    return found


@operation("addBankCard")
def add_bank_card(ctx: RequestContext, *, input: dict[str, Any]) -> BankCard:
    """Validates the number (Luhn), expiry (not past), CVV (3, or 4 for Amex) and
    billingAddress xor userAddressId; only the last four digits are kept."""
    number = "".join(ch for ch in input["card_number"] if ch not in " -")
    if not (ascii_digits(number) and 12 <= len(number) <= 19 and luhn_valid(number)):
        raise invalid("cardNumber is not a valid card number")
    month, year = input["expiration_month"].strip(), input["expiration_year"].strip()
    if not (ascii_digits(month) and 1 <= int(month) <= 12):
        raise invalid("expirationMonth must be 01 to 12")
    if not (ascii_digits(year) and len(year) in (2, 4)):
        raise invalid("expirationYear must be a 4-digit year")
    year = year if len(year) == 4 else "20" + year
    today = ctx.sandbox.clock.datetime()
    if (int(year), int(month)) < (today.year, today.month):
        raise invalid("The card has expired")
    processor = next(
        (name for prefix, name in CARD_PROCESSORS if number.startswith(prefix)), "Other"
    )
    cvv_length = 4 if processor == "Amex" else 3
    if not (ascii_digits(input["cvv"]) and len(input["cvv"]) == cvv_length):
        raise invalid(f"cvv must be {cvv_length} digits")
    name = text(input["cardholder_name"], "cardholderName")
    which = exactly_one(
        billing_address=input.get("billing_address"), user_address_id=input.get("user_address_id")
    )
    account = ctx.account
    if which == "billing_address":
        address = new_address(ctx, input["billing_address"])
    else:
        address = saved_address(account, input["user_address_id"])
    card = BankCard(
        bank_card_id=ctx.state.new_id(),
        owner_account_id=account.account_id,
        added_user_id=ctx.user_id,
        cardholder_name=name,
        last_four_digits=number[-4:],
        expiration_month=f"{int(month):02d}",
        expiration_year=year,
        card_processor=processor,
        billing_address_id=address.user_address_id,
    )
    account.bank_cards.append(card)
    return card


@operation("updateBankCardNickname")
def update_bank_card_nickname(ctx: RequestContext, *, input: dict[str, Any]) -> BankCard:
    card = bank_card(ctx.account, input["bank_card_id"], active=False)
    card.nickname = text(input["nickname"], "nickname")
    return card


@operation("updateBankCardPreferredMerchantCategoryCode")
def update_bank_card_mcc(ctx: RequestContext, *, input: dict[str, Any]) -> BankCard:
    card = bank_card(ctx.account, input["bank_card_id"], active=False)
    code = input["preferred_merchant_category_code"].strip()
    if not MCC.fullmatch(code):
        raise invalid("preferredMerchantCategoryCode must be a 4-digit MCC, e.g. 5812")
    card.preferred_merchant_category_code = code
    return card


@operation("deleteBankCard")
def delete_bank_card(ctx: RequestContext, *, input: dict[str, Any]) -> BankCard:
    """Docs: deleting sets the card INACTIVE."""
    card = bank_card(ctx.account, input["bank_card_id"], active=False)
    card.card_status = "INACTIVE"
    return card


# -- spend accounts ---------------------------------------------------------------------------


@operation("createUserCashBalance")
def create_user_cash_balance(ctx: RequestContext, *, input: dict[str, Any]) -> UserCashBalance:
    """AR-0001 beyond MAX_SPEND_ACCOUNTS (a sandbox limit, see there)."""
    if len(ctx.account.cash_balances) >= MAX_SPEND_ACCOUNTS:
        raise invalid(
            f"An account has at most {MAX_SPEND_ACCOUNTS} spend accounts (closed ones "
            "included) in the sandbox"
        )
    balance = UserCashBalance(
        user_cash_balance_id=ctx.state.new_id(),
        nickname=text(input["nickname"], "nickname", 2, 100),
        created_at=ctx.sandbox.clock.datetime(),
    )
    ctx.account.cash_balances.append(balance)
    return balance


@operation("updateUserCashBalance")
def update_user_cash_balance(ctx: RequestContext, *, input: dict[str, Any]) -> UserCashBalance:
    """Docs: nickname 2-100 characters."""
    balance = cash_balance(ctx.account, input["user_cash_balance_id"])
    balance.nickname = text(input["nickname"], "nickname", 2, 100)
    return balance


@operation("closeUserCashBalance")
def close_user_cash_balance(ctx: RequestContext, *, input: dict[str, Any]) -> dict[str, Any]:
    """Docs: a remaining balance needs transferUserCashBalanceId; virtual cards funded by the
    account need newFundingSource xor lockAllVirtualCards. The default account stays open."""
    account = ctx.account
    balance = cash_balance(account, input["user_cash_balance_id"])
    if balance.is_default:
        raise invalid("The default spend account cannot be closed")
    target = None
    if balance.available > 0:
        if not input.get("transfer_user_cash_balance_id"):
            raise invalid("transferUserCashBalanceId is required: the account still holds funds")
        target = cash_balance(account, input["transfer_user_cash_balance_id"])
        if target is balance:
            raise invalid("transferUserCashBalanceId must be another spend account")
    cards: list[VirtualCard] = [
        card
        for card in account.virtual_cards
        if card.user_cash_balance_id == balance.user_cash_balance_id and card.status != "INACTIVE"
    ]
    if cards:
        exactly_one(
            new_funding_source=input.get("new_funding_source"),
            lock_all_virtual_cards=input.get("lock_all_virtual_cards") or None,
        )
    if target is not None:
        target.credit(balance.available)
        balance.available = Decimal(0)
    for card in cards:
        if input.get("lock_all_virtual_cards"):
            card.status = "LOCKED"
            card.authorization_setting.locked_by_user = True
        else:
            card.primary_funding_source = input["new_funding_source"]
            card.user_cash_balance_id = None
    balance.status = "CLOSED"
    balance.closed_at = ctx.sandbox.clock.datetime()
    return {"closed_user_cash_balance": balance, "affected_virtual_cards": cards}


# -- money in and out -------------------------------------------------------------------------


@operation("depositCashBalance")
def deposit_cash_balance(ctx: RequestContext, *, input: dict[str, Any]) -> dict[str, Any]:
    """Adds funds from one bank account / bank card / PayPal to the spend account
    (CASH_BALANCE, default), the gift-card balance (GIFT_CARD_BALANCE, optional MCC) or the
    reserve. Deposits clear at once."""
    account = ctx.account
    amount = money(input["amount"])
    source = external_source(account, input)
    if source is None:
        raise invalid("Provide one of bankAccountId, bankCardId or paypalVaultId")
    kind = input.get("deposit_type") or "CASH_BALANCE"
    mcc = input.get("merchant_category_code")
    if mcc is not None and kind != "GIFT_CARD_BALANCE":
        raise invalid("merchantCategoryCode only applies to GIFT_CARD_BALANCE deposits")
    if mcc is not None and mcc not in {m["code"] for m in ctx.state.mccs}:
        raise invalid(f"merchantCategoryCode {mcc} is not in getMccList")
    if input.get("user_cash_balance_id") and kind != "CASH_BALANCE":
        raise invalid("userCashBalanceId only applies to CASH_BALANCE deposits")
    if kind == "CASH_BALANCE":
        cash_balance(account, input.get("user_cash_balance_id")).credit(amount)
    elif kind == "GIFT_CARD_BALANCE":
        account.gift_card_balance.credit(amount)
    else:
        account.reserve += amount
    now = ctx.sandbox.clock.datetime()
    deposit_id = ctx.state.new_id()
    deposit = {
        "cash_balance_deposit_id": deposit_id,
        "deposit_display_id": ctx.state.next_display_id("DP"),
        "deposit_amount": fmt5(amount),
        "deposit_fee": fmt5(Decimal(0)),
        "bank_account_id": input.get("bank_account_id"),
        "transaction_date": now,
        "cleared_date": now,
        "expected_cleared_date": now,
        "status": "COMPLETED",
        "cash_balance_deposit_type": kind,
        "cash_balance_settlements": [
            {
                "cash_balance_settlement_id": ctx.state.new_id(),
                "cash_balance_deposit_id": deposit_id,
                "availability_type": "INSTANT",
                "status": "SETTLED",
            }
        ],
    }
    record(ctx, account, "DEPOSIT", amount, annotations=input)
    return {"cash_balance_deposits": [deposit], "balances": balances_view(account)}


def _withdraw_record(
    ctx: RequestContext, amount: Decimal, method: str | None, source: str, **extra: Any
) -> dict[str, Any]:
    now = ctx.sandbox.clock.datetime()
    return {
        "withdraw_id": ctx.state.new_id(),
        "amount": fmt2(amount),
        "processing_fee": "0.00",
        "charged_fee": "0.00",
        "status": "COMPLETED",
        "display_status": "Completed",
        "withdraw_method": method,
        "withdraw_source": source,
        "submission_date": now,
        "created_at": now,
        "updated_at": now,
        "transaction_log_id": ctx.state.new_id(),
        "seat_id": ctx.principal.seat_id,
        **extra,
    }


@operation("withdrawCashBalance")
def withdraw_cash_balance(ctx: RequestContext, *, input: dict[str, Any]) -> dict[str, Any]:
    """Moves funds out: BANK_ACH needs bankAccountId, BANK_CARD bankCardId, PAYPAL
    paypalVaultId; from the spend account (CASH_BALANCE) or rewards. BAL-0001 if short."""
    account = ctx.account
    amount = money(input["amount"])
    method = input["method"]
    needed = {
        "BANK_ACH": "bank_account_id",
        "BANK_CARD": "bank_card_id",
        "PAYPAL": "paypal_vault_id",
    }
    source = external_source(account, input)
    if method in needed and (source is None or source[0] != needed[method]):
        raise invalid(f"method {method} needs {needed[method]} (and no other destination)")
    if method == "VENMO" and source is not None:
        raise invalid("method VENMO takes no bank account, bank card or PayPal id")
    origin = input.get("source") or "CASH_BALANCE"
    paypal_email = paypal(account, input["paypal_vault_id"]).email if method == "PAYPAL" else None
    spend_account = None
    # The debit is the last step that can fail (BAL-0001): nothing changed before it.
    if origin == "REWARDS_BALANCE":
        debit(account.rewards, amount, "rewards balance")
    else:
        spend_account = cash_balance(account, input.get("cash_balance_id"))
        debit(spend_account, amount, "cash balance")
    withdraw = _withdraw_record(
        ctx,
        amount,
        method,
        origin,
        bank_account_id=input.get("bank_account_id"),
        user_cash_balance_id=spend_account.user_cash_balance_id if spend_account else None,
        email_address=paypal_email,
        payout_id=f"payout-{ctx.state.new_hex(12)}",
        external_transaction_id=f"ext-{ctx.state.new_hex(12)}",
    )
    record(ctx, account, "WITHDRAWAL", amount)
    return {"withdraws": [withdraw], "balances": balances_view(account)}


@operation("transferInternalBalance")
def transfer_internal_balance(ctx: RequestContext, *, input: dict[str, Any]) -> dict[str, Any]:
    """Between two ACTIVE spend accounts of the caller's account; BAL-0001 if short."""
    account = ctx.account
    amount = money(input["amount"])
    source = cash_balance(account, input["source_user_cash_balance_id"])
    destination = cash_balance(account, input["destination_user_cash_balance_id"])
    if source is destination:
        raise invalid("source and destination spend accounts must differ")
    debit(source, amount, "cash balance")
    destination.credit(amount)
    now = ctx.sandbox.clock.datetime()
    deposit = {
        "cash_balance_deposit_id": ctx.state.new_id(),
        "deposit_display_id": ctx.state.next_display_id("DP"),
        "deposit_amount": fmt5(amount),
        "deposit_fee": fmt5(Decimal(0)),
        "transaction_date": now,
        "cleared_date": now,
        "status": "COMPLETED",
        "cash_balance_deposit_type": "CASH_BALANCE",
        "cash_balance_settlements": [],
    }
    withdraw = _withdraw_record(
        ctx, amount, None, "CASH_BALANCE", user_cash_balance_id=source.user_cash_balance_id
    )
    record(ctx, account, "INTERNAL_TRANSFER", amount, annotations=input)
    return {"cash_balance_deposit": deposit, "withdraw": withdraw}


@operation("createTransfer")
def create_transfer(ctx: RequestContext, *, input: dict[str, Any]) -> dict[str, Any]:
    """Account-to-account transfer. Bearer: from the caller (a bank card/account/PayPal, or
    the spend account), to ``destination`` or, when absent, to the app's operator account.
    Basic: the app's operator account sends; ``destination`` is required. Failures are
    top-level errors (CreateTransferResult has no error field): RC-0001 for an unknown
    destination, BAL-0001 when the balance is short, AR-0001 for the rest."""
    state, sender = ctx.state, ctx.account
    amount = money(input["amount"])
    basic = ctx.principal.mode == "basic"
    destination = input.get("destination") or {}
    if basic and any(input.get(k) for k in ("bank_card_id", "bank_account_id", "paypal_vault_id")):
        raise invalid("bankCardId, bankAccountId and paypalVaultId need Bearer auth")
    source = None if basic else external_source(sender, input)
    if not destination.get("account_id") and not destination.get("user_cash_balance_id"):
        if basic:
            raise invalid("destination.accountId or destination.userCashBalanceId is required")
        destination = {**destination, "account_id": state.app.operator_account_id}
    receiver, target = transfer_destination(ctx, destination)
    if target is sender.default_cash_balance and source is None:
        raise invalid("A transfer needs a different destination than its source")
    if source is None:
        debit(sender.default_cash_balance, amount, "cash balance")
    target.credit(amount)
    record(ctx, sender, "TRANSFER_SEND", amount, annotations=input)
    record(ctx, receiver, "TRANSFER_RECEIVE", amount)
    return {"success": True, "message": "Transfer completed", "transfer_id": state.new_id()}


def transfer_destination(
    ctx: RequestContext, data: dict[str, Any]
) -> tuple[Account, UserCashBalance]:
    accounts = ctx.state.accounts
    wanted_balance = data.get("user_cash_balance_id")
    if data.get("account_id"):
        receiver = accounts.get(data["account_id"])
        if receiver is None:
            raise SandboxError(
                RECIPIENT_NOT_FOUND, "No recipient found with the provided information."
            )
    else:
        receiver = next(
            (
                a
                for a in accounts.values()
                if any(b.user_cash_balance_id == wanted_balance for b in a.cash_balances)
            ),
            None,
        )
        if receiver is None:
            raise SandboxError(
                RECIPIENT_NOT_FOUND, "No recipient found with the provided information."
            )
    return receiver, cash_balance(receiver, wanted_balance)
