"""User access tokens: a record per identity in a bounded store, one renewal in flight.

Three small parts, so that each can be replaced on its own:

* :class:`UserToken` is the record of one token (the token, its refresh token, when to
  renew it and when it expires).
* :class:`TokenStore` keeps records per :class:`~fluz._config.Identity`: ``get``, ``put``
  and ``forget``. :class:`MemoryTokenStore` is an LRU bounded in identities that drops
  records that can no longer be used; a store shared by a fleet (Redis) implements the
  same three methods.
* A *renewal* is a callable ``renew(current) -> UserToken`` made by the caller from a
  token source: :class:`ApiKeyTokenSource` (refresh, else mint, with the app's API key);
  another source (OAuth tokens renewed through a REST endpoint) has the same ``renew``.

:class:`TokenManager` ties them together. The fast path (a stored, fresh token) takes no
lock. A caller that finds the token missing, due or rejected joins the identity's renewal
in flight, or starts one: one renewal per identity at a time, and every caller waiting
for it gets its outcome, success or failure, without sending anything itself. If the
caller running the renewal is cancelled, a waiting caller takes over.
"""

from __future__ import annotations

import base64
import binascii
import copy
import dataclasses
import json
import math
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

import anyio
from fluz_graphql.base_model import UNSET

from . import _constants as C
from . import _telemetry
from ._config import Identity
from ._errors import (
    AuthenticationError,
    FluzError,
    ResponseDecodeError,
    TransportError,
    ValidationError,
    converted,
)

if TYPE_CHECKING:
    from ._client import FluzClient

# JWT times are whole seconds: a server may round iat down and exp up, so a token's real
# end can come up to this long before the one its claims give (a fact of the format, not
# a tunable).
JWT_TIME_GRANULARITY = 1.0


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


# eq=False: records are never compared or hashed, and each generated method costs
# `import fluz` time (frozen stays: a store hands the same record to many tasks).
@dataclass(frozen=True, slots=True, eq=False)
class UserToken:
    """A user access token. ``refresh_at`` and ``expires_mono`` are on the
    ``time.monotonic()`` clock (a store shared between processes converts them)."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    refresh_at: float | None  # None: no `exp` readable, renew only when rejected
    scopes: tuple[str, ...] = ()
    expires_at: datetime | None = None
    obtained_at: float = field(default_factory=time.monotonic)
    expires_mono: float | None = None  # when the access token stops working

    def is_fresh(self, now: float) -> bool:
        return self.refresh_at is None or now < self.refresh_at

    def lasts(self, seconds: float, now: float) -> bool:
        """Whether the access token surely works *seconds* past *now*: its JWT times are
        whole seconds (``iat`` rounded down, ``exp`` maybe up), so the server may expire it
        up to :data:`JWT_TIME_GRANULARITY` before ``expires_mono``."""
        if self.expires_mono is None or seconds <= 0:
            return True
        return now + seconds < self.expires_mono - JWT_TIME_GRANULARITY

    def is_useless(self, now: float) -> bool:
        """Nothing left to use: the access token expired and there is no refresh token."""
        expired = self.expires_mono is not None and now >= self.expires_mono
        return expired and self.refresh_token is None


def token_claims(token: str) -> dict[str, Any] | None:
    """The payload of the JWT *token*, unverified (the server checks the signature).
    None for an opaque (non-JWT) token."""
    try:
        payload_b64 = token.split(".")[1]
        payload = json.loads(base64.urlsafe_b64decode(payload_b64 + "=" * (-len(payload_b64) % 4)))
    except (IndexError, TypeError, ValueError, RecursionError, binascii.Error):
        return None
    return payload if isinstance(payload, dict) else None


# Unix times a JWT `exp`/`iat` can sensibly hold: after 2000-01-01 and before 9999-12-31.
# An `exp` in milliseconds (1.7e12) is past the upper bound.
_MIN_JWT_TIME = 946_684_800.0
_MAX_JWT_TIME = 253_402_300_799.0


def _claim_time(claims: dict[str, Any], name: str) -> float | None:
    """The numeric time claim *name*; None when absent.

    Raises:
        ResponseDecodeError: the claim is not a Unix time in seconds (milliseconds, 1e20,
            NaN, a string ...): the client cannot schedule renewals with it.
    """
    if name not in claims:
        return None
    value = claims[name]
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not _MIN_JWT_TIME <= value <= _MAX_JWT_TIME
    ):
        raise ResponseDecodeError(
            f"user token's {name!r} claim is not a Unix time in seconds", code="DECODE"
        )
    return float(value)


def token_lifetime(token: str) -> float | None:
    """Seconds the JWT *token* is valid for, from its payload (``exp - iat``, or ``exp`` minus
    now when there is no ``iat``). Returns None for an opaque token or one without ``exp``.

    Raises:
        ResponseDecodeError: ``exp`` or ``iat`` is out of range.
    """
    claims = token_claims(token) or {}
    exp = _claim_time(claims, "exp")
    if exp is None:
        return None
    iat = _claim_time(claims, "iat")
    # Counting from iat makes the schedule immune to a skewed local clock.
    return exp - iat if iat is not None else exp - time.time()


def make_user_token(
    access_token: str,
    refresh_token: str | None,
    skew: float,
    scopes: Iterable[str] = (),
) -> UserToken:
    """Schedule the renewal *skew* seconds before expiry (at most half the lifetime early).

    Raises:
        ResponseDecodeError: the token's ``exp``/``iat`` claim is out of range.
    """
    now = time.monotonic()
    lifetime = token_lifetime(access_token)
    refresh_at = expires_mono = None
    if lifetime is not None:
        lifetime = max(lifetime, 0.0)
        refresh_at = now + lifetime - min(skew, lifetime / 2)
        expires_mono = now + lifetime
    claims = token_claims(access_token) or {}
    exp = _claim_time(claims, "exp")
    expires_at = datetime.fromtimestamp(exp, UTC) if exp is not None else None
    granted = tuple(scopes) or tuple(str(s) for s in claims.get("scopes") or ())
    return UserToken(
        access_token,
        refresh_token,
        refresh_at,
        granted,
        expires_at,
        obtained_at=now,
        expires_mono=expires_mono,
    )


# --------------------------------------------------------------------------- store


class TokenStore(Protocol):
    """Where token records live, per identity. Methods are async so that a store can be
    remote (a Redis store shared by a fleet); a store need not be exact (a lost record
    only costs a renewal)."""

    async def get(self, identity: Identity) -> UserToken | None: ...

    async def put(self, identity: Identity, token: UserToken) -> None: ...

    async def forget(self, identity: Identity) -> None: ...


class MemoryTokenStore:
    """Token records in process memory, least recently used first out.

    At most *max_identities* records are kept (``put`` beyond that drops the least
    recently used); a record whose access token expired without a refresh token is
    dropped when met. Memory therefore stays flat however many ``for_user()`` identities
    a service acts for.
    """

    def __init__(self, max_identities: int = C.TOKEN_CACHE_MAX_IDENTITIES) -> None:
        if max_identities < 1:
            raise ValueError("max_identities must be >= 1")
        self.max_identities = max_identities
        self._records: OrderedDict[Identity, UserToken] = OrderedDict()

    def __len__(self) -> int:
        return len(self._records)

    async def get(self, identity: Identity) -> UserToken | None:
        token = self._records.get(identity)
        if token is None:
            return None
        if token.is_useless(time.monotonic()):
            del self._records[identity]
            return None
        self._records.move_to_end(identity)
        return token

    async def put(self, identity: Identity, token: UserToken) -> None:
        self._records[identity] = token
        self._records.move_to_end(identity)
        now = time.monotonic()
        while self._records and (
            len(self._records) > self.max_identities
            or next(iter(self._records.values())).is_useless(now)
        ):
            self._records.popitem(last=False)

    async def forget(self, identity: Identity) -> None:
        self._records.pop(identity, None)


# --------------------------------------------------------------------------- renewal

# Obtains a new token for an identity, given its current record (None: none yet). The
# caller builds it (it knows which client view, with which retries and timeout, asked).
Renew = Callable[[UserToken | None], Awaitable[UserToken]]
# A shared store's renew_shared(identity, renew, usable): a usable token, another
# process's or one obtained with renew under a fleet-wide lock.
SharedRenewal = Callable[
    [Identity, Renew, Callable[[UserToken | None], bool]], Awaitable[UserToken]
]


class _Flight:
    """One renewal in progress and, once done, its outcome."""

    __slots__ = ("done", "error", "token")

    def __init__(self) -> None:
        self.done = anyio.Event()
        self.token: UserToken | None = None
        self.error: FluzError | None = None


class TokenManager:
    """Fresh tokens per :class:`Identity` from a :class:`TokenStore`, one renewal in
    flight per identity."""

    def __init__(self, store: TokenStore | None = None) -> None:
        self.store: TokenStore = store if store is not None else MemoryTokenStore()
        self._flights: dict[Identity, _Flight] = {}  # only identities being renewed
        self.renewals = 0  # how many tokens were obtained (diagnostics and tests)

    async def user_token(self, identity: Identity, renew: Renew) -> UserToken:
        """The fresh :class:`UserToken` of *identity*, renewed with *renew* if needed.

        Raises:
            FluzError: the renewal (this caller's or the one it waited for) failed.
        """
        current = await self.store.get(identity)
        if current is not None and current.is_fresh(time.monotonic()):
            return current
        return await self._renewed(identity, renew, rejected=None, newer_than=None)

    async def replace_rejected(
        self, identity: Identity, renew: Renew, rejected: str, sent_at: float
    ) -> UserToken:
        """The server refused *rejected* in a request sent at *sent_at* (monotonic): renew
        it, unless a concurrent caller already did so after that request went out.

        A token obtained before the request was sent may be the one the server just
        expired too (JWT times are whole seconds, so the client's idea of "fresh" can
        outlive the server's by up to a second); only a newer one is safe to replay with.
        And the replay will take about as long as the refused request did: a newer token
        that may expire sooner than that (counting the second JWT times may be off) would
        be refused too, and the caller would get the second refusal, so it is renewed.
        """
        round_trip = time.monotonic() - sent_at
        return await self._renewed(
            identity, renew, rejected=rejected, newer_than=sent_at, lasting=round_trip
        )

    async def forget(self, identity: Identity) -> None:
        await self.store.forget(identity)

    async def _renewed(
        self,
        identity: Identity,
        renew: Renew,
        rejected: str | None,
        newer_than: float | None,
        lasting: float = 0.0,
    ) -> UserToken:
        while True:
            flight = self._flights.get(identity)
            if flight is not None:
                await flight.done.wait()
                if flight.token is not None:
                    return flight.token
                if flight.error is not None:
                    # Every waiter raises its own copy: one exception object raised in
                    # many tasks would collect all their tracebacks.
                    raise copy.copy(flight.error) from None
                continue  # the renewing caller was cancelled: take over

            def usable(token: UserToken | None) -> bool:
                return (
                    token is not None
                    and token.access_token != rejected
                    and token.is_fresh(time.monotonic())
                    and (newer_than is None or token.obtained_at > newer_than)
                    and token.lasts(lasting, time.monotonic())
                )

            current = await self.store.get(identity)
            if usable(current):
                assert current is not None
                return current
            if identity in self._flights:  # the store was remote: someone started meanwhile
                continue
            return await self._fly(identity, renew, current, usable)

    async def _fly(
        self,
        identity: Identity,
        renew: Renew,
        current: UserToken | None,
        usable: Callable[[UserToken | None], bool],
    ) -> UserToken:
        flight = self._flights[identity] = _Flight()
        # A store shared by a fleet renews under its own fleet-wide lock (fluz.redis).
        shared: SharedRenewal | None = getattr(self.store, "renew_shared", None)
        obtained: list[UserToken] = []  # by this process (not read from another's renewal)

        async def obtain(current: UserToken | None) -> UserToken:
            obtained.append(await renew(current))
            return obtained[-1]

        try:
            if shared is not None:
                token = await shared(identity, obtain, usable)
            else:
                token = await obtain(current)
                await self.store.put(identity, token)
        except FluzError as exc:
            flight.error = exc
            transient = isinstance(exc, TransportError)
            if shared is None and current is not None and current.refresh_token and not transient:
                # The refresh token was answered with a refusal or garbage and the mint
                # that followed failed too: never offer that refresh token again.
                await self.store.put(identity, dataclasses.replace(current, refresh_token=None))
            raise
        finally:
            del self._flights[identity]
            flight.done.set()
        flight.token = token
        if obtained:
            self.renewals += 1
            _telemetry.token_renewed()
        return token


class ApiKeyTokenSource:
    """Tokens from the app's API key: ``refreshUserAccessToken`` when a refresh token is
    held, else (or when the refresh is answered with anything but a transport failure —
    a refusal, AR-0001, a null payload, an undecodable token) ``generateUserAccessToken``.

    The token operations are sent through *via*, the client view whose call needed the
    token, so they run with that view's retries, timeout and deadline.
    """

    def __init__(self, skew: float = C.TOKEN_REFRESH_SKEW) -> None:
        self.skew = skew

    async def renew(
        self, via: FluzClient, identity: Identity, current: UserToken | None
    ) -> UserToken:
        if current is not None and current.refresh_token:
            try:
                return await self.refresh(via, current.refresh_token)
            except TransportError:
                raise  # the refresh token may well be fine: try it again next time
            except FluzError:
                pass  # refused or broken: a new token from the API key
        return await self.mint(via, identity)

    async def mint(self, via: FluzClient, identity: Identity) -> UserToken:
        from fluz_graphql.enums import ScopeType  # 31 enums: not at `import fluz`

        result = await via.generate_user_access_token(
            user_id=uuid.UUID(identity.user_id),
            account_id=uuid.UUID(identity.account_id),
            scopes=[ScopeType(s) for s in identity.scopes],
            seat_id=uuid.UUID(identity.seat_id) if identity.seat_id else UNSET,
        )
        return self._token(result, "GenerateUserAccessToken")

    async def refresh(self, via: FluzClient, refresh_token: str) -> UserToken:
        result = await via.refresh_user_access_token(refresh_token=refresh_token)
        return self._token(result, "RefreshUserAccessToken")

    def _token(self, result: Any, operation: str) -> UserToken:
        access = (result.access_token or result.token) if result is not None else None
        if not access:
            raise ResponseDecodeError(
                "token response carries neither accessToken nor token",
                code="DECODE",
                operation=operation,
            )
        granted = [scope.value for scope in result.scopes or () if scope is not None]
        try:
            return make_user_token(access, result.refresh_token, self.skew, granted)
        except ResponseDecodeError as exc:
            exc.operation = operation
            raise


def token_step_failed(error: FluzError, operation: str, idempotency_key: str | None) -> FluzError:
    """The error the caller of *operation* gets when its user token could not be
    obtained: of the token step's class (AuthenticationError when Fluz refused the token
    request's input, which says nothing about the caller's own), ``request_sent=False``."""
    cls = AuthenticationError if isinstance(error, ValidationError) else type(error)
    return converted(
        error,
        cls,
        message=f"{operation} was not sent: its user token could not be obtained: {error.message}",
        operation=operation,
        idempotency_key=idempotency_key,
        request_sent=False,
    )
