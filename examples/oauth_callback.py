"""Connect users' Fluz accounts to your app with OAuth: a tiny ASGI callback endpoint.

Two routes, no web framework (mount the app in any ASGI server, e.g. ``uvicorn``):

- ``GET /connect?user=<your user id>`` sends the browser to Fluz's consent page, after
  remembering the fresh ``state`` of that authorization;
- ``GET /oauth/callback?code=...&state=...`` (Fluz redirects there) checks the state,
  exchanges the code and hands the user's tokens to ``save_tokens``.

A real app takes the user from its session, not from the query string, and keeps the
pending states in its session store. Then :class:`fluz.oauth.OAuthFluzClient` acts for the
user with the saved tokens, renewing them (and saving the new ones) as they expire.

Run against a sandbox (its consent page approves at once): start ``fluz sandbox``, paste
its export lines (FLUZ_URL, FLUZ_OAUTH_URL, FLUZ_OAUTH_CLIENT_ID, FLUZ_OAUTH_APP_SECRET), then

    python examples/oauth_callback.py
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

import httpx

from fluz import FluzError
from fluz.oauth import (
    AuthorizationDeniedError,
    AuthorizationRequest,
    OAuthApp,
    OAuthError,
    OAuthFluzClient,
    OAuthTokens,
)

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
SaveTokens = Callable[[str, OAuthTokens], Awaitable[None]]

SCOPES = ["LIST_OFFERS", "LIST_PAYMENT", "LIST_PURCHASES"]


class OAuthCallbackApp:
    """The ``/connect`` and ``/oauth/callback`` routes of an app using Fluz OAuth."""

    def __init__(
        self, oauth: OAuthApp, *, redirect_uri: str, save_tokens: SaveTokens, scopes: list[str]
    ) -> None:
        self.oauth = oauth
        self.redirect_uri = redirect_uri
        self.save_tokens = save_tokens
        self.scopes = scopes
        self.pending: dict[str, tuple[str, AuthorizationRequest]] = {}  # state -> user

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        query = {k: v[0] for k, v in parse_qs(scope["query_string"].decode()).items()}
        if scope["path"] == "/connect" and query.get("user"):
            request = self.oauth.authorization_url(
                redirect_uri=self.redirect_uri, scopes=self.scopes
            )
            self.pending[request.state] = (query["user"], request)
            await respond(send, 302, "to Fluz", location=request.url)
        elif scope["path"] == "/oauth/callback":
            await self.callback(query, send)
        else:
            await respond(send, 404, "not found")

    async def callback(self, query: dict[str, str], send: Send) -> None:
        pending = self.pending.pop(query.get("state", ""), None)
        if pending is None:  # unknown, used or forged state: never exchange its code
            await respond(send, 400, "unknown or expired authorization; start again")
            return
        user, request = pending
        try:
            code = request.code_from_callback(query)
            tokens = await self.oauth.exchange_code(code, redirect_uri=self.redirect_uri)
        except AuthorizationDeniedError:
            await respond(send, 403, "you did not connect your Fluz account")
            return
        except OAuthError as exc:  # used/expired code, redirect mismatch: start again
            await respond(send, 400, f"could not connect: {type(exc).__name__}")
            return
        except FluzError as exc:  # Fluz unreachable or failing: try again later
            await respond(send, 502, f"Fluz is unavailable: {type(exc).__name__}")
            return
        await self.save_tokens(user, tokens)
        await respond(send, 200, f"connected with scopes {', '.join(tokens.scopes)}")


async def respond(send: Send, status: int, text: str, location: str | None = None) -> None:
    headers = [(b"content-type", b"text/plain; charset=utf-8")]
    if location is not None:
        headers.append((b"location", location.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": text.encode()})


async def connect_in_browser(app: OAuthCallbackApp, user: str) -> httpx.Response:
    """What a browser does: /connect -> Fluz's consent page -> back to /oauth/callback."""
    ours = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app")
    async with ours, httpx.AsyncClient() as fluz_site:
        to_fluz = await ours.get("/connect", params={"user": user})
        consent = await fluz_site.get(to_fluz.headers["location"])  # the sandbox consents
        callback = httpx.URL(consent.headers["location"])
        return await ours.get(callback.path, params=callback.params)


async def main() -> dict[str, OAuthTokens]:
    saved: dict[str, OAuthTokens] = {}  # your database

    async def save_tokens(user: str, tokens: OAuthTokens) -> None:
        saved[user] = tokens

    async with OAuthApp() as oauth:  # FLUZ_OAUTH_CLIENT_ID, FLUZ_OAUTH_APP_SECRET, FLUZ_OAUTH_URL
        app = OAuthCallbackApp(
            oauth,
            redirect_uri="http://127.0.0.1:8000/oauth/callback",
            save_tokens=save_tokens,
            scopes=SCOPES,
        )
        answer = await connect_in_browser(app, "alice")
        print(f"callback: HTTP {answer.status_code}: {answer.text}")
        async with OAuthFluzClient(oauth, save_tokens=save_tokens) as fluz:  # FLUZ_URL
            alice = fluz.for_oauth_user("alice", saved["alice"])
            wallet = await alice.get_wallet()
            cash = wallet.balances.cash_balance if wallet and wallet.balances else None
            print(f"alice's cash balance: {cash.available_balance if cash else '-'}")
    return saved


if __name__ == "__main__":
    import anyio

    anyio.run(main)
