"""A FluzClient acting for users with their OAuth tokens.

Built on the client's token seam (``fluz._auth``): the token manager keeps one record per
identity and runs one renewal per identity at a time; this module supplies the renewal -
the ``/token/refresh`` endpoint instead of ``refreshUserAccessToken``/a mint from the API
key - and hands every new set of tokens to the app to persist.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, ClassVar, Self

import anyio

from .. import _constants as C
from .._auth import ApiKeyTokenSource, UserToken
from .._client import FluzClient
from .._config import Identity
from .._errors import ConfigurationError
from .._operations import OperationInfo
from .._response import CallRecord
from ._app import OAuthApp, _require_text
from ._errors import RefreshTokenExpiredError
from ._tokens import OAuthTokens

__all__ = ["OAuthFluzClient", "SaveTokens"]

logger = logging.getLogger("fluz.oauth")

# ``await save_tokens(user_key, tokens)``: persist a user's newest tokens.
SaveTokens = Callable[[str, OAuthTokens], Awaitable[None]]

# Identities of OAuth users carry the app's key for the user as user_id and this marker
# as account_id, so they can never equal an API-key identity (whose ids are UUIDs).
_OAUTH_ACCOUNT = "oauth"


class OAuthTokenSource(ApiKeyTokenSource):
    """Renews OAuth users' tokens through the app's ``/token/refresh``.

    It subclasses the API-key source only to fit the client's ``renew(via, identity,
    current)`` seam; it never mints from an API key. It keeps each user's newest tokens
    itself (the client's token cache may evict a record; a rotated refresh token must not
    be lost with it).
    """

    def __init__(self, app: OAuthApp, save_tokens: SaveTokens | None, skew: float) -> None:
        super().__init__(skew)
        self._app = app
        self._save_tokens = save_tokens
        self._latest: dict[Identity, OAuthTokens] = {}
        self._expired: set[Identity] = set()  # refresh refused: the user must authorize again
        self._replaced: set[Identity] = set()  # new tokens given: drop the cached record

    def add(self, identity: Identity, tokens: OAuthTokens) -> None:
        """Act for *identity* with *tokens*, unless newer ones are already held."""
        held = self._latest.get(identity)
        if held is None or tokens.access_token_expires_at > held.access_token_expires_at:
            self._latest[identity] = tokens
            self._expired.discard(identity)
            if held is not None:
                self._replaced.add(identity)

    def take_replaced(self, identity: Identity) -> bool:
        """True once after :meth:`add` replaced the tokens of *identity*."""
        if identity in self._replaced:
            self._replaced.discard(identity)
            return True
        return False

    def remove(self, key: str) -> list[Identity]:
        """Drop every identity of the user *key* (one per scope set it was added with);
        return them. Identities differ by scopes, so *key* alone does not make one."""
        gone = [i for i in {*self._latest, *self._expired, *self._replaced} if i.user_id == key]
        for identity in gone:
            self._latest.pop(identity, None)
            self._expired.discard(identity)
            self._replaced.discard(identity)
        return gone

    async def renew(
        self, via: FluzClient, identity: Identity, current: UserToken | None
    ) -> UserToken:
        key = identity.user_id
        latest = self._latest.get(identity)
        if latest is None:
            raise ConfigurationError(f"no OAuth tokens for user {key!r}: use for_oauth_user()")
        if identity in self._expired:
            raise _authorize_again(key)
        if current is None:
            # First use (or the record was evicted): the app's tokens, unless they are due.
            token = self._user_token(latest)
            if token.is_fresh(time.monotonic()):
                return token
        # Shielded: once the refresh request may have reached Fluz, a rotated refresh
        # token exists only in its answer. Cancelling the caller must not drop it (the
        # request is bounded by the HTTP timeouts).
        with anyio.CancelScope(shield=True):
            try:
                # Always the newest refresh token: rotation is undocumented, so an older
                # one may be revoked.
                refreshed = await self._app.refresh(latest.refresh_token)
            except RefreshTokenExpiredError:
                self._expired.add(identity)
                raise _authorize_again(key) from None
            self._latest[identity] = refreshed
        logger.debug("fluz oauth: renewed the access token of user %s", key)
        await self._save(key, refreshed)
        return self._user_token(refreshed)

    async def _save(self, key: str, tokens: OAuthTokens) -> None:
        if self._save_tokens is None:
            return
        try:
            await self._save_tokens(key, tokens)
        except Exception as exc:
            # Not raised: the tokens are valid and kept in memory, and failing the user's
            # call would not bring the save back. The next renewal saves newer ones.
            logger.error(
                "fluz oauth: save_tokens failed for user %s (%s); the tokens are kept in "
                "memory, and the next renewal hands newer ones over",
                key,
                type(exc).__name__,
            )

    def _user_token(self, tokens: OAuthTokens) -> UserToken:
        """The client's record of *tokens*: renewed ``skew`` seconds (at most half the
        remaining lifetime) before ``accessTokenExpiresAt``."""
        now = time.monotonic()
        remaining = max((tokens.access_token_expires_at - datetime.now(UTC)).total_seconds(), 0.0)
        return UserToken(
            tokens.access_token,
            tokens.refresh_token,
            refresh_at=now + remaining - min(self.skew, remaining / 2),
            scopes=tokens.scopes,
            expires_at=tokens.access_token_expires_at,
            obtained_at=now,
            expires_mono=now + remaining,
        )


def _authorize_again(key: str) -> RefreshTokenExpiredError:
    return RefreshTokenExpiredError(
        f"the refresh token of user {key!r} expired or was revoked: the user must "
        "authorize the app again",
        code="invalid_grant",
        operation="oauth.refresh",
    )


class OAuthFluzClient(FluzClient):
    """A :class:`fluz.FluzClient` whose user operations act with users' OAuth tokens.

    ``for_oauth_user(key, tokens)`` gives a view acting for one user (*key* is your own id
    for that user); views share the connection pool and token cache, as ``for_user()``
    views do, so one client serves any number of users. Per user:

    * Bearer is the OAuth access token, renewed through ``/token/refresh`` ahead of
      ``accessTokenExpiresAt`` (``token_refresh_skew`` seconds, at most half the remaining
      lifetime), and once more, with the request replayed once, when Fluz rejects it
      (AUTH-0008 / HTTP 401).
    * One refresh at a time: concurrent calls wait for it and share its outcome (a second
      concurrent refresh could fail if Fluz rotates refresh tokens).
    * After every refresh ``await save_tokens(key, tokens)`` receives the newest tokens;
      persist them, refresh token included (rotation is undocumented: only the latest is
      known to work). A failing ``save_tokens`` is logged, not raised.
    * A refused refresh raises :class:`~fluz.oauth.RefreshTokenExpiredError` (from then
      on, without asking Fluz again) until ``for_oauth_user`` gets new tokens.

    App-level operations (``generate_user_access_token`` ...) need ``api_key``; without
    one they raise ConfigurationError. Other keyword options are FluzClient's.

    Raises:
        ConfigurationError: as FluzClient.
    """

    _requires_api_key: ClassVar[bool] = False
    _no_identity_hint: ClassVar[str] = "call it on client.for_oauth_user(key, tokens)"

    def __init__(
        self,
        app: OAuthApp,
        *,
        save_tokens: SaveTokens | None = None,
        api_key: str | None = None,
        environment: str | None = None,
        url: str | None = None,
        token_refresh_skew: float = C.TOKEN_REFRESH_SKEW,
        **options: Any,
    ) -> None:
        for name in ("user_id", "account_id", "seat_id", "scopes"):
            if name in options:
                raise ConfigurationError(
                    f"{name} does not apply to OAuth users: use for_oauth_user()"
                )
        super().__init__(
            api_key=api_key,
            environment=environment,
            url=url,
            token_refresh_skew=token_refresh_skew,
            **options,
        )
        self._identity = None  # FLUZ_USER_ID and friends are API-key identities
        source = OAuthTokenSource(app, save_tokens, token_refresh_skew)
        self._token_source = self._oauth_source = source

    def for_oauth_user(self, key: str, tokens: OAuthTokens) -> Self:
        """A view acting for the user your app knows as *key*, with their *tokens* (as
        saved after the exchange or the last renewal). Tokens older than ones the client
        already holds for *key* are ignored.

        Raises:
            ValidationError: *key* is empty or has whitespace around it.
        """
        _require_text(key, "key")
        identity = Identity(key, _OAUTH_ACCOUNT, None, tokens.scopes)
        self._oauth_source.add(identity, tokens)
        view = self._view()
        view._identity = identity
        return view

    async def forget_oauth_user(self, key: str) -> None:
        """Drop everything held for *key* (e.g. the user revoked the app)."""
        for identity in self._oauth_source.remove(key):
            await self._tokens.forget(identity)

    def for_user(self, *args: Any, **kwargs: Any) -> Self:
        """Not available: OAuth users are added with :meth:`for_oauth_user`."""
        raise ConfigurationError("an OAuthFluzClient acts for OAuth users: use for_oauth_user()")

    async def _user_token(
        self,
        identity: Identity,
        op: OperationInfo,
        call: CallRecord,
        rejected: UserToken | None = None,
        sent_at: float = 0.0,
    ) -> UserToken:
        if self._oauth_source.take_replaced(identity):
            # The app handed over newer tokens (e.g. the user authorized again): the
            # cached record belongs to the old grant.
            await self._tokens.forget(identity)
        return await super()._user_token(identity, op, call, rejected, sent_at)

    def __repr__(self) -> str:
        who = f", user={self._identity.user_id!r}" if self._identity else ""
        return f"{type(self).__name__}(url={self.url!r}{who})"
