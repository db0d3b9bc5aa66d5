"""Resolvers of every Query and Mutation field, one module per area of the API."""

from . import app, gift_cards, people, plaid, transactions, virtual_cards, wallet
from ._common import OPERATIONS

__all__ = [
    "OPERATIONS",
    "app",
    "gift_cards",
    "people",
    "plaid",
    "transactions",
    "virtual_cards",
    "wallet",
]
