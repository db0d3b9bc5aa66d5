"""Recipients, authorized users, registration, approvals and Plaid bank links."""

from __future__ import annotations

from typing import Any

import pytest

from .helpers import Api, new_key

LOOKUP = "query($i: UserLookupInput!) { lookupUser(input: $i) { recipientId displayName } }"
BUSINESS = (
    "query($n: String!) { lookupBusiness(input: {companyName: $n}) { recipientId displayName "
    "companyName } }"
)
ADD_USER = """
mutation($email: String, $phone: String, $roles: [UACRoleType!]!, $status: UACRoleStatusType) {
  addAuthorizedUser(email: $email, phone: $phone, roles: $roles, status: $status) {
    success authUserId roles status pendingActionId error { code message }
  }
}
"""
REMOVE_USER = (
    "mutation($id: UUID!) { removeAuthorizedUser(authUserId: $id) { success status error { "
    "code message } } }"
)
REGISTER = """
mutation($phone: String!, $email: String!, $region: String!, $born: String!) {
  registerUser(firstName: "Nia", lastName: "New", phoneNumber: $phone, regionCode: $region,
               emailAddress: $email, dateOfBirth: $born) { success error { code message } }
}
"""


def address(local: str) -> str:
    return local + "@" + "example.com"


def test_lookup_user_by_phone_or_email(api: Api) -> None:
    found = api.data(LOOKUP, {"i": {"email": address("rita")}})["lookupUser"]
    assert found == {
        "recipientId": api.sandbox.seed_data.recipient_account_id,
        "displayName": "Rita R.",
    }
    assert api.data(LOOKUP, {"i": {"phoneNumber": "+15555550101"}})["lookupUser"] == found


@pytest.mark.parametrize(
    ("lookup", "code"),
    [
        ({"email": address("nobody")}, "RC-0001"),
        ({"phoneNumber": "+15555550199"}, "RC-0002"),  # two people share it
        ({"phoneNumber": "555-0100"}, "AR-0001"),
        ({"phoneNumber": "+15555550101", "email": address("rita")}, "AR-0001"),
        ({}, "AR-0001"),
    ],
)
def test_lookup_user_failures(api: Api, lookup: dict[str, str], code: str) -> None:
    body = api.call(LOOKUP, {"i": lookup})
    assert body["data"] is None  # lookupUser is non-null: the error nulls the response
    assert body["errors"][0]["extensions"]["code"] == code


def test_lookup_business_by_registered_or_dba_name(api: Api) -> None:
    expected = [
        {
            "recipientId": api.sandbox.seed_data.business_account_id,
            "displayName": "Acme",
            "companyName": "Acme Supplies LLC",
        }
    ]
    assert api.data(BUSINESS, {"n": "acme supplies llc"})["lookupBusiness"] == expected
    assert api.data(BUSINESS, {"n": "ACME"})["lookupBusiness"] == expected
    assert (
        api.call(BUSINESS, {"n": "Acme Supplies"})["errors"][0]["extensions"]["code"] == "RC-0001"
    )


def test_authorized_users_add_list_remove(api: Api) -> None:
    added = api.data(ADD_USER, {"email": address("new.admin"), "roles": ["ADMIN"]})[
        "addAuthorizedUser"
    ]
    assert (added["success"], added["status"], added["error"]) == (True, "PENDING", None)
    assert added["pendingActionId"]
    listed = api.data(
        "query($e: String) { authorizedUsers(email: $e) { authUserId roles } }",
        {"e": address("new.admin")},
    )
    assert listed["authorizedUsers"] == [{"authUserId": added["authUserId"], "roles": ["ADMIN"]}]
    removed = api.data(REMOVE_USER, {"id": added["authUserId"]})["removeAuthorizedUser"]
    assert (removed["success"], removed["status"]) == (True, "INACTIVE")
    remaining = api.data("{ authorizedUsers { authUserId status } }")["authorizedUsers"]
    assert [u["status"] for u in remaining] == ["ACTIVE", "PENDING"]  # the seeded two; no OWNER
    assert remaining[0]["authUserId"] == api.sandbox.seed_data.auth_user_id
    again = api.data(REMOVE_USER, {"id": added["authUserId"]})["removeAuthorizedUser"]
    assert (again["success"], again["error"]["code"]) == (False, "AR-0001")


@pytest.mark.parametrize(
    ("variables", "words"),
    [
        ({"roles": ["ADMIN"]}, "email or phone"),
        ({"email": address("x"), "roles": ["OWNER"]}, "not OWNER"),
        ({"email": address("x"), "roles": []}, "roles"),
        ({"phone": "12345", "roles": ["VIEWER"]}, "E.164"),
        ({"email": address("x"), "roles": ["VIEWER"], "status": "DECLINED"}, "PENDING or ACTIVE"),
        ({"email": address("sid.spender"), "roles": ["VIEWER"]}, "already"),
    ],
)
def test_add_authorized_user_failures_come_in_the_payload(
    api: Api, variables: dict[str, Any], words: str
) -> None:
    result = api.data(ADD_USER, variables)["addAuthorizedUser"]
    assert result["success"] is False
    assert result["error"]["code"] == "AR-0001"
    assert words in result["error"]["message"]


def test_register_user(api: Api) -> None:
    fresh = {"phone": "+15555550777", "email": address("nia"), "region": "US", "born": "1990-04-01"}
    assert api.data(REGISTER, fresh)["registerUser"] == {"success": True, "error": None}
    taken = api.data(REGISTER, {**fresh, "email": address("nia2")})["registerUser"]
    assert taken["error"] == {
        "code": "AUTH-0026",
        "message": "The phone number you chose is already in use.",
    }
    for bad in ({"region": "usa"}, {"born": "01/04/1990"}, {"email": "not-an-email"}):
        result = api.data(REGISTER, {**fresh, "phone": "+15555550778", **bad})["registerUser"]
        assert (result["success"], result["error"]["code"]) == (False, "AR-0001")


def test_a_phone_number_with_a_trailing_newline_is_not_a_new_number(api: Api) -> None:
    fresh = {"phone": "+15555550777", "email": address("nia"), "region": "US", "born": "1990-04-01"}
    assert api.data(REGISTER, fresh)["registerUser"]["success"] is True
    again = {**fresh, "phone": "+15555550777\n", "email": address("nia2")}
    result = api.data(REGISTER, again)["registerUser"]
    assert (result["success"], result["error"]["code"]) == (False, "AR-0001")
    assert "phone" in result["error"]["message"]


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param({"phone": "+1555555\uff10777"}, id="full-width-digit-in-phone"),
        pytest.param({"email": address("nia") + "\n"}, id="email-trailing-newline"),
        pytest.param({"region": "\u00c9\u00c9"}, id="non-ascii-region"),
    ],
)
def test_register_user_takes_ascii_input_only(api: Api, bad: dict[str, str]) -> None:
    fresh = {"phone": "+15555550779", "email": address("nia"), "region": "US", "born": "1990-04-01"}
    result = api.data(REGISTER, {**fresh, **bad})["registerUser"]
    assert (result["success"], result["error"]["code"]) == (False, "AR-0001")


def test_approval_requests_and_decisions(api: Api) -> None:
    seeds = api.sandbox.seed_data
    requested = api.data(
        (
            "mutation($i: RequestInternalTransferInput!) { requestInternalTransfer(input: "
            "$i) { success messageId error { code } } }"
        ),
        {
            "i": {
                "amount": 20,
                "sourceUserCashBalanceId": seeds.cash_balance_id,
                "destinationUserCashBalanceId": seeds.second_cash_balance_id,
            }
        },
    )["requestInternalTransfer"]
    assert requested["success"] is True
    assert requested["messageId"]
    pending = api.data("{ approvalRequests { approvalId approvalType approvalCode status } }")[
        "approvalRequests"
    ]
    assert {(a["approvalType"], a["approvalCode"]) for a in pending} == {("PAYOUT", 500402)}
    assert len(pending) == 2  # the seeded one and ours
    decide = (
        "mutation($id: UUID!) { approveApprovalRequest(approvalId: $id) { success approvalId "
        "action } }"
    )
    assert (
        api.data(decide, {"id": seeds.approval_id})["approveApprovalRequest"]["action"] == "APPROVE"
    )
    assert api.error(decide, {"id": seeds.approval_id})["extensions"]["code"] == "AR-0001"
    decline = "mutation($id: UUID!) { declineApprovalRequest(approvalId: $id) { action } }"
    other = next(a["approvalId"] for a in pending if a["approvalId"] != seeds.approval_id)
    assert api.data(decline, {"id": other})["declineApprovalRequest"]["action"] == "DECLINE"
    assert api.data("{ approvalRequests { approvalId } }")["approvalRequests"] == []


def test_request_payloads_report_failures(api: Api) -> None:
    seeds = api.sandbox.seed_data
    card = api.data(
        (
            "mutation($i: RequestVirtualCardInput!) { requestVirtualCard(input: $i) { "
            "success messageId error { code message } } }"
        ),
        {
            "i": {
                "seatId": seeds.auth_user_id,
                "offerId": "ed669305-5e43-40a0-9a25-7a15ed174628",
                "purchaseAmount": 50,
                "channel": "API",
                "fluzpayAmount": 0,
                "spendLimitDuration": "MONTHLY",
            }
        },
    )["requestVirtualCard"]
    assert (card["success"], card["error"]["code"]) == (False, "AR-0001")
    assert "seatId" in card["error"]["message"]
    same = api.data(
        (
            "mutation($i: RequestReimbursementInput!) { requestReimbursement(input: $i) { "
            "success error { code } } }"
        ),
        {
            "i": {
                "amount": 5,
                "sourceUserCashBalanceId": seeds.cash_balance_id,
                "destinationUserCashBalanceId": seeds.cash_balance_id,
            }
        },
    )["requestReimbursement"]
    assert same == {"success": False, "error": {"code": "AR-0001"}}
    account = api.data(
        (
            "mutation($i: RequestAccountTransferInput!) { requestAccountTransfer(input: $i) "
            "{ success error { code } } }"
        ),
        {
            "i": {
                "idempotencyKey": new_key(),
                "amount": 5,
                "destination": {"accountId": "00000000-0000-4000-8000-000000000000"},
            }
        },
    )["requestAccountTransfer"]
    assert account == {"success": False, "error": {"code": "RC-0001"}}


# -- Plaid ------------------------------------------------------------------------------------


def test_plaid_accounts_balances_and_spend_power(api: Api) -> None:
    bank = api.sandbox.seed_data.bank_account_id
    accounts = api.data(
        "{ getPlaidBankAccounts { bankAccountId platformItemId lastFour subtype } }"
    )
    assert bank in [a["bankAccountId"] for a in accounts["getPlaidBankAccounts"]]
    balances = api.data("{ getPlaidBankBalances { bankAccountId balance } }")[
        "getPlaidBankBalances"
    ]
    assert {"bankAccountId": bank, "balance": 5000.0} in balances
    one = (
        "query($i: PlaidBankAccountInput!) { getPlaidBankAccountBalance(input: $i) { balance "
        "} getPlaidBankAccountSpendPower(input: $i) { spendPower availableSpendPower } }"
    )
    result = api.data(one, {"i": {"bankAccountId": bank}})
    assert result["getPlaidBankAccountSpendPower"] == {
        "spendPower": 5000.0,
        "availableSpendPower": 5000.0,
    }
    refresh = (
        "mutation($i: PlaidBankAccountInput!) { refreshPlaidBankAccountBalance(input: $i) { "
        "bankAccountId updatedAt } }"
    )
    assert api.data(refresh, {"i": {"bankAccountId": bank}})["refreshPlaidBankAccountBalance"][
        "updatedAt"
    ]


def test_plaid_transactions_allow_the_documented_page_of_50(api: Api) -> None:
    query = (
        "query($i: PlaidBankTransactionFilterInput) { getPlaidBankTransactions(input: $i) { "
        "totalCount transactions { amount transactionDate } } }"
    )
    page = api.data(query, {"i": {"paginate": {"limit": 50}}})["getPlaidBankTransactions"]
    assert (page["totalCount"], len(page["transactions"])) == (30, 30)
    assert api.error(query, {"i": {"paginate": {"limit": 51}}})["extensions"]["code"] == "AR-0001"
    recent = api.data(query, {"i": {"startDate": page["transactions"][4]["transactionDate"]}})
    assert recent["getPlaidBankTransactions"]["totalCount"] == 5


def test_plaid_link_and_relink(api: Api) -> None:
    token = (
        "mutation($i: CreatePlaidLinkTokenInput!) { createPlaidLinkToken(input: $i) { "
        "linkToken expiration mode } }"
    )
    created = api.data(token, {"i": {"deviceOs": "IOS"}})["createPlaidLinkToken"]
    assert (created["mode"], created["linkToken"][:13]) == ("create", "link-sandbox-")
    complete = (
        "mutation($i: CompletePlaidLinkInput!) { completePlaidLink(input: $i) { "
        "requiresAddress bankAccountId newlyLinkedBankInstitutionAuthId platformItemId "
        "bankAccounts { bankAccountId } } }"
    )
    linked = api.data(complete, {"i": {"publicToken": "public-sandbox-123"}})["completePlaidLink"]
    assert linked["newlyLinkedBankInstitutionAuthId"]
    assert api.error(complete, {"i": {"publicToken": "garbage"}})["extensions"]["code"] == "AR-0001"
    stale = api.data(
        "mutation { refreshPlaidBankConnections { verifyMembers { platformItemId } } }"
    )
    (member,) = stale["refreshPlaidBankConnections"]["verifyMembers"]
    relink = api.data(token, {"i": {"platformItemId": member["platformItemId"]}})[
        "createPlaidLinkToken"
    ]
    assert relink["mode"] == "update"
    api.data(
        complete,
        {"i": {"publicToken": "public-sandbox-456", "platformItemId": member["platformItemId"]}},
    )
    cleared = api.data(
        "mutation { refreshPlaidBankConnections { verifyMembers { platformItemId } } }"
    )
    assert cleared["refreshPlaidBankConnections"]["verifyMembers"] == []
    unknown = api.error(token, {"i": {"platformItemId": "item-unknown"}})
    assert unknown["message"] == "No active Plaid connection found for the provided platformItemId."
