"""Public names of the result models, to annotate your code with.

The client's methods return these classes (the generated models of ``fluz_graphql``,
named after the fragments in ``queries/fragments.graphql``), so they are also the names
that ``repr()`` and mypy's messages show::

    from fluz.types import GiftCardPurchase, Merchant

    async def buy(fluz: FluzClient, merchant: Merchant) -> GiftCardPurchase:
        return await fluz.purchase_gift_card(
            input=PurchaseGiftCardInput(merchant_slug=merchant.slug, amount=25)
        )

Money fields are ``decimal.Decimal``; ids are ``uuid.UUID``; a field the client requires
(every object's id, a purchase's amount, the gift card of a gift-card purchase ...) is
never None, see ``queries/fragments.graphql``. The few names that differ from the GraphQL
type (``Purchase`` for ``UserPurchase``, ``SpendAccount`` for ``UserCashBalance`` ...) are
plain aliases: mypy prints the class's own name.

Importing this module loads the generated models it names (the client loads them anyway).
"""

from __future__ import annotations

from fluz_graphql.fragments import (
    Account,
    ApprovalDecision,
    ApprovalRequestSubmission,
    BankAccount,
    BankCard,
    CashBalance,
    CashBalanceDeposit,
    GiftCard,
    GiftCardPurchase,
    GiftCardRedemption,
    Merchant,
    MerchantWithOffers,
    Offer,
    PayPalAccount,
    PlaidBankAccount,
    PlaidBankBalance,
    ProgramLimits,
    RevealedVirtualCard,
    Transaction,
    UserAccessToken,
    UserAddress,
    UserBalances,
    UserCashBalance,
    UserPurchase,
    VirtualCard,
    Wallet,
    Withdraw,
)
from fluz_graphql.get_transactions import GetTransactionsGetTransactions as TransactionPage

#: A purchase of any kind (``getUserPurchases``); ``GiftCardPurchase`` is the one
#: ``purchase_gift_card`` returns, whose ``gift_card`` is never None.
Purchase = UserPurchase
#: A spend account (GraphQL ``UserCashBalance``).
SpendAccount = UserCashBalance
#: The wallet's balances (GraphQL ``UserBalances``).
Balances = UserBalances
#: A withdrawal (GraphQL ``Withdraw``).
Withdrawal = Withdraw

__all__ = [
    "Account",
    "ApprovalDecision",
    "ApprovalRequestSubmission",
    "Balances",
    "BankAccount",
    "BankCard",
    "CashBalance",
    "CashBalanceDeposit",
    "GiftCard",
    "GiftCardPurchase",
    "GiftCardRedemption",
    "Merchant",
    "MerchantWithOffers",
    "Offer",
    "PayPalAccount",
    "PlaidBankAccount",
    "PlaidBankBalance",
    "ProgramLimits",
    "Purchase",
    "RevealedVirtualCard",
    "SpendAccount",
    "Transaction",
    "TransactionPage",
    "UserAccessToken",
    "UserAddress",
    "UserBalances",
    "UserCashBalance",
    "UserPurchase",
    "VirtualCard",
    "Wallet",
    "Withdraw",
    "Withdrawal",
]
