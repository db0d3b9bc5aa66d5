"""OAuthApp.exchange_code / refresh: against the sandbox over loopback, and (MockTransport)
for answers a server cannot produce on demand."""

from __future__ import annotations

import base64
from collections.abc import Callable

import httpx
import pytest

from fluz import (
    ConfigurationError,
    FluzTimeoutError,
    RateLimitedError,
    ResponseDecodeError,
    ServerError,
    TransportError,
    ValidationError,
)
from fluz.oauth import (
    InvalidAuthorizationCodeError,
    InvalidClientError,
    OAuthApp,
    OAuthError,
    RedirectURIMismatchError,
    RefreshTokenExpiredError,
)
from fluz.sandbox import SandboxServer

from .helpers import CALLBACK, SCOPES, new_code

pytestmark = pytest.mark.anyio


def app_for(server: SandboxServer, secret: str | None = None) -> OAuthApp:
    c = server.credentials
    return OAuthApp(
        client_id=c.oauth_client_id,
        app_secret=secret or c.oauth_app_secret,
        base_url=server.base_url,
    )


class TestAgainstTheSandbox:
    async def test_exchange_then_refresh(self, fluz_sandbox: SandboxServer) -> None:
        async with app_for(fluz_sandbox) as app:
            tokens = await app.exchange_code(new_code(fluz_sandbox), redirect_uri=CALLBACK)
            assert tokens.scopes == tuple(SCOPES)
            assert tokens.refresh_token_expires_at is not None
            assert tokens.access_token_expires_at < tokens.refresh_token_expires_at
            renewed = await app.refresh(tokens.refresh_token)
        assert renewed.access_token != tokens.access_token
        assert renewed.refresh_token != tokens.refresh_token  # the sandbox rotates by default
        assert fluz_sandbox.counters().oauth_refreshes == 1

    async def test_a_used_code_is_a_typed_error(self, fluz_sandbox: SandboxServer) -> None:
        code = new_code(fluz_sandbox)
        async with app_for(fluz_sandbox) as app:
            await app.exchange_code(code, redirect_uri=CALLBACK)
            with pytest.raises(InvalidAuthorizationCodeError) as caught:
                await app.exchange_code(code, redirect_uri=CALLBACK)
        assert caught.value.code == "invalid_grant"
        assert code not in str(caught.value)

    async def test_a_redirect_mismatch_is_a_typed_error(self, fluz_sandbox: SandboxServer) -> None:
        async with app_for(fluz_sandbox) as app:
            with pytest.raises(RedirectURIMismatchError):
                await app.exchange_code(
                    new_code(fluz_sandbox), redirect_uri="http://127.0.0.1:1/oauth/callback"
                )

    @pytest.mark.fluz_sandbox(oauth_refresh_token_ttl=60)
    async def test_an_expired_refresh_token_says_authorize_again(
        self, fluz_sandbox: SandboxServer
    ) -> None:
        async with app_for(fluz_sandbox) as app:
            tokens = await app.exchange_code(new_code(fluz_sandbox), redirect_uri=CALLBACK)
            fluz_sandbox.advance_clock(61)
            with pytest.raises(RefreshTokenExpiredError, match="must authorize the app again"):
                await app.refresh(tokens.refresh_token)

    async def test_a_wrong_app_secret_is_invalid_client(self, fluz_sandbox: SandboxServer) -> None:
        async with app_for(fluz_sandbox, secret="not-the-secret") as app:
            with pytest.raises(InvalidClientError) as caught:
                await app.exchange_code(new_code(fluz_sandbox), redirect_uri=CALLBACK)
        assert caught.value.status_code == 401


def mock_app(handler: Callable[[httpx.Request], httpx.Response], **kw: object) -> OAuthApp:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return OAuthApp(
        client_id="abc123",
        app_secret="def456",
        base_url="https://fluz.test",
        http_client=http,
        **kw,  # type: ignore[arg-type]
    )


class TestRequestsAndAnswers:
    async def test_requests_are_gets_with_basic_client_credentials(self) -> None:
        seen: list[httpx.Request] = []

        def handler(request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return httpx.Response(200, json={"accessToken": "a", "refreshToken": "r", "scope": []})

        async with mock_app(handler) as app:
            await app.exchange_code("the-code", redirect_uri=CALLBACK)
            await app.refresh("the-refresh")
        exchange, refresh = seen
        # The docs' example: abc123:def456 -> YWJjMTIzOmRlZjQ1Ng==
        assert exchange.headers["authorization"] == "Basic YWJjMTIzOmRlZjQ1Ng=="
        assert base64.b64decode("YWJjMTIzOmRlZjQ1Ng==") == b"abc123:def456"
        assert (exchange.method, exchange.url.path) == ("GET", "/token/exchange")
        assert dict(exchange.url.params) == {"code": "the-code", "redirect_uri": CALLBACK}
        assert (refresh.method, refresh.url.path) == ("GET", "/token/refresh")
        assert dict(refresh.url.params) == {"refresh_token": "the-refresh"}

    @pytest.mark.parametrize(
        ("status", "body", "error"),
        [
            (500, {"error": "server_error"}, ServerError),
            (503, None, ServerError),
            (429, {"error": "slow_down"}, RateLimitedError),
            (200, None, ResponseDecodeError),
            (200, ["not", "an", "object"], ResponseDecodeError),
            (400, {"error": "invalid_request", "error_description": "weird"}, OAuthError),
            (
                400,
                {
                    "errors": [
                        {"message": "Refresh token expired", "extensions": {"code": "AUTH-0008"}}
                    ]
                },
                RefreshTokenExpiredError,
            ),
            (400, {"error": "redirect_uri_mismatch"}, RedirectURIMismatchError),
            (401, {"error": "invalid_client"}, InvalidClientError),
        ],
    )
    async def test_failures_map_to_typed_errors(
        self, status: int, body: object, error: type[Exception]
    ) -> None:
        def handler(request: httpx.Request) -> httpx.Response:
            if body is None:
                return httpx.Response(status, text="<html>oops</html>")
            return httpx.Response(status, json=body)

        async with mock_app(handler) as app:
            with pytest.raises(error):
                await app.refresh("r-token")

    async def test_a_connect_error_is_retried_a_sent_request_is_not(self) -> None:
        calls: list[str] = []

        def handler(request: httpx.Request) -> httpx.Response:
            calls.append(request.url.path)
            if len(calls) == 1:
                raise httpx.ConnectError("refused")
            raise httpx.ReadTimeout("timed out")

        async with mock_app(handler) as app:
            app._retry = app._retry.__class__(2, base_delay=0.0)
            with pytest.raises(FluzTimeoutError) as caught:
                await app.exchange_code("c0de-value", redirect_uri=CALLBACK)
        # The code is single-use: after a request that may have arrived, never again.
        assert len(calls) == 2
        assert caught.value.request_sent

    async def test_a_transport_error_never_quotes_the_url(self) -> None:
        def handler(request: httpx.Request) -> httpx.Response:
            raise httpx.ConnectError(f"cannot reach {request.url}")

        async with mock_app(handler, max_retries=0) as app:
            with pytest.raises(TransportError) as caught:
                await app.refresh("R3FRESH-canary-token")
        assert "R3FRESH" not in str(caught.value)
        assert not caught.value.request_sent

    async def test_a_redirect_is_not_followed(self) -> None:
        def handler(request: httpx.Request) -> httpx.Response:
            return httpx.Response(302, headers={"location": "https://elsewhere.test/steal"})

        async with mock_app(handler) as app:
            with pytest.raises(OAuthError):
                await app.refresh("r")

    async def test_a_huge_body_is_not_read(self) -> None:
        def handler(request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, content=b"x" * (1 << 20))

        async with mock_app(handler) as app:
            with pytest.raises(ResponseDecodeError):
                await app.refresh("r")

    async def test_bad_arguments_fail_before_sending(self) -> None:
        def handler(request: httpx.Request) -> httpx.Response:
            raise AssertionError("nothing may be sent")

        async with mock_app(handler) as app:
            with pytest.raises(ValidationError) as caught:
                await app.exchange_code("", redirect_uri=CALLBACK)
            assert caught.value.field == "code"
            with pytest.raises(ValidationError) as caught:
                await app.refresh(" padded ")
            assert caught.value.field == "refresh_token"

    async def test_without_app_secret_token_calls_are_a_configuration_error(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("FLUZ_OAUTH_APP_SECRET", raising=False)
        async with OAuthApp(client_id="abc123") as app:
            with pytest.raises(ConfigurationError, match="FLUZ_OAUTH_APP_SECRET"):
                await app.refresh("r")
