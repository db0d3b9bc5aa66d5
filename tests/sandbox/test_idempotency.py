"""Idempotency keys: the original result on repeat, one effect, conflicts, concurrency."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import anyio
import httpx
import pytest

from fluz.sandbox import SandboxServer

from .helpers import PURCHASE, USER_SCOPES, Api, check_envelope, new_key

DEPOSIT = """
mutation($input: DepositCashBalanceInput!) {
  depositCashBalance(input: $input) { cashBalanceDeposits { cashBalanceDepositId depositAmount } }
}
"""


def test_same_key_same_input_returns_the_original_purchase_once(api: Api) -> None:
    before = api.sandbox.balances().cash_total
    fields = {"idempotencyKey": new_key(), "merchantSlug": "amazon", "amount": 20}
    first = api.data(PURCHASE, {"input": fields})["purchaseGiftCard"]
    again = api.data(PURCHASE, {"input": fields})["purchaseGiftCard"]
    assert again == first
    assert api.sandbox.counters().purchases == 1
    assert api.sandbox.balances().cash_total == before - 20


def test_same_key_different_input_is_a_conflict(api: Api) -> None:
    key = new_key()
    api.data(PURCHASE, {"input": {"idempotencyKey": key, "merchantSlug": "amazon", "amount": 20}})
    error = api.error(
        PURCHASE, {"input": {"idempotencyKey": key, "merchantSlug": "amazon", "amount": 21}}
    )
    assert error["extensions"]["code"] == "IDEM-0001"
    assert api.sandbox.counters().purchases == 1


def test_a_key_belongs_to_one_operation(api: Api) -> None:
    key = new_key()
    api.data(PURCHASE, {"input": {"idempotencyKey": key, "merchantSlug": "amazon", "amount": 20}})
    deposit = {
        "idempotencyKey": key,
        "amount": 20,
        "bankAccountId": api.sandbox.seed_data.bank_account_id,
    }
    assert api.error(DEPOSIT, {"input": deposit})["extensions"]["code"] == "IDEM-0001"


def test_a_failed_request_does_not_use_up_its_key(api: Api) -> None:
    fields = {"idempotencyKey": new_key(), "merchantSlug": "amazon", "amount": 1500}
    assert api.error(PURCHASE, {"input": fields})["extensions"]["code"] == "BAL-0001"
    deposit = {
        "idempotencyKey": new_key(),
        "amount": 1000,
        "bankAccountId": api.sandbox.seed_data.bank_account_id,
    }
    api.data(DEPOSIT, {"input": deposit})
    assert api.data(PURCHASE, {"input": fields})["purchaseGiftCard"]["purchaseAmount"] == 1500.0


def test_keys_are_scoped_per_account(api: Api) -> None:
    """The same key from the app (operator account) and from the user are two requests."""
    query = (
        "mutation($i: CreateTransferInput!) { createTransfer(input: $i) { success transferId } }"
    )
    recipient = api.sandbox.seed_data.recipient_account_id
    fields = {"idempotencyKey": "shared-key", "amount": 5, "destination": {"accountId": recipient}}
    as_app = api.data(query, {"i": fields}, auth="basic")["createTransfer"]
    as_user = api.data(query, {"i": fields})["createTransfer"]
    assert as_app["transferId"] != as_user["transferId"]
    assert api.sandbox.balances(recipient).cash_total == Decimal(10)


def _mutation(name: str, input_type: str, selection: str) -> str:
    return f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ {selection} }} }}"


CASH = "{ getUserCashBalances { userCashBalanceId status availableCashBalance } }"


def _cases(api: Api) -> dict[str, tuple[str, dict[str, Any], str, dict[str, Any]]]:
    """mutation -> (document, input, query showing its effect, a conflicting change)."""
    seeds = api.sandbox.seed_data
    spare = api.data(
        'mutation { createUserCashBalance(input: {nickname: "Spare"}) { userCashBalanceId } }'
    )
    recipient = {"accountId": seeds.recipient_account_id}
    other_amount = {"amount": 16}
    return {
        "depositCashBalance": (
            _mutation(
                "depositCashBalance",
                "DepositCashBalanceInput",
                "cashBalanceDeposits { cashBalanceDepositId }",
            ),
            {"amount": 15, "bankAccountId": seeds.bank_account_id},
            CASH,
            other_amount,
        ),
        "withdrawCashBalance": (
            _mutation(
                "withdrawCashBalance", "WithdrawCashBalanceInput", "withdraws { withdrawId }"
            ),
            {"amount": 15, "method": "BANK_ACH", "bankAccountId": seeds.bank_account_id},
            CASH,
            other_amount,
        ),
        "transferInternalBalance": (
            _mutation(
                "transferInternalBalance", "TransferInternalBalanceInput", "withdraw { withdrawId }"
            ),
            {
                "amount": 15,
                "sourceUserCashBalanceId": seeds.cash_balance_id,
                "destinationUserCashBalanceId": seeds.second_cash_balance_id,
            },
            CASH,
            other_amount,
        ),
        "createTransfer": (
            _mutation("createTransfer", "CreateTransferInput", "transferId"),
            {"amount": 15, "destination": recipient},
            CASH,
            other_amount,
        ),
        "closeUserCashBalance": (
            _mutation(
                "closeUserCashBalance",
                "CloseUserCashBalanceInput",
                "closedUserCashBalance { status }",
            ),
            {"userCashBalanceId": spare["createUserCashBalance"]["userCashBalanceId"]},
            CASH,
            {"lockAllVirtualCards": True},
        ),
        "createVirtualCard": (
            _mutation("createVirtualCard", "CreateVirtualCardInput", "virtualCardId"),
            {"spendLimit": 50, "offerId": "ed669305-5e43-40a0-9a25-7a15ed174628"},
            "{ getUserPurchases { purchaseId } }",
            {"spendLimit": 60},
        ),
        "requestAccountTransfer": (
            _mutation(
                "requestAccountTransfer",
                "RequestAccountTransferInput",
                "success messageId error { code }",
            ),
            {"amount": 15, "destination": recipient},
            "{ approvalRequests { approvalId } }",
            other_amount,
        ),
    }


@pytest.mark.parametrize(
    "mutation",
    [
        "depositCashBalance",
        "withdrawCashBalance",
        "transferInternalBalance",
        "createTransfer",
        "closeUserCashBalance",
        "createVirtualCard",
        "requestAccountTransfer",
    ],
)
def test_every_idempotent_mutation_acts_once(api: Api, mutation: str) -> None:
    document, fields, effect, change = _cases(api)[mutation]
    variables = {"input": {**fields, "idempotencyKey": new_key()}}
    before = api.data(effect)
    first = api.data(document, variables)
    after = api.data(effect)
    assert after != before
    assert api.data(document, variables) == first
    assert api.data(effect) == after
    body = api.call(document, {"input": {**variables["input"], **change}})
    codes = [e["extensions"]["code"] for e in body.get("errors", [])]
    payload = (body["data"] or {}).get(mutation) or {}
    if payload.get("error"):  # requestAccountTransfer reports in its payload
        codes.append(payload["error"]["code"])
    assert codes == ["IDEM-0001"]


@pytest.mark.anyio
@pytest.mark.fluz_sandbox(faults={"latency": 0.05, "operations": {"purchaseGiftCard"}})
async def test_200_concurrent_purchases_with_one_key_charge_once(
    fluz_sandbox: SandboxServer,
) -> None:
    """Every request waits 50 ms inside the key's lock, so the 200 really overlap."""
    sandbox = fluz_sandbox
    before = sandbox.balances().cash_total
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(limits=limits, timeout=30) as http:
        generate = await http.post(
            sandbox.url,
            headers={"Authorization": f"Basic {sandbox.api_key}"},
            json={
                "query": (
                    "mutation($u: UUID!, $a: UUID!, $s: [ScopeType!]!) { "
                    "generateUserAccessToken(userId: $u, accountId: $a, scopes: $s) { "
                    "accessToken } }"
                ),
                "variables": {"u": sandbox.user_id, "a": sandbox.account_id, "s": USER_SCOPES},
            },
        )
        token = generate.json()["data"]["generateUserAccessToken"]["accessToken"]
        request = {
            "query": PURCHASE,
            "variables": {
                "input": {"idempotencyKey": new_key(), "merchantSlug": "amazon", "amount": 20}
            },
        }
        responses: list[httpx.Response] = []

        async def buy() -> None:
            responses.append(
                await http.post(
                    sandbox.url, json=request, headers={"Authorization": f"Bearer {token}"}
                )
            )

        async with anyio.create_task_group() as group:
            for _ in range(200):
                group.start_soon(buy)

    bodies = [check_envelope(r) for r in responses]
    assert [r.status_code for r in responses] == [200] * 200
    purchase_ids = {body["data"]["purchaseGiftCard"]["purchaseId"] for body in bodies}
    assert len(purchase_ids) == 1
    assert sandbox.counters().purchases == 1
    assert sandbox.balances().cash_total == before - 20
    assert len({body["extensions"]["requestId"] for body in bodies}) == 200
