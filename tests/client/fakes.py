"""A scripted, in-process Fluz for edge cases a real server cannot produce on demand.

``FakeFluz`` is an ``httpx.MockTransport`` handler: per operation name it answers from a
queue of scripted replies (the last one repeats), records every request, and mints JWTs
for the token operations unless told otherwise.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from fluz import FluzClient

API_KEY = "test-api-key-0123456789"
USER_ID = "6f1c8a52-8d7e-4a4b-9a55-3e0e4c1b2a10"
ACCOUNT_ID = "0b9d2b4e-63a7-4d8e-8f0a-2c6f3c7e5d21"
URL = "http://127.0.0.1:9/api/v1/graphql"

Reply = httpx.Response | Callable[[httpx.Request], httpx.Response] | BaseException


def make_jwt(lifetime: float = 300.0, **claims: Any) -> str:
    def b64(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    now = int(time.time())
    payload = {"iat": now, "exp": now + lifetime, "jti": uuid.uuid4().hex, **claims}
    return f"{b64({'alg': 'HS256', 'typ': 'JWT'})}.{b64(payload)}.signature"


def gql(
    data: dict[str, Any] | None = None,
    *,
    errors: list[Any] | None = None,
    rid: str = "rid",
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    body: dict[str, Any] = {"extensions": {"requestId": rid}}
    if data is not None:
        body["data"] = data
    if errors is not None:
        body["errors"] = errors
    return httpx.Response(status, json=body, headers=headers)


def gql_error(
    code: str,
    message: str = "failed",
    *,
    status: int = 200,
    rid: str = "rid",
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> httpx.Response:
    return gql(
        None,
        errors=[{"message": message, "extensions": {"code": code, **extensions}}],
        status=status,
        rid=rid,
        headers=headers,
    )


@dataclass
class Seen:
    operation: str
    authorization: str
    variables: dict[str, Any]
    request: httpx.Request


class FakeFluz:
    def __init__(self, *, token_lifetime: float = 300.0, refresh_tokens: bool = True) -> None:
        self.requests: list[Seen] = []
        self.scripts: dict[str, list[Reply]] = {}
        self.token_lifetime = token_lifetime
        self.refresh_tokens = refresh_tokens
        self.issued: list[str] = []

    # -- scripting
    def on(self, operation: str, *replies: Reply) -> FakeFluz:
        self.scripts[operation] = list(replies)
        return self

    def seen(self, operation: str) -> list[Seen]:
        return [r for r in self.requests if r.operation == operation]

    # -- transport
    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen = Seen(
            body.get("operationName") or "",
            request.headers.get("authorization", ""),
            body.get("variables") or {},
            request,
        )
        self.requests.append(seen)
        queue = self.scripts.get(seen.operation)
        if queue:
            reply = queue.pop(0) if len(queue) > 1 else queue[0]
            if isinstance(reply, BaseException):
                raise reply
            return reply(request) if callable(reply) else reply
        if seen.operation in ("GenerateUserAccessToken", "RefreshUserAccessToken"):
            return self.token_reply(seen.operation)
        raise AssertionError(f"unscripted operation {seen.operation}")

    def token_reply(self, operation: str) -> httpx.Response:
        token = make_jwt(self.token_lifetime)
        self.issued.append(token)
        field = (
            "generateUserAccessToken"
            if operation.startswith("Generate")
            else "refreshUserAccessToken"
        )
        refresh = f"refresh-{len(self.issued)}" if self.refresh_tokens else None
        return gql(
            {field: {"token": None, "accessToken": token, "refreshToken": refresh, "scopes": []}}
        )

    def client(self, **options: Any) -> FluzClient:
        options.setdefault("api_key", API_KEY)
        options.setdefault("user_id", USER_ID)
        options.setdefault("account_id", ACCOUNT_ID)
        options.setdefault("url", URL)
        options.setdefault("retry_base_delay", 0.001)
        options.setdefault("retry_max_delay", 0.01)
        return FluzClient(
            http_client=httpx.AsyncClient(transport=httpx.MockTransport(self)), **options
        )


def merchants_page(count: int, start: int = 0) -> httpx.Response:
    items = [
        {
            "merchantId": str(uuid.UUID(int=start + i + 1)),
            "name": f"m{start + i}",
            "slug": f"m{start + i}",
            "offers": [],
        }
        for i in range(count)
    ]
    return gql({"getMerchants": items})


def gift_card(index: int = 0) -> dict[str, Any]:
    return {
        "giftCardId": str(uuid.UUID(int=index + 1)),
        "purchaserUserId": USER_ID,
        "status": "ACTIVE",
        "endDate": None,
        "createdAt": "2025-01-15T10:30:00.000Z",
        "termsAndConditions": None,
        "merchant": {"merchantId": str(uuid.UUID(int=99)), "name": "Shop", "slug": "shop"},
    }


def purchase(gift_card_index: int = 0) -> dict[str, Any]:
    return {
        "purchaseId": str(uuid.uuid4()),
        "purchaseDisplayId": "P-1",
        "purchaseBankCardId": None,
        "bankAccountId": None,
        "paypalVaultId": None,
        "purchaseAmount": 25.0,
        "fluzpayAmount": 0.0,
        "seatRewardValue": 0.5,
        "createdAt": "2025-01-15T10:30:00Z",
        "memo": None,
        "transactionCategory": None,
        "attachmentUrl": None,
        "giftCard": gift_card(gift_card_index),
        "virtualCard": None,
    }


def wallet() -> dict[str, Any]:
    """The smallest getWallet the client accepts (every field it does not require null)."""
    return {
        "blockedPaymentTypes": None,
        "bankCards": None,
        "bankAccounts": None,
        "paypalAccounts": None,
        "balances": None,
    }
