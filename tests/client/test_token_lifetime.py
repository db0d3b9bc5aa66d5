"""When the client renews a user token: the lifetime is counted from the JWT's ``iat``
(so a skewed local clock does not matter), from now when there is no ``iat``, the
renewal is scheduled ``token_refresh_skew`` seconds early (at most half the lifetime),
and the granted scopes fall back to the JWT's claim.

Observed from outside: how many token requests two calls cause, and token_info().
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import anyio
import httpx
import pytest

from fluz import ResponseDecodeError

from .fakes import FakeFluz, gql, merchants_page

pytestmark = pytest.mark.anyio


def jwt(**claims: Any) -> str:
    def b64(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{b64({'alg': 'HS256', 'typ': 'JWT'})}.{b64(claims)}.signature"


def issuing(fake: FakeFluz, claims: Any, scopes: list[str] | None = None) -> FakeFluz:
    """Answer every token request with a JWT of ``claims()`` (called per request)."""

    def answer(request: httpx.Request) -> httpx.Response:
        token = jwt(**claims())
        fake.issued.append(token)
        body = {"token": None, "accessToken": token, "refreshToken": None, "scopes": scopes}
        return gql({"generateUserAccessToken": body})

    fake.on("GenerateUserAccessToken", answer)
    fake.on("GetMerchants", merchants_page(1))
    return fake


async def two_calls(fake: FakeFluz, **options: Any) -> int:
    """Make two calls in a row; return how many tokens they needed."""
    async with fake.client(**options) as fluz:
        await fluz.get_merchants()
        await fluz.get_merchants()
    return len(fake.seen("GenerateUserAccessToken"))


async def test_a_token_from_a_server_an_hour_behind_lives_its_full_lifetime() -> None:
    # exp is an hour in the local past, but iat..exp says 300 s: still fresh.
    def claims() -> dict[str, float]:
        iat = time.time() - 3600
        return {"iat": iat, "exp": iat + 300}

    assert await two_calls(issuing(FakeFluz(), claims)) == 1


async def test_a_token_from_a_server_an_hour_ahead_is_renewed_when_its_lifetime_is_up() -> None:
    # exp is an hour in the local future, but iat..exp says 0 s: due at once.
    def claims() -> dict[str, float]:
        iat = time.time() + 3600
        return {"iat": iat, "exp": iat}

    assert await two_calls(issuing(FakeFluz(), claims)) == 2


async def test_a_token_without_iat_counts_its_lifetime_from_now() -> None:
    def fresh() -> dict[str, float]:
        return {"exp": time.time() + 300}

    def expired() -> dict[str, float]:
        return {"exp": time.time() - 60}

    assert await two_calls(issuing(FakeFluz(), fresh)) == 1
    assert await two_calls(issuing(FakeFluz(), expired)) == 2


async def test_the_refresh_skew_is_capped_at_half_the_lifetime() -> None:
    # A 2 s token with the default 30 s skew is renewed after 1 s, not at once.
    def claims() -> dict[str, float]:
        now = time.time()
        return {"iat": now, "exp": now + 2}

    assert await two_calls(issuing(FakeFluz(), claims)) == 1


async def test_a_token_is_renewed_the_skew_before_it_expires() -> None:
    # Lifetime 1 s, skew 0.25 s: fresh at first, renewed once 0.75 s have passed.
    def claims() -> dict[str, float]:
        now = time.time()
        return {"iat": now, "exp": now + 1.0}

    fake = issuing(FakeFluz(), claims)
    async with fake.client(token_refresh_skew=0.25) as fluz:
        await fluz.get_merchants()
        await fluz.get_merchants()
        assert len(fake.seen("GenerateUserAccessToken")) == 1
        await anyio.sleep(0.8)
        await fluz.get_merchants()
    assert len(fake.seen("GenerateUserAccessToken")) == 2


async def test_granted_scopes_fall_back_to_the_jwt_claim() -> None:
    def claims() -> dict[str, Any]:
        now = time.time()
        return {"iat": now, "exp": now + 300, "scopes": ["LIST_OFFERS", "PURCHASE_GIFTCARD"]}

    fake = issuing(FakeFluz(), claims, scopes=None)
    async with fake.client() as fluz:
        info = await fluz.token_info()
    assert info.scopes == ("LIST_OFFERS", "PURCHASE_GIFTCARD")


async def test_the_scopes_of_the_token_response_win_over_the_jwt_claim() -> None:
    def claims() -> dict[str, Any]:
        now = time.time()
        return {"iat": now, "exp": now + 300, "scopes": ["LIST_OFFERS", "PURCHASE_GIFTCARD"]}

    fake = issuing(FakeFluz(), claims, scopes=["LIST_OFFERS"])
    async with fake.client() as fluz:
        info = await fluz.token_info()
    assert info.scopes == ("LIST_OFFERS",)


async def test_token_info_reports_the_expiry_from_exp() -> None:
    exp = int(time.time()) + 300

    def claims() -> dict[str, float]:
        return {"iat": exp - 300, "exp": exp}

    fake = issuing(FakeFluz(), claims)
    async with fake.client() as fluz:
        info = await fluz.token_info()
    assert info.expires_at is not None
    assert info.expires_at.timestamp() == exp
    assert info.refreshable is False


async def test_a_token_answer_without_any_token_fails_the_call_unsent() -> None:
    empty = {"token": None, "accessToken": None, "refreshToken": None, "scopes": None}
    fake = FakeFluz().on("GenerateUserAccessToken", gql({"generateUserAccessToken": empty}))
    fake.on("GetMerchants", merchants_page(1))
    async with fake.client(max_retries=0) as fluz:
        with pytest.raises(ResponseDecodeError) as caught:
            await fluz.get_merchants()
    assert caught.value.message == (
        "GetMerchants was not sent: its user token could not be obtained: "
        "token response carries neither accessToken nor token"
    )
    assert caught.value.request_sent is False
    assert isinstance(caught.value.__cause__, ResponseDecodeError)
    assert caught.value.__cause__.operation == "GenerateUserAccessToken"
    assert fake.seen("GetMerchants") == []


def issuing_claims(payload: Any) -> FakeFluz:
    """A FakeFluz whose tokens carry *payload* (any JSON) as their JWT payload."""
    fake = FakeFluz()

    def answer(request: httpx.Request) -> httpx.Response:
        raw = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
        token = f"eyJhbGciOiJIUzI1NiJ9.{raw}.sig"
        fake.issued.append(token)
        body = {"token": None, "accessToken": token, "refreshToken": None, "scopes": None}
        return gql({"generateUserAccessToken": body})

    fake.on("GenerateUserAccessToken", answer)
    fake.on("GetMerchants", merchants_page(1))
    return fake


@pytest.mark.parametrize(
    "exp", ["1900000000", True, 1e20, 946_684_799], ids=["string", "bool", "huge", "1999"]
)
async def test_an_exp_that_is_not_a_unix_time_fails_the_call_as_a_decode_error(
    exp: object,
) -> None:
    fake = issuing_claims({"exp": exp})
    async with fake.client(max_retries=0) as fluz:
        with pytest.raises(ResponseDecodeError) as caught:
            await fluz.get_merchants()
    assert caught.value.code == "DECODE"
    assert "'exp' claim is not a Unix time in seconds" in caught.value.message
    assert isinstance(caught.value.__cause__, ResponseDecodeError)
    assert caught.value.__cause__.operation == "GenerateUserAccessToken"


async def test_the_first_second_of_2000_is_a_valid_token_time() -> None:
    fake = issuing_claims({"iat": 946_684_800, "exp": 946_684_800 + 300})
    assert await two_calls(fake) == 1  # 300 s from iat: fresh for both calls


async def test_a_token_whose_payload_is_not_an_object_is_used_as_opaque() -> None:
    fake = issuing_claims([1, 2, 3])
    async with fake.client() as fluz:
        await fluz.get_merchants()
        await fluz.get_merchants()
        info = await fluz.token_info()
    assert info.expires_at is None  # renewed only when Fluz refuses it
    assert len(fake.seen("GenerateUserAccessToken")) == 1
