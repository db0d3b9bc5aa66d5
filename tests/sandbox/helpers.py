"""Helpers for the sandbox's own tests: plain httpx over loopback, never FluzClient."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from fluz.sandbox import SandboxServer

USER_SCOPES = [
    "LIST_PAYMENT",
    "LIST_PURCHASES",
    "LIST_OFFERS",
    "MAKE_DEPOSIT",
    "MAKE_WITHDRAW",
    "PURCHASE_GIFTCARD",
    "REVEAL_GIFTCARD",
    "MANAGE_PAYMENT",
    "CREATE_VIRTUALCARD",
    "REVEAL_VIRTUALCARD",
    "EDIT_VIRTUALCARD",
    "MANAGE_SUBUSERS",
    "VIEW_SUBUSERS",
    "QUERY_RECIPIENT",
    "MAKE_PAYOUT_TRANSFER_SEND",
    "REQUEST_VIRTUAL_CARD",
    "REQUEST_REIMBURSEMENT",
    "REQUEST_ACCOUNT_TRANSFER",
    "REQUEST_INTERNAL_TRANSFER",
    "LIST_APPROVALS",
    "MANAGE_APPROVALS",
]

GENERATE = """
mutation Generate($userId: UUID!, $accountId: UUID!, $scopes: [ScopeType!]!, $seatId: UUID) {
  generateUserAccessToken(
    userId: $userId, accountId: $accountId, scopes: $scopes, seatId: $seatId
  ) {
    token accessToken refreshToken scopes
  }
}
"""

PURCHASE = """
mutation Purchase($input: PurchaseGiftCardInput!) {
  purchaseGiftCard(input: $input) {
    purchaseId purchaseAmount fluzpayAmount seatRewardValue purchaseBankCardId
    giftCard { giftCardId status merchant { slug } }
  }
}
"""


def new_key() -> str:
    return str(uuid.uuid4())


def check_envelope(response: httpx.Response) -> dict[str, Any]:
    """Every sandbox answer is JSON with a requestId, and never shows a traceback."""
    assert "Traceback" not in response.text
    body: dict[str, Any] = response.json()
    request_id = body["extensions"]["requestId"]
    assert request_id == response.headers["x-request-id"]
    return body


class Api:
    """GraphQL over plain httpx against one sandbox."""

    def __init__(self, sandbox: SandboxServer, http: httpx.Client) -> None:
        self.sandbox = sandbox
        self.http = http
        self._tokens: dict[tuple[str, ...], str] = {}

    def post(
        self, query: str, variables: dict[str, Any] | None = None, *, auth: str | None = None
    ) -> httpx.Response:
        """``auth``: None (no header), "basic" (the API key), or a user token."""
        headers = {}
        if auth == "basic":
            headers["Authorization"] = f"Basic {self.sandbox.api_key}"
        elif auth is not None:
            headers["Authorization"] = f"Bearer {auth}"
        payload: dict[str, Any] = {"query": query}
        if variables is not None:
            payload["variables"] = variables
        return self.http.post(self.sandbox.url, json=payload, headers=headers)

    def generate(self, scopes: list[str] | None = None, **overrides: Any) -> dict[str, Any]:
        variables = {
            "userId": self.sandbox.user_id,
            "accountId": self.sandbox.account_id,
            "scopes": USER_SCOPES if scopes is None else scopes,
            **overrides,
        }
        issued: dict[str, Any] = self.data(GENERATE, variables, auth="basic")[
            "generateUserAccessToken"
        ]
        return issued

    def token(self, scopes: list[str] | None = None) -> str:
        key = tuple(scopes or USER_SCOPES)
        if key not in self._tokens:
            self._tokens[key] = self.generate(list(key))["accessToken"]
        return self._tokens[key]

    def call(
        self, query: str, variables: dict[str, Any] | None = None, *, auth: str | None = "user"
    ) -> dict[str, Any]:
        """The response body of a request that got HTTP 200 (auth "user": a full-scope token)."""
        response = self.post(query, variables, auth=self.token() if auth == "user" else auth)
        assert response.status_code == 200, response.text
        return check_envelope(response)

    def data(
        self, query: str, variables: dict[str, Any] | None = None, *, auth: str | None = "user"
    ) -> dict[str, Any]:
        body = self.call(query, variables, auth=auth)
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    def error(
        self, query: str, variables: dict[str, Any] | None = None, *, auth: str | None = "user"
    ) -> dict[str, Any]:
        """The single top-level error of an HTTP 200 response."""
        body = self.call(query, variables, auth=auth)
        assert len(body.get("errors") or []) == 1, body
        error: dict[str, Any] = body["errors"][0]
        return error

    def purchase(self, **input_fields: Any) -> httpx.Response:
        fields = {"idempotencyKey": new_key(), **input_fields}
        return self.post(PURCHASE, {"input": fields}, auth=self.token())
