"""Auth: Basic vs Bearer per operation, the token lifecycle, renewal on rejection."""

from __future__ import annotations

import time
import uuid

import anyio
import httpx
import pytest

from fluz import AuthenticationError, PermissionDeniedError
from fluz._auth import TokenManager, UserToken, make_user_token, token_lifetime
from fluz._config import make_identity

from .fakes import API_KEY, FakeFluz, gql, gql_error, make_jwt, merchants_page

pytestmark = pytest.mark.anyio


async def test_app_operations_use_basic_and_user_operations_bearer() -> None:
    fake = FakeFluz()
    fake.on("GetApplicationUsers", gql({"getApplicationUsers": []}))
    fake.on("GetMerchants", merchants_page(1))
    fake.on("Marco", gql({"marco": "polo"}))
    async with fake.client() as fluz:
        assert await fluz.get_application_users() == []
        assert await fluz.marco() == "polo"
        await fluz.get_merchants()
    (apps,) = fake.seen("GetApplicationUsers")
    assert apps.authorization == f"Basic {API_KEY}"
    assert fake.seen("Marco")[0].authorization == f"Basic {API_KEY}"
    (mint,) = fake.seen("GenerateUserAccessToken")
    assert mint.authorization == f"Basic {API_KEY}"
    assert fake.seen("GetMerchants")[0].authorization == f"Bearer {fake.issued[0]}"


async def test_token_is_minted_once_with_identity_and_scopes_then_cached() -> None:
    fake = FakeFluz()
    fake.on("GetMerchants", merchants_page(1))
    seat = str(uuid.uuid4())
    async with fake.client(seat_id=seat, scopes=["LIST_OFFERS"]) as fluz:
        for _ in range(3):
            await fluz.get_merchants()
        assert fluz.token_renewals == 1
    (mint,) = fake.seen("GenerateUserAccessToken")
    assert mint.variables["seatId"] == seat
    assert mint.variables["scopes"] == ["LIST_OFFERS"]
    assert {s.authorization for s in fake.seen("GetMerchants")} == {f"Bearer {fake.issued[0]}"}


async def test_token_field_is_read_when_access_token_is_absent() -> None:
    legacy = make_jwt(300)
    fake = FakeFluz()
    fake.on(
        "GenerateUserAccessToken",
        gql(
            {
                "generateUserAccessToken": {
                    "token": legacy,
                    "accessToken": None,
                    "refreshToken": None,
                    "scopes": None,
                }
            }
        ),
    )
    fake.on("GetMerchants", merchants_page(1))
    async with fake.client() as fluz:
        await fluz.get_merchants()
    assert fake.seen("GetMerchants")[0].authorization == f"Bearer {legacy}"


async def test_token_near_expiry_is_refreshed_with_the_refresh_token() -> None:
    # A token with no lifetime left is due for renewal before the next call.
    fake = FakeFluz(token_lifetime=0.0)
    fake.on("GetMerchants", merchants_page(1))
    async with fake.client() as fluz:
        await fluz.get_merchants()
        await fluz.get_merchants()
    assert len(fake.seen("GenerateUserAccessToken")) == 1
    (refresh,) = fake.seen("RefreshUserAccessToken")
    assert refresh.variables == {"refreshToken": "refresh-1"}
    assert refresh.authorization == f"Basic {API_KEY}"
    assert fake.seen("GetMerchants")[1].authorization == f"Bearer {fake.issued[1]}"


async def test_without_refresh_token_a_new_token_is_generated() -> None:
    fake = FakeFluz(token_lifetime=0.0, refresh_tokens=False)
    fake.on("GetMerchants", merchants_page(1))
    async with fake.client() as fluz:
        await fluz.get_merchants()
        await fluz.get_merchants()
    assert len(fake.seen("GenerateUserAccessToken")) == 2
    assert fake.seen("RefreshUserAccessToken") == []


async def test_refresh_rejected_falls_back_to_generate() -> None:
    fake = FakeFluz(token_lifetime=0.0)
    fake.on("RefreshUserAccessToken", gql_error("AUTH-0008", "refresh token expired"))
    fake.on("GetMerchants", merchants_page(1))
    async with fake.client() as fluz:
        await fluz.get_merchants()
        await fluz.get_merchants()
    assert len(fake.seen("RefreshUserAccessToken")) == 1
    assert len(fake.seen("GenerateUserAccessToken")) == 2
    assert fake.seen("GetMerchants")[1].authorization == f"Bearer {fake.issued[1]}"


@pytest.mark.parametrize(
    "rejection",
    [
        httpx.Response(401, text="Unauthorized"),
        gql_error("AUTH-0008", "User access token has expired"),
    ],
    ids=["http-401", "AUTH-0008"],
)
async def test_rejected_token_is_renewed_and_the_request_replayed_once(
    rejection: httpx.Response,
) -> None:
    fake = FakeFluz()
    fake.on("GetMerchants", rejection, merchants_page(2))
    async with fake.client(max_retries=0) as fluz:
        page = await fluz.get_merchants()
    assert page is not None
    assert len(page) == 2
    first, replay = fake.seen("GetMerchants")
    assert first.authorization == f"Bearer {fake.issued[0]}"
    assert replay.authorization == f"Bearer {fake.issued[1]}"
    assert len(fake.issued) == 2


async def test_token_rejected_twice_raises_authentication_error() -> None:
    fake = FakeFluz()
    fake.on("GetMerchants", gql_error("AUTH-0008", "Invalid user access token"))
    async with fake.client() as fluz:
        with pytest.raises(AuthenticationError) as caught:
            await fluz.get_merchants()
    assert caught.value.code == "AUTH-0008"
    assert len(fake.seen("GetMerchants")) == 2  # the original and one replay, no loop


async def test_missing_scope_is_permission_denied_without_renewal() -> None:
    fake = FakeFluz()
    fake.on(
        "GetMerchants",
        gql_error(
            "AUTH-0008", "getMerchants requires scope LIST_OFFERS", missingScopes=["LIST_OFFERS"]
        ),
    )
    async with fake.client() as fluz:
        with pytest.raises(PermissionDeniedError) as caught:
            await fluz.get_merchants()
    assert caught.value.extensions["missingScopes"] == ["LIST_OFFERS"]
    assert len(fake.seen("GetMerchants")) == 1
    assert len(fake.issued) == 1


async def test_revoked_api_key_ends_in_authentication_error_not_a_loop() -> None:
    fake = FakeFluz()
    fake.on("GenerateUserAccessToken", httpx.Response(401, text="Unauthorized"))
    fake.on("GetApplicationUsers", httpx.Response(401, text="Unauthorized"))
    fake.on("GetMerchants", merchants_page(1))
    async with fake.client() as fluz:
        with pytest.raises(AuthenticationError) as caught:
            await fluz.get_merchants()
        assert caught.value.status_code == 401
        with pytest.raises(AuthenticationError):
            await fluz.get_application_users()  # Basic: no renewal to try
    assert len(fake.seen("GenerateUserAccessToken")) == 1
    assert fake.seen("GetMerchants") == []
    assert len(fake.seen("GetApplicationUsers")) == 1


async def test_revoked_key_while_a_token_is_rejected_does_not_loop() -> None:
    fake = FakeFluz()
    fake.on(
        "GenerateUserAccessToken", fake.token_reply("GenerateUserAccessToken"), httpx.Response(401)
    )
    fake.on("RefreshUserAccessToken", httpx.Response(401))
    fake.on("GetMerchants", httpx.Response(401))
    async with fake.client() as fluz:
        with pytest.raises(AuthenticationError):
            await fluz.get_merchants()
    assert len(fake.requests) <= 5


async def test_concurrent_calls_across_expiry_share_one_renewal() -> None:
    fake = FakeFluz()
    fake.on("GetMerchants", merchants_page(1))
    async with fake.client() as fluz:
        async with anyio.create_task_group() as tg:
            for _ in range(200):
                tg.start_soon(fluz.get_merchants)
        assert len(fake.seen("GenerateUserAccessToken")) == 1
        # All 200 were sent with the same token; now the server rejects that token.
        first_token = f"Bearer {fake.issued[0]}"

        def reject_first_token(request: httpx.Request) -> httpx.Response:
            if request.headers["authorization"] == first_token:
                return httpx.Response(401)
            return merchants_page(1)

        fake.on("GetMerchants", reject_first_token)
        async with anyio.create_task_group() as tg:
            for _ in range(200):
                tg.start_soon(fluz.get_merchants)
    assert len(fake.issued) == 2  # one mint, then exactly one renewal for 200 rejections


async def test_a_thousand_concurrent_calls_across_an_expiry_share_one_renewal() -> None:
    fake = FakeFluz(token_lifetime=0.0)  # the first token is due for renewal at once
    fake.on("GetMerchants", merchants_page(1))
    async with fake.client() as fluz:
        await fluz.get_merchants()
        fake.token_lifetime = 300.0
        async with anyio.create_task_group() as tg:
            for _ in range(1000):
                tg.start_soon(fluz.get_merchants)
    assert len(fake.seen("GenerateUserAccessToken")) == 1
    assert len(fake.seen("RefreshUserAccessToken")) == 1  # one renewal for 1,000 callers
    assert {s.authorization for s in fake.seen("GetMerchants")[1:]} == {f"Bearer {fake.issued[1]}"}


async def test_identities_do_not_share_tokens() -> None:
    fake = FakeFluz()
    fake.on("GetMerchants", merchants_page(1))
    other_user, other_account = str(uuid.uuid4()), str(uuid.uuid4())
    async with fake.client() as fluz:
        other = fluz.for_user(other_user, other_account)
        await fluz.get_merchants()
        await other.get_merchants()
        await fluz.get_merchants()
    mints = fake.seen("GenerateUserAccessToken")
    assert [m.variables["userId"] for m in mints] == [fluz._identity.user_id, other_user]  # type: ignore[union-attr]
    first, second, third = fake.seen("GetMerchants")
    assert first.authorization == third.authorization == f"Bearer {fake.issued[0]}"
    assert second.authorization == f"Bearer {fake.issued[1]}"


def test_token_lifetime_is_read_from_the_jwt_payload() -> None:
    # make_jwt: iat = now (whole seconds), exp = iat + lifetime, so lifetimes are exact.
    assert token_lifetime(make_jwt(180)) == 180
    assert token_lifetime("opaque-token") is None
    assert token_lifetime("a.!!!.c") is None
    fresh = make_user_token(make_jwt(180), None, skew=30)
    assert fresh.refresh_at is not None
    assert fresh.expires_mono is not None
    assert fresh.refresh_at - fresh.obtained_at == pytest.approx(150)  # 30 s early
    assert fresh.expires_mono - fresh.obtained_at == pytest.approx(180)
    short = make_user_token(make_jwt(10), None, skew=30)  # skew capped at half the lifetime
    assert short.refresh_at is not None
    assert short.refresh_at - short.obtained_at == pytest.approx(5)
    assert make_user_token("opaque", None, skew=30).refresh_at is None


async def test_a_rejected_request_is_replayed_only_with_a_token_newer_than_itself() -> None:
    # Two tokens may both look fresh to the client while the server has expired the older
    # one (JWT times are whole seconds). A request refused with an old token must not be
    # replayed with another token obtained before it was sent.
    identity = make_identity(str(uuid.uuid4()), str(uuid.uuid4()), None, ["LIST_OFFERS"])
    minted: list[str] = []

    async def mint(_: object) -> UserToken:
        minted.append(make_jwt(600))
        return make_user_token(minted[-1], None, 30.0)

    tokens = TokenManager()
    sent_at = time.monotonic()
    first = (await tokens.user_token(identity, mint)).access_token
    await tokens.replace_rejected(identity, mint, "an-older-token", sent_at=sent_at)
    assert len(minted) == 1  # the current token is newer than the refused request: reused

    await tokens.replace_rejected(identity, mint, "an-older-token", sent_at=time.monotonic())
    assert len(minted) == 2  # the current token predates the request: renewed
    assert (await tokens.user_token(identity, mint)).access_token == minted[-1]
    assert first == minted[0]
