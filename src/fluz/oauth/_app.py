"""The OAuth authorization-code flow of a public Fluz app: authorization URL, callback
check, code exchange and refresh (webhooks-oauth.md §2).

The token endpoints are plain REST: ``GET /token/exchange?code=&redirect_uri=`` and
``GET /token/refresh?refresh_token=``, both with ``Authorization: Basic
base64(client_id:app_secret)``, answered with ``accessToken``, ``refreshToken``, their
``...ExpiresAt`` (ISO-8601) and ``scope``.
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
import os
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Self
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import anyio
import httpx
from fluz_graphql.enums import ScopeType

from .. import _constants as C
from .._config import check_url
from .._errors import (
    ConfigurationError,
    FluzError,
    FluzTimeoutError,
    RateLimitedError,
    ResponseDecodeError,
    ServerError,
    TransportError,
    ValidationError,
)
from .._redact import redact
from .._retry import RetryPolicy, parse_retry_after
from ._errors import (
    AuthorizationDeniedError,
    InvalidAuthorizationCodeError,
    InvalidClientError,
    OAuthError,
    OAuthStateMismatchError,
    RedirectURIMismatchError,
    RefreshTokenExpiredError,
)
from ._tokens import OAuthTokens

__all__ = ["AuthorizationRequest", "OAuthApp", "parse_callback"]

logger = logging.getLogger("fluz.oauth")

Endpoint = Literal["exchange", "refresh"]
# httpx errors raised before any byte of the request could have reached the server.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """Where to send the user, and what to check when Fluz sends them back.

    Keep ``state`` server-side (e.g. in the user's session) until the callback, then call
    :meth:`code_from_callback`; exchange the code with the same ``redirect_uri``.
    """

    url: str
    state: str
    redirect_uri: str
    scopes: tuple[str, ...]

    def code_from_callback(self, callback: str | Mapping[str, Any]) -> str:
        """The authorization code of a callback to ``redirect_uri``; see :func:`parse_callback`."""
        return parse_callback(callback, expected_state=self.state)


def parse_callback(callback: str | Mapping[str, Any], *, expected_state: str) -> str:
    """Check an authorization callback and return its ``code``.

    *callback* is the callback URL, its query string, or its query parameters as a mapping
    (values may be strings or one-item lists).

    Raises:
        OAuthStateMismatchError: ``state`` is missing or is not *expected_state* (checked
            first, in constant time: an unverified callback's other parameters mean nothing).
        AuthorizationDeniedError: the callback carries ``error`` (e.g. ``access_denied``).
        ValidationError: no ``code``, or a parameter given twice.
    """
    params = _callback_params(callback)
    state = params.get("state")
    if not state or not hmac.compare_digest(state.encode(), expected_state.encode()):
        raise OAuthStateMismatchError(
            "the callback's state does not match the one this authorization generated; "
            "do not exchange its code",
            code="state_mismatch",
        )
    error = params.get("error")
    if error:
        description = params.get("error_description") or "the authorization was refused"
        raise AuthorizationDeniedError(redact(description), code=redact(error))
    code = params.get("code")
    if not code:
        raise ValidationError(
            "the callback has no code", field="code", rule="required", code="CLIENT_VALIDATION"
        )
    return code


def _callback_params(callback: str | Mapping[str, Any]) -> dict[str, str]:
    if isinstance(callback, str):
        query = urlsplit(callback).query if "://" in callback else callback.lstrip("?")
        raw: Mapping[str, Any] = parse_qs(query, keep_blank_values=True)
    else:
        raw = callback
    params: dict[str, str] = {}
    for name in ("code", "state", "error", "error_description"):
        value = raw.get(name)
        if isinstance(value, list | tuple):
            if len(value) > 1:
                raise ValidationError(
                    f"the callback has {name} more than once",
                    field=name,
                    rule="single",
                    code="CLIENT_VALIDATION",
                )
            value = value[0] if value else None
        if value is not None:
            params[name] = str(value)
    return params


class _TokenQueryFilter(logging.Filter):
    """Masks the query of token-endpoint URLs in httpx's request log.

    httpx logs every request's URL at INFO; Fluz's token endpoints take the code and the
    refresh token as query parameters (GET, as documented), so without this an app that
    logs at INFO would write them to its logs.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(_is_token_url(a) for a in record.args):
            record.args = tuple(_masked_url(a) if _is_token_url(a) else a for a in record.args)
        return True


def _is_token_url(value: object) -> bool:
    return isinstance(value, httpx.URL) and value.path.endswith(
        (C.OAUTH_EXCHANGE_PATH, C.OAUTH_REFRESH_PATH)
    )


def _masked_url(url: object) -> object:
    assert isinstance(url, httpx.URL)
    return url.copy_with(params={name: "[REDACTED]" for name in url.params})


def _protect_httpx_log() -> None:
    httpx_logger = logging.getLogger("httpx")
    if not any(isinstance(f, _TokenQueryFilter) for f in httpx_logger.filters):
        httpx_logger.addFilter(_TokenQueryFilter())


class OAuthApp:
    """A public Fluz app's OAuth client: builds authorization URLs, exchanges codes and
    refreshes tokens. Use it as an async context manager (it owns an HTTP pool unless one
    is passed in).

    Args:
        client_id: the OAuth client id of the app's OAuth settings
            (``FLUZ_OAUTH_CLIENT_ID``). Not secret: it travels in the browser URL.
        app_secret: the app secret "from the OAuth widget configuration"
            (``FLUZ_OAUTH_APP_SECRET``); needed for the exchange and refresh only.
        environment: ``"production"`` (default) or ``"staging"`` (``FLUZ_ENVIRONMENT``).
        base_url: one URL serving ``/authorize`` and ``/token/*`` instead (``FLUZ_OAUTH_URL``),
            e.g. a sandbox's ``base_url``: https://, or http:// to a loopback host.
        http_client: an ``httpx.AsyncClient`` to use (not closed by this object).
        timeout: httpx timeout of the token requests (default connect 5 s, read 30 s).
        max_retries: retries of a token request that never left (connect errors only).

    Raises:
        ConfigurationError: the client id is missing, or a setting is invalid or unsafe.
    """

    def __init__(
        self,
        *,
        client_id: str | None = None,
        app_secret: str | None = None,
        environment: str | None = None,
        base_url: str | None = None,
        http_client: httpx.AsyncClient | None = None,
        timeout: httpx.Timeout | float | None = None,
        max_retries: int = C.OAUTH_MAX_RETRIES,
    ) -> None:
        client_id = client_id or os.environ.get(C.ENV_OAUTH_CLIENT_ID) or None
        app_secret = app_secret or os.environ.get(C.ENV_OAUTH_APP_SECRET) or None
        if not client_id:
            raise ConfigurationError(
                f"missing OAuth client id: pass client_id=... or set {C.ENV_OAUTH_CLIENT_ID}",
                code="CONFIG",
            )
        for name, value in (("client_id", client_id), ("app_secret", app_secret)):
            if value is not None and not (
                value.isascii() and value.isprintable() and not any(c.isspace() for c in value)
            ):
                raise ConfigurationError(
                    f"{name} contains whitespace, control or non-ASCII characters", code="CONFIG"
                )
        if ":" in client_id:  # it would split wrongly inside base64(client_id:app_secret)
            raise ConfigurationError("client_id must not contain ':'", code="CONFIG")
        self.client_id = client_id
        self._app_secret = app_secret
        _protect_httpx_log()
        self.authorize_url, self.token_base_url = _resolve_urls(environment, base_url)
        try:
            self._retry = RetryPolicy(max_retries)
        except ValueError as exc:
            raise ConfigurationError(str(exc), code="CONFIG") from None
        self._owns_http_client = http_client is None
        self._http = http_client or httpx.AsyncClient(
            timeout=C.DEFAULT_TIMEOUT if timeout is None else timeout,
            headers={"User-Agent": C.USER_AGENT},
        )
        self._timeout = timeout if http_client is not None else None

    def __repr__(self) -> str:  # never the app secret
        return f"OAuthApp(client_id={self.client_id!r}, authorize_url={self.authorize_url!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool, unless it was passed in."""
        if self._owns_http_client:
            await self._http.aclose()

    # ------------------------------------------------------------------ authorize

    def authorization_url(
        self, *, redirect_uri: str, scopes: Iterable[str | ScopeType]
    ) -> AuthorizationRequest:
        """The URL to send the user to, with a fresh unguessable ``state`` (256 bits).

        Raises:
            ValidationError: *redirect_uri* is not an absolute http(s) URL without a
                fragment, or *scopes* is empty or names a scope ScopeType does not have.
        """
        check_redirect_uri(redirect_uri)
        names = check_scopes(scopes)
        state = secrets.token_urlsafe(C.OAUTH_STATE_BYTES)
        params = {
            # DECISION (webhooks-oauth.md §4.1/§4.2): response_type is `code` as on the
            # newer grant page; the older draft's "must be `scope`" is a typo of a draft,
            # and its client_secret parameter is never sent: a secret in a browser URL
            # leaks through history, logs and Referer headers.
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": redirect_uri,
            # DECISION (§4.8): the parameter is `scopes` (plural, the docs' name, not
            # RFC 6749's `scope`), space-separated and encoded as %20 as in the sample.
            "scopes": " ".join(names),
            "state": state,
        }
        url = f"{self.authorize_url}?{urlencode(params, quote_via=quote, safe='')}"
        return AuthorizationRequest(url, state, redirect_uri, names)

    # ------------------------------------------------------------------ tokens

    async def exchange_code(self, code: str, *, redirect_uri: str) -> OAuthTokens:
        """Exchange an authorization code for the user's tokens.

        *redirect_uri* must be exactly the one of the authorization URL. The code is
        single-use, so a request that may have reached Fluz is never repeated.

        Raises:
            InvalidAuthorizationCodeError: the code is unknown, expired or already used.
            RedirectURIMismatchError: *redirect_uri* differs from the authorization's.
            InvalidClientError: the client id / app secret were refused.
            ValidationError: an argument is empty or malformed (nothing was sent).
            TransportError, FluzTimeoutError, ServerError, RateLimitedError,
            ResponseDecodeError: the exchange failed in transit or Fluz failed.
        """
        _require_text(code, "code")
        check_redirect_uri(redirect_uri)
        data = await self._get(
            "exchange",
            C.OAUTH_EXCHANGE_PATH,
            {"code": code, "redirect_uri": redirect_uri},
            secret=code,
        )
        return OAuthTokens.from_response(data)

    async def refresh(self, refresh_token: str) -> OAuthTokens:
        """New tokens from a refresh token. Persist the result, refresh token included:
        Fluz may rotate it (undocumented), so the one just used may no longer work.

        Raises:
            RefreshTokenExpiredError: the refresh token expired, was revoked or was
                replaced: the user must authorize the app again.
            InvalidClientError: the client id / app secret were refused.
            ValidationError: *refresh_token* is empty or malformed (nothing was sent).
            TransportError, FluzTimeoutError, ServerError, RateLimitedError,
            ResponseDecodeError: the refresh failed in transit or Fluz failed.
        """
        _require_text(refresh_token, "refresh_token")
        data = await self._get(
            "refresh",
            C.OAUTH_REFRESH_PATH,
            {"refresh_token": refresh_token},
            secret=refresh_token,
        )
        return OAuthTokens.from_response(data, previous_refresh_token=refresh_token)

    async def _get(
        self, endpoint: Endpoint, path: str, params: dict[str, str], *, secret: str
    ) -> dict[str, Any]:
        if self._app_secret is None:
            raise ConfigurationError(
                f"missing app secret: pass app_secret=... or set {C.ENV_OAUTH_APP_SECRET}",
                code="CONFIG",
            )
        basic = base64.b64encode(f"{self.client_id}:{self._app_secret}".encode()).decode()
        secrets_ = [self._app_secret, basic, secret]
        url = self.token_base_url + path
        options: dict[str, Any] = {} if self._timeout is None else {"timeout": self._timeout}
        attempt = 0
        while True:
            attempt += 1
            try:
                response, content = await _get_capped(
                    self._http,
                    url,
                    params=params,
                    headers={"Authorization": f"Basic {basic}", "Accept": "application/json"},
                    **options,
                )
            except httpx.RequestError as exc:
                error = _transport_error(exc, endpoint, secrets_)
                delay = self._retry.delay(attempt) if isinstance(exc, _NOT_SENT) else None
                if delay is None:
                    raise error from None
                logger.debug(
                    "fluz oauth %s: retry %d in %.2fs after %s",
                    endpoint,
                    attempt,
                    delay,
                    error.code,
                )
                await anyio.sleep(delay)
                continue
            logger.debug("fluz oauth %s: HTTP %d", endpoint, response.status_code)
            return _answer(response, content, endpoint, secrets_)


def check_redirect_uri(redirect_uri: str) -> None:
    """ValidationError unless *redirect_uri* is an absolute http(s) URL without fragment."""
    _require_text(redirect_uri, "redirect_uri")
    try:
        parts = urlsplit(redirect_uri)
        host = parts.hostname
    except ValueError:
        host = None
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not host:
        raise ValidationError(
            "redirect_uri must be an absolute http:// or https:// URL",
            field="redirect_uri",
            rule="absolute_url",
            code="CLIENT_VALIDATION",
        )
    if parts.fragment or redirect_uri.endswith("#"):
        raise ValidationError(
            "redirect_uri must not have a fragment (RFC 6749 §3.1.2)",
            field="redirect_uri",
            rule="no_fragment",
            code="CLIENT_VALIDATION",
        )


def check_scopes(scopes: Iterable[str | ScopeType]) -> tuple[str, ...]:
    """The scope names, de-duplicated in order; ValidationError if empty or unknown."""
    if isinstance(scopes, str):  # one string: split it rather than iterate its letters
        scopes = scopes.replace(",", " ").split()
    names = tuple(dict.fromkeys(s.value if isinstance(s, ScopeType) else str(s) for s in scopes))
    if not names:
        raise ValidationError(
            "scopes must name at least one scope",
            field="scopes",
            rule="non_empty",
            code="CLIENT_VALIDATION",
        )
    unknown = [s for s in names if s not in ScopeType.__members__]
    if unknown:
        raise ValidationError(
            f"unknown scope(s): {', '.join(unknown)} (not in ScopeType)",
            field="scopes",
            rule="ScopeType",
            code="CLIENT_VALIDATION",
        )
    return names


def _require_text(value: object, name: str) -> None:
    if not isinstance(value, str) or not value or not value.isprintable() or value != value.strip():
        raise ValidationError(
            f"{name} must be a non-empty string without whitespace around it",
            field=name,
            rule="non_empty",
            code="CLIENT_VALIDATION",
        )


def _resolve_urls(environment: str | None, base_url: str | None) -> tuple[str, str]:
    """(authorize URL, token endpoints' base URL)."""
    if base_url is not None and environment is not None:
        raise ConfigurationError("pass either base_url or environment, not both", code="CONFIG")
    if base_url is None and environment is None:
        base_url = os.environ.get(C.ENV_OAUTH_URL) or None
        if base_url is None:
            environment = os.environ.get(C.ENV_ENVIRONMENT) or C.DEFAULT_ENVIRONMENT
    if base_url is not None:
        check_url(base_url)  # https://, or http:// to loopback (the sandbox)
        base = base_url.rstrip("/")
        return base + C.OAUTH_AUTHORIZE_PATH, base
    assert environment is not None
    if environment not in C.OAUTH_BASE_URLS:
        raise ConfigurationError(
            f"unknown environment {environment!r}: use one of "
            + ", ".join(sorted(C.OAUTH_BASE_URLS))
            + " or pass base_url=",
            code="CONFIG",
        )
    return C.OAUTH_AUTHORIZE_URLS[environment], C.OAUTH_BASE_URLS[environment]


async def _get_capped(
    http: httpx.AsyncClient, url: str, **options: Any
) -> tuple[httpx.Response, bytes]:
    request = http.build_request("GET", url, **options)
    # Never follow a redirect: it would carry the Basic credentials to another host.
    response = await http.send(request, stream=True, follow_redirects=False)
    try:
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > C.OAUTH_MAX_RESPONSE_BYTES:
                raise httpx.DecodingError("response body is too large")
            chunks.append(chunk)
    finally:
        await response.aclose()
    return response, b"".join(chunks)


def _transport_error(exc: httpx.RequestError, endpoint: Endpoint, secrets_: list[str]) -> FluzError:
    what = type(exc).__name__
    # httpx messages may quote the URL, whose query carries the code or refresh token.
    detail = redact(str(exc), secrets_)
    cls = FluzTimeoutError if isinstance(exc, httpx.TimeoutException) else TransportError
    if isinstance(exc, httpx.DecodingError):
        return ResponseDecodeError(
            f"token {endpoint}: {detail}", code="DECODE", operation=f"oauth.{endpoint}"
        )
    return cls(
        f"token {endpoint} failed: {what}: {detail}"
        if detail
        else f"token {endpoint} failed: {what}",
        request_sent=not isinstance(exc, _NOT_SENT),
        code=what,
        operation=f"oauth.{endpoint}",
    )


def _answer(
    response: httpx.Response, content: bytes, endpoint: Endpoint, secrets_: list[str]
) -> dict[str, Any]:
    """The JSON body of a success, else the typed error it describes."""
    status = response.status_code
    try:
        payload = json.loads(content) if content else None
    except (ValueError, RecursionError):
        payload = None
    if 200 <= status <= 299:
        if not isinstance(payload, dict):
            raise ResponseDecodeError(
                f"token {endpoint} answered with a body that is not a JSON object",
                code="DECODE",
                status_code=status,
                operation=f"oauth.{endpoint}",
            )
        return payload
    code, description = _error_fields(payload)
    message = redact(description or f"HTTP {status} {response.reason_phrase}".strip(), secrets_)
    kw: dict[str, Any] = {
        "code": redact(code, secrets_) if code else None,
        "status_code": status,
        "operation": f"oauth.{endpoint}",
    }
    lowered = f"{code or ''} {description or ''}".lower()
    if status == 429:
        raise RateLimitedError(
            message, retry_after=parse_retry_after(response.headers.get("retry-after")), **kw
        )
    if status >= 500:
        raise ServerError(message, **kw)
    if code in ("invalid_client", "unauthorized_client") or (status == 401 and code is None):
        raise InvalidClientError(message, **kw)
    if "redirect_uri" in lowered or code == "redirect_uri_mismatch":
        raise RedirectURIMismatchError(message, **kw)
    if code == "invalid_grant" or (status in (400, 401) and code in ("AUTH-0008", None)):
        if endpoint == "refresh":
            raise RefreshTokenExpiredError(
                f"{message}: the user must authorize the app again", **kw
            )
        raise InvalidAuthorizationCodeError(message, **kw)
    if status == 400 and code == "invalid_request" and endpoint == "exchange" and "code" in lowered:
        raise InvalidAuthorizationCodeError(message, **kw)
    raise OAuthError(message, **kw)


def _error_fields(payload: Any) -> tuple[str | None, str | None]:
    """(error code, description) of an OAuth-style or GraphQL-style error body."""
    if not isinstance(payload, dict):
        return None, None
    if isinstance(payload.get("error"), str):
        description = payload.get("error_description") or payload.get("message")
        return payload["error"], str(description) if description else None
    errors = payload.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        ext = first.get("extensions")
        code = ext.get("code") if isinstance(ext, dict) else None
        message = first.get("message")
        return (str(code) if code else None), (str(message) if message else None)
    message = payload.get("message")
    return None, str(message) if message else None
