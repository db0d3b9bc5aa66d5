"""Catalog, quotes, purchases (amount, offer and funding rules), gift cards and reveal."""

from __future__ import annotations

import time
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from fluz.sandbox._resolvers.gift_cards import reveal_gift_card
from fluz.sandbox._state import Counters

from .helpers import Api, check_envelope, new_key

MERCHANTS = """
query Merchants($name: String, $paginate: OffsetInput, $types: OfferTypesInput) {
  getMerchants(name: $name, paginate: $paginate, offerTypes: $types) {
    merchantId name slug
    offers {
      offerId type denominationsType hasStockInfo exclusiveRateId
      offerRates { denominations maxUserRewardValue }
      stockInfo {
        __typename
        ... on StockInfoFixedType { denomination availableStock }
        ... on StockInfoVariableType { minDenomination maxDenomination description }
      }
      cloDetails { regularRate }
    }
  }
}
"""
QUOTE = """
query Quote($input: GetOfferQuoteInput!) {
  getOfferQuote(input: $input) { offerId denominationsType offerRates { maxUserRewardValue } }
}
"""
REVEAL = "mutation($id: UUID!) { revealGiftCardByGiftCardId(giftCardId: $id) { code pin url } }"
GIFT_CARDS = """
query Cards($status: [GiftCardStatus], $balance: UUID, $paginate: OffsetInput) {
  getGiftCards(status: $status, userCashBalanceId: $balance, paginate: $paginate) {
    giftCardId status purchaserUserId endDate createdAt termsAndConditions merchant { slug }
  }
}
"""


def merchants(api: Api, **variables: Any) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = api.data(MERCHANTS, variables)["getMerchants"]
    return result


def offer(api: Api, slug: str, kind: str = "GIFT_CARD_OFFER") -> dict[str, Any]:
    (merchant,) = [m for m in merchants(api, name=slug.replace("-", " ")) if m["slug"] == slug]
    return next(o for o in merchant["offers"] if o["type"] == kind)


def bought(api: Api, **fields: Any) -> dict[str, Any]:
    response = api.purchase(**fields)
    assert response.status_code == 200, response.text
    body = check_envelope(response)
    assert "errors" not in body, body
    purchase: dict[str, Any] = body["data"]["purchaseGiftCard"]
    return purchase


def refused(api: Api, **fields: Any) -> dict[str, Any]:
    response = api.purchase(**fields)
    body = check_envelope(response)
    assert body["data"] == {"purchaseGiftCard": None}, body
    error: dict[str, Any] = body["errors"][0]
    return error


def cash(api: Api) -> Decimal:
    return api.sandbox.balances().cash[api.sandbox.seed_data.cash_balance_id]


# -- catalog ----------------------------------------------------------------------------------


def test_merchants_page_through_the_whole_catalog(api: Api) -> None:
    first = merchants(api, paginate={"limit": 20, "offset": 0})
    second = merchants(api, paginate={"limit": 20, "offset": 20})
    assert len(first) == 20
    assert 0 < len(second) < 20
    slugs = [m["slug"] for m in first + second]
    assert len(set(slugs)) == len(slugs)
    assert merchants(api) == first  # default limit 20


@pytest.mark.parametrize("paginate", [{"limit": 21}, {"limit": 0}, {"offset": -1}])
def test_pagination_outside_the_rules_is_ar_0001(api: Api, paginate: dict[str, int]) -> None:
    error = api.error(MERCHANTS, {"paginate": paginate})
    assert error["extensions"]["code"] == "AR-0001"


def test_merchant_filters(api: Api) -> None:
    assert [m["slug"] for m in merchants(api, name="STAR")] == ["starbucks"]
    linked = merchants(api, types={"cardLinkedOffer": True})
    assert [m["slug"] for m in linked] == ["local-bistro"]
    assert linked[0]["offers"][0]["cloDetails"]["regularRate"] == 10.0
    gift = merchants(api, types={"giftCardOffer": True}, paginate={"limit": 20, "offset": 0})
    assert "local-bistro" not in [m["slug"] for m in gift]
    amazon = next(m for m in gift if m["slug"] == "amazon")
    assert {o["type"] for o in amazon["offers"]} == {"GIFT_CARD_OFFER", "EXCLUSIVE_RATE_OFFER"}


def test_stock_info_lists_what_is_in_stock(api: Api) -> None:
    starbucks = offer(api, "starbucks")
    assert starbucks["denominationsType"] == "FIXED"
    assert starbucks["offerRates"][0]["denominations"] == ["10", "25", "50", "100"]
    in_stock = {s["denomination"]: s["availableStock"] for s in starbucks["stockInfo"]}
    assert in_stock == {"10": "100", "25": "3", "100": "20"}  # 50 is out of stock
    target = offer(api, "target")
    assert target["stockInfo"][0]["__typename"] == "StockInfoVariableType"
    assert (
        target["stockInfo"][0]["minDenomination"],
        target["stockInfo"][0]["maxDenomination"],
    ) == (
        "5",
        "500",
    )
    assert offer(api, "uber")["stockInfo"] is None  # hasStockInfo false


def test_quote_picks_the_best_offer_for_the_denomination(api: Api) -> None:
    def quote(**fields: Any) -> dict[str, Any]:
        result: dict[str, Any] = api.data(QUOTE, {"input": fields})["getOfferQuote"]
        return result

    fixed = quote(slug="home-depot", denomination=100)
    variable = quote(merchantSlug="home-depot", denomination=200)
    assert (fixed["denominationsType"], fixed["offerRates"][0]["maxUserRewardValue"]) == (
        "FIXED",
        4.5,
    )
    assert variable["denominationsType"] == "VARIABLE"
    assert quote(slug="amazon", denomination=100)["offerId"] == offer(api, "amazon")["offerId"]


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"slug": "starbucks", "denomination": 50}, "out of stock"),
        ({"slug": "starbucks", "denomination": 12}, "fixed denominations"),
        ({"slug": "amazon", "denomination": 5000}, "outside the range"),
        ({"slug": "nowhere", "denomination": 10}, "not found"),
        ({"slug": "amazon", "merchantSlug": "amazon", "denomination": 10}, "exactly one"),
        ({"denomination": 10}, "exactly one"),
    ],
)
def test_quote_refusals(api: Api, fields: dict[str, Any], words: str) -> None:
    error = api.error(QUOTE, {"input": fields})
    assert error["extensions"]["code"] == "AR-0001"
    assert words in error["message"]


# -- purchases --------------------------------------------------------------------------------


def test_purchase_by_slug_debits_the_fluz_balance_and_credits_rewards(api: Api) -> None:
    before, rewards = cash(api), api.sandbox.balances().rewards
    purchase = bought(api, merchantSlug="starbucks", amount=25)
    assert (purchase["purchaseAmount"], purchase["fluzpayAmount"]) == (25.0, 25.0)
    assert purchase["seatRewardValue"] == 1.25  # 5 %
    assert purchase["giftCard"]["merchant"]["slug"] == "starbucks"
    assert cash(api) == before - 25
    assert api.sandbox.balances().rewards == rewards + Decimal("1.25")
    assert api.sandbox.counters().purchases == 1


def test_purchase_with_a_bank_card_leaves_the_balance_alone(api: Api) -> None:
    before = cash(api)
    card = api.sandbox.seed_data.bank_card_id
    purchase = bought(api, offerId=offer(api, "uber")["offerId"], amount=50, bankCardId=card)
    assert purchase["purchaseBankCardId"] == card
    assert purchase["fluzpayAmount"] == 0.0
    assert cash(api) == before


def test_balance_amount_combines_with_another_source(api: Api) -> None:
    before = cash(api)
    purchase = bought(
        api,
        merchantSlug="amazon",
        amount=100,
        balanceAmount=30.5,
        bankAccountId=api.sandbox.seed_data.bank_account_id,
    )
    assert purchase["fluzpayAmount"] == 30.5
    assert cash(api) == before - Decimal("30.50")


def test_purchase_from_a_chosen_spend_account(api: Api) -> None:
    second = api.sandbox.seed_data.second_cash_balance_id
    bought(api, merchantSlug="amazon", amount=40, userCashBalanceId=second)
    assert api.sandbox.balances().cash[second] == Decimal("210.00")
    cards = api.data(GIFT_CARDS, {"balance": second})["getGiftCards"]
    assert len(cards) == 1
    assert (
        api.data(GIFT_CARDS, {"balance": api.sandbox.seed_data.cash_balance_id})["getGiftCards"]
        == []
    )


def test_no_funding_source_when_balance_fallback_is_off(api: Api) -> None:
    error = refused(api, merchantSlug="amazon", amount=10, defaultToBalance=False)
    assert error["extensions"]["code"] == "AR-0001"
    assert "funding source" in error["message"]


def test_insufficient_balance_is_bal_0001_and_changes_nothing(api: Api) -> None:
    before = cash(api)
    error = refused(api, merchantSlug="amazon", amount=1500)
    assert error["extensions"]["code"] == "BAL-0001"
    assert cash(api) == before
    assert api.sandbox.counters().purchases == 0


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"merchantSlug": "amazon", "amount": 0}, "greater than 0"),
        ({"merchantSlug": "amazon", "amount": -5}, "greater than 0"),
        ({"merchantSlug": "amazon", "amount": 10.123}, "2 decimal"),
        ({"merchantSlug": "starbucks", "amount": 12}, "fixed denominations"),
        ({"merchantSlug": "amazon", "amount": 5000}, "outside the range"),
        ({"merchantSlug": "starbucks", "amount": 50}, "out of stock"),
        ({"amount": 10}, "exactly one"),
        (
            {
                "merchantSlug": "amazon",
                "offerId": "00000000-0000-4000-8000-000000000000",
                "amount": 10,
            },
            "exactly one",
        ),
        ({"offerId": "00000000-0000-4000-8000-000000000000", "amount": 10}, "not found"),
        ({"merchantSlug": "amazon", "amount": 10, "balanceAmount": 11}, "cannot exceed"),
        (
            {
                "merchantSlug": "amazon",
                "amount": 10,
                "bankCardId": "00000000-0000-4000-8000-000000000000",
            },
            "not found",
        ),
        (
            {
                "merchantSlug": "amazon",
                "amount": 10,
                "exclusiveRateId": "00000000-0000-4000-8000-000000000000",
            },
            "exclusive",
        ),
    ],
)
def test_purchase_input_rules(api: Api, fields: dict[str, Any], words: str) -> None:
    error = refused(api, **fields)
    assert error["extensions"]["code"] == "AR-0001"
    assert words in error["message"]
    assert api.sandbox.counters().purchases == 0


def test_two_external_sources_and_inactive_cards_are_refused(api: Api) -> None:
    seeds = api.sandbox.seed_data
    both = refused(
        api,
        merchantSlug="amazon",
        amount=10,
        bankCardId=seeds.bank_card_id,
        paypalVaultId=seeds.paypal_vault_id,
    )
    assert "at most one" in both["message"]
    api.data(
        "mutation($id: UUID!) { deleteBankCard(input: {bankCardId: $id}) { cardStatus } }",
        {"id": seeds.bank_card_id},
    )
    inactive = refused(api, merchantSlug="amazon", amount=10, bankCardId=seeds.bank_card_id)
    assert "not active" in inactive["message"]
    # Docs: a bank card is required as a backup payment method before any purchase.
    assert "backup" in refused(api, merchantSlug="amazon", amount=10)["message"]


def test_card_linked_offers_cannot_be_bought(api: Api) -> None:
    clo = offer(api, "local-bistro", "CARD_LINKED_OFFER")
    assert "Card-linked" in refused(api, offerId=clo["offerId"], amount=10)["message"]


def test_exclusive_rate_is_used_when_asked_for(api: Api) -> None:
    exclusive = offer(api, "amazon", "EXCLUSIVE_RATE_OFFER")
    purchase = bought(
        api, merchantSlug="amazon", amount=100, exclusiveRateId=exclusive["exclusiveRateId"]
    )
    assert purchase["seatRewardValue"] == 6.0
    assert bought(api, merchantSlug="amazon", amount=100)["seatRewardValue"] == 3.0  # opt-in only


def test_buying_the_last_units_takes_them_out_of_stock(api: Api) -> None:
    for _ in range(3):
        bought(api, merchantSlug="starbucks", amount=25)
    assert "out of stock" in refused(api, merchantSlug="starbucks", amount=25)["message"]
    denominations = [s["denomination"] for s in offer(api, "starbucks")["stockInfo"]]
    assert "25" not in denominations


def test_purchases_and_gift_cards_are_listed(api: Api) -> None:
    purchase = bought(api, merchantSlug="uber", amount=25)
    cards = api.data(GIFT_CARDS)["getGiftCards"]
    assert [c["giftCardId"] for c in cards] == [purchase["giftCard"]["giftCardId"]]
    assert cards[0]["purchaserUserId"] == api.sandbox.user_id
    assert cards[0]["status"] == "ACTIVE"
    assert api.data(GIFT_CARDS, {"status": ["INACTIVE"]})["getGiftCards"] == []
    query = "query($f: UserPurchaseFilterInput) { getUserPurchases(filter: $f) { purchaseId } }"
    for scope in (None, ["TOKEN_USER"], ["TOKEN_ACCOUNT"]):
        listed = api.data(query, {"f": {"scope": scope} if scope else None})["getUserPurchases"]
        assert listed == [{"purchaseId": purchase["purchaseId"]}]
    transactions = api.data("{ getTransactions { transactions { transactionType amount } } }")
    assert {"transactionType": "GIFT_CARD_PURCHASE", "amount": 25.0} in transactions[
        "getTransactions"
    ]["transactions"]


# -- reveal -----------------------------------------------------------------------------------


def reveal(api: Api, gift_card_id: str) -> dict[str, Any]:
    result: dict[str, Any] = api.data(REVEAL, {"id": gift_card_id})["revealGiftCardByGiftCardId"]
    return result


@pytest.mark.fluz_sandbox(reveal_delay=60)
def test_details_are_null_until_the_delay_has_passed(api: Api) -> None:
    card = bought(api, merchantSlug="starbucks", amount=10)["giftCard"]["giftCardId"]
    assert reveal(api, card) == {"code": None, "pin": None, "url": None}
    api.sandbox.advance_clock(61)
    details = reveal(api, card)
    assert details["code"].isdigit()
    assert len(details["code"]) == 16
    assert details["pin"].isdigit()
    assert details["url"] is None
    assert reveal(api, card) == details  # stable once revealed
    assert api.sandbox.counters().reveal_polls == {card: 3}


class _SteppingContext:
    """The part of a RequestContext the reveal resolver uses, with a clock that moves on by
    one second at every read (as a loaded machine may between two reads)."""

    def __init__(self, card: Any) -> None:
        self.account = SimpleNamespace(gift_cards={card.gift_card_id: card})
        self.counters = Counters()
        self.clock = 0.0

    @property
    def now(self) -> float:
        self.clock += 1.0
        return self.clock


def test_a_poll_is_recorded_at_the_instant_its_readiness_was_judged() -> None:
    # Soak scenario 7 checks each poller against these times: a poll recorded before the
    # card was ready must have been answered "not ready", one recorded after, with details.
    card = SimpleNamespace(gift_card_id="c", ready_at=1.5, code="1234", pin=None, url=None)
    ctx = _SteppingContext(card)
    answers = [reveal_gift_card(ctx, gift_card_id="c")["code"] for _ in range(3)]  # type: ignore[arg-type]
    times = ctx.counters.reveal_poll_times["c"]
    assert len(times) == 3
    assert [code is not None for code in answers] == [t >= card.ready_at for t in times]
    assert answers[0] is None  # the clock read that recorded the first poll: before ready
    assert answers[1:] == ["1234", "1234"]


@pytest.mark.fluz_sandbox(reveal_delay=0.2)
def test_details_appear_after_the_delay_in_real_time(api: Api) -> None:
    card = bought(api, merchantSlug="amazon", amount=10)["giftCard"]["giftCardId"]
    assert reveal(api, card)["code"] is None
    time.sleep(0.25)
    assert reveal(api, card)["code"] is not None


@pytest.mark.fluz_sandbox(reveal_delay=0)
@pytest.mark.parametrize(
    ("slug", "amount", "present"),
    [("starbucks", 10, {"code", "pin"}), ("amazon", 10, {"code"}), ("uber", 25, {"url"})],
)
def test_details_vary_by_merchant(api: Api, slug: str, amount: int, present: set[str]) -> None:
    card = bought(api, merchantSlug=slug, amount=amount)["giftCard"]["giftCardId"]
    details = reveal(api, card)
    assert {name for name, value in details.items() if value is not None} == present


@pytest.mark.fluz_sandbox(reveal_delay=600, reveal_delay_by_merchant={"uber": 0})
def test_reveal_delay_per_merchant_and_skip_delays(api: Api) -> None:
    slow = bought(api, merchantSlug="starbucks", amount=10)["giftCard"]["giftCardId"]
    fast = bought(api, merchantSlug="uber", amount=25)["giftCard"]["giftCardId"]
    assert reveal(api, fast)["url"] is not None
    assert reveal(api, slow)["code"] is None
    api.sandbox.skip_delays()
    assert reveal(api, slow)["code"] is not None


@pytest.mark.fluz_sandbox(reveal_delay=0, reveal_jitter=10)
def test_reveal_jitter_staggers_cards(api: Api) -> None:
    cards = [
        bought(api, merchantSlug="amazon", amount=5)["giftCard"]["giftCardId"] for _ in range(12)
    ]
    api.sandbox.advance_clock(5)
    ready = [card for card in cards if reveal(api, card)["code"] is not None]
    assert 0 < len(ready) < len(cards)


def test_reveal_of_unknown_or_foreign_cards(api: Api) -> None:
    unknown = api.error(REVEAL, {"id": "00000000-0000-4000-8000-000000000000"})
    assert unknown["extensions"]["code"] == "AR-0001"
    response = api.post(REVEAL, {"id": "not-a-uuid"}, auth=api.token())
    assert response.status_code == 400
    assert check_envelope(response)["errors"][0]["extensions"]["code"] == "AR-0001"


def test_referral_urls(api: Api) -> None:
    query = "query($m: MerchantInput) { getReferralUrl(input: $m) }"
    default = api.data(query)["getReferralUrl"]
    assert default.startswith("https://fluz.app/referred-by/")
    code = default.rsplit("/", 1)[1]
    by_slug = api.data(query, {"m": {"slug": "amazon"}})["getReferralUrl"]
    assert by_slug == f"https://fluz.app/store/amazon?referred_by={code}"
    assert api.data(query, {"m": {"name": "Amazon"}})["getReferralUrl"] == by_slug
    assert api.error(query, {"m": {"slug": "nowhere"}})["extensions"]["code"] == "AR-0001"


def test_reset_brings_back_the_same_seeded_world(api: Api) -> None:
    first = bought(api, merchantSlug="amazon", amount=10, idempotencyKey=new_key())
    api.sandbox.reset()
    assert api.data(GIFT_CARDS)["getGiftCards"] == []
    # Same seed, same ids: a reset world is the same world again.
    assert bought(api, merchantSlug="amazon", amount=10)["purchaseId"] == first["purchaseId"]


def test_purchase_failing_after_validation_charges_nothing_and_its_key_retries_once(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fluz.sandbox._resolvers import gift_cards

    real_new_gift_card = gift_cards.new_gift_card

    def failing_issuer(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("issuer exploded")

    before = api.sandbox.balances()
    fields = {"idempotencyKey": new_key(), "merchantSlug": "amazon", "amount": 25}
    monkeypatch.setattr(gift_cards, "new_gift_card", failing_issuer)
    failed = check_envelope(api.purchase(**fields))
    assert failed["errors"][0]["extensions"]["code"] == "GE-9999"
    assert api.sandbox.balances() == before
    assert api.sandbox.counters().purchases == 0

    monkeypatch.setattr(gift_cards, "new_gift_card", real_new_gift_card)
    retried = check_envelope(api.purchase(**fields))
    assert "errors" not in retried
    again = check_envelope(api.purchase(**fields))
    assert again["data"] == retried["data"]
    assert api.sandbox.balances().cash_total == before.cash_total - 25
    assert api.sandbox.counters().purchases == 1
