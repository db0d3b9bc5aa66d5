"""FluzClient: the generated client plus auth, idempotency, retries, errors and polling.

Every generated operation method is inherited unchanged (so type checkers see the
generated signatures) and wrapped at class creation by :func:`_instrumented`, which
records per-call metadata and turns response-validation failures into
:class:`ResponseDecodeError`. The production behaviour lives in two overrides the generated
methods call: :meth:`FluzClient.execute` (auth header, idempotency key, validation,
retries, error mapping) and :meth:`FluzClient.get_data`.
"""

from __future__ import annotations

import copy
import functools
import inspect
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any, ClassVar, NamedTuple, Self, TypeVar, cast

import anyio
import httpx
import pydantic
from fluz_graphql import Client as _GeneratedClient
from fluz_graphql.async_base_client import AsyncBaseClient, HttpClient, Response
from fluz_graphql.base_model import UNSET, BaseModel
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
    GetVirtualCardBulkOrderStatusInput,
    OfferTypesInput,
    OffsetInput,
    PurchaseGiftCardInput,
    TransactionFilterInput,
    UserPurchaseFilterInput,
)
from pydantic_core import PydanticSerializationError, from_json, to_jsonable_python

from . import _constants as C
from ._auth import (
    ApiKeyTokenSource,
    MemoryTokenStore,
    TokenInfo,
    TokenManager,
    UserToken,
    make_user_token,
)
from ._config import ClientConfig, Identity, make_identity, resolve_config
from ._errors import (
    AuthenticationError,
    ConfigurationError,
    FluzError,
    FluzTimeoutError,
    PermissionDeniedError,
    RateLimitedError,
    ResponseDecodeError,
    RevealTimeoutError,
    TransportError,
    ValidationError,
    converted,
    error_class,
)
from ._operations import OperationInfo, operation_info
from ._pagination import PageMethod, check_page_size, paginate
from ._poll import Backoff, ProgressCallback, poll_until
from ._redact import redact, secret_values
from ._response import CallRecord, attach_info, current_call
from ._retry import RetryPolicy, parse_retry_after
from ._reveal import GiftCardDetails, PurchasedGiftCard
from ._transport import RequestSlots, ResponseTooLarge, post
from ._validation import validate_variables

logger = logging.getLogger("fluz")

T = TypeVar("T")

# httpx errors raised before any byte of the request could have reached the server.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


class _Failure(NamedTuple):
    error: FluzError
    retryable: bool  # a retry could succeed (the kind of failure, not yet the operation)
    retry_after: float | None = None
    token_rejected: bool = False


class FluzClient(_GeneratedClient):
    """Async client for the Fluz GraphQL API.

    Every operation of ``queries/`` is a typed ``async`` method (``purchase_gift_card``,
    ``get_merchants`` ...), plus helpers: :meth:`reveal_gift_card`,
    :meth:`purchase_and_reveal`, :meth:`wait_for_virtual_card_bulk_order`,
    :meth:`paginate` and the ``iter_*`` iterators. Use it as an async context manager.

    Behaviour:
        * Auth: app-level operations go with ``Basic <api key>``, the rest with
          ``Bearer <user token>``. The token is minted on first use for the configured
          user/account/seat/scopes, renewed ahead of its ``exp`` (refresh token first,
          else a new mint), and renewed once more, with the request replayed, when the
          server rejects it (HTTP 401 or AUTH-0008). One renewal is in flight at a time.
        * Idempotency: a mutation input with ``idempotency_key=None`` gets a UUID4 written
          into *that input object* before sending, so the same key is reused by every
          retry, is readable on the input afterwards (also after a crash or cancel), on
          :func:`fluz.response_info` of the result and on any raised error. Passing the
          same input object again therefore repeats the same operation (Fluz replays it);
          build a new input for a new purchase.
        * Retries (``max_retries`` extra attempts, exponential backoff with jitter,
          ``Retry-After`` honoured up to ``max_retry_after``): connection errors, timeouts,
          HTTP 408/429/5xx, GE-9999 and undecodable success responses. Queries and
          read-like mutations always; other mutations only when they carry an
          idempotency key; a connect error (nothing was sent) is retried for every
          operation.
        * Errors: a :class:`~fluz.FluzError` subclass carrying code, message (redacted),
          request id and idempotency key. ``{success: false, error}`` payloads raise too,
          unless ``raise_on_payload_errors=False`` (then the generated result, with its
          ``success``/``error`` fields, is returned as is).
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
        timeout: httpx timeout (default connect 5 s, read/write 30 s, pool 30 s).
        limits: connection limits of the client's own pool (default 100 connections).
            At most ``max_connections`` requests (100 with a given ``http_client``) are
            handed to httpx at once; further calls wait their turn in the client, and that
            wait counts against the pool timeout. A response body over 10 MiB raises
            ResponseDecodeError without being read further.
        max_retries, retry_base_delay, retry_max_delay, max_retry_after: retry policy.
        token_refresh_skew: renew a token this many seconds before ``exp``.
        token_cache_size: identities whose tokens are kept (default 10,000; the least
            recently used is dropped first, and so is an expired token).
        raise_on_payload_errors: raise on ``{success: false}`` payloads (default True).

    Raises:
        ConfigurationError: configuration is missing (the message names what) or unsafe.
    """

    # False in fluz.oauth's client, which acts with users' OAuth tokens and may have no key.
    _requires_api_key: ClassVar[bool] = True

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
        timeout: httpx.Timeout | float | None = None,
        limits: httpx.Limits | None = None,
        max_retries: int = C.DEFAULT_MAX_RETRIES,
        retry_base_delay: float = C.DEFAULT_RETRY_BASE_DELAY,
        retry_max_delay: float = C.DEFAULT_RETRY_MAX_DELAY,
        max_retry_after: float = C.DEFAULT_MAX_RETRY_AFTER,
        token_refresh_skew: float = C.TOKEN_REFRESH_SKEW,
        token_cache_size: int = C.TOKEN_CACHE_MAX_IDENTITIES,
        raise_on_payload_errors: bool = True,
    ) -> None:
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
        if config.identity is not None:
            _check_scopes(config.identity.scopes)
        if http_client is not None and limits is not None:
            raise ConfigurationError("limits apply only when the client creates its own pool")
        owns_http_client = http_client is None
        if http_client is None:
            http_client = httpx.AsyncClient(
                timeout=C.DEFAULT_TIMEOUT if timeout is None else timeout,
                limits=limits or C.DEFAULT_LIMITS,
                headers={"User-Agent": C.USER_AGENT},
            )
            timeout = None  # already the pool's default
        try:
            retry = RetryPolicy(max_retries, retry_base_delay, retry_max_delay, max_retry_after)
            token_store = MemoryTokenStore(token_cache_size)
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None
        super().__init__(url=config.url, http_client=cast(HttpClient, http_client))
        self._http: httpx.AsyncClient = http_client
        pool_size = (limits or C.DEFAULT_LIMITS).max_connections if owns_http_client else None
        self._slots = RequestSlots(pool_size or C.DEFAULT_MAX_IN_FLIGHT)
        self._config: ClientConfig = config
        self._owns_http_client = owns_http_client
        self._basic = f"Basic {config.api_key}"
        self._identity: Identity | None = config.identity
        self._retry = retry
        self._timeout = timeout
        self._raise_on_payload_errors = raise_on_payload_errors
        self._token_refresh_skew = token_refresh_skew
        # Shared by every view: one record and one renewal in flight per identity.
        self._tokens = TokenManager(token_store)
        self._token_source = ApiKeyTokenSource()

    # ------------------------------------------------------------------ lifecycle, views

    def __repr__(self) -> str:
        who = (
            f", user_id={self._identity.user_id!r}, account_id={self._identity.account_id!r}"
            if self._identity
            else ""
        )
        return f"{type(self).__name__}(url={self.url!r}{who})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, exc_type: object, exc_val: object, exc_tb: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool, unless it was passed in or this is a view."""
        if self._owns_http_client:
            await self._http.aclose()

    def with_options(
        self,
        *,
        max_retries: int | None = None,
        retry_base_delay: float | None = None,
        retry_max_delay: float | None = None,
        max_retry_after: float | None = None,
        timeout: httpx.Timeout | float | None = None,
        raise_on_payload_errors: bool | None = None,
    ) -> Self:
        """A view of this client with other per-call options (None keeps the current one).

        The view shares the connection pool and token cache; closing it closes nothing.
        Example: ``await fluz.with_options(max_retries=0).get_wallet()``.
        """
        current = self._retry
        view = self._view()
        try:
            view._retry = RetryPolicy(
                current.max_retries if max_retries is None else max_retries,
                current.base_delay if retry_base_delay is None else retry_base_delay,
                current.max_delay if retry_max_delay is None else retry_max_delay,
                current.max_retry_after if max_retry_after is None else max_retry_after,
                current.jitter,
            )
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None
        if timeout is not None:
            view._timeout = timeout
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

        Scopes default to this client's. Shares the connection pool.

        Raises:
            ConfigurationError: an id is not a UUID, or a scope is unknown.
        """
        names = _scope_names(scopes)
        if names is None and self._identity is not None:
            names = list(self._identity.scopes)
        identity = make_identity(user_id, account_id, seat_id, names)
        _check_scopes(identity.scopes)
        view = self._view()
        view._identity = identity
        return view

    def _view(self) -> Self:
        view = copy.copy(self)
        view._owns_http_client = False
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
        """Send one operation, with auth, idempotency key, validation and retries.

        Extra keyword arguments go to ``httpx.AsyncClient.post`` (e.g. ``timeout=``).

        Raises:
            ValidationError: the input is knowably invalid (nothing was sent).
            FluzError: a subclass describing the failure, after any retries.
        """
        call = current_call.get()
        if call is None or call.response is not None or call.attempts:
            call = CallRecord()  # a direct execute() call, not through a generated method
            current_call.set(call)
        op = operation_info(query, operation_name)
        call.operation = op.name
        variables = dict(variables) if variables else {}
        call.idempotency_key = _fill_idempotency_key(op, variables)
        try:
            validate_variables(op, variables)
            encoded = _VARIABLES_ENCODER.encode(
                to_jsonable_python(self._convert_dict_to_json_serializable(variables))
            )
            body = b"".join((_body_start(query, operation_name), encoded.encode(), b"}"))
        except ValidationError as exc:
            exc.operation, exc.idempotency_key = op.name, call.idempotency_key
            raise
        except (ValueError, TypeError, PydanticSerializationError) as exc:
            raise ValidationError(
                f"variables cannot be encoded: {redact(str(exc))}",
                rule="encodable",
                code="CLIENT_VALIDATION",
                operation=op.name,
                idempotency_key=call.idempotency_key,
            ) from None
        if self._timeout is not None:
            kwargs.setdefault("timeout", self._timeout)
        response = await self._send(op, body, variables, call, kwargs)
        return response

    async def _send(
        self,
        op: OperationInfo,
        body: bytes,
        variables: dict[str, Any],
        call: CallRecord,
        kwargs: dict[str, Any],
    ) -> httpx.Response:
        # Retrying repeats the request: harmless for reads and for keyed mutations only.
        may_repeat = op.retry_safe_without_key or call.idempotency_key is not None
        identity = None if op.uses_basic_auth else self._require_identity(op, call)
        retries = 0
        replayed = False
        renewed: str | None = None  # the token renewed after a rejection, for the replay
        debug = logger.isEnabledFor(logging.DEBUG)
        while True:
            call.attempts += 1
            call.request_id = None
            token = None
            if identity is None:
                if not self._config.api_key:  # an OAuth client built without one
                    raise ConfigurationError(
                        f"{op.name} needs the app's API key: pass api_key=... or set "
                        f"{C.ENV_API_KEY}",
                        operation=op.name,
                    )
                authorization = self._basic
            else:
                token = renewed or await self._access_token(identity, op, call)
                authorization = f"Bearer {token}"
            started = time.perf_counter()
            sent_at = time.monotonic()
            try:
                response, content = await post(
                    self._http,
                    self.url,
                    content=body,
                    headers={"Authorization": authorization, "Content-Type": "application/json"},
                    slots=self._slots,
                    max_bytes=C.MAX_RESPONSE_BYTES,
                    **kwargs,
                )
            except httpx.RequestError as exc:
                failure = self._transport_failure(exc, op, call, variables, token)
                retry_allowed = may_repeat or not getattr(failure.error, "request_sent", True)
            except ResponseTooLarge as exc:
                # Not retried: the same request would get the same answer.
                failure = _Failure(
                    self._error(
                        ResponseDecodeError,
                        f"{exc}: not read further",
                        "RESPONSE_TOO_LARGE",
                        op,
                        call,
                        variables,
                        token,
                        exc.status_code,
                    ),
                    retryable=False,
                )
                retry_allowed = False
            else:
                failed = self._inspect(response, content, op, call, variables, token)
                if debug:
                    logger.debug(
                        "fluz %s attempt %d: HTTP %d in %.1f ms, request_id=%s",
                        op.name,
                        call.attempts,
                        response.status_code,
                        (time.perf_counter() - started) * 1000,
                        call.request_id,
                    )
                if failed is None:
                    return response
                failure = failed
                if failure.token_rejected and identity is not None and token and not replayed:
                    # The request was refused before being processed: replaying is safe.
                    replayed = True
                    logger.debug(
                        "fluz %s: user token rejected (%s), renewing and replaying once; "
                        "request_id=%s",
                        op.name,
                        failure.error.code or failure.error.status_code,
                        call.request_id,
                    )
                    renewed = await self._access_token(identity, op, call, token, sent_at)
                    continue
                retry_allowed = may_repeat
            retries += 1
            delay = (
                self._retry.delay(retries, failure.retry_after)
                if failure.retryable and retry_allowed
                else None
            )
            if delay is None:
                raise failure.error
            logger.debug(
                "fluz %s: retry %d of %d in %.2fs after %s; request_id=%s",
                op.name,
                retries,
                self._retry.max_retries,
                delay,
                _describe(failure.error),
                call.request_id,
            )
            await anyio.sleep(delay)

    def _inspect(
        self,
        response: httpx.Response,
        content: bytes,
        op: OperationInfo,
        call: CallRecord,
        variables: dict[str, Any],
        token: str | None,
    ) -> _Failure | None:
        """None when *response* (whose body is *content*) is a success (its payload stored
        on *call*), else why not."""
        status = response.status_code
        payload = _decode_json(content)
        if not isinstance(payload, dict):
            payload = None
        request_id = _request_id(payload) or _header_request_id(response)
        call.request_id = request_id

        def error(cls: type[FluzError], message: str, code: str | None = None, **kw: Any) -> Any:
            return self._error(cls, message, code, op, call, variables, token, status, **kw)

        errors = payload.get("errors") if payload is not None else None
        first = _pick_error(errors) if errors else None
        code = _error_code(first)
        message = str(first.get("message") or "") if first else ""

        if not 200 <= status <= 299:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            cls = error_class(code, status)
            token_rejected = status == 401 or code in C.TOKEN_REJECTED_CODES
            text = message or f"HTTP {status} {response.reason_phrase}".strip()
            extra: dict[str, Any] = {}
            if issubclass(cls, RateLimitedError):
                extra["retry_after"] = retry_after
            return _Failure(
                error(cls, text, code, extensions=_extensions(first), **extra),
                retryable=status in C.RETRYABLE_STATUS or code in C.RETRYABLE_CODES,
                retry_after=retry_after,
                token_rejected=token_rejected,
            )
        if payload is None or ("data" not in payload and "errors" not in payload):
            return _Failure(
                error(ResponseDecodeError, "response body is not a GraphQL JSON response"),
                retryable=True,
            )
        if first is not None:
            extensions = _extensions(first)
            # A token lacking a scope is refused with the same code as an expired one;
            # a new token for the same scopes cannot help, so no renewal then.
            missing_scope = bool(extensions and extensions.get("missingScopes"))
            return _Failure(
                error(
                    PermissionDeniedError if missing_scope else error_class(code),
                    message or "GraphQL error",
                    code,
                    extensions=extensions,
                ),
                retryable=code in C.RETRYABLE_CODES,
                token_rejected=code in C.TOKEN_REJECTED_CODES and not missing_scope,
            )
        data = payload.get("data")
        if not isinstance(data, dict):
            return _Failure(error(ResponseDecodeError, "response has no data object"), True)
        if self._raise_on_payload_errors:
            for field, value in data.items():
                if isinstance(value, dict) and value.get("success") is False:
                    detail = value.get("error")
                    if not isinstance(detail, dict):
                        detail = {}
                    pcode = detail.get("code")
                    pmessage = detail.get("message") or value.get("message")
                    return _Failure(
                        error(
                            error_class(pcode),
                            str(pmessage or f"{field} reported success: false"),
                            pcode,
                        ),
                        retryable=pcode in C.RETRYABLE_CODES,
                    )
        call.response = response
        call.payload = payload
        return None

    def _error(
        self,
        cls: type[FluzError],
        message: str,
        code: str | None,
        op: OperationInfo,
        call: CallRecord,
        variables: dict[str, Any],
        token: str | None,
        status: int,
        **kw: Any,
    ) -> FluzError:
        secrets = [self._config.api_key, token or "", *secret_values(variables)]
        return cls(
            redact(message, secrets),
            code=code,
            request_id=call.request_id,
            idempotency_key=call.idempotency_key,
            operation=op.name,
            status_code=status,
            **kw,
        )

    def _transport_failure(
        self,
        exc: httpx.RequestError,
        op: OperationInfo,
        call: CallRecord,
        variables: dict[str, Any],
        token: str | None,
    ) -> _Failure:
        sent = not isinstance(exc, _NOT_SENT)
        cls = FluzTimeoutError if isinstance(exc, httpx.TimeoutException) else TransportError
        retryable = not isinstance(exc, httpx.UnsupportedProtocol)
        what = type(exc).__name__
        detail = redact(str(exc), [self._config.api_key, token or "", *secret_values(variables)])
        return _Failure(
            cls(
                f"{what}: {detail}" if detail else what,
                request_sent=sent,
                code=what,
                operation=op.name,
                idempotency_key=call.idempotency_key,
            ),
            retryable=retryable,
        )

    def get_data(self, response: Response) -> dict[str, Any]:
        """The ``data`` object of a response checked by :meth:`execute`."""
        call = current_call.get()
        if call is not None and call.response is response and call.payload is not None:
            data = call.payload["data"]
            if isinstance(data, dict):
                return data
        # Only reachable for a response that did not come from execute().
        return super().get_data(response)

    def _require_identity(self, op: OperationInfo, call: CallRecord) -> Identity:
        if self._identity is None:
            raise ConfigurationError(
                f"{op.name} needs a user token: configure user_id and account_id (or "
                f"{C.ENV_USER_ID} and {C.ENV_ACCOUNT_ID}), or use for_user()",
                operation=op.name,
                idempotency_key=call.idempotency_key,
            )
        return self._identity

    # ------------------------------------------------------------------ tokens

    async def _access_token(
        self,
        identity: Identity,
        op: OperationInfo,
        call: CallRecord,
        rejected: str | None = None,
        sent_at: float = 0.0,
    ) -> str:
        """A fresh access token for *identity* (a renewed one if *rejected* was refused
        in a request sent at *sent_at*), obtained with this view's retries and timeout.

        Raises:
            FluzError: the token step failed, this or a concurrent caller's renewal: the
                error names *op*, carries the caller's idempotency key and
                ``request_sent=False``, with the token step's error as ``__cause__``.
        """
        renew = functools.partial(self._token_source.renew, self, identity)
        try:
            if rejected is None:
                record = await self._tokens.user_token(identity, renew)
            else:
                record = await self._tokens.replace_rejected(identity, renew, rejected, sent_at)
        except FluzError as exc:
            raise _token_step_failed(exc, op, call) from exc
        return record.access_token

    async def _mint_user_token(self, identity: Identity) -> UserToken:
        result = await self.generate_user_access_token(
            user_id=uuid.UUID(identity.user_id),
            account_id=uuid.UUID(identity.account_id),
            scopes=[ScopeType(s) for s in identity.scopes],
            seat_id=uuid.UUID(identity.seat_id) if identity.seat_id else UNSET,
        )
        return self._token_from_result(result, "GenerateUserAccessToken")

    async def _refresh_user_token(self, refresh_token: str) -> UserToken:
        result = await self.refresh_user_access_token(refresh_token=refresh_token)
        return self._token_from_result(result, "RefreshUserAccessToken")

    def _token_from_result(self, result: Any, operation: str) -> UserToken:
        access = (result.access_token or result.token) if result is not None else None
        if not access:
            raise ResponseDecodeError(
                "token response carries neither accessToken nor token", operation=operation
            )
        granted = [scope.value for scope in result.scopes or () if scope is not None]
        try:
            return make_user_token(access, result.refresh_token, self._token_refresh_skew, granted)
        except ResponseDecodeError as exc:
            exc.operation = operation
            raise

    async def forget_token(self) -> None:
        """Drop the cached user token of this client's identity (e.g. the user left or
        revoked the app); the next user operation mints a new one. Other identities keep
        theirs. Does nothing for a client without a user identity."""
        if self._identity is not None:
            await self._tokens.forget(self._identity)

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
        ``timeout`` seconds (default 600) have passed. Cancelling the caller stops it.
        ``on_progress`` is called after every poll with a :class:`~fluz.PollProgress`.

        Raises:
            RevealTimeoutError: details did not arrive in time (``attempts``, ``elapsed``).
            ValidationError: *gift_card_id* is not a UUID.
            FluzError: the reveal failed (e.g. NotFoundError, PermissionDeniedError).
        """
        card_id = _as_uuid(gift_card_id, "gift_card_id")
        backoff = _backoff(initial_delay, multiplier, max_delay, jitter)
        try:
            outcome = await poll_until(
                lambda: self.reveal_gift_card_by_gift_card_id(gift_card_id=card_id),
                lambda d: d is not None and any((d.code, d.pin, d.url)),
                backoff=backoff,
                timeout=timeout,
                on_progress=on_progress,
                what=f"reveal of gift card {card_id}",
            )
        except RevealTimeoutError as exc:
            exc.operation = "RevealGiftCardByGiftCardId"
            raise
        found = outcome.value
        assert found is not None
        return GiftCardDetails(
            card_id, found.code, found.pin, found.url, outcome.attempts, outcome.elapsed
        )

    async def purchase_and_reveal(
        self, input: PurchaseGiftCardInput, **reveal_options: Any
    ) -> PurchasedGiftCard:
        """Buy a gift card, then :meth:`reveal_gift_card` it.

        ``reveal_options`` are those of :meth:`reveal_gift_card`. The purchase carries an
        idempotency key as usual. If the reveal fails after the purchase went through, the
        raised error has ``purchase`` set to the completed purchase: do not buy again,
        reveal ``purchase.gift_card.gift_card_id`` later.

        Raises:
            FluzError: from the purchase, or from the reveal (with ``purchase`` set).
        """
        purchase = await self.purchase_gift_card(input=input)
        if purchase is None or purchase.gift_card is None or not purchase.gift_card.gift_card_id:
            raise ResponseDecodeError(
                "purchase response carries no giftCard.giftCardId",
                operation="PurchaseGiftCard",
                idempotency_key=_key_text(input.idempotency_key),
            )
        try:
            details = await self.reveal_gift_card(purchase.gift_card.gift_card_id, **reveal_options)
        except FluzError as exc:
            exc.purchase = purchase
            raise
        return PurchasedGiftCard(purchase, details)

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

        Same backoff and deadline semantics as :meth:`reveal_gift_card`.

        Raises:
            RevealTimeoutError: the order did not finish in time.
            FluzError: a status query failed.
        """
        request = GetVirtualCardBulkOrderStatusInput(orderId=order_id)
        outcome = await poll_until(
            lambda: self.get_virtual_card_bulk_order_status(input=request),
            lambda s: (
                s is not None
                and getattr(s.order_status, "value", s.order_status)
                in C.BULK_ORDER_TERMINAL_STATUSES
            ),
            backoff=_backoff(initial_delay, multiplier, max_delay, jitter),
            timeout=timeout,
            on_progress=on_progress,
            what=f"bulk virtual-card order {order_id}",
        )
        assert outcome.value is not None
        return outcome.value

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

    async def iter_transactions(
        self, *, filter_: TransactionFilterInput | None = None, page_size: int = C.MAX_PAGE_SIZE
    ) -> AsyncIterator[GetTransactionsGetTransactionsTransactions]:
        """Every transaction (``getTransactions``), following ``hasNextPage``; stops on an
        empty page too."""
        check_page_size(page_size)
        offset = 0
        while True:
            page = await self.get_transactions(
                paginate=OffsetInput(limit=page_size, offset=offset), **_given(filter_=filter_)
            )
            items = page.transactions or []
            for item in items:
                if item is not None:
                    yield item
            if not page.has_next_page or not items:
                return
            offset += page_size


def _instrumented(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """Wrap a generated operation method: per-call record, metadata, decode errors."""

    @functools.wraps(method)
    async def call_operation(self: FluzClient, *args: Any, **kwargs: Any) -> Any:
        record = CallRecord()
        reset = current_call.set(record)
        try:
            result = await method(self, *args, **kwargs)
        except pydantic.ValidationError as exc:
            # The response did not match the generated models. The pydantic message would
            # quote response values (possibly codes or PINs): keep locations and kinds only.
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc'])}: {err['type']}" for err in exc.errors()
            )
            raise ResponseDecodeError(
                f"response does not match the schema ({problems})",
                code="DECODE",
                request_id=record.request_id,
                idempotency_key=record.idempotency_key,
                operation=record.operation or None,
            ) from None
        finally:
            current_call.reset(reset)
        attach_info(result, record.info())
        return result

    return call_operation


# Wrap every generated operation; the generated signatures stay what type checkers see.
for _name, _method in vars(_GeneratedClient).items():
    if (
        not _name.startswith("_")
        and inspect.iscoroutinefunction(_method)
        and not hasattr(AsyncBaseClient, _name)
    ):
        setattr(FluzClient, _name, _instrumented(_method))


# Variables are encoded per call; the rest of a request body is constant per operation.
_VARIABLES_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


@functools.lru_cache(maxsize=256)
def _body_start(query: str, operation_name: str | None) -> bytes:
    """``{"query":...,"operationName":...,"variables":`` of a request body, encoded once
    per operation (the query text is most of the body)."""
    head = _VARIABLES_ENCODER.encode({"query": query, "operationName": operation_name})
    return head[:-1].encode() + b',"variables":'


def _decode_json(content: bytes) -> Any:
    """The decoded JSON body, or None if it is not JSON."""
    # NaN and Infinity are not JSON: accepting them would turn an amount into NaN.
    try:
        return from_json(content, allow_inf_nan=False)  # pydantic-core: 2/3 of json.loads
    except ValueError:
        pass
    try:  # what only the stdlib accepts: a UTF-8 BOM, UTF-16/32, lone surrogate escapes
        return json.loads(content, parse_constant=_reject_constant)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the stack
        return None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _fill_idempotency_key(op: OperationInfo, variables: dict[str, Any]) -> str | None:
    """Give every input model that has an empty ``idempotency_key`` a UUID4 (in place), and
    return the operation's key as text."""
    if not op.is_mutation:
        return None
    key: str | None = None
    for value in variables.values():
        if isinstance(value, BaseModel) and "idempotency_key" in type(value).model_fields:
            current = getattr(value, "idempotency_key", None)
            if current is None:
                # The field is a UUID for most inputs and a String for a few.
                fresh = uuid.uuid4()
                current = fresh if _key_is_uuid(type(value)) else str(fresh)
                setattr(value, "idempotency_key", current)  # noqa: B010 (typed per model)
            key = _key_text(current)
    return key


@functools.cache
def _key_is_uuid(model: type[BaseModel]) -> bool:
    return "UUID" in str(model.model_fields["idempotency_key"].annotation)


def _key_text(key: object) -> str | None:
    return None if key is None else str(key)


def _pick_error(errors: Any) -> dict[str, Any] | None:
    """The most telling error of a GraphQL ``errors`` list (one with a code first)."""
    if not isinstance(errors, list) or not errors:
        return None
    dicts = [e for e in errors if isinstance(e, dict)]
    for e in dicts:
        if _error_code(e):
            return e
    return dicts[0] if dicts else {"message": "malformed errors list"}


def _error_code(error: dict[str, Any] | None) -> str | None:
    if not error:
        return None
    ext = error.get("extensions")
    code = ext.get("code") if isinstance(ext, dict) else None
    return str(code) if code else None


def _extensions(error: dict[str, Any] | None) -> dict[str, Any] | None:
    ext = error.get("extensions") if error else None
    return ext if isinstance(ext, dict) else None


def _request_id(payload: dict[str, Any] | None) -> str | None:
    ext = payload.get("extensions") if payload else None
    rid = ext.get("requestId") if isinstance(ext, dict) else None
    return str(rid) if rid else None


def _header_request_id(response: httpx.Response) -> str | None:
    rid: str | None = response.headers.get("x-request-id")
    return rid


def _token_step_failed(error: FluzError, op: OperationInfo, call: CallRecord) -> FluzError:
    """The error the caller of *op* gets when its user token could not be obtained."""
    # Fluz refusing the token request's input (AR-0001) says nothing about the caller's
    # own input: for the caller it is a refusal to authenticate.
    cls = AuthenticationError if isinstance(error, ValidationError) else type(error)
    return converted(
        error,
        cls,
        message=f"{op.name} was not sent: its user token could not be obtained: {error.message}",
        operation=op.name,
        idempotency_key=call.idempotency_key,
        request_sent=False,
    )


def _describe(error: FluzError) -> str:
    detail = error.code or (f"HTTP {error.status_code}" if error.status_code else "")
    return f"{type(error).__name__}({detail})" if detail else type(error).__name__


def _given(**kwargs: Any) -> dict[str, Any]:
    """The keyword arguments that were given (None means "not given": the generated
    methods then leave the variable out)."""
    return {k: v for k, v in kwargs.items() if v is not None}


def _scope_names(scopes: Iterable[str | ScopeType] | None) -> list[str] | None:
    if scopes is None:
        return None
    return [s.value if isinstance(s, ScopeType) else str(s) for s in scopes]


def _check_scopes(scopes: Iterable[str]) -> None:
    unknown = [s for s in scopes if s not in ScopeType.__members__]
    if unknown:
        raise ConfigurationError(f"unknown scope(s): {', '.join(unknown)}")


def _as_uuid(value: uuid.UUID | str, name: str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ValidationError(
            f"{name} is not a valid UUID", field=name, rule="uuid", code="CLIENT_VALIDATION"
        ) from None


def _backoff(initial: float, multiplier: float, max_delay: float, jitter: float) -> Backoff:
    try:
        return Backoff(initial, multiplier, max_delay, jitter)
    except ValueError as exc:
        raise ValidationError(str(exc), rule="backoff", code="CLIENT_VALIDATION") from None
