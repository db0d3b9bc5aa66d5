"""Read-only snapshots a running sandbox hands to tests (credentials, seed ids, counters)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class SandboxCredentials:
    """What a client needs to talk to the sandbox as its app and user.

    ``api_key`` is base64("app_id:app_secret") as Fluz documents; send it as
    ``Authorization: Basic <api_key>``. It is fake, but still kept out of the repr.
    """

    api_key: str = field(repr=False)
    app_id: str
    user_id: str
    account_id: str
    seat_id: str
    oauth_client_id: str = ""  # the app's OAuth client id (/authorize, /token/*)
    oauth_app_secret: str = field(default="", repr=False)  # Basic base64(client_id:secret)


@dataclass(frozen=True)
class SeedData:
    """Ids of the seeded world (same seed, same ids) that tests commonly need."""

    cash_balance_id: str  # the default spend account ("the Fluz balance")
    second_cash_balance_id: str
    bank_card_id: str
    bank_account_id: str
    paypal_vault_id: str
    address_id: str
    pending_address_id: str  # issuer approval pending: createVirtualCard -> VC-0020
    auth_user_id: str  # an ACTIVE authorized user (SPENDER)
    approval_id: str  # a PENDING approval request
    operator_account_id: str  # the account Basic auth acts as
    recipient_account_id: str  # a consumer account to transfer to
    business_account_id: str  # "Acme Supplies LLC" (lookupBusiness)


@dataclass(frozen=True)
class SandboxCounters:
    """Counts since start or the last ``reset()``.

    ``requests`` counts every request to the GraphQL endpoint (including rejected ones);
    ``requests_by_operation`` counts root fields; ``faults`` counts injected failures by kind
    (unavailable, rate_limited, reset, drop_after_commit); ``tokens_minted`` counts user
    tokens issued by generateUserAccessToken and refreshUserAccessToken (``token_refreshes``
    the latter alone); ``purchases`` counts gift cards bought; ``reveal_polls`` counts
    revealGiftCardByGiftCardId calls per gift card id, and ``reveal_poll_times`` gives the
    sandbox-clock time (``time.time()`` plus any ``advance_clock``) each of them was served.
    """

    requests: int
    requests_by_operation: Mapping[str, int]
    faults: Mapping[str, int]
    tokens_minted: int
    token_refreshes: int
    purchases: int
    reveal_polls: Mapping[str, int]
    reveal_poll_times: Mapping[str, Sequence[float]] = field(default_factory=dict)
    oauth_authorizations: int = 0  # OAuth codes issued by /authorize
    oauth_exchanges: int = 0  # successful /token/exchange calls
    oauth_refreshes: int = 0  # successful /token/refresh calls

    @property
    def total_reveal_polls(self) -> int:
        return sum(self.reveal_polls.values())


@dataclass(frozen=True)
class AccountBalances:
    """Balances of one account: rewards, the gift-card (prepayment) balance and the
    available amount of each ACTIVE spend account (``cash``, by id; ``cash_total`` sums it)."""

    account_id: str
    rewards: Decimal
    gift_card: Decimal
    cash: Mapping[str, Decimal]

    @property
    def cash_total(self) -> Decimal:
        return sum(self.cash.values(), Decimal(0))
