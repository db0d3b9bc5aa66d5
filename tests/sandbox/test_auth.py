"""Basic/Bearer auth, user tokens (JWT claims, expiry, refresh), scopes."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest

from fluz.sandbox import SandboxServer

from .helpers import GENERATE, USER_SCOPES, Api, check_envelope

WALLET = "{ getWallet { balances { cashBalance { availableBalance } } } }"
APP_SCOPES = "{ getApplicationScopes }"
REFRESH = """
mutation Refresh($token: String) {
  refreshUserAccessToken(refreshToken: $token) { token accessToken refreshToken scopes }
}
"""


def claims(token: str) -> dict[str, Any]:
    decoded: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return decoded


def test_api_key_is_base64_of_app_id_and_secret(fluz_sandbox: SandboxServer) -> None:
    app_id, _, secret = base64.b64decode(fluz_sandbox.api_key).decode().partition(":")
    assert app_id == fluz_sandbox.app_id
    assert len(secret) >= 16


def test_generated_token_carries_the_documented_claims(api: Api) -> None:
    issued = api.generate(["LIST_OFFERS", "PURCHASE_GIFTCARD"])
    assert issued["token"] == issued["accessToken"]
    assert issued["refreshToken"]
    assert issued["scopes"] == ["LIST_OFFERS", "PURCHASE_GIFTCARD"]
    payload = claims(issued["accessToken"])
    assert payload["user_id"] == api.sandbox.user_id
    assert payload["account_id"] == api.sandbox.account_id
    assert payload["seat_id"] == api.sandbox.seat_id
    assert payload["app_id"] == api.sandbox.app_id
    assert payload["scopes"] == ["LIST_OFFERS", "PURCHASE_GIFTCARD"]
    assert payload["account_type"] == "BUSINESS"
    assert payload["sub"] == "transactional-graph-service"
    assert payload["exp"] - payload["iat"] >= 600
    assert jwt.get_unverified_header(issued["accessToken"])["alg"] == "HS256"


@pytest.mark.fluz_sandbox(token_ttl=30)
def test_token_lifetime_follows_the_option(api: Api) -> None:
    payload = claims(api.generate()["accessToken"])
    assert 30 <= payload["exp"] - payload["iat"] <= 31


@pytest.mark.parametrize(
    ("query", "header"),
    [
        pytest.param(WALLET, None, id="no-header-user-op"),
        pytest.param(APP_SCOPES, None, id="no-header-app-op"),
        pytest.param(APP_SCOPES, "Basic d3Jvbmc6a2V5", id="wrong-api-key"),
        pytest.param(WALLET, "basic", id="basic-on-bearer-only-op"),
        pytest.param("{ getPlaidBankAccounts { bankAccountId } }", "basic", id="basic-on-plaid"),
        pytest.param(APP_SCOPES, "bearer", id="bearer-on-basic-only-op"),
        pytest.param(WALLET, "Token abc", id="unknown-scheme"),
        pytest.param(WALLET, "Bearer", id="empty-bearer"),
    ],
)
def test_missing_or_unusable_credentials_get_401(api: Api, query: str, header: str | None) -> None:
    headers = {}
    if header == "basic":
        headers["Authorization"] = f"Basic {api.sandbox.api_key}"
    elif header == "bearer":
        headers["Authorization"] = f"Bearer {api.token()}"
    elif header is not None:
        headers["Authorization"] = header
    response = api.http.post(api.sandbox.url, json={"query": query}, headers=headers)
    assert response.status_code == 401
    body = check_envelope(response)
    assert body["errors"][0]["extensions"]["code"] == "AUTH-0002"
    assert "data" not in body


def test_operations_accepting_both_modes_answer_to_either(api: Api) -> None:
    query = "{ authorizedUsers { authUserId roles } }"
    as_user = api.data(query)["authorizedUsers"]
    as_app = api.data(query, auth="basic")["authorizedUsers"]
    assert as_user  # the sandbox user's account has authorized users
    assert as_app == []  # Basic acts as the app's operator account, which has none
    assert all("OWNER" not in user["roles"] for user in as_user)


def test_marco_and_introspection_need_no_credentials(api: Api) -> None:
    assert api.data("{ marco }", auth=None) == {"marco": "polo"}
    schema = api.data("{ __schema { queryType { name } mutationType { name } } }", auth=None)
    assert schema["__schema"]["mutationType"]["name"] == "Mutation"


@pytest.mark.fluz_sandbox(token_ttl=60)
def test_expired_token_is_auth_0008_with_http_200(api: Api) -> None:
    token = api.token()
    assert api.data(WALLET, auth=token)
    api.sandbox.advance_clock(61)
    error = api.error(WALLET, auth=token)
    assert error["extensions"]["code"] == "AUTH-0008"
    assert "expired" in error["message"]


@pytest.mark.fluz_sandbox(token_ttl=60)
def test_a_token_minted_after_the_clock_advanced_is_accepted(api: Api) -> None:
    api.sandbox.advance_clock(3600)
    assert api.data(WALLET, auth=api.token())


@pytest.mark.fluz_sandbox(token_ttl=1)
def test_a_short_lived_token_expires_in_real_time(api: Api) -> None:
    token = api.token()
    expires = claims(token)["exp"]
    assert isinstance(expires, int)
    time.sleep(max(0.0, expires - time.time()) + 0.05)
    assert api.error(WALLET, auth=token)["extensions"]["code"] == "AUTH-0008"


def test_malformed_and_foreign_tokens_are_auth_0008(api: Api) -> None:
    genuine = claims(api.token())
    forged = jwt.encode(genuine, "not-the-sandbox-secret-" * 2, algorithm="HS256")
    for token in ("not-a-jwt", forged, api.token()[:-4] + "AAAA"):
        assert api.error(WALLET, auth=token)["extensions"]["code"] == "AUTH-0008"


def test_token_from_another_sandbox_is_rejected(
    api: Api, fluz_sandbox_factory: Callable[..., SandboxServer]
) -> None:
    other = fluz_sandbox_factory()
    with httpx.Client() as http:
        foreign = Api(other, http).token()
    assert api.error(WALLET, auth=foreign)["extensions"]["code"] == "AUTH-0008"


def test_missing_scope_names_the_scope(api: Api) -> None:
    token = api.token(["LIST_OFFERS"])
    error = api.error(WALLET, auth=token)
    assert error["extensions"]["code"] == "AUTH-0008"
    assert error["extensions"]["missingScopes"] == ["LIST_PAYMENT"]
    assert "LIST_PAYMENT" in error["message"]
    both = api.error("{ getTransactions { totalCount } }", auth=api.token(["LIST_PAYMENT"]))
    assert both["extensions"]["missingScopes"] == ["LIST_PURCHASES"]


def test_scope_not_granted_to_the_app_is_refused_at_generation(api: Api) -> None:
    variables = {
        "userId": api.sandbox.user_id,
        "accountId": api.sandbox.account_id,
        "scopes": ["LIST_OFFERS", "PCI_COMPLIANCE"],
    }
    error = api.error(GENERATE, variables, auth="basic")
    assert error["extensions"]["code"] == "AR-0001"
    assert "PCI_COMPLIANCE" in error["message"]
    assert api.sandbox.counters().tokens_minted == 0


@pytest.mark.parametrize("field", ["userId", "accountId", "seatId"])
def test_unknown_user_account_or_seat_is_refused(api: Api, field: str) -> None:
    variables = {
        "userId": api.sandbox.user_id,
        "accountId": api.sandbox.account_id,
        "scopes": ["LIST_OFFERS"],
        field: "00000000-0000-4000-8000-000000000000",
    }
    assert api.error(GENERATE, variables, auth="basic")["extensions"]["code"] == "AR-0001"


def test_refresh_issues_a_new_token_with_the_same_scopes(api: Api) -> None:
    first = api.generate(["LIST_OFFERS", "LIST_PAYMENT"])
    renewed = api.data(REFRESH, {"token": first["refreshToken"]}, auth="basic")
    renewed = renewed["refreshUserAccessToken"]
    assert renewed["accessToken"] != first["accessToken"]
    assert renewed["token"] == renewed["accessToken"]
    assert renewed["scopes"] == first["scopes"]
    assert renewed["refreshToken"] == first["refreshToken"]  # not rotated (documented)
    assert claims(renewed["accessToken"])["scopes"] == ["LIST_OFFERS", "LIST_PAYMENT"]
    assert api.data(WALLET, auth=renewed["accessToken"])
    counters = api.sandbox.counters()
    assert (counters.tokens_minted, counters.token_refreshes) == (2, 1)


def test_refresh_accepts_the_documented_user_id_alias(api: Api) -> None:
    refresh_token = api.generate(["LIST_OFFERS"])["refreshToken"]
    query = "mutation($t: String) { refreshUserAccessToken(userId: $t) { accessToken } }"
    assert api.data(query, {"t": refresh_token}, auth="basic")["refreshUserAccessToken"][
        "accessToken"
    ]


def test_refresh_rejects_unknown_tokens_and_ambiguous_arguments(api: Api) -> None:
    assert (
        api.error(REFRESH, {"token": "0" * 32}, auth="basic")["extensions"]["code"] == "AUTH-0008"
    )
    both = 'mutation { refreshUserAccessToken(refreshToken: "a", userId: "b") { accessToken } }'
    assert api.error(both, auth="basic")["extensions"]["code"] == "AR-0001"
    assert (
        api.error("mutation { refreshUserAccessToken { accessToken } }", auth="basic")[
            "extensions"
        ]["code"]
        == "AR-0001"
    )


def test_refresh_tokens_do_not_survive_a_reset(api: Api) -> None:
    refresh_token = api.generate(["LIST_OFFERS"])["refreshToken"]
    api.sandbox.reset()
    assert (
        api.error(REFRESH, {"token": refresh_token}, auth="basic")["extensions"]["code"]
        == "AUTH-0008"
    )


def test_app_operations(api: Api) -> None:
    scopes = api.data(APP_SCOPES, auth="basic")["getApplicationScopes"]
    assert set(USER_SCOPES) <= set(scopes)
    assert "PCI_COMPLIANCE" not in scopes
    accounts = api.data(
        "query($u: UUID!) { getAccountsByUserId(userId: $u) { accountId type seats { seatId } } }",
        {"u": api.sandbox.user_id},
        auth="basic",
    )["getAccountsByUserId"]
    assert accounts == [
        {
            "accountId": api.sandbox.account_id,
            "type": "BUSINESS",
            "seats": [{"seatId": api.sandbox.seat_id}],
        }
    ]
    users = api.data("{ getApplicationUsers { userId accounts { accountId } } }", auth="basic")
    assert api.sandbox.user_id in [u["userId"] for u in users["getApplicationUsers"]]


# -- every operation is in the scope table ------------------------------------------------

NIL = "00000000-0000-4000-8000-000000000000"
DOCS_SILENT_ON_SCOPE = {
    "getReferralUrl": ("{ getReferralUrl }", None),
    "getUserAddresses": ("{ getUserAddresses { userAddressId } }", None),
    "getMccList": ("{ getMccList { code } }", None),
    "getVirtualCardBulkOrderStatus": (
        "query($i: GetVirtualCardBulkOrderStatusInput!) "
        "{ getVirtualCardBulkOrderStatus(input: $i) { orderStatus } }",
        {"i": {"orderId": "x"}},
    ),
    "registerUser": (
        'mutation { registerUser(firstName: "Nia", lastName: "New", phoneNumber: '
        '"+15555550777", regionCode: "US", emailAddress: "nia@example.com", '
        'dateOfBirth: "1990-01-01") { success error { code message } } }',
        None,
    ),
    "updateTransactionMetadata": (
        "mutation($i: UpdateTransactionMetadataInput!) "
        "{ updateTransactionMetadata(input: $i) { success } }",
        {"i": {"transactionId": NIL, "memo": "x"}},
    ),
}


def test_every_root_field_has_an_entry_in_the_scope_table() -> None:
    from graphql import build_schema

    from fluz.sandbox._auth import BASIC_ONLY, PUBLIC, REQUIRED_SCOPES
    from fluz.sandbox._schema import load_sdl

    schema = build_schema(load_sdl())
    roots = [t for t in (schema.query_type, schema.mutation_type) if t is not None]
    root_fields = {name for root in roots for name in root.fields}
    assert sorted(root_fields - set(REQUIRED_SCOPES)) == []
    # No user operation goes without a scope: an empty entry is for app/public ones only.
    unscoped = {name for name, scopes in REQUIRED_SCOPES.items() if not scopes}
    assert sorted(unscoped - BASIC_ONLY - PUBLIC) == []


@pytest.mark.parametrize("operation", sorted(DOCS_SILENT_ON_SCOPE))
def test_operations_the_docs_leave_unscoped_still_refuse_a_token_without_their_scope(
    api: Api, operation: str
) -> None:
    query, variables = DOCS_SILENT_ON_SCOPE[operation]
    token = api.token(["LIST_PURCHASES"] if operation == "getReferralUrl" else ["LIST_OFFERS"])
    error = api.error(query, variables, auth=token)
    assert error["extensions"]["code"] == "AUTH-0008"
    assert error["extensions"]["missingScopes"]
    assert operation in error["message"]


def test_internal_transfer_without_money_scopes_moves_nothing(api: Api) -> None:
    seeds = api.sandbox.seed_data
    before = api.sandbox.balances()
    query = (
        "mutation($i: TransferInternalBalanceInput!) "
        "{ transferInternalBalance(input: $i) { withdraw { amount } } }"
    )
    variables = {
        "i": {
            "idempotencyKey": "scopeless-transfer",
            "amount": 200,
            "sourceUserCashBalanceId": seeds.cash_balance_id,
            "destinationUserCashBalanceId": seeds.second_cash_balance_id,
        }
    }
    error = api.error(query, variables, auth=api.token(["LIST_OFFERS", "MAKE_DEPOSIT"]))
    assert error["extensions"]["missingScopes"] == ["MAKE_WITHDRAW"]
    assert api.sandbox.balances() == before
