"""Virtual cards: offers, BINs, creation rules, VC-0020, bulk orders, edit/lock/reveal."""

from __future__ import annotations

from typing import Any

import pytest

from .helpers import Api, new_key

VIRTUAL_CARD = "ed669305-5e43-40a0-9a25-7a15ed174628"
DOCUMENTED_OFFERS = {
    VIRTUAL_CARD,
    "b23630f6-8d91-43df-84aa-a541e7691197",
    "592c394e-26cc-44ac-a145-a5f81301fe77",
}
CREATE = """
mutation($i: CreateVirtualCardInput!) {
  createVirtualCard(input: $i) {
    virtualCardId cardholderName virtualCardLast4 status cardType initialAmount
    expiryMonth expiryYear
    authorizationSetting { monthlySpendLimit lifetimeSpendLimit lockDate cardNickname }
  }
}
"""
REVEAL = """
mutation($id: UUID!) {
  revealVirtualCardByVirtualCardId(virtualCardId: $id) {
    cardNumber expiryMMYY cvv cardHolderName billingAddress { streetAddress city }
  }
}
"""
ADDRESS = {
    "streetAddressLine1": "5 Spender Ave",
    "country": "US",
    "city": "Austin",
    "state": "TX",
    "postalCode": "78703",
}


def create(api: Api, **fields: Any) -> dict[str, Any]:
    card: dict[str, Any] = api.data(CREATE, {"i": card_input(**fields)})["createVirtualCard"]
    return card


def card_input(**fields: Any) -> dict[str, Any]:
    return {"idempotencyKey": new_key(), "spendLimit": 100, "offerId": VIRTUAL_CARD, **fields}


def luhn(number: str) -> bool:
    digits = [int(d) for d in reversed(number)]
    return (
        sum(d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(digits)) % 10
        == 0
    )


def test_offers_are_the_documented_sandbox_offers(api: Api) -> None:
    query = (
        "query($i: GetVirtualCardOffersInput) { getVirtualCardOffers(input: $i) { offerId "
        "programName bin rewardValue programLimits { dailyLimit } } }"
    )
    offers = api.data(query)["getVirtualCardOffers"]
    assert {o["offerId"] for o in offers} == DOCUMENTED_OFFERS
    assert {o["rewardValue"] for o in offers} == {"1.5"}
    locked = api.data(query, {"i": {"cardBrandLocked": True}})["getVirtualCardOffers"]
    assert [o["programName"] for o in locked] == ["Brand Locked Virtual Card - Mastercard Prepaid"]
    visa = api.data(query, {"i": {"cardNetwork": "VISA"}})["getVirtualCardOffers"]
    assert [o["offerId"] for o in visa] == [VIRTUAL_CARD]
    bins = api.data("{ getBINs { bin bankName programLimits { monthlyLimit } } }")["getBINs"]
    assert sorted(b["bin"] for b in bins) == sorted(o["bin"] for o in offers)


def test_create_reveal_and_list_a_card(api: Api) -> None:
    card = create(api, spendLimit=250, spendLimitDuration="MONTHLY", cardNickname="Ads")
    assert (card["status"], card["cardType"], card["initialAmount"]) == (
        "ACTIVE",
        "MULTI_USE",
        250.0,
    )
    setting = card["authorizationSetting"]
    assert (setting["monthlySpendLimit"], setting["lifetimeSpendLimit"]) == (250.0, None)
    assert setting["cardNickname"] == "Ads"
    details = api.data(REVEAL, {"id": card["virtualCardId"]})["revealVirtualCardByVirtualCardId"]
    assert luhn(details["cardNumber"])
    assert details["cardNumber"].endswith(card["virtualCardLast4"])
    assert details["expiryMMYY"] == card["expiryMonth"] + card["expiryYear"][-2:]
    assert len(details["cvv"]) == 3
    assert details["billingAddress"]["city"] == "Austin"
    purchases = api.data("{ getUserPurchases { virtualCard { virtualCardId } } }")[
        "getUserPurchases"
    ]
    assert purchases == [{"virtualCard": {"virtualCardId": card["virtualCardId"]}}]


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"spendLimit": 4.99}, "at least 5"),
        ({"spendLimit": 10.555}, "2 decimal"),
        ({"spendLimit": 6000, "spendLimitDuration": "DAILY"}, "daily limit"),
        ({"offerId": None}, "offerId is required"),
        ({"offerId": "00000000-0000-4000-8000-000000000000"}, "not a virtual-card offer"),
        ({"primaryFundingSource": "BANK_ACCOUNT"}, "bankAccountId is required"),
        ({"lockDate": "2001-01-01"}, "future"),
        ({"lockDate": "soon"}, "yyyy-mm-dd"),
        ({"authUserId": "00000000-0000-4000-8000-000000000000"}, "ACTIVE authorized user"),
    ],
)
def test_create_rules(api: Api, fields: dict[str, Any], words: str) -> None:
    error = api.error(CREATE, {"i": card_input(**fields)})
    assert error["extensions"]["code"] == "AR-0001"
    assert words in error["message"]


def test_pending_address_is_vc_0020_with_the_address_id(api: Api) -> None:
    pending = api.sandbox.seed_data.pending_address_id
    error = api.error(CREATE, {"i": card_input(userAddressId=pending)})
    assert error["extensions"]["code"] == "VC-0020"
    assert error["extensions"]["addressId"] == pending


@pytest.mark.fluz_sandbox(issuer_delay=30)
def test_documented_vc_0020_flow_for_an_authorized_user(api: Api) -> None:
    spender = api.sandbox.seed_data.auth_user_id
    error = api.error(CREATE, {"i": card_input(authUserId=spender, billingAddress=ADDRESS)})
    assert error["extensions"]["code"] == "VC-0020"
    address_id = error["extensions"]["addressId"]
    retry = {"authUserId": spender, "userAddressId": address_id}
    assert api.error(CREATE, {"i": card_input(**retry)})["extensions"]["code"] == "VC-0020"
    api.sandbox.advance_clock(31)  # the issuer approves the address
    card = create(api, **retry)
    assert card["cardholderName"] == "Sid Spender"


@pytest.mark.fluz_sandbox(issuer_delay=30)
def test_bulk_order_completes_after_the_issuer_delay(api: Api) -> None:
    order = api.data(
        (
            "mutation($i: CreateVirtualCardBulkOrderInput!) { "
            "createVirtualCardBulkOrder(input: $i) { orderId orderStatus } }"
        ),
        {
            "i": {
                "offerId": VIRTUAL_CARD,
                "orderItems": [
                    {"quantity": 2, "spendLimit": 50},
                    {"quantity": 1, "spendLimit": 75, "spendLimitDuration": "WEEKLY"},
                ],
            }
        },
    )["createVirtualCardBulkOrder"]
    assert order["orderStatus"] == "PENDING"
    status = (
        "query($i: GetVirtualCardBulkOrderStatusInput!) { "
        "getVirtualCardBulkOrderStatus(input: $i) { orderStatus totalCards "
        "successfulCardCreations failedCardCreations virtualCards { virtualCardId cardNumber "
        "} } }"
    )
    pending = api.data(status, {"i": {"orderId": order["orderId"]}})[
        "getVirtualCardBulkOrderStatus"
    ]
    assert (pending["orderStatus"], pending["totalCards"], pending["virtualCards"]) == (
        "PENDING",
        3,
        [],
    )
    api.sandbox.advance_clock(31)
    done = api.data(status, {"i": {"orderId": order["orderId"]}})["getVirtualCardBulkOrderStatus"]
    assert (done["orderStatus"], done["successfulCardCreations"], done["failedCardCreations"]) == (
        "COMPLETED",
        3,
        0,
    )
    assert all(luhn(card["cardNumber"]) for card in done["virtualCards"])
    again = api.data(status, {"i": {"orderId": order["orderId"]}})["getVirtualCardBulkOrderStatus"]
    assert again == done
    unknown = api.error(status, {"i": {"orderId": "bm9wZQ=="}})
    assert unknown["extensions"]["code"] == "AR-0001"


def test_bulk_order_rules(api: Api) -> None:
    query = (
        "mutation($i: CreateVirtualCardBulkOrderInput!) { createVirtualCardBulkOrder(input: "
        "$i) { orderId } }"
    )
    for items, words in (
        ([], "must not be empty"),
        ([{"quantity": 101, "spendLimit": 10}], "at most 100"),
        ([{"quantity": 1, "spendLimit": 1}], "at least 5"),
    ):
        error = api.error(query, {"i": {"offerId": VIRTUAL_CARD, "orderItems": items}})
        assert words in error["message"]


def test_lock_unlock_and_edit(api: Api) -> None:
    card_id = create(api)["virtualCardId"]
    lock = (
        "mutation($i: LockVirtualCardInput!) { lockVirtualCard(input: $i) { virtualCardId "
        "locked } }"
    )
    unlock = "mutation($i: UnlockVirtualCardInput!) { unlockVirtualCard(input: $i) { unlocked } }"
    assert api.data(lock, {"i": {"virtualCardId": card_id}})["lockVirtualCard"]["locked"] is True
    assert (
        api.data(unlock, {"i": {"virtualCardId": card_id}})["unlockVirtualCard"]["unlocked"] is True
    )
    edit = (
        "mutation($i: EditVirtualCardInput!) { editVirtualCard(input: $i) { status "
        "authorizationSetting { weeklySpendLimit lifetimeSpendLimit cardNickname "
        "lockCardNextUse } } }"
    )
    edited = api.data(
        edit,
        {
            "i": {
                "virtualCardId": card_id,
                "spendLimit": 80,
                "spendLimitDuration": "WEEKLY",
                "cardNickname": "Ops",
                "lockCardNextUse": True,
            }
        },
    )
    assert edited["editVirtualCard"] == {
        "status": "ACTIVE",
        "authorizationSetting": {
            "weeklySpendLimit": 80.0,
            "lifetimeSpendLimit": None,
            "cardNickname": "Ops",
            "lockCardNextUse": True,
        },
    }
    assert (
        api.error(edit, {"i": {"virtualCardId": card_id, "spendLimit": 1}})["extensions"]["code"]
        == "AR-0001"
    )


def test_add_virtual_card_address(api: Api) -> None:
    query = (
        "mutation($i: AddVirtualCardAddressInput!) { addVirtualCardAddress(input: $i) { "
        "userAddressId city } }"
    )
    added = api.data(query, {"i": {"billingAddress": ADDRESS}})["addVirtualCardAddress"]
    card = create(api, userAddressId=added["userAddressId"])
    assert card["status"] == "ACTIVE"
