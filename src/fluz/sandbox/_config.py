"""Every tunable of the sandbox in one place: server limits, defaults, options and faults."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# -- HTTP surface --------------------------------------------------------------------------
GRAPHQL_PATH = "/api/v1/graphql"  # the path Fluz serves (docs: staging and production)
ADMIN_PATH = "/_sandbox"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
LISTEN_BACKLOG = 2048  # bursts of hundreds of concurrent connections in the tests

# -- connections: it listens on a developer's machine, so no client may hold it forever -------
KEEP_ALIVE_TIMEOUT = 5  # an idle keep-alive connection is closed (uvicorn timeout_keep_alive)
HEADERS_TIMEOUT = 10.0  # a connection must deliver a request's headers within this, or close
BODY_TIMEOUT = 10.0  # the whole body must arrive within this after the headers: HTTP 408
MAX_HEADER_BYTES = 16 * 1024  # request line + headers (uvicorn h11_max_incomplete_event_size)
# Open connections; at the cap the longest-idle one is closed to make room for a new one, and
# uvicorn answers 503 when all are busy (limit_concurrency). Never more than half the
# process's file descriptors: the in-process server shares them with the test suite.
MAX_CONNECTIONS = 1000
ACCEPT_BATCH = 32  # connections accepted per wake-up (see _runner._Server.startup)

# -- request limits (a request over a limit gets a clear 4xx, never a crash) -----------------
MAX_BODY_BYTES = 1 << 20  # 413 above this
ADMIN_MAX_BODY_BYTES = 256 * 1024  # admin bodies (413 above): 10,000 gift-card delays fit
# Every character counts, comments and whitespace included: the parser's token limit skips
# comments, yet each comment is a token the parsed document keeps (~100 bytes per character
# for comment-only lines). Our largest operation is ~5 KB, the standard introspection ~1.5 KB.
MAX_QUERY_CHARS = 64 * 1024
MAX_LEXICAL_TOKENS = 20_000  # parser guard, checked before validation
MAX_QUERY_DEPTH = 15  # selection-set nesting; the standard introspection query needs 13
MAX_QUERY_FIELDS = 1_500  # fields after expanding fragments: bounds "very wide" queries
# Estimated values an operation's __schema/__type selections produce (list fields weighted by
# their average size in our schema, so aliases multiply). The standard introspection query
# estimates ~29,000 (~32,500 with every option); 166 aliased __schema { types { fields } }
# ~184,000 (1.3 s of CPU, 3 MB). The limit admits one full introspection, not a flood.
MAX_INTROSPECTION_COST = 50_000
# Parsed + validated documents kept per process, bounded by their estimated size (the query's
# characters times the measured worst case per character), not by their number: 64 MiB
# holds ~10 documents of the maximum size, or ~700 of the client's own operations. Failed
# documents are never cached.
DOCUMENT_CACHE_BYTES = 64 * 1024 * 1024
DOCUMENT_BYTES_PER_CHAR = 100

# -- Fluz rules -------------------------------------------------------------------------------
PAGE_LIMIT_DEFAULT = 20  # docs: limit default 20 ...
PAGE_LIMIT_MAX = 20  # ... and max 20 (schema DECISION: above it is AR-0001, not clamped)
PAGE_LIMIT_MAX_BY_OPERATION = {"getPlaidBankTransactions": 50}  # the Plaid doc sample uses 50
REFRESH_TOKEN_TTL = 60 * 24 * 3600.0  # docs (OAuth page): refresh tokens live 60 days
# `sub` of the docs' sample token (a claim value, not a secret)
TOKEN_SUBJECT = "transactional-graph-service"  # noqa: S105
MIN_VIRTUAL_CARD_SPEND_LIMIT = 5  # docs: spendLimit min $5
# The docs give no limit; sandbox DECISION to bound memory: every balances view (kept by
# each idempotent deposit/withdrawal for replay) lists all of an account's spend accounts.
MAX_SPEND_ACCOUNTS = 100  # per account, closed ones included (they stay listed)

# The sandbox clock may run at most this far ahead (datetimes end in year 9999; a token
# minted a thousand years ahead helps no test): 100 years.
MAX_CLOCK_OFFSET = 100 * 365 * 24 * 3600.0

# -- defaults of the options below ----------------------------------------------------------
DEFAULT_SEED = 0
DEFAULT_TOKEN_TTL = 600.0  # docs: "Sandbox Tokens expire after 10 minutes"
DEFAULT_REVEAL_DELAY = 0.5  # long enough that a first reveal poll sees "not ready"
DEFAULT_ISSUER_DELAY = 1.0
# Webhook delivery (see _webhooks.py): docs say answer within 30 s, up to 5 retries with
# exponential backoff; the intervals are not documented (ours: 1 s, doubling).
DEFAULT_WEBHOOK_TIMEOUT = 30.0
DEFAULT_WEBHOOK_RETRIES = 5
DEFAULT_WEBHOOK_BACKOFF = 1.0

# OAuth apps (sandbox _oauth.py). Codes live 300 s (the Node oauth2-server default, whose
# token model Fluz's responses match); access tokens 10 min (docs). DECISION (docs §4.6):
# refresh tokens 31 days as the newer pages' sample timestamps imply, not the older
# draft's 60 days. Redirect URIs match ignoring the port on loopback hosts (RFC 8252 §7.3).
DEFAULT_OAUTH_CODE_TTL = 300.0
DEFAULT_OAUTH_ACCESS_TOKEN_TTL = 600.0
DEFAULT_OAUTH_REFRESH_TOKEN_TTL = 31 * 24 * 3600.0
DEFAULT_OAUTH_REDIRECT_URIS = ("http://127.0.0.1/oauth/callback", "http://localhost/oauth/callback")


def _require_number(name: str, value: Any) -> None:
    """ValueError naming ``name`` unless ``value`` is an int or float (bool is not)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number")


_RATES = ("unavailable_rate", "rate_limited_rate", "reset_rate", "drop_after_commit_rate")


@dataclass(frozen=True)
class Faults:
    """Failures the sandbox injects, for exercising a client's resilience over real HTTP.

    Each targeted request draws one number from a generator seeded with ``seed`` (the
    sandbox seed when None) and falls into at most one failure band, in this order:

    - ``unavailable_rate``: HTTP 503 with a GraphQL error body (code GE-9999);
    - ``rate_limited_rate``: HTTP 429 with ``Retry-After: retry_after`` (code RL-0001);
    - ``reset_rate``: the TCP connection is reset without any response, before any work;
    - ``drop_after_commit_rate``: the request is fully executed (a mutation commits), then
      the connection is reset instead of answering - the failure idempotency keys exist for.

    ``latency`` seconds are added to every targeted operation (inside the idempotency-key
    lock for idempotent mutations). ``operations`` limits faults to requests naming one of
    these root fields (e.g. ``{"purchaseGiftCard"}``); None targets every request.
    ``limit`` stops injecting failures after that many (latency is not counted), which makes
    "fail once, then succeed" tests deterministic with a rate of 1.0.

    Raises ValueError when a rate is outside [0, 1], the rates add up to more than 1, or a
    duration is negative.
    """

    latency: float = 0.0
    unavailable_rate: float = 0.0
    rate_limited_rate: float = 0.0
    retry_after: float = 1.0
    reset_rate: float = 0.0
    drop_after_commit_rate: float = 0.0
    operations: frozenset[str] | None = None
    limit: int | None = None
    seed: int | None = None

    def __post_init__(self) -> None:
        for name in ("latency", "retry_after", *_RATES):
            _require_number(name, getattr(self, name))
        for name in ("limit", "seed"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise ValueError(f"{name} must be an integer or null")
        rates = (
            self.unavailable_rate,
            self.rate_limited_rate,
            self.reset_rate,
            self.drop_after_commit_rate,
        )
        if any(not 0.0 <= rate <= 1.0 for rate in rates):
            raise ValueError("fault rates must be between 0 and 1")
        if sum(rates) > 1.0 + 1e-9:
            raise ValueError("fault rates must add up to at most 1")
        for name in ("latency", "retry_after"):
            if not (math.isfinite(getattr(self, name)) and getattr(self, name) >= 0):
                raise ValueError(f"{name} must be finite and >= 0")
        if self.limit is not None and self.limit < 0:
            raise ValueError("limit must be >= 0")
        if isinstance(self.operations, str):  # one name, not its letters
            object.__setattr__(self, "operations", frozenset({self.operations}))
        elif self.operations is not None and not isinstance(self.operations, frozenset):
            object.__setattr__(self, "operations", frozenset(self.operations))
        if self.operations is not None and not all(isinstance(n, str) for n in self.operations):
            raise ValueError("operations must be operation names (strings)")

    @property
    def active(self) -> bool:
        """True when this configuration can change any response."""
        return self.latency > 0 or self.failure_rate > 0

    @property
    def failure_rate(self) -> float:
        return (
            self.unavailable_rate
            + self.rate_limited_rate
            + self.reset_rate
            + self.drop_after_commit_rate
        )

    def targets(self, root_fields: Iterable[str]) -> bool:
        return self.operations is None or not self.operations.isdisjoint(root_fields)

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["operations"] = None if self.operations is None else sorted(self.operations)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Faults:
        """Build from the admin endpoint's JSON (the field names above); ValueError if bad."""
        unknown = set(data) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"unknown fault fields: {', '.join(sorted(unknown))}")
        values = dict(data)
        operations = values.get("operations")
        if operations is not None:
            # JSON gives a list; a bare string would otherwise be split into its letters.
            if not isinstance(operations, list):
                raise ValueError("operations must be a list of operation names, or null")
            values["operations"] = frozenset(operations)
        try:
            return cls(**values)
        except TypeError as exc:
            raise ValueError(str(exc)) from None


NO_FAULTS = Faults()


@dataclass(frozen=True)
class SandboxOptions:
    """Behaviour switches of one sandbox; all but ``seed`` can change while it runs.

    ``seed`` fixes every generated id, credential and catalog entry. ``token_ttl`` is the user
    token lifetime in seconds. A purchased gift card's details appear ``reveal_delay`` seconds
    after purchase (``reveal_delay_by_merchant`` overrides it per merchant slug) plus a
    uniform random ``reveal_jitter`` (seeded) to stagger many cards. The card issuer takes
    ``issuer_delay`` seconds to complete a bulk virtual-card order and to approve a new
    billing address for an authorized user's card. ``canary_prefix`` (e.g. ``"CANARY-"``)
    starts every gift-card code, PIN and redemption-URL token the sandbox makes, so that a
    test can search logs and error texts for leaked secrets.

    Webhooks (see ``_webhooks``): ``webhook_urls`` are ``URL`` or ``URL=EVENT,EVENT``
    specs; deliveries are signed with ``webhook_secret`` (default derived from the seed)
    in ``webhook_encoding`` (hex|base64) after ``webhook_prefix``; each POST may take
    ``webhook_timeout`` s, failures are retried ``webhook_retries`` times after
    ``webhook_backoff`` s, doubling. Faults: ``webhook_delay`` s before the first attempt,
    ``webhook_duplicate_rate`` of events sent twice, ``webhook_reorder`` swaps pairs.

    OAuth (``/authorize``, ``/token/exchange``, ``/token/refresh``): codes live
    ``oauth_code_ttl`` seconds and are single-use; access and refresh tokens live
    ``oauth_access_token_ttl`` / ``oauth_refresh_token_ttl``; ``oauth_rotate_refresh_tokens``
    issues a new refresh token on every refresh and revokes the old one; ``oauth_deny`` makes
    the consent step refuse (``error=access_denied``); ``oauth_redirect_uris`` are the
    registered redirect URIs.
    """

    seed: int = DEFAULT_SEED
    token_ttl: float = DEFAULT_TOKEN_TTL
    reveal_delay: float = DEFAULT_REVEAL_DELAY
    reveal_delay_by_merchant: Mapping[str, float] = field(default_factory=dict)
    reveal_jitter: float = 0.0
    issuer_delay: float = DEFAULT_ISSUER_DELAY
    faults: Faults = NO_FAULTS
    canary_prefix: str = ""
    webhook_urls: tuple[str, ...] = ()
    webhook_secret: str | None = field(default=None, repr=False)
    webhook_encoding: str = "hex"
    webhook_prefix: str = ""
    webhook_timeout: float = DEFAULT_WEBHOOK_TIMEOUT
    webhook_retries: int = DEFAULT_WEBHOOK_RETRIES
    webhook_backoff: float = DEFAULT_WEBHOOK_BACKOFF
    webhook_delay: float = 0.0
    webhook_duplicate_rate: float = 0.0
    webhook_reorder: bool = False
    oauth_code_ttl: float = DEFAULT_OAUTH_CODE_TTL
    oauth_access_token_ttl: float = DEFAULT_OAUTH_ACCESS_TOKEN_TTL
    oauth_refresh_token_ttl: float = DEFAULT_OAUTH_REFRESH_TOKEN_TTL
    oauth_rotate_refresh_tokens: bool = True
    oauth_deny: bool = False
    oauth_redirect_uris: tuple[str, ...] = DEFAULT_OAUTH_REDIRECT_URIS

    def __post_init__(self) -> None:
        object.__setattr__(self, "oauth_redirect_uris", tuple(self.oauth_redirect_uris))
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ValueError("seed must be an integer")
        for name in (
            "token_ttl",
            "reveal_delay",
            "reveal_jitter",
            "issuer_delay",
            "oauth_code_ttl",
            "oauth_access_token_ttl",
            "oauth_refresh_token_ttl",
        ):
            _require_number(name, getattr(self, name))
        if not isinstance(self.reveal_delay_by_merchant, Mapping):
            raise ValueError("reveal_delay_by_merchant must map merchant slugs to seconds")
        for slug, delay in self.reveal_delay_by_merchant.items():
            if not isinstance(slug, str):
                raise ValueError("reveal_delay_by_merchant keys must be merchant slugs")
            _require_number(f"reveal_delay_by_merchant[{slug!r}]", delay)
        if not isinstance(self.faults, Faults):
            raise ValueError("faults must be a Faults")
        if not isinstance(self.canary_prefix, str):
            raise ValueError("canary_prefix must be a string")
        durations = (
            self.oauth_code_ttl,
            self.oauth_access_token_ttl,
            self.oauth_refresh_token_ttl,
            self.token_ttl,
            self.reveal_delay,
            self.reveal_jitter,
            self.issuer_delay,
            *self.reveal_delay_by_merchant.values(),
        )
        if any(not (math.isfinite(d) and d >= 0) for d in durations):
            raise ValueError("durations must be finite and >= 0")
        if self.token_ttl <= 0:
            raise ValueError("token_ttl must be > 0")
        object.__setattr__(self, "reveal_delay_by_merchant", dict(self.reveal_delay_by_merchant))
        self._check_webhooks()

    def _check_webhooks(self) -> None:
        if isinstance(self.webhook_urls, str):  # one URL, not its letters
            object.__setattr__(self, "webhook_urls", (self.webhook_urls,))
        object.__setattr__(self, "webhook_urls", tuple(self.webhook_urls))
        if self.webhook_urls:
            from ._webhooks import parse_endpoint

            for spec in self.webhook_urls:
                parse_endpoint(spec)
        if self.webhook_encoding not in ("hex", "base64"):
            raise ValueError("webhook_encoding must be hex or base64")
        if self.webhook_secret == "":
            raise ValueError("webhook_secret must not be empty")
        durations = (self.webhook_timeout, self.webhook_backoff, self.webhook_delay)
        if any(not (math.isfinite(d) and d >= 0) for d in durations) or not self.webhook_timeout:
            raise ValueError("webhook durations must be finite and >= 0 (timeout > 0)")
        if self.webhook_retries < 0 or not 0.0 <= self.webhook_duplicate_rate <= 1.0:
            raise ValueError("webhook_retries must be >= 0, webhook_duplicate_rate in [0, 1]")

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["faults"] = self.faults.to_json()
        data["webhook_urls"] = list(self.webhook_urls)
        data["webhook_secret"] = None if self.webhook_secret is None else "[hidden]"
        return data


RUNTIME_OPTIONS = frozenset(f.name for f in dataclasses.fields(SandboxOptions)) - {"seed"}
