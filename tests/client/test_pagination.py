"""Offset pagination: page sizes, short/empty final pages, filters, hasNextPage."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from fluz_graphql.enums import GiftCardStatus

from fluz import ResponseDecodeError, ValidationError

from .fakes import FakeFluz, gift_card, gql

pytestmark = pytest.mark.anyio


def serve(total: int, field: str = "getGiftCards", make: Any = gift_card) -> Any:
    """A list operation over `total` records honouring limit/offset."""

    def handler(request: httpx.Request) -> httpx.Response:
        page = json.loads(request.content)["variables"]["paginate"]
        offset, limit = page["offset"], page["limit"]
        return gql({field: [make(i) for i in range(offset, min(offset + limit, total))]})

    return handler


@pytest.mark.parametrize(("total", "requests"), [(0, 1), (7, 1), (20, 2), (45, 3), (60, 4)])
async def test_iterates_every_item_and_stops_on_a_short_or_empty_page(
    total: int, requests: int
) -> None:
    fake = FakeFluz().on("GetGiftCards", serve(total))
    async with fake.client() as fluz:
        ids = [card.gift_card_id async for card in fluz.iter_gift_cards()]
    assert ids == [uuid.UUID(int=i + 1) for i in range(total)]
    pages = [s.variables["paginate"] for s in fake.seen("GetGiftCards")]
    assert pages == [{"limit": 20, "offset": 20 * n} for n in range(requests)]


async def test_generic_paginate_passes_filters_and_page_size() -> None:
    fake = FakeFluz().on("GetGiftCards", serve(7))
    async with fake.client() as fluz:
        cards = [
            c
            async for c in fluz.paginate(
                fluz.get_gift_cards, status=[GiftCardStatus.ACTIVE], page_size=3
            )
        ]
    assert len(cards) == 7
    sent = fake.seen("GetGiftCards")
    assert [s.variables["paginate"]["offset"] for s in sent] == [0, 3, 6]
    assert all(s.variables["status"] == ["ACTIVE"] for s in sent)


async def test_a_null_page_or_item_is_a_decode_error_naming_it() -> None:
    # Lists returned by operations are list[X] (queries/ `@required`): a null page or item
    # is a broken response, reported, not silently taken for the end of the list.
    fake = FakeFluz().on("GetMerchants", gql({"getMerchants": None}))
    fake.on("GetUserPurchases", gql({"getUserPurchases": [None, None]}))
    async with fake.client() as fluz:
        with pytest.raises(ResponseDecodeError, match=r"getMerchants is null, but the client"):
            [m async for m in fluz.iter_merchants(name="x")]
        with pytest.raises(ResponseDecodeError, match=r"getUserPurchases\.0 is null, but"):
            [p async for p in fluz.iter_user_purchases()]
    assert fake.seen("GetMerchants")[0].variables["name"] == "x"


@pytest.mark.parametrize("size", [0, 21, -1])
async def test_page_size_outside_1_to_20_is_refused(size: int) -> None:
    fake = FakeFluz()
    async with fake.client() as fluz:
        with pytest.raises(ValidationError, match="page_size"):
            async for _ in fluz.iter_gift_cards(page_size=size):
                pass
        with pytest.raises(ValidationError, match="page_size"):
            async for _ in fluz.iter_transactions(page_size=size):
                pass
    assert fake.requests == []


def transaction(i: int) -> dict[str, Any]:
    return {
        "recordId": str(uuid.UUID(int=i + 1)),
        "transactionType": "PURCHASE",
        "amount": 1.0,
        "status": "COMPLETED",
        "channel": "API",
        "connectedAppId": None,
        "connectedAppName": None,
        "createdAt": None,
        "memo": None,
        "transactionCategory": None,
        "attachmentUrl": None,
    }


async def test_transactions_follow_has_next_page() -> None:
    total = 25

    def handler(request: httpx.Request) -> httpx.Response:
        page = json.loads(request.content)["variables"]["paginate"]
        end = min(page["offset"] + page["limit"], total)
        return gql(
            {
                "getTransactions": {
                    "totalCount": total,
                    "hasNextPage": end < total,
                    "transactions": [transaction(i) for i in range(page["offset"], end)],
                }
            }
        )

    fake = FakeFluz().on("GetTransactions", handler)
    async with fake.client() as fluz:
        records = [t.record_id async for t in fluz.iter_transactions(page_size=10)]
    assert records == [uuid.UUID(int=i + 1) for i in range(total)]
    assert len(fake.seen("GetTransactions")) == 3


async def test_named_iterators_cover_the_paginated_lists() -> None:
    def user(i: int) -> dict[str, Any]:
        return {"userId": str(uuid.UUID(int=i + 1)), "scopes": [], "accounts": []}

    def balance(i: int) -> dict[str, Any]:
        return {
            "userCashBalanceId": str(uuid.UUID(int=i + 1)),
            "nickname": None,
            "status": "ACTIVE",
            "isDefault": False,
            "totalCashBalance": "0.00",
            "availableCashBalance": "0.00",
            "lifetimeCashBalance": "0.00",
            "createdAt": None,
            "closedAt": None,
        }

    fake = FakeFluz()
    fake.on("GetApplicationUsers", serve(21, "getApplicationUsers", user))
    fake.on("GetUserCashBalances", serve(3, "getUserCashBalances", balance))
    async with fake.client() as fluz:
        assert len([u async for u in fluz.iter_application_users()]) == 21
        assert len([b async for b in fluz.iter_user_cash_balances(page_size=2)]) == 3
