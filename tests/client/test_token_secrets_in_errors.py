"""A server error that echoes the user's tokens (the access token it refused, the refresh
token of the session) reaches the caller with both masked."""

from __future__ import annotations

import httpx
import pytest

from fluz import FluzError, TransportError

from .fakes import FakeFluz, gql, gql_error, make_jwt

pytestmark = pytest.mark.anyio

REFRESH_TOKEN = "rt_Zq81mVx0Lp4Ws7Ke2Nd9Hc"


def token_reply(fake: FakeFluz) -> object:
    def reply(_: object) -> object:
        token = make_jwt(fake.token_lifetime)
        fake.issued.append(token)
        return gql(
            {
                "generateUserAccessToken": {
                    "token": None,
                    "accessToken": token,
                    "refreshToken": REFRESH_TOKEN,
                    "scopes": [],
                }
            }
        )

    return reply


async def test_an_error_message_echoing_the_users_tokens_reaches_the_caller_masked() -> None:
    fake = FakeFluz()
    fake.on("GenerateUserAccessToken", token_reply(fake))  # type: ignore[arg-type]
    fake.on(
        "GetMerchants",
        lambda request: gql_error(
            "GE-0400",
            f"bad request from {request.headers['authorization']} (session {REFRESH_TOKEN})",
        ),
    )
    async with fake.client(max_retries=0) as fluz:
        with pytest.raises(FluzError) as caught:
            await fluz.get_merchants()
    (access_token,) = fake.issued
    shown = f"{caught.value} {caught.value!r} {caught.value.args}"
    assert "bad request from" in shown
    assert access_token not in shown
    assert REFRESH_TOKEN not in shown


async def test_a_transport_error_echoing_the_access_token_reaches_the_caller_masked() -> None:
    # A proxy or TLS layer may quote the request in its error: the token it carried is
    # masked in the TransportError as in an error answer.
    def refuse(request: httpx.Request) -> httpx.Response:
        token = request.headers["authorization"].removeprefix("Bearer ")
        raise httpx.ConnectError(f"proxy refused token={token} (session {REFRESH_TOKEN})")

    fake = FakeFluz()
    fake.on("GenerateUserAccessToken", token_reply(fake))  # type: ignore[arg-type]
    fake.on("GetMerchants", refuse)
    async with fake.client(max_retries=0) as fluz:
        with pytest.raises(TransportError) as caught:
            await fluz.get_merchants()
    (access_token,) = fake.issued
    shown = f"{caught.value} {caught.value!r} {caught.value.args}"
    assert "proxy refused token=" in shown
    assert access_token not in shown
    assert REFRESH_TOKEN not in shown
