"""The whole OAuth flow against the sandbox over loopback, with OAuthFluzClient acting for
users: authorize -> callback -> exchange -> calls -> refresh across expiry -> refresh token
expired -> typed error; one refresh per user however many calls cross an expiry."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import anyio
import httpx
import pytest
from fluz_graphql.input_types import PurchaseGiftCardInput

from fluz import ConfigurationError, PermissionDeniedError, ValidationError
from fluz.oauth import OAuthApp, OAuthFluzClient, OAuthTokens, RefreshTokenExpiredError
from fluz.sandbox import SandboxServer

from .helpers import CALLBACK, exchange, load_callback_example, new_code

pytestmark = pytest.mark.anyio

SHORT = {"oauth_access_token_ttl": 2, "oauth_refresh_token_ttl": 60}


class Saved:
    """The app's token database, as save_tokens sees it."""

    def __init__(self) -> None:
        self.tokens: dict[str, OAuthTokens] = {}
        self.saves = 0

    async def __call__(self, user: str, tokens: OAuthTokens) -> None:
        self.tokens[user] = tokens
        self.saves += 1


class Flow:
    def __init__(self, sandbox: SandboxServer, oauth: OAuthApp, refresh_requests: list[str]):
        self.sandbox = sandbox
        self.oauth = oauth
        self.saved = Saved()
        self.refresh_requests = refresh_requests  # /token/refresh requests sent

    def client(self) -> OAuthFluzClient:
        return OAuthFluzClient(self.oauth, url=self.sandbox.url, save_tokens=self.saved)

    async def connect(self, user: str) -> httpx.Response:
        """Authorize -> callback -> exchange through the example's ASGI endpoint."""
        example = load_callback_example()
        app = example.OAuthCallbackApp(
            self.oauth,
            redirect_uri=CALLBACK,
            save_tokens=self.saved,
            scopes=["LIST_OFFERS", "LIST_PAYMENT"],
        )
        response: httpx.Response = await example.connect_in_browser(app, user)
        return response


@pytest.fixture
async def flow(fluz_sandbox: SandboxServer) -> AsyncIterator[Flow]:
    sent: list[str] = []

    async def record(request: httpx.Request) -> None:
        sent.append(request.url.path)

    c = fluz_sandbox.credentials
    http = httpx.AsyncClient(event_hooks={"request": [record]})
    async with (
        http,
        OAuthApp(
            client_id=c.oauth_client_id,
            app_secret=c.oauth_app_secret,
            base_url=fluz_sandbox.base_url,
            http_client=http,
        ) as oauth,
    ):
        yield Flow(fluz_sandbox, oauth, sent)


def refreshes(flow: Flow) -> int:
    return flow.refresh_requests.count("/token/refresh")


@pytest.mark.fluz_sandbox(**SHORT)
async def test_the_whole_flow_ends_in_a_typed_reauthorize_error(flow: Flow) -> None:
    answer = await flow.connect("alice")
    assert answer.status_code == 200, answer.text
    first = flow.saved.tokens["alice"]
    assert first.scopes == ("LIST_OFFERS", "LIST_PAYMENT")

    async with flow.client() as fluz:
        alice = fluz.for_oauth_user("alice", first)
        assert await alice.get_wallet() is not None
        # Exactly the granted scopes: a purchase needs PURCHASE_GIFTCARD.
        with pytest.raises(PermissionDeniedError):
            await alice.purchase_gift_card(
                input=PurchaseGiftCardInput(merchantSlug="amazon", amount=10)
            )
        assert refreshes(flow) == 0

        # Ahead of expiry (2 s token, renewed 1 s in): refreshed before sending.
        await anyio.sleep(1.1)
        assert await alice.get_wallet() is not None
        assert refreshes(flow) == 1
        second = flow.saved.tokens["alice"]
        assert second.refresh_token != first.refresh_token  # the sandbox rotates
        wallet_calls = flow.sandbox.counters().requests_by_operation["getWallet"]
        assert wallet_calls == 2  # no request was refused and replayed

        # Expired on the server's clock only: refused (AUTH-0008), refreshed, replayed once.
        flow.sandbox.advance_clock(5)
        assert await alice.get_wallet() is not None
        assert refreshes(flow) == 2
        assert flow.saved.tokens["alice"].refresh_token != second.refresh_token
        assert flow.sandbox.counters().requests_by_operation["getWallet"] == 4

        # The refresh token expires: a typed error saying to authorize again, and no
        # further refresh attempts until new tokens arrive.
        flow.sandbox.advance_clock(61)
        for _ in range(2):
            with pytest.raises(RefreshTokenExpiredError, match="authorize the app again") as e:
                await alice.get_wallet()
            assert e.value.code == "invalid_grant"  # OAuth's own word for it
        assert refreshes(flow) == 3

        # The user authorizes again: the same client acts with the new tokens.
        assert (await flow.connect("alice")).status_code == 200
        alice = fluz.for_oauth_user("alice", flow.saved.tokens["alice"])
        assert await alice.get_wallet() is not None
        assert refreshes(flow) == 3  # the new access token was used as it is
    assert flow.sandbox.counters().oauth_exchanges == 2


# The first access token lasts 4 s (the client renews it at 2 s); the refreshed one an
# hour, so that it outlives 100 calls however slow a loaded machine makes them (seconds).
@pytest.mark.fluz_sandbox(oauth_access_token_ttl=4, oauth_refresh_token_ttl=60)
@pytest.mark.parametrize("expiry", ["ahead", "rejected"])
async def test_concurrent_calls_across_an_expiry_cause_one_refresh(flow: Flow, expiry: str) -> None:
    await flow.connect("alice")
    async with flow.client() as fluz:
        alice = fluz.for_oauth_user("alice", flow.saved.tokens["alice"])
        await alice.get_wallet()
        if expiry == "ahead":
            await anyio.sleep(2.1)  # past the client's renewal point
        else:
            flow.sandbox.advance_clock(5)  # expired on the server's clock only
        flow.sandbox.configure(oauth_access_token_ttl=3_600)
        results = []

        async def call() -> None:
            results.append(await alice.get_wallet())

        async with anyio.create_task_group() as tg:
            for _ in range(100):
                tg.start_soon(call)
    assert len(results) == 100
    assert all(r is not None for r in results)
    # With rotation on, a second concurrent refresh would have been refused.
    assert flow.sandbox.counters().oauth_refreshes == 1
    assert refreshes(flow) == 1
    assert flow.saved.saves == 2  # the callback's save, then the one refresh


@pytest.mark.fluz_sandbox(**SHORT)
async def test_many_users_share_one_pool_with_their_own_tokens(
    flow: Flow, fluz_sandbox: SandboxServer
) -> None:
    await flow.connect("alice")
    rita = fluz_sandbox.seed_data.recipient_account_id
    code = new_code(fluz_sandbox, scopes=["LIST_PAYMENT"], sandbox_account_id=rita)
    bob_tokens = OAuthTokens.from_response(exchange(fluz_sandbox, code).json())
    async with flow.client() as fluz:
        alice = fluz.for_oauth_user("alice", flow.saved.tokens["alice"])
        bob = fluz.for_oauth_user("bob", bob_tokens)
        assert alice._http is bob._http is fluz._http
        alice_wallet, bob_wallet = await alice.get_wallet(), await bob.get_wallet()
        assert alice_wallet is not None
        assert bob_wallet is not None
        assert alice_wallet.balances != bob_wallet.balances  # each acts as its own account
        with pytest.raises(PermissionDeniedError):  # bob granted LIST_PAYMENT only
            await bob.get_merchants()

        fluz_sandbox.advance_clock(5)
        async with anyio.create_task_group() as tg:
            for view in [alice, bob] * 20:
                tg.start_soon(view.get_wallet)
    assert fluz_sandbox.counters().oauth_refreshes == 2  # one per user
    assert set(flow.saved.tokens) == {"alice", "bob"}


@pytest.mark.fluz_sandbox(**SHORT)
async def test_a_failing_save_tokens_is_logged_not_raised(
    flow: Flow, caplog: pytest.LogCaptureFixture
) -> None:
    await flow.connect("alice")
    tokens = flow.saved.tokens["alice"]

    async def broken(user: str, new: OAuthTokens) -> None:
        raise OSError(f"database down while saving {new.refresh_token}")

    async with OAuthFluzClient(flow.oauth, url=flow.sandbox.url, save_tokens=broken) as fluz:
        alice = fluz.for_oauth_user("alice", tokens)
        flow.sandbox.advance_clock(5)
        assert await alice.get_wallet() is not None
        flow.sandbox.advance_clock(5)  # the rotated token, kept in memory, still works
        assert await alice.get_wallet() is not None
    assert refreshes(flow) == 2
    failures = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(failures) == 2
    assert "OSError" in failures[0].getMessage()
    assert (
        failures[0]
        .getMessage()
        .endswith("the tokens are kept in memory, and the next renewal hands newer ones over")
    )
    assert tokens.refresh_token not in caplog.text


async def test_without_an_api_key_or_a_user_the_error_says_what_to_do(flow: Flow) -> None:
    async with flow.client() as fluz:
        with pytest.raises(ConfigurationError, match="for_oauth_user"):
            await fluz.get_wallet()
        with pytest.raises(ConfigurationError, match="API key"):
            await fluz.get_application_scopes()
        with pytest.raises(ConfigurationError, match="for_oauth_user"):
            fluz.for_user(flow.sandbox.user_id, flow.sandbox.account_id)


async def test_a_forgotten_user_is_no_longer_acted_for(flow: Flow) -> None:
    assert (await flow.connect("bob")).status_code == 200
    async with flow.client() as fluz:
        bob = fluz.for_oauth_user("bob", flow.saved.tokens["bob"])
        assert await bob.get_wallet() is not None
        assert (await bob.token_info()).scopes == ("LIST_OFFERS", "LIST_PAYMENT")
        await fluz.forget_oauth_user("bob")
        # Neither the cached token nor the app's tokens are used any more.
        with pytest.raises(ConfigurationError, match="no OAuth tokens for user 'bob'"):
            await bob.get_wallet()
    assert flow.sandbox.counters().requests_by_operation["getWallet"] == 1


async def test_the_oauth_client_repr_names_its_class_url_and_user(flow: Flow) -> None:
    assert (await flow.connect("carol")).status_code == 200
    async with flow.client() as fluz:
        assert repr(fluz) == f"OAuthFluzClient(url={flow.sandbox.url!r})"
        carol = fluz.for_oauth_user("carol", flow.saved.tokens["carol"])
        assert repr(carol) == f"OAuthFluzClient(url={flow.sandbox.url!r}, user='carol')"


@pytest.mark.parametrize("key", ["", " bob", "bob\n"])
async def test_an_oauth_user_key_must_be_trimmed_text(flow: Flow, key: str) -> None:
    assert (await flow.connect("bob")).status_code == 200
    async with flow.client() as fluz:
        with pytest.raises(ValidationError) as caught:
            fluz.for_oauth_user(key, flow.saved.tokens["bob"])
    assert caught.value.field == "key"


@pytest.mark.parametrize("option", ["user_id", "account_id", "seat_id", "scopes"])
async def test_api_key_identities_are_refused_by_the_oauth_client(flow: Flow, option: str) -> None:
    with pytest.raises(ConfigurationError, match=f"^{option} does not apply to OAuth users"):
        OAuthFluzClient(flow.oauth, url=flow.sandbox.url, **{option: "x"})


async def test_app_level_operations_work_when_an_api_key_is_given(flow: Flow) -> None:
    async with OAuthFluzClient(
        flow.oauth, url=flow.sandbox.url, api_key=flow.sandbox.api_key
    ) as fluz:
        assert await fluz.get_application_scopes()


async def test_the_callback_example_runs_from_the_fluz_sandbox_exports(
    fluz_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from fluz._cli._app import sandbox_exports

    for line in sandbox_exports(fluz_sandbox).splitlines():
        name, _, value = line.strip().removeprefix("export ").partition("=")
        monkeypatch.setenv(name, value.strip("'"))
    saved = await load_callback_example().main()
    out = capsys.readouterr().out
    assert (
        "callback: HTTP 200: connected with scopes LIST_OFFERS, LIST_PAYMENT, LIST_PURCHASES" in out
    )
    assert "alice's cash balance: 1250.00" in out
    assert saved["alice"].refresh_token not in out


class SlowAnswers(httpx.AsyncBaseTransport):
    """Real loopback HTTP, but each answer is held back *delay* seconds after the server
    has processed the request: a window in which to cancel the caller."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        await anyio.sleep(self.delay)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.mark.fluz_sandbox(**SHORT)
async def test_a_cancelled_caller_does_not_lose_a_rotated_refresh_token(
    fluz_sandbox: SandboxServer,
) -> None:
    saved = Saved()
    c = fluz_sandbox.credentials
    code = new_code(fluz_sandbox, scopes=["LIST_PAYMENT"])
    tokens = OAuthTokens.from_response(exchange(fluz_sandbox, code).json())
    http = httpx.AsyncClient(transport=SlowAnswers(0.3))
    async with (
        http,
        OAuthApp(
            client_id=c.oauth_client_id,
            app_secret=c.oauth_app_secret,
            base_url=fluz_sandbox.base_url,
            http_client=http,
        ) as oauth,
        OAuthFluzClient(oauth, url=fluz_sandbox.url, save_tokens=saved) as fluz,
    ):
        alice = fluz.for_oauth_user("alice", tokens)
        fluz_sandbox.advance_clock(5)
        with anyio.move_on_after(0.15) as scope:  # inside the refresh: processed, unanswered
            await alice.get_wallet()
        assert scope.cancelled_caught
        # The refresh finished anyway and its rotated token was kept: no second refresh,
        # and no "authorize again" although the first refresh token is revoked.
        assert await alice.get_wallet() is not None
    assert fluz_sandbox.counters().oauth_refreshes == 1
    assert saved.tokens["alice"].refresh_token != tokens.refresh_token
