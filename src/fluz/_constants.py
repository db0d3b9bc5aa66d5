"""Every tunable of the hand-written layer, in one place.

Change a default here and it changes everywhere; per-client and per-call overrides are
arguments of :class:`fluz.FluzClient` and :meth:`fluz.FluzClient.with_options`.
"""

from __future__ import annotations

from typing import Final

import httpx

# --------------------------------------------------------------------------- endpoints
ENVIRONMENT_URLS: Final[dict[str, str]] = {
    "production": "https://transactional-graph.fluzapp.com/api/v1/graphql",
    "staging": "https://transactional-graph.staging.fluzapp.com/api/v1/graphql",
}
DEFAULT_ENVIRONMENT: Final = "production"
# Plain http:// is refused except for these hosts (the sandbox, local proxies in tests).
LOOPBACK_HOSTS: Final = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})

# --------------------------------------------------------------------------- environment
ENV_API_KEY: Final = "FLUZ_API_KEY"
ENV_USER_ID: Final = "FLUZ_USER_ID"
ENV_ACCOUNT_ID: Final = "FLUZ_ACCOUNT_ID"
ENV_SEAT_ID: Final = "FLUZ_SEAT_ID"
ENV_ENVIRONMENT: Final = "FLUZ_ENVIRONMENT"
ENV_URL: Final = "FLUZ_URL"
ENV_SCOPES: Final = "FLUZ_SCOPES"  # comma- or space-separated ScopeType names

# --------------------------------------------------------------------------- http
# Explicit, finite timeouts: a hung Fluz request must surface as FluzTimeoutError.
DEFAULT_TIMEOUT: Final = httpx.Timeout(connect=5.0, read=30.0, write=30.0, pool=30.0)
DEFAULT_LIMITS: Final = httpx.Limits(
    max_connections=100, max_keepalive_connections=100, keepalive_expiry=30.0
)
USER_AGENT: Final = "fluz-client-python"
# Requests handed to httpx at once (the rest wait in the client, first come first served),
# when the client does not own its pool; its own pool uses max_connections. httpcore's
# pool does work per waiting request on every event: thousands waiting in it stall the
# event loop (see _transport.RequestSlots).
DEFAULT_MAX_IN_FLIGHT: Final = 100
# Fluz answers with pages of at most 20 items (50 for Plaid transactions): kilobytes. A
# body past this (decompressed) is a broken proxy or an attack: ResponseDecodeError,
# without reading (or holding in memory) the rest.
MAX_RESPONSE_BYTES: Final = 10 * 2**20
# Token requests' own lane of request slots, beside the DEFAULT_MAX_IN_FLIGHT others: the
# calls queued for a slot may be the very ones waiting for the token.
TOKEN_REQUEST_SLOTS: Final = 4
# A whole call (every attempt, backoff, token renewal, a slowly arriving body) ends with
# FluzTimeoutError after this long, unless `deadline=` (or a numeric `timeout=`) says.
DEFAULT_CALL_DEADLINE: Final = 120.0

# --------------------------------------------------------------------------- auth
# Scopes requested for the user token when the caller passes none: reading offers and
# purchases, buying and revealing gift cards, and reading/managing the wallet.
DEFAULT_SCOPES: Final[tuple[str, ...]] = (
    "LIST_OFFERS",
    "LIST_PURCHASES",
    "PURCHASE_GIFTCARD",
    "REVEAL_GIFTCARD",
    "LIST_PAYMENT",
    "MANAGE_PAYMENT",
    "MAKE_DEPOSIT",
)
# Refresh this long before the token's `exp` (capped at half the token's lifetime, so a
# very short-lived token is not refreshed on every call).
TOKEN_REFRESH_SKEW: Final = 30.0
# Identities whose tokens the client keeps (least recently used dropped first): a
# multi-tenant service acting for many users through for_user() stays flat in memory
# (a record is ~2-4 KB with its JWT), and a dropped identity only costs a mint.
TOKEN_CACHE_MAX_IDENTITIES: Final = 10_000

# Root fields sent with `Authorization: Basic <api key>` (documented app-level operations,
# plus the `marco` ping, which accepts any credentials and so needs no user token).
BASIC_AUTH_FIELDS: Final = frozenset(
    {
        "generateUserAccessToken",
        "refreshUserAccessToken",
        "getAccountsByUserId",
        "getApplicationScopes",
        "getApplicationUsers",
        "marco",
    }
)
# Mutations that move no money and create nothing, so a retry cannot do harm even
# without an idempotency key (the token calls only mint another token; reveals read).
RETRY_SAFE_MUTATIONS: Final = frozenset(
    {
        "generateUserAccessToken",
        "refreshUserAccessToken",
        "revealGiftCardByGiftCardId",
        "revealVirtualCardByVirtualCardId",
    }
)

# --------------------------------------------------------------------------- idempotency
# Keys the client made that it remembers the fate of (in flight / outcome unknown /
# settled), most recent kept. ~150 bytes each. A key forgotten past this many newer ones
# is treated as the caller's own: an input reused after that long replays its key.
IDEMPOTENCY_KEYS_REMEMBERED: Final = 100_000

# --------------------------------------------------------------------------- retries
DEFAULT_MAX_RETRIES: Final = 2  # retries after the first attempt
DEFAULT_RETRY_BASE_DELAY: Final = 0.5  # seconds; doubles per retry
DEFAULT_RETRY_MAX_DELAY: Final = 8.0  # cap of one backoff delay
DEFAULT_RETRY_JITTER: Final = 0.5  # each delay is scaled by a random factor in [0.5, 1]
# A Retry-After longer than this is not waited out: the RateLimitedError/ServerError is
# raised at once, carrying retry_after, so the caller decides.
DEFAULT_MAX_RETRY_AFTER: Final = 30.0
RETRYABLE_STATUS: Final = frozenset({408, 429, 500, 502, 503, 504})
# GE-9999: Fluz's "something went wrong"; RL-0001: rate limited, whatever the status.
RETRYABLE_CODES: Final = frozenset({"GE-9999", "RL-0001"})
# Codes meaning "your user token is missing, expired or invalid": refresh and replay once.
TOKEN_REJECTED_CODES: Final = frozenset({"AUTH-0008"})

# --------------------------------------------------------------------------- polling
# The documented reveal backoff: 300 ms, doubling, each delay capped at 3 minutes.
REVEAL_INITIAL_DELAY: Final = 0.3
REVEAL_MULTIPLIER: Final = 2.0
REVEAL_MAX_DELAY: Final = 180.0
REVEAL_TIMEOUT: Final = 600.0  # overall deadline of reveal_gift_card
REVEAL_JITTER: Final = 0.0  # fraction of each delay randomised away (0 = exact schedule)
# Polls of the polling helpers in progress at once, per request slot of the client; the
# other pending polls wait for a turn (a queued call weighs ~14 KiB, a place in line ~0.1).
POLL_TURNS_PER_SLOT: Final = 2
# Bulk virtual-card orders: no documented interval; start at 1 s, same cap and deadline.
BULK_ORDER_INITIAL_DELAY: Final = 1.0
BULK_ORDER_TERMINAL_STATUSES: Final = frozenset({"COMPLETED", "FAILED"})

# --------------------------------------------------------------------------- pagination
MAX_PAGE_SIZE: Final = 20  # documented maximum of OffsetInput.limit

# --------------------------------------------------------------------------- webhooks
# The signature scheme is not in the stored docs (see fluz.webhooks._signature): these
# defaults are the likeliest reading of "X-HMAC-Signature: <hmac_sha256_signature>".
WEBHOOK_SIGNATURE_HEADER: Final = "X-HMAC-Signature"
WEBHOOK_EVENT_ID_HEADER: Final = "X-Event-ID"
WEBHOOK_DEFAULT_ENCODING: Final = "hex"
# Fluz's bodies are small JSON objects; a body past this is refused (413) before verifying.
WEBHOOK_MAX_BODY_BYTES: Final = 256 * 1024
# Docs: answer within 30 s or the delivery counts as failed. The handler is cancelled a
# little before, so that the claim is released and Fluz's retry is processed.
WEBHOOK_HANDLER_TIMEOUT: Final = 25.0
# De-duplication: an event id is remembered this long after it was processed. Fluz retries
# up to 5 times with exponential backoff (intervals not documented): a day covers any
# plausible schedule. The in-progress lease outlives the handler timeout.
WEBHOOK_DEDUP_TTL: Final = 24 * 3600.0
WEBHOOK_CLAIM_TTL: Final = WEBHOOK_HANDLER_TIMEOUT + 35.0
WEBHOOK_DEDUP_MAX_EVENTS: Final = 100_000  # ~25 MiB for UUID ids (tests/bench_webhooks.py)

# --------------------------------------------------------------------------- OAuth (fluz.oauth)
# Where the user consents. The staging host comes from the older "Client facing OAuth
# grant flow" page; the production one from the newer grant page.
OAUTH_AUTHORIZE_URLS: Final[dict[str, str]] = {
    "production": "https://fluz.app/authorize",
    "staging": "https://uni.staging.fluzapp.com/authorize",
}
# DECISION (webhooks-oauth.md §4.3/§4.4): the token endpoints are https://fluz.app/token/*.
# The curl samples say http://, but they carry the app secret: plain http is refused
# except to loopback (the sandbox). No staging token host is documented anywhere; we
# assume the staging authorize host serves them too (override with base_url=).
OAUTH_BASE_URLS: Final[dict[str, str]] = {
    "production": "https://fluz.app",
    "staging": "https://uni.staging.fluzapp.com",
}
OAUTH_AUTHORIZE_PATH: Final = "/authorize"
OAUTH_EXCHANGE_PATH: Final = "/token/exchange"
OAUTH_REFRESH_PATH: Final = "/token/refresh"
ENV_OAUTH_CLIENT_ID: Final = "FLUZ_OAUTH_CLIENT_ID"
ENV_OAUTH_APP_SECRET: Final = "FLUZ_OAUTH_APP_SECRET"  # noqa: S105 (a variable name)
ENV_OAUTH_URL: Final = "FLUZ_OAUTH_URL"  # base URL of /authorize and /token/* (the sandbox)
OAUTH_STATE_BYTES: Final = 32  # entropy of a generated `state` (256 bits)
# Used only when a token response carries neither accessTokenExpiresAt nor a JWT `exp`:
# the documented OAuth access-token lifetime (/docs/using-oauth and the sample: 10 min).
OAUTH_ACCESS_TOKEN_LIFETIME: Final = 600.0
# Token endpoint bodies are a few hundred bytes; anything past this is not Fluz.
OAUTH_MAX_RESPONSE_BYTES: Final = 64 * 2**10
# Retries of a token request that certainly never left (connect errors). Nothing else is
# retried: a code is single-use, and a refresh that reached Fluz may have rotated the
# refresh token, so repeating either could turn a transient failure into a lost grant.
OAUTH_MAX_RETRIES: Final = 2

# --------------------------------------------------------------------------- widget patToken
# Lifetime of a signed pre-approved transaction token: the user confirms in the widget
# right after the page asks for it, so minutes are plenty and a leaked token dies soon.
PAT_TOKEN_LIFETIME: Final = 300.0

# ---------------------------------------------------------------- fleet (fluz.redis)
# The fleet-wide renewal lock lives this long unless its holder extends it (every third
# of it, while renewing): a renewing process that dies holds up the others at most this long.
REDIS_RENEWAL_LOCK_TTL: Final = 10.0
# How often a process waiting for another process's renewal looks for the new token.
REDIS_RENEWAL_POLL_INTERVAL: Final = 0.05
# A record whose refresh token carries no readable `exp` is kept this long after its
# access token expires (Fluz's docs give no refresh-token lifetime).
REDIS_REFRESHABLE_RECORD_GRACE: Final = 86_400.0
# A record of an opaque token (no `exp` at all) is kept this long.
REDIS_OPAQUE_RECORD_TTL: Final = 3_600.0
# Key prefix of everything fluz.redis writes.
REDIS_KEY_PREFIX: Final = "fluz"
# Fluz asks that the full merchant catalog be fetched at most once a day.
CATALOG_CACHE_TTL: Final = 86_400.0
