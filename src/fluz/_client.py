"""FluzClient: the generated operations, composed with the production layer.

The class is a composition of small modules, each owning one concern:

* ``_sending``: the request body and the attempt loop of one call (token, retries,
  backoff, deadline);
* ``_transport``: handing one request to httpx (bounded in-flight, bounded body);
* ``_error_mapping``: judging a response, or its absence, into success or a typed error;
* ``_auth``: the token store, the one renewal in flight per identity, the token source;
* ``_idempotency``: the keys the client makes and what became of them;
* ``_options``: per-call options; ``_retry``: the retry policy;
* ``_reveal``/``_poll``: polling helpers; ``_pagination``: the page iterators.

Every generated operation method is inherited (so type checkers see the generated
signatures) and wrapped at class creation by :func:`_instrumented`, which records
per-call metadata and turns response-validation failures into
:class:`ResponseDecodeError`. The generated methods call :meth:`FluzClient.execute`
(auth, idempotency key, validation, deadline, retries, error mapping) and
:meth:`FluzClient.get_data`.
"""

from __future__ import annotations

import copy
import functools
import inspect
import logging
import uuid
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn, Self, TypeVar

import httpx
import pydantic
from fluz_graphql import Client as _GeneratedClient
from fluz_graphql.async_base_client import AsyncBaseClient, Response

from . import _constants as C
from . import _telemetry
from ._auth import (
    ApiKeyTokenSource,
    MemoryTokenStore,
    TokenInfo,
    TokenManager,
    TokenStore,
    UserToken,
    token_step_failed,
)
from ._config import ClientConfig, Identity, make_identity, resolve_config
from ._deadline import deadline_at, now
from ._decode import response_decode_error
from ._errors import (
    ConfigurationError,
    FluzError,
    ResponseDecodeError,
    ValidationError,
    converted,
    detached,
)
from ._idempotency import IdempotencyKeys
from ._operations import OperationInfo, operation_info
from ._options import CallOptions, call_options, check_options
from ._pagination import PageMethod, follow_has_next_page, paginate
from ._poll import ProgressCallback
from ._redact import Sealed
from ._response import CallRecord, attach_info, current_call
from ._retry import RetryPolicy
from ._reveal import (
    GiftCardDetails,
    PollSettings,
    PurchasedGiftCard,
    purchase_and_reveal,
    reveal_gift_card,
    wait_for_bulk_order,
)
from ._sending import deadline_passed, encode_body, readable, send
from ._transport import OwnPool, RequestBuilder, RequestSlots

if TYPE_CHECKING:
    # Annotations only: importing the result and input models costs `import fluz` a
    # third of its time, and they load with the first call that needs them.
    from fluz_graphql.enums import GiftCardStatus, ScopeType
    from fluz_graphql.get_application_users import GetApplicationUsersGetApplicationUsers
    from fluz_graphql.get_gift_cards import GetGiftCardsGetGiftCards
    from fluz_graphql.get_merchants import GetMerchantsGetMerchants
    from fluz_graphql.get_transactions import GetTransactionsGetTransactionsTransactions
    from fluz_graphql.get_user_cash_balances import GetUserCashBalancesGetUserCashBalances
    from fluz_graphql.get_user_purchases import GetUserPurchasesGetUserPurchases
    from fluz_graphql.get_virtual_card_bulk_order_status import (
        GetVirtualCardBulkOrderStatusGetVirtualCardBulkOrderStatus as BulkOrderStatus,
    )
    from fluz_graphql.input_types import (
        OfferTypesInput,
        PurchaseGiftCardInput,
        TransactionFilterInput,
        UserPurchaseFilterInput,
    )

logger = logging.getLogger("fluz")

T = TypeVar("T")


class _NotApplicable:
    """An attribute of the generated base client that does not apply to FluzClient (it
    has no websockets, and headers and the pool are its own business)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: object, owner: type | None = None) -> NoReturn:
        raise AttributeError(f"FluzClient has no attribute {self.name!r}")


class _Lifecycle:
    """Shared by a client and its views: whether the client's own pool was used, closed."""

    __slots__ = ("closed", "used")

    def __init__(self) -> None:
        self.used = False
        self.closed = False


class FluzClient(_GeneratedClient):
    """Async client for the Fluz GraphQL API.

    Every operation of ``queries/`` is a typed ``async`` method (``purchase_gift_card``,
    ``get_merchants`` ...), plus helpers: :meth:`reveal_gift_card`,
    :meth:`purchase_and_reveal`, :meth:`wait_for_virtual_card_bulk_order`,
    :meth:`paginate` and the ``iter_*`` iterators. Use it as an async context manager
    (an unclosed client that was used warns with ``ResourceWarning``, as httpx does).

    Behaviour:
        * Auth: app-level operations go with ``Basic <api key>``, the rest with
          ``Bearer <user token>``. The token is minted on first use for the configured
          user/account/seat/scopes, renewed ahead of its ``exp`` (refresh token first,
          else a new mint), and renewed once more, with the request replayed, when the
          server rejects it (HTTP 401 or AUTH-0008). One renewal per identity is in
          flight at a time, and every call waiting for it shares its outcome.
        * Idempotency: a mutation input without ``idempotency_key`` gets a UUID4 written
          into it, reused by every retry, readable on the input, on
          :func:`fluz.response_info` of the result and on any raised error. Sending the
          same input again after an unknown outcome (timeout, 5xx, cancellation) reuses
          the key, so Fluz replays rather than charging twice; after the client saw it
          succeed (or saw Fluz refuse it) the input gets a fresh key: a new purchase.
          An input another call is sending right now is refused (ValidationError).
          ``idempotency_key=`` per call sets the key without touching the input.
        * Per-call options: ``options=CallOptions(timeout=..., deadline=...,
          max_retries=..., extra_headers=..., idempotency_key=...)`` on any operation
          method; :meth:`with_options` for a view.
        * Deadline: a call (every attempt, backoff, token renewal and the body) takes at
          most ``deadline`` seconds (default ``timeout`` when it is a number, else 120 s)
          and then raises FluzTimeoutError (code ``DEADLINE``).
        * Retries (``max_retries`` extra attempts, exponential backoff with jitter,
          ``Retry-After`` honoured up to ``max_retry_after``): connection errors, timeouts,
          HTTP 408/429/5xx, GE-9999, RL-0001 and undecodable success responses. Queries
          and read-like mutations always; other mutations only when they carry an
          idempotency key; a connect error (nothing was sent) for every operation.
        * Errors: a :class:`~fluz.FluzError` subclass carrying code, message (redacted),
          request id, idempotency key and ``retry_after``. ``{success: false, error}``
          payloads raise too, unless ``raise_on_payload_errors=False`` (then the
          generated result, with its ``success``/``error`` fields, is returned as is).
        * Input that is knowably invalid raises :class:`~fluz.ValidationError` before
          anything is sent.

    Args:
        api_key: Fluz API key (``FLUZ_API_KEY``).
        user_id, account_id, seat_id: the identity whose user token the client mints
            (``FLUZ_USER_ID``, ``FLUZ_ACCOUNT_ID``, ``FLUZ_SEAT_ID``). Without user and
            account, only app-level operations work; :meth:`for_user` adds identities.
        scopes: scopes requested for the token (``FLUZ_SCOPES``); default
            :data:`fluz.DEFAULT_SCOPES`.
        environment: ``"production"`` or ``"staging"`` (``FLUZ_ENVIRONMENT``; default
            production).
        url: endpoint URL instead of an environment (``FLUZ_URL``): https://, or
            http:// to a loopback host.
        http_client: an ``httpx.AsyncClient`` to use (not closed by this client).
        transport: the httpx transport of the client's own pool instead of httpx's
            default one: ``httpx.AsyncHTTPTransport(local_address=..., retries=...)``,
            ``httpx.ASGITransport(app)`` to call an app in process, a
            ``httpx.MockTransport`` in tests. The client closes it with its pool. Its
            connection limits are set where it is made (``limits`` here would not reach
            it).
        timeout: httpx timeout of each attempt (default connect 5 s, read/write 30 s,
            pool 30 s); a number also bounds each whole call, unless ``deadline`` says.
        deadline: seconds a whole call may take (default: ``timeout`` when a number,
            else 120).
        limits: connection limits of the client's own pool (default 100 connections).
            At most ``max_connections`` requests (100 with a given ``http_client``) are
            handed to httpx at once; further calls wait their turn in the client, and that
            wait counts against the pool timeout. A response body over 10 MiB raises
            ResponseDecodeError without being read further.
        max_retries, retry_base_delay, retry_max_delay, max_retry_after: retry policy.
        token_refresh_skew: renew a token this many seconds before ``exp``.
        token_cache_size: identities whose tokens are kept (default 10,000; the least
            recently used is dropped first, and so is an expired token).
        token_store: where user tokens live instead (``fluz.redis.RedisTokenStore``: one
            token per identity for a whole fleet, renewed by one process at a time).
        raise_on_payload_errors: raise on ``{success: false}`` payloads (default True).

    Raises:
        ConfigurationError: configuration is missing or unsafe (the message names every
            problem).
    """

    # The generated base client's surface that does not apply here.
    execute_ws = _NotApplicable()
    headers = _NotApplicable()
    http_client = _NotApplicable()
    ws_url = _NotApplicable()
    ws_headers = _NotApplicable()
    ws_origin = _NotApplicable()
    ws_connection_init_payload = _NotApplicable()
    # False in fluz.oauth's client, which acts with users' OAuth tokens and may have no key.
    _requires_api_key: ClassVar[bool] = True
    # How to give a user operation its user (fluz.oauth's client says for_oauth_user()).
    _no_identity_hint: ClassVar[str] = (
        f"configure user_id and account_id (or {C.ENV_USER_ID} and {C.ENV_ACCOUNT_ID}), "
        "or use for_user()"
    )

    def __init__(
        self,
        *,
        api_key: str | None = None,
        user_id: str | uuid.UUID | None = None,
        account_id: str | uuid.UUID | None = None,
        seat_id: str | uuid.UUID | None = None,
        scopes: Iterable[str | ScopeType] | None = None,
        environment: str | None = None,
        url: str | None = None,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout | float | None = None,
        deadline: float | None = None,
        limits: httpx.Limits | None = None,
        max_retries: int = C.DEFAULT_MAX_RETRIES,
        retry_base_delay: float = C.DEFAULT_RETRY_BASE_DELAY,
        retry_max_delay: float = C.DEFAULT_RETRY_MAX_DELAY,
        max_retry_after: float = C.DEFAULT_MAX_RETRY_AFTER,
        token_refresh_skew: float = C.TOKEN_REFRESH_SKEW,
        token_cache_size: int = C.TOKEN_CACHE_MAX_IDENTITIES,
        token_store: TokenStore | None = None,
        raise_on_payload_errors: bool = True,
    ) -> None:
        self._lifecycle = _Lifecycle()
        self._owns_http_client = False  # until the pool exists (see __del__)
        config = resolve_config(
            require_api_key=self._requires_api_key,
            api_key=api_key,
            user_id=user_id,
            account_id=account_id,
            seat_id=seat_id,
            scopes=_scope_names(scopes),
            environment=environment,
            url=url,
        )
        if http_client is not None and limits is not None:
            raise ConfigurationError("limits apply only when the client creates its own pool")
        if http_client is not None and transport is not None:
            raise ConfigurationError(
                "transport applies only when the client creates its own pool: give it to "
                "your http_client instead"
            )
        if transport is not None and limits is not None:
            # httpx configures only its default transport with them: silently dropped there.
            raise ConfigurationError(
                "limits configure the client's default transport: give them to the transport "
                "you pass (httpx.AsyncHTTPTransport(limits=...))"
            )
        try:
            retry = RetryPolicy(max_retries, retry_base_delay, retry_max_delay, max_retry_after)
            if token_store is None:
                token_store = MemoryTokenStore(token_cache_size)
            check_options(timeout=timeout, deadline=deadline)
        except (ValueError, ValidationError) as exc:
            raise ConfigurationError(str(exc)) from None
        self._deadline = _deadline_for(timeout, deadline, C.DEFAULT_CALL_DEADLINE)
        owns_http_client = http_client is None
        if http_client is None:
            http_client = OwnPool(
                timeout=C.DEFAULT_TIMEOUT if timeout is None else timeout,
                limits=limits or C.DEFAULT_LIMITS,
                headers={"User-Agent": C.USER_AGENT},
                transport=transport,
            )
            timeout = None  # already the pool's default
        self.url: str = config.url
        # Parsed once: httpx parses a str URL again for every request (a tenth of a call).
        self._request_url = httpx.URL(config.url)
        self._http: httpx.AsyncClient = http_client
        pool_size = (limits or C.DEFAULT_LIMITS).max_connections if owns_http_client else None
        # The entry lock needs httpcore's trace events, which only httpx's own HTTP
        # transport sends; with another one it would let one request at a time in.
        one_entry = owns_http_client and (
            transport is None or isinstance(transport, httpx.AsyncHTTPTransport)
        )
        self._slots = RequestSlots(pool_size or C.DEFAULT_MAX_IN_FLIGHT, one_entry=one_entry)
        self._requests = RequestBuilder()
        self._config: ClientConfig = config
        self._owns_http_client = owns_http_client
        self._basic = Sealed(f"Basic {config.api_key}")
        self._identity: Identity | None = config.identity
        self._retry = retry
        self._timeout = timeout
        self._extra_headers: Mapping[str, str] = {}
        self._raise_on_payload_errors = raise_on_payload_errors
        # Shared by every view: one record and one renewal in flight per identity.
        self._tokens = TokenManager(token_store)
        self._token_source = ApiKeyTokenSource(token_refresh_skew)
        self._keys = IdempotencyKeys()

    # ------------------------------------------------------------------ lifecycle, views

    def __repr__(self) -> str:
        who = (
            f", user_id={self._identity.user_id!r}, account_id={self._identity.account_id!r}"
            if self._identity
            else ""
        )
        return f"{type(self).__name__}(url={self.url!r}{who})"

    def __del__(self) -> None:
        lifecycle = getattr(self, "_lifecycle", None)
        if (
            getattr(self, "_owns_http_client", False)
            and lifecycle is not None
            and lifecycle.used
            and not lifecycle.closed
        ):
            warnings.warn(
                f"Unclosed {self!r}: use 'async with FluzClient(...)' or 'await client.aclose()'",
                ResourceWarning,
                stacklevel=2,
            )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, exc_type: object, exc_val: object, exc_tb: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool, unless it was passed in or this is a view."""
        if self._owns_http_client:
            self._lifecycle.closed = True
            await self._http.aclose()

    def with_options(
        self,
        *,
        max_retries: int | None = None,
        retry_base_delay: float | None = None,
        retry_max_delay: float | None = None,
        max_retry_after: float | None = None,
        timeout: httpx.Timeout | float | None = None,
        deadline: float | None = None,
        extra_headers: Mapping[str, str] | None = None,
        raise_on_payload_errors: bool | None = None,
    ) -> Self:
        """A view of this client with other options for its calls (None keeps the current
        one; ``extra_headers`` are added to the current ones).

        The view shares the connection pool, token cache and idempotency bookkeeping;
        closing it closes nothing. Token calls a view's call needs are sent with the
        view's retries and timeout. Example:
        ``await fluz.with_options(max_retries=0, timeout=2).get_wallet()``.

        Raises:
            ConfigurationError: a value is out of range or an extra header is reserved.
        """
        current = self._retry
        view = self._view()
        try:
            check_options(timeout=timeout, deadline=deadline, extra_headers=extra_headers)
            view._retry = RetryPolicy(
                current.max_retries if max_retries is None else max_retries,
                current.base_delay if retry_base_delay is None else retry_base_delay,
                current.max_delay if retry_max_delay is None else retry_max_delay,
                current.max_retry_after if max_retry_after is None else max_retry_after,
                current.jitter,
            )
        except (ValueError, ValidationError) as exc:
            raise ConfigurationError(str(exc)) from None
        view._apply(timeout, deadline, extra_headers)
        if raise_on_payload_errors is not None:
            view._raise_on_payload_errors = raise_on_payload_errors
        return view

    def for_user(
        self,
        user_id: str | uuid.UUID,
        account_id: str | uuid.UUID,
        *,
        seat_id: str | uuid.UUID | None = None,
        scopes: Iterable[str | ScopeType] | None = None,
    ) -> Self:
        """A view acting for another user/account/seat, with its own cached token.

        Scopes default to this client's (in any order: the same scopes are the same
        identity). Shares the connection pool and the token cache.

        Raises:
            ConfigurationError: an id is not a UUID, or a scope is unknown.
        """
        names = _scope_names(scopes)
        if names is None and self._identity is not None:
            names = list(self._identity.scopes)
        identity = make_identity(user_id, account_id, seat_id, names)
        view = self._view()
        view._identity = identity
        return view

    def _view(self) -> Self:
        view = copy.copy(self)
        view._owns_http_client = False
        return view

    def _apply(
        self,
        timeout: httpx.Timeout | float | None,
        deadline: float | None,
        extra_headers: Mapping[str, str] | None,
    ) -> None:
        self._deadline = _deadline_for(timeout, deadline, self._deadline)
        if timeout is not None:
            self._timeout = timeout
        if extra_headers:
            self._extra_headers = {**self._extra_headers, **extra_headers}

    def _with_call_options(self, options: CallOptions) -> Self:
        view = self._view()
        if options.max_retries is not None:
            view._retry = replace(self._retry, max_retries=options.max_retries)
        view._apply(options.timeout, options.deadline, options.extra_headers)
        return view

    @property
    def token_renewals(self) -> int:
        """How many user tokens this client (and its views) obtained so far."""
        return self._tokens.renewals

    # ------------------------------------------------------------------ transport

    async def execute(
        self,
        query: str,
        operation_name: str | None = None,
        variables: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send one operation, with auth, idempotency key, validation, deadline and
        retries; return the (fully read) response of its success.

        This is what every operation method calls; call it directly to send a document
        of your own (``response.json()`` and :meth:`get_data` work on the result from any
        task). Keyword arguments: ``options=CallOptions(...)``, ``idempotency_key=``.

        Raises:
            TypeError: an unknown keyword argument (nothing was sent).
            ValidationError: the input is knowably invalid (nothing was sent).
            FluzError: a subclass describing the failure, after any retries.
        """
        op = operation_info(query, operation_name)
        options = call_options(op.name or "execute", kwargs)
        view = self if options is None else self._with_call_options(options)
        call = current_call.get()
        direct = call is None or bool(call.operation) or call.attempts > 0
        if direct or call is None:
            # Not through a generated method: a record of its own, never left in the
            # caller's context.
            call = CallRecord()
        call.operation, call.is_mutation = op.name, op.is_mutation
        # The sending is written out here rather than in a coroutine of its own: every
        # coroutine layer of a call costs it a frame and an await.
        variables = dict(variables) if variables else {}
        claimed: list[str] = []
        if op.is_mutation:
            explicit_key = options.idempotency_key if options is not None else None
            call.idempotency_key, claimed = view._keys.assign(op.name, variables, explicit_key)
        error: BaseException | None = None
        sent: tuple[httpx.Response, Sealed[bytes]] | None = None
        try:
            body = encode_body(op, query, operation_name, variables, call)
            with _telemetry.Operation(op.name, op.is_mutation, call):
                # One clock read serves the scope and send()'s retry planning.
                give_up_at = now() + view._deadline
                with deadline_at(give_up_at):
                    sent = await send(view, op, body, variables, call, give_up_at)
                if sent is None:  # the deadline cancelled send()
                    error = deadline_passed(view, op, call)
                    raise error
        except BaseException as exc:
            error = exc
            raise
        finally:
            if claimed:
                view._keys.settle(claimed, error)
        response, content = sent
        return readable(response, content.value) if direct else response

    def get_data(self, response: Response) -> dict[str, Any]:
        """The ``data`` object of a response returned by :meth:`execute`.

        Inside a generated operation method whose response was a plain success, this is
        already the method's validated result model (it was parsed straight from the
        response bytes, see ``fluz._fast_path``), which the method's ``model_validate``
        then returns as it is.
        """
        call = current_call.get()
        if call is not None and call.response is response:
            if call.result is not None:
                return call.result  # type: ignore[return-value]  # (see the docstring)
            if call.payload is not None:
                data = call.payload["data"]
                if isinstance(data, dict):
                    return data
        # A response of a direct execute() call (read in full), from any task.
        return super().get_data(response)

    async def _user_token(
        self,
        identity: Identity,
        op: OperationInfo,
        call: CallRecord,
        rejected: UserToken | None = None,
        sent_at: float = 0.0,
    ) -> UserToken:
        """A fresh token for *identity* (a renewed one if *rejected* was refused in a
        request sent at *sent_at*), obtained with this view's retries and timeout.

        Raises:
            FluzError: the token step failed, this or a concurrent caller's renewal: the
                error names *op*, carries the caller's idempotency key and
                ``request_sent=False``, with the token step's error as ``__cause__``.
        """
        renew = functools.partial(self._token_source.renew, self, identity)
        try:
            if rejected is None:
                return await self._tokens.user_token(identity, renew)
            return await self._tokens.replace_rejected(
                identity, renew, rejected.access_token, sent_at
            )
        except FluzError as exc:
            failed = exc
        # Raised outside the except block: the token step's own traceback (whose frames
        # hold the refresh token) stays out of this error's context.
        raise token_step_failed(failed, op.name, call.idempotency_key) from converted(failed)

    async def token_info(self) -> TokenInfo:
        """Describe the user token this client acts with, minting it if there is none yet
        (the same token later calls reuse): granted scopes and expiry, never the token.

        Raises:
            ConfigurationError: no user/account is configured.
            AuthenticationError, PermissionDeniedError: Fluz refused to mint the token.
        """
        if self._identity is None:
            raise ConfigurationError(
                f"token_info needs a user token: configure user_id and account_id (or "
                f"{C.ENV_USER_ID} and {C.ENV_ACCOUNT_ID}), or use for_user()"
            )
        identity = self._identity
        renew = functools.partial(self._token_source.renew, self, identity)
        token = await self._tokens.user_token(identity, renew)
        return TokenInfo(
            user_id=identity.user_id,
            account_id=identity.account_id,
            seat_id=identity.seat_id,
            scopes=token.scopes,
            expires_at=token.expires_at,
            refreshable=bool(token.refresh_token),
            renewals=self._tokens.renewals,
        )

    async def forget_token(self) -> None:
        """Drop the cached user token of this client's identity (e.g. the user left or
        revoked the app); the next user operation mints a new one. Other identities keep
        theirs. Does nothing for a client without a user identity."""
        if self._identity is not None:
            await self._tokens.forget(self._identity)

    # ------------------------------------------------------------------ polling helpers

    async def reveal_gift_card(
        self,
        gift_card_id: uuid.UUID | str,
        *,
        initial_delay: float = C.REVEAL_INITIAL_DELAY,
        multiplier: float = C.REVEAL_MULTIPLIER,
        max_delay: float = C.REVEAL_MAX_DELAY,
        timeout: float = C.REVEAL_TIMEOUT,  # noqa: ASYNC109 (an overall deadline, documented)
        jitter: float = C.REVEAL_JITTER,
        on_progress: ProgressCallback | None = None,
    ) -> GiftCardDetails:
        """Reveal a gift card, polling until its details exist.

        Follows Fluz's recommended strategy: an immediate first call, then waits of
        300 ms, 600 ms, 1.2 s, 2.4 s ... (``initial_delay * multiplier**n``), each capped at
        ``max_delay`` (180 s), optionally jittered, until code, pin or url is non-null or
        ``timeout`` seconds (default 600) have passed: no poll starts after that, and a
        poll in progress then finishes. A poll that failed transiently (its own retries
        ran out on a timeout, 5xx or rate limit) only means "not yet". Cancelling the
        caller stops it. ``on_progress`` is called after every poll with a
        :class:`~fluz.PollProgress`.

        Raises:
            RevealTimeoutError: details did not arrive in time (``attempts``: the polls
                the server saw, ``elapsed``).
            ValidationError: *gift_card_id* is not a UUID.
            FluzError: the reveal failed permanently (e.g. NotFoundError,
                PermissionDeniedError).
        """
        settings = PollSettings(initial_delay, multiplier, max_delay, timeout, jitter)
        return await reveal_gift_card(self, gift_card_id, settings, on_progress)

    async def purchase_and_reveal(
        self,
        input: PurchaseGiftCardInput,
        *,
        initial_delay: float = C.REVEAL_INITIAL_DELAY,
        multiplier: float = C.REVEAL_MULTIPLIER,
        max_delay: float = C.REVEAL_MAX_DELAY,
        timeout: float = C.REVEAL_TIMEOUT,  # noqa: ASYNC109 (the reveal's deadline)
        jitter: float = C.REVEAL_JITTER,
        on_progress: ProgressCallback | None = None,
    ) -> PurchasedGiftCard:
        """Buy a gift card, then :meth:`reveal_gift_card` it (the keyword arguments are
        the reveal's).

        The purchase carries an idempotency key as usual. If the reveal fails after the
        purchase went through, the raised error has ``purchase`` set to the completed
        purchase: do not buy again, reveal (or look up) that card later. A purchase
        response without its gift card (which the client requires) raises
        :class:`ResponseDecodeError` with the purchase's ids in ``ids`` and the idempotency
        key: the card was bought, reconcile rather than buy again.

        Raises:
            ResponseDecodeError: the purchase response lacked a required field (``ids``).
            FluzError: from the purchase, or after it (with ``purchase`` set).
        """
        settings = PollSettings(initial_delay, multiplier, max_delay, timeout, jitter)
        return await purchase_and_reveal(self, input, settings, on_progress)

    async def wait_for_virtual_card_bulk_order(
        self,
        order_id: str,
        *,
        initial_delay: float = C.BULK_ORDER_INITIAL_DELAY,
        multiplier: float = C.REVEAL_MULTIPLIER,
        max_delay: float = C.REVEAL_MAX_DELAY,
        timeout: float = C.REVEAL_TIMEOUT,  # noqa: ASYNC109 (an overall deadline, documented)
        jitter: float = C.REVEAL_JITTER,
        on_progress: ProgressCallback | None = None,
    ) -> BulkOrderStatus:
        """Poll ``getVirtualCardBulkOrderStatus`` until the order is COMPLETED or FAILED and
        return that status (check ``order_status``: a FAILED order is returned, not raised).

        Same backoff, deadline and transient-failure semantics as :meth:`reveal_gift_card`.

        Raises:
            RevealTimeoutError: the order did not finish in time.
            FluzError: a status query failed permanently.
        """
        settings = PollSettings(initial_delay, multiplier, max_delay, timeout, jitter)
        return await wait_for_bulk_order(self, order_id, settings, on_progress)

    # ------------------------------------------------------------------ pagination

    def paginate(
        self, method: PageMethod[T], /, *, page_size: int = C.MAX_PAGE_SIZE, **kwargs: Any
    ) -> AsyncIterator[T]:
        """Iterate over every item of an offset-paginated list operation.

        ``fluz.paginate(fluz.get_gift_cards, status=[GiftCardStatus.ACTIVE])`` calls the
        method with ``paginate=OffsetInput(limit=page_size, offset=...)`` page after page
        and stops after a short or empty page. Null items are skipped.

        Raises:
            ValidationError: page_size is not within 1..20.
        """
        return paginate(method, page_size=page_size, **kwargs)

    def iter_gift_cards(
        self,
        *,
        status: list[GiftCardStatus] | None = None,
        user_cash_balance_id: uuid.UUID | None = None,
        page_size: int = C.MAX_PAGE_SIZE,
    ) -> AsyncIterator[GetGiftCardsGetGiftCards]:
        """Every gift card (``getGiftCards``), optionally filtered, page by page."""
        filters = _given(status=status, user_cash_balance_id=user_cash_balance_id)
        return self.paginate(self.get_gift_cards, page_size=page_size, **filters)

    def iter_user_purchases(
        self, *, filter_: UserPurchaseFilterInput | None = None, page_size: int = C.MAX_PAGE_SIZE
    ) -> AsyncIterator[GetUserPurchasesGetUserPurchases]:
        """Every purchase (``getUserPurchases``), page by page."""
        return self.paginate(
            self.get_user_purchases, page_size=page_size, **_given(filter_=filter_)
        )

    def iter_merchants(
        self,
        *,
        name: str | None = None,
        offer_types: OfferTypesInput | None = None,
        page_size: int = C.MAX_PAGE_SIZE,
    ) -> AsyncIterator[GetMerchantsGetMerchants]:
        """Every merchant of the catalog (``getMerchants``), page by page. Fluz asks that
        the full unfiltered catalog be fetched at most once a day."""
        filters = _given(name=name, offer_types=offer_types)
        return self.paginate(self.get_merchants, page_size=page_size, **filters)

    def iter_application_users(
        self, *, page_size: int = C.MAX_PAGE_SIZE
    ) -> AsyncIterator[GetApplicationUsersGetApplicationUsers]:
        """Every user of the application (``getApplicationUsers``, API-key auth)."""
        return self.paginate(self.get_application_users, page_size=page_size)

    def iter_user_cash_balances(
        self, *, page_size: int = C.MAX_PAGE_SIZE
    ) -> AsyncIterator[GetUserCashBalancesGetUserCashBalances]:
        """Every spend account (``getUserCashBalances``), page by page."""
        return self.paginate(self.get_user_cash_balances, page_size=page_size)

    def iter_transactions(
        self, *, filter_: TransactionFilterInput | None = None, page_size: int = C.MAX_PAGE_SIZE
    ) -> AsyncIterator[GetTransactionsGetTransactionsTransactions]:
        """Every transaction (``getTransactions``), following ``hasNextPage``; stops on an
        empty page too.

        Raises:
            ValidationError: page_size is not within 1..20.
        """
        return follow_has_next_page(
            self.get_transactions,
            page_size=page_size,
            items="transactions",
            **_given(filter_=filter_),
        )


def _instrumented(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """Wrap a generated operation method: per-call record, metadata, decode errors, and
    errors that carry nothing but themselves (no response value on a ``__context__``)."""

    @functools.wraps(method)
    async def call_operation(self: FluzClient, *args: Any, **kwargs: Any) -> Any:
        record = CallRecord()
        decode_error: ResponseDecodeError | None = None
        reset = current_call.set(record)
        try:
            result = await method(self, *args, **kwargs)
        except pydantic.ValidationError as exc:
            # The response did not match the generated models (e.g. a null in a field the
            # client requires); the error names the fields and the ids to reconcile with,
            # never quotes values. Built here, while the record still holds the payload.
            decode_error = response_decode_error(exc, record)
            result = None
        except FluzError as exc:
            detached(exc)
            raise
        finally:
            current_call.reset(reset)
            # The record can outlive the call (an event loop keeps a cancelled timer, and
            # the context it captured, until it sweeps them): it keeps no response value.
            record.response = record.payload = record.result = None
        if decode_error is not None:
            # Raised here, outside the except block: the pydantic error (which holds the
            # response values) is not this error's __context__.
            raise decode_error
        attach_info(result, record.info())
        return result

    return call_operation


def _install_operations(cls: type[FluzClient], generated: type) -> None:
    """Wrap every generated operation method onto *cls*; the generated signatures stay
    what type checkers see.

    Raises:
        TypeError: a generated operation has the name of something *cls* defines itself
            (``reveal_gift_card``, ``paginate`` ...): neither may silently replace the
            other. Rename the operation in ``queries/``.
    """
    for name, method in vars(generated).items():
        if (
            name.startswith("_")
            or not inspect.iscoroutinefunction(method)
            or hasattr(AsyncBaseClient, name)
        ):
            continue
        if name in vars(cls):
            raise TypeError(
                f"generated operation method {name}() collides with {cls.__name__}.{name}: "
                "rename the operation in queries/ and run make codegen"
            )
        setattr(cls, name, _instrumented(method))


_install_operations(FluzClient, _GeneratedClient)


def _deadline_for(
    timeout: httpx.Timeout | float | None, deadline: float | None, fallback: float
) -> float:
    """The whole-call deadline: *deadline* if given, else a numeric *timeout*, else
    *fallback*."""
    if deadline is not None:
        return float(deadline)
    if isinstance(timeout, int | float):
        return float(timeout)
    return fallback


def _given(**kwargs: Any) -> dict[str, Any]:
    """The keyword arguments that were given (None means "not given": the generated
    methods then leave the variable out)."""
    return {k: v for k, v in kwargs.items() if v is not None}


def _scope_names(scopes: Iterable[str | ScopeType] | None) -> list[str] | None:
    if scopes is None:
        return None
    return [str(getattr(s, "value", s)) for s in scopes]
