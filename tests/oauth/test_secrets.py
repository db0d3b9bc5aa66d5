"""OAuth secrets - the app secret, codes, access and refresh tokens - never reach logs,
reprs or exception text, on success and on every failure path."""

from __future__ import annotations

import base64
import logging
import traceback

import httpx
import pytest

from fluz import FluzError
from fluz.oauth import OAuthApp, OAuthFluzClient, OAuthTokens
from fluz.sandbox import SandboxServer

from .helpers import CALLBACK, new_code

pytestmark = pytest.mark.anyio

WRONG_SECRET = "CANARY-WRONG-SECRET-7f3a9"


def texts_of(error: BaseException) -> list[str]:
    return [str(error), repr(error), "".join(traceback.format_exception(error))]


@pytest.mark.fluz_sandbox(oauth_access_token_ttl=2, oauth_refresh_token_ttl=60)
async def test_no_oauth_secret_in_logs_reprs_or_errors(
    fluz_sandbox: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    c = fluz_sandbox.credentials
    secrets = [c.oauth_app_secret, WRONG_SECRET]
    outputs: list[str] = []
    errors: list[FluzError] = []
    saved: list[OAuthTokens] = []

    async def save(user: str, tokens: OAuthTokens) -> None:
        saved.append(tokens)

    async with OAuthApp(
        client_id=c.oauth_client_id, app_secret=c.oauth_app_secret, base_url=fluz_sandbox.base_url
    ) as app:
        # The browser's part (it sees the codes in the redirects) is not the app's logging.
        code, used, other_code, third_code = (new_code(fluz_sandbox) for _ in range(4))
        caplog.set_level(logging.DEBUG)
        secrets += [code, used, other_code, third_code]
        tokens = await app.exchange_code(code, redirect_uri=CALLBACK)
        # (Reusing a code revokes the tokens it produced: so a separate one.)
        spent = await app.exchange_code(used, redirect_uri=CALLBACK)
        secrets += [spent.access_token, spent.refresh_token]
        for attempt in (
            app.exchange_code(used, redirect_uri=CALLBACK),
            app.exchange_code(other_code, redirect_uri="http://127.0.0.1:1/oauth/callback"),
        ):
            try:
                await attempt
            except FluzError as exc:
                errors.append(exc)
        async with OAuthApp(
            client_id=c.oauth_client_id, app_secret=WRONG_SECRET, base_url=fluz_sandbox.base_url
        ) as wrong:
            try:
                await wrong.exchange_code(third_code, redirect_uri=CALLBACK)
            except FluzError as exc:
                errors.append(exc)
            outputs.append(repr(wrong))

        async with OAuthFluzClient(app, url=fluz_sandbox.url, save_tokens=save) as fluz:
            alice = fluz.for_oauth_user("alice", tokens)
            await alice.get_wallet()
            fluz_sandbox.advance_clock(5)  # refused, refreshed, replayed
            await alice.get_wallet()
            outputs += [repr(fluz), repr(alice), repr(await alice.token_info())]
            fluz_sandbox.advance_clock(61)
            try:
                await alice.get_wallet()
            except FluzError as exc:
                errors.append(exc)
        outputs += [repr(app), repr(tokens), *(repr(t) for t in saved)]
    for t in [tokens, *saved]:
        secrets += [t.access_token, t.refresh_token]
    basic = base64.b64encode(f"{c.oauth_client_id}:{c.oauth_app_secret}".encode()).decode()
    secrets.append(basic)

    assert len(errors) == 4
    assert len(saved) == 1
    for exc in errors:
        outputs += texts_of(exc)
    outputs.append(caplog.text)
    assert caplog.records
    leaked = {s for s in secrets for text in outputs if s in text}
    assert not leaked


async def test_server_and_transport_texts_echoing_secrets_are_redacted() -> None:
    secret, code, refresh = "CANARY-APPSECRET-91d", "CANARY-CODE-5b2", "CANARY-REFRESH-e07"
    answers = iter(
        [
            httpx.Response(
                400,
                json={
                    "error": "invalid_grant",
                    "error_description": f"bad code {code} (client secret {secret})",
                },
            ),
            httpx.Response(500, json={"error": f"{refresh} exploded", "message": refresh}),
        ]
    )

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("refresh_token") == "connect":
            raise httpx.ConnectError(f"cannot reach {request.url} with {request.headers}")
        return next(answers)

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    errors: list[FluzError] = []
    async with (
        http,
        OAuthApp(
            client_id="client",
            app_secret=secret,
            base_url="https://fluz.test",
            http_client=http,
            max_retries=0,
        ) as app,
    ):
        for call in (
            app.exchange_code(code, redirect_uri=CALLBACK),
            app.refresh(refresh),
            app.refresh("connect"),
        ):
            try:
                await call
            except FluzError as exc:
                errors.append(exc)
    assert len(errors) == 3
    basic = base64.b64encode(f"client:{secret}".encode()).decode()
    outputs = [text for exc in errors for text in texts_of(exc)]
    for value in (secret, code, refresh, basic):
        assert not [text for text in outputs if value in text], value
