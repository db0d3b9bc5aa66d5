"""The exception hierarchy: every error fluz raises is a :class:`FluzError`.

Messages that echo the server are redacted before they reach an exception (see
``_redact``), so ``str(exc)`` and ``repr(exc)`` are safe to log.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "APIError",
    "AuthenticationError",
    "ConfigurationError",
    "ConflictError",
    "FluzError",
    "FluzTimeoutError",
    "InsufficientFundsError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitedError",
    "ResponseDecodeError",
    "RevealTimeoutError",
    "ServerError",
    "TransportError",
    "ValidationError",
]


class FluzError(Exception):
    """Base class of every fluz error.

    Attributes:
        message: human-readable text (redacted: no secrets).
        code: the Fluz error code (``AUTH-0008``, ``RC-0001``, ``GE-9999`` ...) when known.
        request_id: ``extensions.requestId`` of the response, when one arrived.
        idempotency_key: the key sent with the failed mutation, if it had one. After an
            ambiguous failure (timeout, 5xx) retry with the same key: Fluz processes a key
            only once.
        operation: the GraphQL operation name.
        status_code: the HTTP status, when a response arrived.
        extensions: the error's ``extensions`` object as the server sent it (may be empty).
        purchase: set by ``purchase_and_reveal`` when the purchase succeeded but a later
            step failed: the completed purchase (do not buy again).
    """

    purchase: Any = None
    # False: the operation certainly never reached Fluz (nothing to reconcile). True: it
    # may have. None: the error is an answer from Fluz, so it was received.
    request_sent: bool | None = None
    # Seconds the server asked to wait (its Retry-After header), whatever the error.
    retry_after: float | None = None

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        request_id: str | None = None,
        idempotency_key: str | None = None,
        operation: str | None = None,
        status_code: int | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.request_id = request_id
        self.idempotency_key = idempotency_key
        self.operation = operation
        self.status_code = status_code
        self.extensions = extensions or {}

    def __str__(self) -> str:
        details = [
            f"{name}={value}"
            for name, value in (
                ("code", self.code),
                ("operation", self.operation),
                ("status", self.status_code),
                ("request_id", self.request_id),
                ("idempotency_key", self.idempotency_key),
            )
            if value is not None
        ]
        return f"{self.message} ({', '.join(details)})" if details else self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        # Exception's own reduce calls cls(*args), which fails for subclasses with
        # keyword-only arguments (RevealTimeoutError): Celery, process pools and
        # copy.deepcopy need every error to round-trip. Rebuild from the attributes.
        return (_rebuild, (type(self), self.message, dict(self.__dict__)))


def _rebuild(cls: type[FluzError], message: str, state: dict[str, Any]) -> FluzError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


def detached(error: FluzError) -> FluzError:
    """Cut everything but FluzErrors off *error*'s chain (in place) and return it.

    An exception's ``__context__`` is whatever was being handled when it was raised: a
    pydantic error quoting a gift-card code, an httpx response. A FluzError carries what
    it says and, as ``__cause__``, only another FluzError (e.g. the token step's).
    """
    seen: set[int] = set()
    link: BaseException | None = error
    while isinstance(link, FluzError) and id(link) not in seen:
        seen.add(id(link))
        link.__context__ = None
        if not isinstance(link.__cause__, FluzError):
            link.__cause__ = None
        link = link.__cause__
    return error


def converted(error: FluzError, cls: type[FluzError] | None = None, **changes: Any) -> FluzError:
    """A copy of *error* (as *cls* if given) with attributes *changes*; no traceback,
    cause or context."""
    state = dict(error.__dict__)
    state.update(changes)
    return _rebuild(cls or type(error), state.get("message", error.message), state)


class ConfigurationError(FluzError, ValueError):
    """The client cannot be built: configuration is missing or unsafe (raised by the
    constructor, naming everything that is wrong; ``problems`` lists them one by one)."""

    @property
    def problems(self) -> tuple[str, ...]:
        found: tuple[str, ...] = self.__dict__.get("_problems") or (self.message,)
        return found

    @classmethod
    def of(cls, problems: list[str]) -> ConfigurationError:
        """One error naming every problem in *problems*."""
        if len(problems) == 1:
            error = cls(problems[0], code="CONFIG")
        else:
            error = cls(
                f"{len(problems)} configuration problems: " + "; ".join(problems), code="CONFIG"
            )
        error.__dict__["_problems"] = tuple(problems)
        return error


class ValidationError(FluzError, ValueError):
    """The input is knowably bad. Raised before anything is sent when the client can tell
    (``field`` names the offending input, ``rule`` the rule), or for Fluz's AR-0001."""

    def __init__(
        self, message: str, *, field: str | None = None, rule: str | None = None, **kw: Any
    ) -> None:
        super().__init__(message, **kw)
        self.field = field
        self.rule = rule


class APIError(FluzError):
    """Fluz reported an error that no more specific class describes (see ``code``)."""


class AuthenticationError(FluzError):
    """Credentials were refused: a bad or revoked API key (HTTP 401 on an app-level call),
    or a user token still rejected after one refresh."""


class PermissionDeniedError(FluzError):
    """Authenticated, but not allowed: a scope is missing or the account may not do this."""


class NotFoundError(FluzError):
    """The resource does not exist (RC-0001, unknown gift card / purchase / order ...)."""


class ConflictError(FluzError):
    """The request conflicts with earlier state, e.g. an idempotency key reused with a
    different input."""


class InsufficientFundsError(FluzError):
    """The funding source cannot cover the amount (``BAL-0001``): nothing was charged.
    Top up or choose another source; a retry alone will not succeed."""


class RateLimitedError(FluzError):
    """HTTP 429 or ``RL-0001`` after the retries were used up (``retry_after``: seconds
    the server asked for, if it said)."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ServerError(FluzError):
    """Fluz failed (HTTP 5xx or GE-9999) and retries were used up or not allowed. For a
    mutation the outcome is unknown: retry with the same ``idempotency_key``."""


class TransportError(FluzError):
    """The HTTP exchange failed (connection refused or dropped, protocol error).

    ``request_sent`` is False only when the request certainly never left (a connect
    error); otherwise a mutation may have been applied."""

    request_sent: bool

    def __init__(self, message: str, *, request_sent: bool = True, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.request_sent = request_sent


class FluzTimeoutError(TransportError):
    """A connect, read, write or pool timeout (or HTTP 408) after the retries."""


class ResponseDecodeError(FluzError):
    """The response could not be understood: not JSON, an HTML error page, JSON whose
    fields are missing or of the wrong type, or a body over 10 MiB (code
    ``RESPONSE_TOO_LARGE``)."""


class RevealTimeoutError(FluzError):
    """A poll (gift-card reveal, bulk virtual-card order) did not finish before its
    deadline. ``attempts`` polls were made over ``elapsed`` seconds."""

    def __init__(self, message: str, *, attempts: int, elapsed: float, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.attempts = attempts
        self.elapsed = elapsed


# Fluz error codes (docs' error-code page and the operation pages) to classes. Codes not
# listed fall back on their prefix, then on APIError.
_CODE_CLASSES: dict[str, type[FluzError]] = {
    "AUTH-0001": PermissionDeniedError,
    "AUTH-0026": ConflictError,
    "RC-0001": NotFoundError,
    "AR-0001": ValidationError,
    "BAL-0001": InsufficientFundsError,
    "RL-0001": RateLimitedError,
    "GE-9999": ServerError,
    # Conventional GraphQL extension codes, for servers (and proxies) that use them.
    "UNAUTHENTICATED": AuthenticationError,
    "FORBIDDEN": PermissionDeniedError,
    "NOT_FOUND": NotFoundError,
    "CONFLICT": ConflictError,
    "BAD_USER_INPUT": ValidationError,
    "GRAPHQL_VALIDATION_FAILED": ValidationError,
    "INTERNAL_SERVER_ERROR": ServerError,
}
_PREFIX_CLASSES: dict[str, type[FluzError]] = {
    "AUTH": AuthenticationError,
    "SCOPE": PermissionDeniedError,
    "PERM": PermissionDeniedError,
    "IDEM": ConflictError,
    "RL": RateLimitedError,
    "NF": NotFoundError,
}
# By HTTP status, when the body names no code. 400 and 404 only for a GraphQL body: an
# HTML page saying 404 means a wrong URL, not "check the id".
_STATUS_CLASSES: dict[int, type[FluzError]] = {
    401: AuthenticationError,
    403: PermissionDeniedError,
    408: FluzTimeoutError,
    409: ConflictError,
    429: RateLimitedError,
}
_GRAPHQL_STATUS_CLASSES: dict[int, type[FluzError]] = {
    400: ValidationError,
    404: NotFoundError,
}


def error_class(code: str | None, status_code: int | None = None) -> type[FluzError]:
    """The exception class for a Fluz error code, else for an HTTP status."""
    if code:
        upper = code.upper()
        if upper in _CODE_CLASSES:
            return _CODE_CLASSES[upper]
        if "SCOPE" in upper:
            return PermissionDeniedError
        prefix = upper.split("-", 1)[0].split("_", 1)[0]
        if prefix in _PREFIX_CLASSES:
            return _PREFIX_CLASSES[prefix]
    if status_code is not None:
        return status_error_class(status_code, graphql_body=True)
    return APIError


def status_error_class(status_code: int, *, graphql_body: bool) -> type[FluzError]:
    """The exception class for an HTTP status whose body names no Fluz code."""
    if status_code in _STATUS_CLASSES:
        return _STATUS_CLASSES[status_code]
    if graphql_body and status_code in _GRAPHQL_STATUS_CLASSES:
        return _GRAPHQL_STATUS_CLASSES[status_code]
    if status_code >= 500:
        return ServerError
    return APIError
