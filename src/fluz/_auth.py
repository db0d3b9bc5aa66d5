"""User access tokens: cached per identity, renewed ahead of expiry, one renewal at a time.

The fast path (a cached, fresh token) takes no lock. Only a caller that finds the token
missing, about to expire or rejected by the server takes the identity's lock, and then
checks again: whoever got there first renewed it, and everyone else reuses the result.
So under any concurrency one renewal is in flight per identity, and the lock is held only
for the renewal request itself, never while ordinary requests are on the wire.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import anyio

from ._config import Identity
from ._errors import AuthenticationError, PermissionDeniedError


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What a client knows about its current user token — never the token itself.

    Attributes:
        user_id, account_id, seat_id: the identity the token acts for.
        scopes: the scopes Fluz granted (from the token response, else the JWT).
        expires_at: expiry from the JWT's ``exp`` (UTC); None for an opaque token.
        refreshable: Fluz issued a refresh token, so renewal uses refreshUserAccessToken.
        renewals: user tokens this client (and its views) obtained so far.
    """

    user_id: str
    account_id: str
    seat_id: str | None
    scopes: tuple[str, ...]
    expires_at: datetime | None
    refreshable: bool
    renewals: int


@dataclass(frozen=True, slots=True)
class UserToken:
    """A user access token. ``refresh_at`` is on the ``time.monotonic()`` clock."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    refresh_at: float | None  # None: no `exp` readable, renew only when rejected
    scopes: tuple[str, ...] = ()
    expires_at: datetime | None = None
    obtained_at: float = field(default_factory=time.monotonic)

    def is_fresh(self, now: float) -> bool:
        return self.refresh_at is None or now < self.refresh_at


def token_claims(token: str) -> dict[str, Any] | None:
    """The payload of the JWT *token*, unverified (the server checks the signature).
    None for an opaque (non-JWT) token."""
    try:
        payload_b64 = token.split(".")[1]
        payload = json.loads(base64.urlsafe_b64decode(payload_b64 + "=" * (-len(payload_b64) % 4)))
    except (IndexError, TypeError, ValueError, binascii.Error):
        return None
    return payload if isinstance(payload, dict) else None


def token_lifetime(token: str) -> float | None:
    """Seconds the JWT *token* is valid for, from its payload (``exp - iat``, or ``exp`` minus
    now when there is no ``iat``). Returns None for an opaque token or one without ``exp``."""
    claims = token_claims(token) or {}
    try:
        exp = float(claims["exp"])
    except (KeyError, TypeError, ValueError):
        return None
    iat = claims.get("iat")
    # Counting from iat makes the schedule immune to a skewed local clock.
    return exp - float(iat) if isinstance(iat, int | float) else exp - time.time()


def make_user_token(
    access_token: str,
    refresh_token: str | None,
    skew: float,
    scopes: Iterable[str] = (),
) -> UserToken:
    """Schedule the renewal *skew* seconds before expiry (at most half the lifetime early)."""
    lifetime = token_lifetime(access_token)
    refresh_at = None
    if lifetime is not None:
        margin = min(skew, max(lifetime, 0.0) / 2)
        refresh_at = time.monotonic() + lifetime - margin
    claims = token_claims(access_token) or {}
    exp = claims.get("exp")
    expires_at = datetime.fromtimestamp(exp, UTC) if isinstance(exp, int | float) else None
    granted = tuple(scopes) or tuple(str(s) for s in claims.get("scopes") or ())
    return UserToken(access_token, refresh_token, refresh_at, granted, expires_at)


MintToken = Callable[[Identity], Awaitable[UserToken]]
RefreshToken = Callable[[str], Awaitable[UserToken]]


class _Slot:
    __slots__ = ("lock", "token")

    def __init__(self) -> None:
        self.token: UserToken | None = None
        self.lock = anyio.Lock()


class TokenManager:
    """Caches one token per :class:`Identity`; *mint* and *refresh* do the network calls."""

    def __init__(self, mint: MintToken, refresh: RefreshToken) -> None:
        self._mint = mint
        self._refresh = refresh
        self._slots: dict[Identity, _Slot] = {}
        self.renewals = 0  # how many tokens were obtained (diagnostics and tests)

    def _slot(self, identity: Identity) -> _Slot:
        slot = self._slots.get(identity)
        if slot is None:
            slot = self._slots[identity] = _Slot()
        return slot

    async def token(self, identity: Identity) -> str:
        """A fresh access token for *identity*, minting or refreshing one if needed."""
        return (await self.user_token(identity)).access_token

    async def user_token(self, identity: Identity) -> UserToken:
        """The fresh :class:`UserToken` of *identity*, minting or refreshing one if needed."""
        slot = self._slot(identity)
        current = slot.token
        if current is not None and current.is_fresh(time.monotonic()):
            return current
        return await self._renew(identity, slot, rejected=None)

    async def replace_rejected(self, identity: Identity, rejected: str, sent_at: float) -> str:
        """The server refused *rejected* in a request sent at *sent_at* (monotonic): renew
        it, unless a concurrent caller already did so after that request went out.

        A token obtained before the request was sent may be the one the server just
        expired too (JWT times are whole seconds, so the client's idea of "fresh" can
        outlive the server's by up to a second); only a newer one is safe to replay with.
        """
        renewed = await self._renew(
            identity, self._slot(identity), rejected=rejected, newer_than=sent_at
        )
        return renewed.access_token

    def forget(self, identity: Identity) -> None:
        self._slots.pop(identity, None)

    async def _renew(
        self,
        identity: Identity,
        slot: _Slot,
        rejected: str | None,
        newer_than: float | None = None,
    ) -> UserToken:
        async with slot.lock:
            current = slot.token
            if (
                current is not None
                and current.access_token != rejected
                and current.is_fresh(time.monotonic())
                and (newer_than is None or current.obtained_at > newer_than)
            ):
                return current
            renewed = await self._obtain(identity, current)
            slot.token = renewed
            self.renewals += 1
            return renewed

    async def _obtain(self, identity: Identity, current: UserToken | None) -> UserToken:
        if current is not None and current.refresh_token:
            try:
                return await self._refresh(current.refresh_token)
            except (AuthenticationError, PermissionDeniedError):
                pass  # refresh token expired or revoked: mint a new one from the API key
        return await self._mint(identity)
