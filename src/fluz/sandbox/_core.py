"""One sandbox: its options, clock, seeded state, tokens, faults and idempotency keys.

The HTTP layer, the admin endpoint and ``SandboxServer`` all act through this object, on the
server's event-loop thread.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ._auth import (
    ANONYMOUS,
    AuthFailure,
    Principal,
    TokenIssuer,
    api_key_matches,
    check_mode,
    split_authorization,
)
from ._config import MAX_CLOCK_OFFSET, RUNTIME_OPTIONS, Faults, SandboxOptions
from ._errors import INVALID_CREDENTIALS, INVALID_USER_ACCESS, SERVER_ERROR, SandboxError
from ._faults import FaultInjector, FaultPlan
from ._idempotency import IdempotencyStore
from ._oauth import OAuthProvider
from ._seed import build_state
from ._state import Account, Clock, Counters, Merchant, SandboxState
from ._types import AccountBalances, SandboxCounters, SandboxCredentials, SeedData
from ._webhooks import WebhookDispatcher


class Sandbox:
    """The state machine behind one server; not thread-safe (see ``SandboxServer``)."""

    def __init__(self, options: SandboxOptions) -> None:
        self.clock = Clock()
        self.tokens = TokenIssuer()
        self.idempotency = IdempotencyStore()
        self.faults = FaultInjector()
        _check_operations(options.faults)
        self._initial_options = options
        self.options = options
        self.webhooks = WebhookDispatcher(self)
        # Bumped by every reset: a request started under an older generation (e.g. one
        # sleeping in injected latency when a test's fixture resets) must not commit into the
        # fresh world the next test sees (see RequestContext.ensure_current).
        self.generation = 0
        self.reset()

    # -- control ----------------------------------------------------------------------------

    def reset(self, seed: int | None = None) -> None:
        """Back to the starting world (and options, faults, clock); ``seed`` re-seeds it.

        User tokens stay verifiable (the signing secret lives as long as the server), but
        refresh tokens and idempotency keys are forgotten.
        """
        self.generation += 1
        options = self._initial_options
        if seed is not None:
            options = dataclasses.replace(options, seed=seed)
        self.options = options
        self.clock.offset = 0.0
        self.state: SandboxState = build_state(options.seed, self.clock)
        self.counters = Counters()
        self.oauth = OAuthProvider(options.seed)  # OAuth codes and grants are forgotten too
        self.idempotency.clear()
        self.faults.configure(options.faults, options.seed)
        self.webhooks.reset()

    def configure(self, **changes: Any) -> None:
        """Change runtime options (all of SandboxOptions but seed); ValueError if unknown."""
        unknown = set(changes) - RUNTIME_OPTIONS
        if unknown:
            raise ValueError(f"not a runtime option: {', '.join(sorted(unknown))}")
        if isinstance(changes.get("faults"), dict):
            changes["faults"] = Faults.from_json(changes["faults"])
        if isinstance(changes.get("faults"), Faults):
            _check_operations(changes["faults"])
        self.options = dataclasses.replace(self.options, **changes)
        if "faults" in changes:
            self.faults.configure(self.options.faults, self.options.seed)
        if any(name.startswith("webhook_") for name in changes):
            self.webhooks.configure()

    def set_faults(self, faults: Faults) -> None:
        """Replace the faults; ValueError when ``operations`` names an unknown operation."""
        self.configure(faults=faults)

    def advance_clock(self, seconds: float) -> None:
        """Move sandbox time forward: tokens expire, reveal and issuer delays pass.

        ValueError unless ``seconds`` is a finite number >= 0 that keeps the clock within
        MAX_CLOCK_OFFSET of real time."""
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise ValueError("seconds must be a number")
        if not (math.isfinite(seconds) and seconds >= 0):
            raise ValueError(
                "seconds must be finite and >= 0: the sandbox clock only moves forward"
            )
        if self.clock.offset + seconds > MAX_CLOCK_OFFSET:
            raise ValueError(
                f"seconds would put the sandbox clock more than {MAX_CLOCK_OFFSET:.0f} s "
                "(100 years) ahead"
            )
        self.clock.offset += seconds

    def skip_delays(self) -> None:
        """Make every pending gift card revealable, bulk order complete, address approved."""
        now = self.clock.now()
        for account in self.state.accounts.values():
            for card in account.gift_cards.values():
                card.ready_at = min(card.ready_at, now)
            for order in account.bulk_orders.values():
                order.ready_at = min(order.ready_at, now)
            for address in account.addresses:
                address.approved_at = min(address.approved_at, now)

    def add_gift_cards(
        self, reveal_delays: Sequence[float], merchant_slug: str = "starbucks"
    ) -> dict[str, float]:
        """Give the sandbox user's account one gift card of *merchant_slug* per delay, its
        details revealable that many seconds from now. No purchase, charge or transaction
        is recorded: this seeds load tests of reveal polling. Returns ``{gift card id:
        ready time on the sandbox clock}``; ValueError for an unknown merchant or a delay
        that is negative or not finite."""
        from ._resolvers.gift_cards import new_gift_card

        merchant = self.state.merchant_by_slug(merchant_slug)
        if merchant is None:
            raise ValueError(f"unknown merchant {merchant_slug!r}")
        if any(not (math.isfinite(d) and d >= 0) for d in reveal_delays):
            raise ValueError("reveal delays must be finite and >= 0")
        account = self.state.accounts[self.state.main_account_id]
        ready: dict[str, float] = {}
        for delay in reveal_delays:
            card = new_gift_card(
                self,
                account,
                merchant,
                purchaser_user_id=account.user.user_id,
                reveal_delay=delay,
                user_cash_balance_id=None,
            )
            account.gift_cards[card.gift_card_id] = card
            ready[card.gift_card_id] = card.ready_at
        return ready

    # -- reading -----------------------------------------------------------------------------

    def credentials(self) -> SandboxCredentials:
        ids = self.state.ids
        return SandboxCredentials(
            api_key=self.state.app.api_key,
            app_id=ids["app_id"],
            user_id=ids["user_id"],
            account_id=ids["account_id"],
            seat_id=ids["seat_id"],
            oauth_client_id=self.oauth.client_id,
            oauth_app_secret=self.oauth.app_secret,
        )

    def seed_data(self) -> SeedData:
        names = {f.name for f in dataclasses.fields(SeedData)}
        return SeedData(**{k: v for k, v in self.state.ids.items() if k in names})

    def counters_snapshot(self) -> SandboxCounters:
        c = self.counters
        return SandboxCounters(
            requests=c.requests,
            requests_by_operation=dict(c.requests_by_operation),
            faults=dict(c.faults),
            tokens_minted=c.tokens_minted,
            token_refreshes=c.token_refreshes,
            purchases=c.purchases,
            reveal_polls=dict(c.reveal_polls),
            reveal_poll_times={card: tuple(t) for card, t in c.reveal_poll_times.items()},
            oauth_authorizations=c.oauth_authorizations,
            oauth_exchanges=c.oauth_exchanges,
            oauth_refreshes=c.oauth_refreshes,
        )

    def balances(self, account_id: str | None = None) -> AccountBalances:
        """Balances of an account (the sandbox user's by default); KeyError if unknown."""
        account = self.state.accounts[account_id or self.state.main_account_id]
        return AccountBalances(
            account_id=account.account_id,
            rewards=account.rewards.available,
            gift_card=account.gift_card_balance.available,
            cash={
                b.user_cash_balance_id: b.available
                for b in account.cash_balances
                if b.status == "ACTIVE"
            },
        )

    # -- serving -----------------------------------------------------------------------------

    def authenticate(self, header: str | None, root_fields: tuple[str, ...]) -> Principal:
        """The caller of a request; AuthFailure (HTTP 401, or 200 for a bad user token)."""
        mode, credential = split_authorization(header)
        check_mode(mode, root_fields)
        app = self.state.app
        if mode == "none":
            return ANONYMOUS
        if mode == "basic":
            if not api_key_matches(credential, app.api_key):
                raise AuthFailure(
                    401, INVALID_CREDENTIALS, "Incorrect auth details: unknown API key"
                )
            operator = self.state.accounts[app.operator_account_id]
            return Principal(
                "basic",
                app_id=app.app_id,
                user_id=operator.user.user_id,
                account_id=operator.account_id,
                seat_id=operator.seats[0].seat_id,
                scopes=app.scopes,
            )
        try:
            claims = self.tokens.verify(credential, self.clock.now())
        except SandboxError as error:
            raise AuthFailure(200, error.code, error.message) from None
        account = self.state.account(str(claims.get("account_id")))
        if claims.get("app_id") != app.app_id or account is None:
            raise AuthFailure(200, INVALID_USER_ACCESS, "User access token is not valid here")
        return Principal(
            "bearer",
            app_id=app.app_id,
            user_id=str(claims["user_id"]),
            account_id=account.account_id,
            seat_id=claims.get("seat_id"),
            scopes=frozenset(claims.get("scopes") or ()),
        )

    def reveal_delay(self, merchant: Merchant) -> float:
        options = self.options
        delay = options.reveal_delay_by_merchant.get(merchant.slug, options.reveal_delay)
        if options.reveal_jitter:
            delay += self.state.rng.uniform(0, options.reveal_jitter)
        return delay

    def describe(self) -> dict[str, Any]:
        return {
            "credentials": dataclasses.asdict(self.credentials()),
            "seedData": dataclasses.asdict(self.seed_data()),
            "options": self.options.to_json(),
            "clockOffset": self.clock.offset,
        }


def _check_operations(faults: Faults) -> None:
    """ValueError naming the unknown ones, when ``faults.operations`` names an operation the
    schema does not have (a typo would silently target nothing)."""
    from ._resolvers import OPERATIONS

    unknown = sorted(set(faults.operations or ()) - set(OPERATIONS))
    if unknown:
        raise ValueError(f"operations: unknown operation {', '.join(map(repr, unknown))}")


@dataclass
class RequestContext:
    """``info.context`` of every resolver: the sandbox, the caller, the request.

    ``state`` and ``counters`` are those of the sandbox generation the request started in,
    so a request that outlives a reset can only ever touch the discarded world.
    """

    sandbox: Sandbox
    principal: Principal
    request_id: str
    plan: FaultPlan
    generation: int = field(init=False)
    state: SandboxState = field(init=False)
    counters: Counters = field(init=False)

    def __post_init__(self) -> None:
        self.generation = self.sandbox.generation
        self.state = self.sandbox.state
        self.counters = self.sandbox.counters

    def ensure_current(self) -> None:
        """SandboxError(GE-9999) when the sandbox was reset since this request started: its
        work is abandoned before it changes anything, in the old world or the new."""
        if self.generation != self.sandbox.generation:
            raise SandboxError(
                SERVER_ERROR,
                "The sandbox was reset while this request was in flight; nothing was done",
            )

    @property
    def now(self) -> float:
        return self.sandbox.clock.now()

    @property
    def account(self) -> Account:
        """The caller's account (authentication guaranteed it exists)."""
        if self.principal.account_id is None:
            raise SandboxError(INVALID_USER_ACCESS, "A user access token is required")
        return self.state.accounts[self.principal.account_id]

    @property
    def user_id(self) -> str:
        return self.principal.user_id or self.account.user.user_id
