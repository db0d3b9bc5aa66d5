"""App-level operations (Basic auth): user tokens, the app's users and scopes; marco."""

from __future__ import annotations

import secrets
from typing import Any

from .._auth import ALL_SCOPES
from .._config import REFRESH_TOKEN_TTL
from .._core import RequestContext
from .._errors import INVALID_USER_ACCESS, SandboxError, invalid
from .._state import Account, RefreshGrant
from ._common import exactly_one, operation, page


def _app_accounts(ctx: RequestContext) -> list[Account]:
    """Accounts whose users authorized the sandbox app: the sandbox user's and the operator's."""
    state = ctx.state
    return [state.accounts[state.main_account_id], state.accounts[state.app.operator_account_id]]


def _issue(
    ctx: RequestContext, grant: RefreshGrant, refresh_token: str, *, refreshed: bool
) -> dict[str, Any]:
    account = ctx.state.accounts[grant.account_id]
    token = ctx.sandbox.tokens.mint(
        app_id=grant.app_id,
        user_id=grant.user_id,
        account_id=grant.account_id,
        seat_id=grant.seat_id,
        account_type=account.type,
        scopes=grant.scopes,
        now=ctx.now,
        ttl=ctx.sandbox.options.token_ttl,
    )
    ctx.counters.tokens_minted += 1
    ctx.counters.token_refreshes += refreshed
    # DECISION (docs §5.1): `token` and `accessToken` carry the same JWT.
    return {
        "token": token,
        "access_token": token,
        "refresh_token": refresh_token,
        "scopes": list(grant.scopes),
    }


@operation("marco")
def marco(ctx: RequestContext) -> str:
    return "polo"


@operation("generateUserAccessToken")
def generate_user_access_token(
    ctx: RequestContext,
    *,
    user_id: str,
    account_id: str,
    scopes: list[str],
    seat_id: str | None = None,
) -> dict[str, Any]:
    """A user token for one of the app's users; AR-0001 for an unknown user/account/seat or
    a scope the app was not granted."""
    app = ctx.state.app
    requested = tuple(dict.fromkeys(scopes))
    if not requested:
        raise invalid("scopes must name at least one scope")
    not_granted = [scope for scope in requested if scope not in app.scopes]
    if not_granted:
        raise invalid(
            f"Scope {', '.join(not_granted)} is not granted to this application",
            notGrantedScopes=not_granted,
        )
    account = next((a for a in _app_accounts(ctx) if a.account_id == account_id), None)
    if account is None or account.user.user_id != user_id:
        raise invalid(
            f"User {user_id} has not authorized this application for account {account_id}"
        )
    seat_ids = [seat.seat_id for seat in account.seats]
    if seat_id is not None and seat_id not in seat_ids:
        raise invalid(f"seatId {seat_id} is not a seat of account {account_id}")
    grant = RefreshGrant(
        app_id=app.app_id,
        user_id=user_id,
        account_id=account_id,
        seat_id=seat_id or seat_ids[0],
        scopes=requested,
        expires_at=ctx.now + REFRESH_TOKEN_TTL,
    )
    # Refresh tokens are random, not seeded: one must never match after a reset.
    refresh_token = secrets.token_hex(16)
    ctx.state.refresh_grants[refresh_token] = grant
    return _issue(ctx, grant, refresh_token, refreshed=False)


@operation("refreshUserAccessToken")
def refresh_user_access_token(
    ctx: RequestContext, *, refresh_token: str | None = None, user_id: str | None = None
) -> dict[str, Any]:
    """A new user token with the grant's scopes. DECISION: refresh tokens are not rotated -
    the same one is returned and stays valid for 60 days, so a refresh whose response was
    lost, or two concurrent refreshes, cannot lock a client out. ``userId`` is the docs'
    sample alias. AUTH-0008 for an unknown or expired refresh token."""
    exactly_one(refresh_token=refresh_token, user_id=user_id)
    presented = refresh_token or user_id or ""
    grant = ctx.state.refresh_grants.get(presented)
    if grant is None or grant.app_id != ctx.state.app.app_id or grant.expires_at <= ctx.now:
        raise SandboxError(INVALID_USER_ACCESS, "Refresh token is invalid or has expired")
    return _issue(ctx, grant, presented, refreshed=True)


@operation("getAccountsByUserId")
def get_accounts_by_user_id(ctx: RequestContext, *, user_id: str) -> list[Account]:
    return [a for a in _app_accounts(ctx) if a.user.user_id == user_id]


@operation("getApplicationScopes")
def get_application_scopes(ctx: RequestContext) -> list[str]:
    return [scope for scope in ALL_SCOPES if scope in ctx.state.app.scopes]


@operation("getApplicationUsers")
def get_application_users(
    ctx: RequestContext, *, paginate: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    users = [
        {
            "user_id": account.user.user_id,
            "scopes": get_application_scopes(ctx),
            "accounts": [account],
        }
        for account in _app_accounts(ctx)
    ]
    return page(users, paginate)
