"""The typed result of a code exchange or a refresh."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .. import _constants as C
from .._auth import token_claims
from .._errors import ResponseDecodeError

__all__ = ["OAuthTokens"]


@dataclass(frozen=True, slots=True)
class OAuthTokens:
    """Tokens Fluz issued for one user's grant. Persist all of it after every exchange or
    refresh: whether Fluz rotates refresh tokens is undocumented, so the latest
    ``refresh_token`` is the only one known to work.

    Attributes:
        access_token: the Bearer token for the GraphQL endpoint (about 10 minutes).
        refresh_token: renews the access token through ``/token/refresh``.
        access_token_expires_at: when the access token expires (UTC).
        refresh_token_expires_at: when the refresh token expires (UTC); None when Fluz did
            not say (the docs disagree on the lifetime - 60 days vs 31 - so it is never
            assumed).
        scopes: the scopes the user granted, as Fluz spells them (its own sample contains
            ``MAKE_WIDTHDRAW``, so unknown names are kept, not refused).
    """

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    access_token_expires_at: datetime
    refresh_token_expires_at: datetime | None
    scopes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """The tokens in the shape Fluz answers with (ISO-8601 expiries): what an app
        stores; :meth:`from_response` reads it back."""
        refresh_expiry = self.refresh_token_expires_at
        return {
            "accessToken": self.access_token,
            "refreshToken": self.refresh_token,
            "accessTokenExpiresAt": _iso(self.access_token_expires_at),
            "refreshTokenExpiresAt": _iso(refresh_expiry) if refresh_expiry else None,
            "scope": list(self.scopes),
        }

    @classmethod
    def from_response(
        cls,
        data: Mapping[str, Any],
        *,
        previous_refresh_token: str | None = None,
        now: datetime | None = None,
    ) -> OAuthTokens:
        """Parse a token endpoint's JSON body (or :meth:`to_dict`'s output).

        A refresh answer without ``refreshToken`` keeps *previous_refresh_token* (the
        refresh page's sample is a copy of the exchange one, so its shape is a guess).

        Raises:
            ResponseDecodeError: a required field is missing or malformed (the message
                names the field, never its value).
        """
        access = data.get("accessToken")
        if not isinstance(access, str) or not access:
            raise ResponseDecodeError("token response has no accessToken", code="DECODE")
        refresh = data.get("refreshToken") or previous_refresh_token
        if not isinstance(refresh, str) or not refresh:
            raise ResponseDecodeError("token response has no refreshToken", code="DECODE")
        access_expiry = _datetime(data, "accessTokenExpiresAt") or _jwt_expiry(access)
        if access_expiry is None:
            # Neither the documented field nor a JWT `exp`: assume the documented lifetime.
            # Renewal also happens when Fluz rejects the token, so a wrong guess costs one
            # replayed request, never a failure.
            access_expiry = (now or datetime.now(UTC)) + timedelta(
                seconds=C.OAUTH_ACCESS_TOKEN_LIFETIME
            )
        return cls(
            access_token=access,
            refresh_token=refresh,
            access_token_expires_at=access_expiry,
            refresh_token_expires_at=_datetime(data, "refreshTokenExpiresAt"),
            scopes=_scopes(data),
        )


def _scopes(data: Mapping[str, Any]) -> tuple[str, ...]:
    # DECISION (webhooks-oauth.md §4.8): the response table says `scopes`, the JSON sample
    # has `scope` (an array). Both are read, `scope` first; a space- or comma-separated
    # string (RFC 6749's form) is accepted too.
    raw = data.get("scope")
    if raw is None:
        raw = data.get("scopes")
    if raw is None:
        return ()
    if isinstance(raw, str):
        raw = raw.replace(",", " ").split()
    if not isinstance(raw, list | tuple) or not all(isinstance(s, str) for s in raw):
        raise ResponseDecodeError("token response has a malformed scope list", code="DECODE")
    return tuple(dict.fromkeys(s.strip() for s in raw if s.strip()))


def _datetime(data: Mapping[str, Any], name: str) -> datetime | None:
    raw = data.get(name)
    if raw is None or raw == "":
        return None
    try:
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            # Epoch milliseconds (what JavaScript's Date serialises to as a number).
            return datetime.fromtimestamp(raw / 1000, UTC)
        if isinstance(raw, str):
            parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
            # The sample's "2025-07-08T21:05:30.673Z" is UTC; a naive time is taken as UTC.
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        pass
    raise ResponseDecodeError(f"token response has a malformed {name}", code="DECODE")


def _jwt_expiry(token: str) -> datetime | None:
    exp = (token_claims(token) or {}).get("exp")
    if isinstance(exp, int | float) and not isinstance(exp, bool):
        return datetime.fromtimestamp(exp, UTC)
    return None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
