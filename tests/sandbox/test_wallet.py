"""Wallet: bank cards, spend accounts, deposits, withdrawals, transfers, transactions."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from .helpers import Api, new_key

ADD_CARD = """
mutation($input: AddBankCardInput!) {
  addBankCard(input: $input) {
    bankCardId cardProcessor lastFourDigits expirationMonth expirationYear cardStatus
    billingAddressId
  }
}
"""
DEPOSIT = """
mutation($input: DepositCashBalanceInput!) {
  depositCashBalance(input: $input) {
    cashBalanceDeposits { depositAmount status cashBalanceDepositType }
    balances { cashBalance { availableBalance } giftCardCashBalance { availableBalance } }
  }
}
"""
WITHDRAW = """
mutation($input: WithdrawCashBalanceInput!) {
  withdrawCashBalance(input: $input) {
    withdraws { amount withdrawMethod withdrawSource emailAddress }
    balances { rewardsBalance { availableBalance } cashBalance { availableBalance } }
  }
}
"""
TRANSFER = (
    "mutation($i: CreateTransferInput!) { createTransfer(input: $i) { success message "
    "transferId } }"
)
CLOSE = """
mutation($input: CloseUserCashBalanceInput!) {
  closeUserCashBalance(input: $input) {
    closedUserCashBalance { status closedAt } affectedVirtualCards { virtualCardId status }
  }
}
"""
ADDRESS = {
    "streetAddressLine1": "1 Main St",
    "country": "US",
    "city": "Austin",
    "state": "TX",
    "postalCode": "78701",
}


def card_input(**overrides: Any) -> dict[str, Any]:
    return {
        "cardNumber": "4111 1111 1111 1111",
        "expirationMonth": "07",
        "expirationYear": "2099",
        "cvv": "123",
        "cardholderName": "Sam Sandbox",
        "billingAddress": ADDRESS,
        **overrides,
    }


def test_wallet_shows_sources_and_balances(api: Api) -> None:
    wallet = api.data(
        """{ getWallet {
            bankCards { bankCardId cardType cardStatus }
            bankAccounts { bankAccountId status }
            paypalAccounts { paypalVaultId status }
            blockedPaymentTypes
            balances {
              rewardsBalance { availableBalance totalBalance lifetimeBalance }
              cashBalance { availableBalance }
              giftCardCashBalance { availableBalance }
              userCashBalances(paginate: {limit: 1}) { nickname }
            }
        } }"""
    )["getWallet"]
    seeds = api.sandbox.seed_data
    assert wallet["bankCards"] == [
        {"bankCardId": seeds.bank_card_id, "cardType": "DEBIT", "cardStatus": "ACTIVE"}
    ]
    assert seeds.bank_account_id in [a["bankAccountId"] for a in wallet["bankAccounts"]]
    assert wallet["paypalAccounts"][0]["paypalVaultId"] == seeds.paypal_vault_id
    balances = wallet["balances"]
    assert balances["cashBalance"]["availableBalance"] == "1250.00"
    assert balances["rewardsBalance"]["availableBalance"] == "25.00"
    assert balances["giftCardCashBalance"]["availableBalance"] == "100.00"
    assert len(balances["userCashBalances"]) == 1


def test_add_bank_card_keeps_only_the_last_four(api: Api) -> None:
    card = api.data(ADD_CARD, {"input": card_input()})["addBankCard"]
    assert (card["cardProcessor"], card["lastFourDigits"], card["cardStatus"]) == (
        "Visa",
        "1111",
        "ACTIVE",
    )
    assert card["billingAddressId"]
    saved = api.data(
        ADD_CARD,
        {
            "input": card_input(
                cardNumber="378282246310005",
                cvv="1234",
                billingAddress=None,
                userAddressId=card["billingAddressId"],
            )
        },
    )["addBankCard"]
    assert (saved["cardProcessor"], saved["billingAddressId"]) == ("Amex", card["billingAddressId"])


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"cardNumber": "4111111111111112"}, "cardNumber"),
        ({"cardNumber": "12ab"}, "cardNumber"),
        ({"expirationMonth": "13"}, "expirationMonth"),
        ({"expirationYear": "2001"}, "expired"),
        ({"cvv": "12"}, "cvv"),
        ({"cardNumber": "378282246310005", "cvv": "123"}, "4 digits"),
        ({"cardholderName": "  "}, "cardholderName"),
        ({"userAddressId": "00000000-0000-4000-8000-000000000000"}, "exactly one"),
        ({"billingAddress": None}, "exactly one"),
        (
            {"billingAddress": None, "userAddressId": "00000000-0000-4000-8000-000000000000"},
            "not found",
        ),
        ({"billingAddress": {**ADDRESS, "city": ""}}, "city"),
        # Digits of other scripts are not card digits (isdigit() accepts them all).
        ({"cardNumber": "\uff14\uff12" * 8}, "cardNumber"),  # full-width 4242...: was kept
        ({"cardNumber": "\u00b9\u00b2" * 8}, "cardNumber"),  # superscript 1 2: was GE-9999
        ({"expirationMonth": "\uff10\uff17"}, "expirationMonth"),
        ({"expirationYear": "\u0662\u0660\u0669\u0669"}, "expirationYear"),  # Arabic-Indic
        ({"cvv": "\uff11\uff12\uff13"}, "cvv"),
    ],
)
def test_add_bank_card_rules(api: Api, overrides: dict[str, Any], words: str) -> None:
    error = api.error(ADD_CARD, {"input": card_input(**overrides)})
    assert error["extensions"]["code"] == "AR-0001"
    assert words in error["message"]


def test_update_and_delete_a_bank_card(api: Api) -> None:
    card = {"bankCardId": api.sandbox.seed_data.bank_card_id}
    renamed = api.data(
        (
            "mutation($i: UpdateBankCardNicknameInput!) { updateBankCardNickname(input: $i) "
            "{ nickname } }"
        ),
        {"i": {**card, "nickname": "Travel"}},
    )
    assert renamed["updateBankCardNickname"]["nickname"] == "Travel"
    mcc = (
        "mutation($i: UpdateBankCardPreferredMerchantCategoryCodeInput!) { "
        "updateBankCardPreferredMerchantCategoryCode(input: $i) { "
        "preferredMerchantCategoryCode } }"
    )
    assert api.data(mcc, {"i": {**card, "preferredMerchantCategoryCode": "5812"}})
    assert (
        api.error(mcc, {"i": {**card, "preferredMerchantCategoryCode": "58"}})["extensions"]["code"]
        == "AR-0001"
    )
    deleted = api.data(
        "mutation($i: DeleteBankCardInput!) { deleteBankCard(input: $i) { cardStatus status } }",
        {"i": card},
    )
    assert deleted["deleteBankCard"] == {"cardStatus": "INACTIVE", "status": "INACTIVE"}


def test_spend_accounts_create_rename_and_nickname_rules(api: Api) -> None:
    create = (
        "mutation($n: String!) { createUserCashBalance(input: {nickname: $n}) { "
        "userCashBalanceId nickname status isDefault availableCashBalance } }"
    )
    made = api.data(create, {"n": "Payroll"})["createUserCashBalance"]
    assert (made["status"], made["isDefault"], made["availableCashBalance"]) == (
        "ACTIVE",
        False,
        "0.00",
    )
    for bad in ("x", "y" * 101):
        assert api.error(create, {"n": bad})["extensions"]["code"] == "AR-0001"
    update = (
        "mutation($i: UpdateUserCashBalanceInput!) { updateUserCashBalance(input: $i) { "
        "nickname } }"
    )
    renamed = api.data(
        update, {"i": {"userCashBalanceId": made["userCashBalanceId"], "nickname": "Ops"}}
    )
    assert renamed["updateUserCashBalance"]["nickname"] == "Ops"
    fetched = api.data(
        "query($id: UUID!) { getUserCashBalanceById(userCashBalanceId: $id) { nickname } }",
        {"id": made["userCashBalanceId"]},
    )
    assert fetched["getUserCashBalanceById"]["nickname"] == "Ops"
    listed = api.data("{ getUserCashBalances { userCashBalanceId } }")["getUserCashBalances"]
    assert listed[0]["userCashBalanceId"] == made["userCashBalanceId"]  # most recent first


def test_closing_a_spend_account(api: Api) -> None:
    seeds = api.sandbox.seed_data
    second = seeds.second_cash_balance_id
    close = {"idempotencyKey": new_key(), "userCashBalanceId": second}
    assert "transferUserCashBalanceId" in api.error(CLOSE, {"input": close})["message"]
    default = {"idempotencyKey": new_key(), "userCashBalanceId": seeds.cash_balance_id}
    assert "default" in api.error(CLOSE, {"input": default})["message"]
    closed = api.data(
        CLOSE, {"input": {**close, "transferUserCashBalanceId": seeds.cash_balance_id}}
    )
    assert closed["closeUserCashBalance"]["closedUserCashBalance"]["status"] == "CLOSED"
    assert api.sandbox.balances().cash == {seeds.cash_balance_id: Decimal("1250.00")}


def test_closing_an_account_funding_virtual_cards_needs_a_decision(api: Api) -> None:
    spare = api.data(
        'mutation { createUserCashBalance(input: {nickname: "Cards"}) { userCashBalanceId } }'
    )
    spare_id = spare["createUserCashBalance"]["userCashBalanceId"]
    api.data(
        "mutation($i: CreateVirtualCardInput!) { createVirtualCard(input: $i) { virtualCardId } }",
        {
            "i": {
                "idempotencyKey": new_key(),
                "spendLimit": 20,
                "offerId": "ed669305-5e43-40a0-9a25-7a15ed174628",
                "userCashBalanceId": spare_id,
            }
        },
    )
    close = {"idempotencyKey": new_key(), "userCashBalanceId": spare_id}
    assert "exactly one" in api.error(CLOSE, {"input": close})["message"]
    closed = api.data(CLOSE, {"input": {**close, "lockAllVirtualCards": True}})[
        "closeUserCashBalance"
    ]
    assert [card["status"] for card in closed["affectedVirtualCards"]] == ["LOCKED"]


def test_deposits_credit_the_chosen_balance(api: Api) -> None:
    seeds = api.sandbox.seed_data
    cash = api.data(
        DEPOSIT,
        {
            "input": {
                "idempotencyKey": new_key(),
                "amount": 6,
                "bankAccountId": seeds.bank_account_id,
            }
        },
    )
    deposit = cash["depositCashBalance"]
    assert deposit["cashBalanceDeposits"][0]["depositAmount"] == "6.00000"
    assert deposit["balances"]["cashBalance"]["availableBalance"] == "1256.00"
    gift = api.data(
        DEPOSIT,
        {
            "input": {
                "idempotencyKey": new_key(),
                "amount": 10,
                "bankCardId": seeds.bank_card_id,
                "depositType": "GIFT_CARD_BALANCE",
                "merchantCategoryCode": "5411",
            }
        },
    )
    assert (
        gift["depositCashBalance"]["balances"]["giftCardCashBalance"]["availableBalance"]
        == "110.00"
    )
    for bad, words in (
        ({"amount": 5}, "Provide one of"),
        (
            {"amount": 5, "bankAccountId": seeds.bank_account_id, "merchantCategoryCode": "5411"},
            "GIFT_CARD_BALANCE",
        ),
        (
            {
                "amount": 5,
                "paypalVaultId": seeds.paypal_vault_id,
                "depositType": "GIFT_CARD_BALANCE",
                "merchantCategoryCode": "0000",
            },
            "getMccList",
        ),
    ):
        error = api.error(DEPOSIT, {"input": {"idempotencyKey": new_key(), **bad}})
        assert words in error["message"]


def test_withdrawals_by_method_and_source(api: Api) -> None:
    seeds = api.sandbox.seed_data
    ach = api.data(
        WITHDRAW,
        {
            "input": {
                "idempotencyKey": new_key(),
                "amount": 50,
                "method": "BANK_ACH",
                "bankAccountId": seeds.bank_account_id,
            }
        },
    )
    assert ach["withdrawCashBalance"]["balances"]["cashBalance"]["availableBalance"] == "1200.00"
    paypal = api.data(
        WITHDRAW,
        {
            "input": {
                "idempotencyKey": new_key(),
                "amount": 5,
                "method": "PAYPAL",
                "paypalVaultId": seeds.paypal_vault_id,
                "source": "REWARDS_BALANCE",
            }
        },
    )
    withdraw = paypal["withdrawCashBalance"]
    assert withdraw["withdraws"][0]["emailAddress"]
    assert withdraw["balances"]["rewardsBalance"]["availableBalance"] == "20.00"
    wrong = api.error(
        WITHDRAW,
        {
            "input": {
                "idempotencyKey": new_key(),
                "amount": 5,
                "method": "BANK_ACH",
                "bankCardId": seeds.bank_card_id,
            }
        },
    )
    assert "bank_account_id" in wrong["message"]
    short = api.error(
        WITHDRAW,
        {
            "input": {
                "idempotencyKey": new_key(),
                "amount": 100,
                "method": "VENMO",
                "source": "REWARDS_BALANCE",
            }
        },
    )
    assert short["extensions"]["code"] == "BAL-0001"


def test_internal_transfer_moves_between_spend_accounts(api: Api) -> None:
    seeds = api.sandbox.seed_data
    query = (
        "mutation($i: TransferInternalBalanceInput!) { transferInternalBalance(input: $i) { "
        "cashBalanceDeposit { depositAmount } withdraw { amount } } }"
    )
    moved = api.data(
        query,
        {
            "i": {
                "idempotencyKey": "transfer-1",
                "amount": 100,
                "sourceUserCashBalanceId": seeds.second_cash_balance_id,
                "destinationUserCashBalanceId": seeds.cash_balance_id,
            }
        },
    )
    assert moved["transferInternalBalance"]["withdraw"]["amount"] == "100.00"
    cash = api.sandbox.balances().cash
    assert (cash[seeds.cash_balance_id], cash[seeds.second_cash_balance_id]) == (
        Decimal(1100),
        Decimal(150),
    )
    same = {
        "idempotencyKey": "transfer-2",
        "amount": 1,
        "sourceUserCashBalanceId": seeds.cash_balance_id,
        "destinationUserCashBalanceId": seeds.cash_balance_id,
    }
    assert "differ" in api.error(query, {"i": same})["message"]


def test_create_transfer_as_user_and_as_app(api: Api) -> None:
    seeds = api.sandbox.seed_data
    recipient = seeds.recipient_account_id
    to_app = api.data(TRANSFER, {"i": {"idempotencyKey": "t1", "amount": 10}})["createTransfer"]
    assert to_app["success"] is True
    assert api.sandbox.balances(seeds.operator_account_id).cash_total == Decimal("100010.00")
    api.data(
        TRANSFER,
        {"i": {"idempotencyKey": "t2", "amount": 7, "destination": {"accountId": recipient}}},
        auth="basic",
    )
    assert api.sandbox.balances(recipient).cash_total == Decimal(7)
    missing = api.error(TRANSFER, {"i": {"idempotencyKey": "t3", "amount": 7}}, auth="basic")
    assert "destination" in missing["message"]
    unknown = api.error(
        TRANSFER,
        {
            "i": {
                "idempotencyKey": "t4",
                "amount": 7,
                "destination": {"accountId": "00000000-0000-4000-8000-000000000000"},
            }
        },
    )
    assert unknown["extensions"]["code"] == "RC-0001"
    by_card = api.data(
        TRANSFER,
        {
            "i": {
                "idempotencyKey": "t5",
                "amount": 5000,
                "bankCardId": seeds.bank_card_id,
                "destination": {"accountId": recipient},
            }
        },
    )
    assert by_card["createTransfer"]["success"] is True  # a card, not the balance, pays
    assert (
        api.error(TRANSFER, {"i": {"idempotencyKey": "t6", "amount": 5000}})["extensions"]["code"]
        == "BAL-0001"
    )


def test_transactions_record_every_money_movement(api: Api) -> None:
    seeds = api.sandbox.seed_data
    api.purchase(merchantSlug="amazon", amount=12)
    api.data(
        DEPOSIT,
        {
            "input": {
                "idempotencyKey": new_key(),
                "amount": 30,
                "bankAccountId": seeds.bank_account_id,
            }
        },
    )
    api.data(
        WITHDRAW,
        {
            "input": {
                "idempotencyKey": new_key(),
                "amount": 20,
                "method": "BANK_ACH",
                "bankAccountId": seeds.bank_account_id,
            }
        },
    )
    query = """query($f: TransactionFilterInput, $p: OffsetInput) {
      getTransactions(filter: $f, paginate: $p) {
        totalCount hasNextPage
        transactions { recordId transactionType amount status channel connectedAppName createdAt }
      }
    }"""
    everything = api.data(query)["getTransactions"]
    kinds = [t["transactionType"] for t in everything["transactions"]]
    assert sorted(kinds) == ["DEPOSIT", "GIFT_CARD_PURCHASE", "WITHDRAWAL"]
    assert everything["totalCount"] == 3
    assert {t["channel"] for t in everything["transactions"]} == {"API"}
    big = api.data(query, {"f": {"amountGte": 15}})["getTransactions"]
    assert sorted(t["amount"] for t in big["transactions"]) == [20.0, 30.0]
    first_page = api.data(query, {"p": {"limit": 2}})["getTransactions"]
    assert (len(first_page["transactions"]), first_page["hasNextPage"]) == (2, True)
    record = everything["transactions"][0]["recordId"]
    annotate = (
        "mutation($i: UpdateTransactionMetadataInput!) { updateTransactionMetadata(input: "
        "$i) { success error { code message } } }"
    )
    ok = api.data(
        annotate, {"i": {"transactionId": record, "memo": "team lunch", "attachmentId": "att-1"}}
    )
    assert ok["updateTransactionMetadata"] == {"success": True, "error": None}
    noted = api.data(query, {"f": {"recordId": [record]}})["getTransactions"]["transactions"]
    assert len(noted) == 1
    missing = api.data(
        annotate, {"i": {"transactionId": "00000000-0000-4000-8000-000000000000", "memo": "x"}}
    )
    assert missing["updateTransactionMetadata"]["success"] is False
    assert missing["updateTransactionMetadata"]["error"]["code"] == "AR-0001"


def test_addresses_and_mccs(api: Api) -> None:
    addresses = api.data("{ getUserAddresses { userAddressId city } }")["getUserAddresses"]
    assert api.sandbox.seed_data.address_id in [a["userAddressId"] for a in addresses]
    codes = [m["code"] for m in api.data("{ getMccList { code description } }")["getMccList"]]
    assert "5812" in codes


# -- bounded per account: stored results and spend accounts ----------------------------------

CREATE_SPEND = "mutation($n: String!) { createUserCashBalance(input: {nickname: $n}) { status } }"


MAX_SPEND_ACCOUNTS = 100  # the sandbox's limit (closed ones included)


def _fill_spend_accounts(api: Api) -> None:
    for n in range(MAX_SPEND_ACCOUNTS - len(api.sandbox.balances().cash)):
        api.data(CREATE_SPEND, {"n": f"spend {n}"})


def test_spend_accounts_per_account_are_capped(api: Api) -> None:
    _fill_spend_accounts(api)
    refused = api.error(CREATE_SPEND, {"n": "one too many"})
    assert refused["extensions"]["code"] == "AR-0001"
    assert "at most 100 spend accounts" in refused["message"]


def test_stored_deposit_results_do_not_copy_every_spend_account(api: Api) -> None:
    import gc
    import tracemalloc

    _fill_spend_accounts(api)
    bank_account = api.sandbox.seed_data.bank_account_id
    first = {"idempotencyKey": new_key(), "amount": 1, "bankAccountId": bank_account}
    original = api.data(DEPOSIT, {"input": first})
    gc.collect()
    tracemalloc.start()
    try:
        for _ in range(100):
            fields = {"idempotencyKey": new_key(), "amount": 1, "bankAccountId": bank_account}
            api.data(DEPOSIT, {"input": fields})
        gc.collect()
        retained, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # 100 stored results x 100 spend accounts: copying each is ~2.6 MB, sharing ~0.5 MB.
    assert retained < 1_500_000
    assert api.data(DEPOSIT, {"input": first}) == original  # the replay is still the original
