"""OAuth apps in the sandbox: ``/authorize``, ``/token/exchange``, ``/token/refresh``.

Shapes follow webhooks-oauth.md §2 (the docs' sample is the Node ``oauth2-server`` token
model). Where Fluz documents nothing, the sandbox answers the way that library and RFC 6749
do, and the client (``fluz.oauth``) reads those answers:

- ``/authorize`` consents at once as the sandbox user (or the account named by the
  sandbox-only ``sandbox_account_id`` parameter) and redirects (302) to ``redirect_uri``
  with ``code`` and ``state``; with the ``oauth_deny`` option it redirects with
  ``error=access_denied``. An unknown client or an unregistered redirect URI gets an HTTP
  400 JSON error and no redirect (never send a code to an unregistered URI). Requested
  scopes the app does not have are silently ignored (docs).
- ``/token/exchange`` and ``/token/refresh`` need ``Authorization: Basic
  base64(client_id:app_secret)`` (401 ``invalid_client`` otherwise). Failures are HTTP 400
  ``{"error": "invalid_grant" | "invalid_request", "error_description": ...}``. Codes are
  single-use and expire after ``oauth_code_ttl``; presenting a used code again also revokes
  the refresh token it produced (RFC 6749 §4.1.2). The exchange must repeat the
  authorization's ``redirect_uri`` exactly.
- Access tokens are the sandbox's user JWTs carrying exactly the granted scopes, so the
  GraphQL endpoint accepts them like any user token and enforces those scopes.
- Refresh tokens rotate on every refresh when ``oauth_rotate_refresh_tokens`` is on (the
  old one is revoked at once), and expire after ``oauth_refresh_token_ttl``.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import random
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

if TYPE_CHECKING:
    from ._core import Sandbox
    from ._server import Receive, Scope, Send

AUTHORIZE_PATH = "/authorize"
EXCHANGE_PATH = "/token/exchange"
REFRESH_PATH = "/token/refresh"
OAUTH_PATHS = frozenset({AUTHORIZE_PATH, EXCHANGE_PATH, REFRESH_PATH})
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    user_id: str
    account_id: str
    seat_id: str | None
    scopes: tuple[str, ...]
    expires_at: float
    used: bool = False
    refresh_token: str | None = None  # what the exchange produced (revoked on reuse)


@dataclass
class _Grant:
    client_id: str
    user_id: str
    account_id: str
    seat_id: str | None
    scopes: tuple[str, ...]
    expires_at: float


class _Refusal(Exception):
    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description


class OAuthProvider:
    """The sandbox app's OAuth registration, its codes and its refresh tokens."""

    def __init__(self, seed: int) -> None:
        # Its own generator: drawing from the world's would shift every seeded id.
        rng = random.Random(f"fluz-sandbox-oauth-{seed}")  # noqa: S311 (seeded fakes)
        self.client_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        self.app_secret = f"{rng.getrandbits(128):032x}"
        self.codes: dict[str, _Code] = {}
        self.grants: dict[str, _Grant] = {}

    def client_matches(self, header: str | None) -> bool:
        scheme, _, value = (header or "").strip().partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(
                value.strip() + "=" * (-len(value.strip()) % 4), validate=True
            )
        except (binascii.Error, ValueError):
            return False
        expected = f"{self.client_id}:{self.app_secret}".encode()
        return hmac.compare_digest(decoded, expected)


def redirect_uri_registered(uri: str, registered: tuple[str, ...]) -> bool:
    """Exact match, except that a loopback URI matches on any port (RFC 8252 §7.3)."""
    if uri in registered:
        return True
    try:
        parts = urlsplit(uri)
        host = parts.hostname
    except ValueError:
        return False
    if host not in _LOOPBACK:
        return False
    for candidate in registered:
        other = urlsplit(candidate)
        if (other.scheme, other.hostname, other.path, other.query) == (
            parts.scheme,
            host,
            parts.path,
            parts.query,
        ) and not parts.fragment:
            return True
    return False


class _AccessLogFilter(logging.Filter):
    """Masks the query of OAuth requests in uvicorn's access log (it logs whenever the
    host has logging handlers, e.g. under pytest): it carries codes and refresh tokens."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) > 2 and isinstance(args[2], str):
            path, _, query = args[2].partition("?")
            if query and path in OAUTH_PATHS:
                record.args = (*args[:2], f"{path}?[REDACTED]", *args[3:])
        return True


class OAuthApi:
    """ASGI handler of the three OAuth paths for one ``Sandbox``."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        access_log = logging.getLogger("uvicorn.access")
        if not any(isinstance(f, _AccessLogFilter) for f in access_log.filters):
            access_log.addFilter(_AccessLogFilter())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        from ._server import send_json

        if scope["method"] != "GET":
            await send_json(
                send,
                405,
                {"error": "invalid_request", "error_description": "Use GET"},
                [(b"allow", b"GET")],
            )
            return
        query = _single_values(scope.get("query_string", b"").decode("latin-1"))
        headers = {bytes(k).lower(): bytes(v).decode("latin-1") for k, v in scope["headers"]}
        try:
            if scope["path"] == AUTHORIZE_PATH:
                location = self.authorize(query)
                await send_json(send, 302, {}, [(b"location", location.encode())])
                return
            if not self.sandbox.oauth.client_matches(headers.get(b"authorization")):
                raise _Refusal(401, "invalid_client", "Invalid client: client is invalid")
            exchange = scope["path"] == EXCHANGE_PATH
            body = self.exchange(query) if exchange else self.refresh(query)
        except _Refusal as refusal:
            extra = [(b"www-authenticate", b'Basic realm="fluz"')] if refusal.status == 401 else []
            payload = {"error": refusal.error, "error_description": refusal.description}
            await send_json(send, refusal.status, payload, extra)
            return
        await send_json(send, 200, body, [(b"cache-control", b"no-store")])

    # -- the three endpoints -----------------------------------------------------------------

    def authorize(self, query: dict[str, str]) -> str:
        """The redirect location; _Refusal when there is nowhere safe to redirect to."""
        sandbox, oauth = self.sandbox, self.sandbox.oauth
        options = sandbox.options
        if query.get("client_id") != oauth.client_id:
            raise _Refusal(400, "invalid_client", "Invalid client: unknown client_id")
        redirect_uri = query.get("redirect_uri", "")
        if not redirect_uri_registered(redirect_uri, options.oauth_redirect_uris):
            raise _Refusal(
                400,
                "invalid_request",
                "Invalid request: redirect_uri is not registered for this application",
            )
        state = query.get("state")

        def back(**params: str) -> str:
            if state is not None:
                params["state"] = state
            separator = "&" if urlsplit(redirect_uri).query else "?"
            return f"{redirect_uri}{separator}{urlencode(params)}"

        # DECISION (docs §4.1): `code` is the only response type (the older draft's
        # "must be `scope`" is not honoured).
        if query.get("response_type") != "code":
            return back(
                error="unsupported_response_type",
                error_description="response_type must be code",
            )
        if options.oauth_deny:
            return back(error="access_denied", error_description="The user denied access")
        app = sandbox.state.app
        requested = query.get("scopes", "").replace(",", " ").split()
        granted = tuple(dict.fromkeys(s for s in requested if s in app.scopes))
        if not granted:
            return back(error="invalid_scope", error_description="No grantable scope requested")
        account_id = query.get("sandbox_account_id") or sandbox.state.main_account_id
        account = sandbox.state.account(account_id)
        if account is None:
            return back(error="access_denied", error_description="Unknown sandbox account")
        code = secrets.token_hex(20)  # 40 hex characters, like the docs' authorizationCode
        oauth.codes[code] = _Code(
            client_id=oauth.client_id,
            redirect_uri=redirect_uri,
            user_id=account.user.user_id,
            account_id=account.account_id,
            seat_id=account.seats[0].seat_id if account.seats else None,
            scopes=granted,
            expires_at=sandbox.clock.now() + options.oauth_code_ttl,
        )
        sandbox.counters.oauth_authorizations += 1
        return back(code=code)

    def exchange(self, query: dict[str, str]) -> dict[str, Any]:
        sandbox, oauth = self.sandbox, self.sandbox.oauth
        code_value, redirect_uri = query.get("code"), query.get("redirect_uri")
        if not code_value or not redirect_uri:
            raise _Refusal(
                400, "invalid_request", "Invalid request: code and redirect_uri required"
            )
        code = oauth.codes.get(code_value)
        if code is None or code.client_id != oauth.client_id:
            raise _Refusal(400, "invalid_grant", "Invalid grant: authorization code is invalid")
        if code.used:
            if code.refresh_token is not None:  # RFC 6749 §4.1.2: revoke what it produced
                oauth.grants.pop(code.refresh_token, None)
            raise _Refusal(400, "invalid_grant", "Invalid grant: authorization code is invalid")
        if code.expires_at <= sandbox.clock.now():
            raise _Refusal(400, "invalid_grant", "Invalid grant: authorization code has expired")
        if redirect_uri != code.redirect_uri:
            raise _Refusal(400, "invalid_grant", "Invalid grant: `redirect_uri` is invalid")
        code.used = True
        grant = _Grant(
            client_id=code.client_id,
            user_id=code.user_id,
            account_id=code.account_id,
            seat_id=code.seat_id,
            scopes=code.scopes,
            expires_at=sandbox.clock.now() + sandbox.options.oauth_refresh_token_ttl,
        )
        refresh_token = self._store(grant)
        code.refresh_token = refresh_token
        sandbox.counters.oauth_exchanges += 1
        body = self._tokens(grant, refresh_token)
        body["authorizationCode"] = code_value  # the docs' sample echoes it
        return body

    def refresh(self, query: dict[str, str]) -> dict[str, Any]:
        sandbox, oauth = self.sandbox, self.sandbox.oauth
        presented = query.get("refresh_token")
        if not presented:
            raise _Refusal(400, "invalid_request", "Invalid request: refresh_token required")
        grant = oauth.grants.get(presented)
        if grant is None or grant.client_id != oauth.client_id:
            raise _Refusal(400, "invalid_grant", "Invalid grant: refresh token is invalid")
        now = sandbox.clock.now()
        if grant.expires_at <= now:
            raise _Refusal(400, "invalid_grant", "Invalid grant: refresh token has expired")
        refresh_token = presented
        if sandbox.options.oauth_rotate_refresh_tokens:
            del oauth.grants[presented]  # the old one stops working at once
            grant.expires_at = now + sandbox.options.oauth_refresh_token_ttl
            refresh_token = self._store(grant)
        sandbox.counters.oauth_refreshes += 1
        return self._tokens(grant, refresh_token)

    # -- helpers -----------------------------------------------------------------------------

    def _store(self, grant: _Grant) -> str:
        refresh_token = secrets.token_hex(16)  # 32 hex characters, like the docs' sample
        self.sandbox.oauth.grants[refresh_token] = grant
        return refresh_token

    def _tokens(self, grant: _Grant, refresh_token: str) -> dict[str, Any]:
        sandbox = self.sandbox
        options = sandbox.options
        account = sandbox.state.accounts[grant.account_id]
        now = sandbox.clock.now()
        access = sandbox.tokens.mint(
            app_id=sandbox.state.app.app_id,
            user_id=grant.user_id,
            account_id=grant.account_id,
            seat_id=grant.seat_id,
            account_type=account.type,
            scopes=grant.scopes,
            now=now,
            ttl=options.oauth_access_token_ttl,
        )
        return {
            "accessToken": access,
            "accessTokenExpiresAt": _iso(now + options.oauth_access_token_ttl),
            "refreshToken": refresh_token,
            "refreshTokenExpiresAt": _iso(grant.expires_at),
            # DECISION (docs §4.8): the key is `scope` (an array) as in the JSON sample;
            # the client reads `scopes` too.
            "scope": list(grant.scopes),
            "client": {
                "id": grant.client_id,
                "app_id": sandbox.state.app.app_id,
                "app_name": sandbox.state.app.name,
                "grants": ["authorization_code", "refresh_token"],
                "redirectUris": list(options.oauth_redirect_uris),
                "accessTokenLifetime": int(options.oauth_access_token_ttl),
                "refreshTokenLifetime": int(options.oauth_refresh_token_ttl),
            },
            "user": {"id": grant.user_id, "accountId": grant.account_id},
        }


def _single_values(query_string: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(query_string, keep_blank_values=True).items()}


def _iso(at: float) -> str:
    moment = datetime.fromtimestamp(at, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
