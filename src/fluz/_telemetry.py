"""What the client reports about its operations: one small internal interface.

The sending code calls a few functions here — an operation's start and end
(:func:`operation`), a retry, a token renewal, a finished reveal, and :func:`inject` for
the outgoing headers. Behind them is a *backend*: a no-op one by default, or
:class:`fluz._otel.OtelBackend` (spans and metrics) when ``opentelemetry-api`` is
installed (the ``otel`` extra). The choice is made at the first operation, so ``import
fluz`` never imports OpenTelemetry and costs the same with or without the extra.

Whatever the backend, an operation that needed a retry or a token renewal logs one INFO
line on ``fluz`` naming the operation, its attempts and its request id — no secret,
no message text — so incidents show up without DEBUG logs.
"""

from __future__ import annotations

import logging
import os
import time
from contextvars import ContextVar, Token
from types import TracebackType
from typing import Any, Protocol

logger = logging.getLogger("fluz")


class Call(Protocol):
    """What an operation's end reads of its call record (fluz._response.CallRecord)."""

    attempts: int
    request_id: str | None
    idempotency_key: str | None


class Backend(Protocol):
    def start(self, op: Operation) -> None: ...

    def end(self, op: Operation, error: BaseException | None) -> None: ...

    def retry(self, op: Operation, attempt: int, delay: float, error: BaseException) -> None: ...

    def token_renewed(self, op: Operation | None) -> None: ...

    def revealed(self, polls: int, seconds: float, found: bool) -> None: ...

    def inject(self, headers: dict[str, str]) -> None: ...


class NoBackend:
    """Reports nothing (OpenTelemetry is not installed, or it was switched off)."""

    def start(self, op: Operation) -> None:
        pass

    def end(self, op: Operation, error: BaseException | None) -> None:
        pass

    def retry(self, op: Operation, attempt: int, delay: float, error: BaseException) -> None:
        pass

    def token_renewed(self, op: Operation | None) -> None:
        pass

    def revealed(self, polls: int, seconds: float, found: bool) -> None:
        pass

    def inject(self, headers: dict[str, str]) -> None:
        pass


_backend: Backend | None = None
_current: ContextVar[Operation | None] = ContextVar("fluz_operation", default=None)


def backend() -> Backend:
    """The backend, chosen once: OpenTelemetry when its API is installed, unless
    ``FLUZ_OTEL_DISABLED`` is set to a non-empty value."""
    global _backend
    if _backend is None:
        import importlib.util  # here, not at import: `import fluz` pays nothing for it

        if not os.environ.get("FLUZ_OTEL_DISABLED") and importlib.util.find_spec("opentelemetry"):
            from ._otel import OtelBackend

            _backend = OtelBackend()
        else:
            _backend = NoBackend()
    return _backend


def use_backend(chosen: Backend | None) -> None:
    """Replace the backend (tests; None: choose again at the next operation)."""
    global _backend
    _backend = chosen


class Operation:
    """One operation call, from its start to its end (a context manager)."""

    __slots__ = (
        "_reset",
        "backend",
        "call",
        "is_mutation",
        "name",
        "renewals",
        "retries",
        "started",
        "state",
    )

    def __init__(self, name: str, is_mutation: bool, call: Call) -> None:
        self.name = name
        self.is_mutation = is_mutation
        self.call = call
        self.retries = 0
        self.renewals = 0
        self.state: Any = None  # the backend's (the span and its context token)
        self.backend = _backend if _backend is not None else backend()
        self.started = 0.0
        self._reset: Token[Operation | None] | None = None

    def __enter__(self) -> Operation:
        self.started = time.perf_counter()
        self._reset = _current.set(self)
        self.backend.start(self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.backend.end(self, error)
        finally:
            if self._reset is not None:
                _current.reset(self._reset)
        # A replay after a refused token is an attempt more without a backoff retry.
        if self.retries or self.renewals or self.call.attempts > 1:
            _log_eventful(self, error)


def operation(name: str, is_mutation: bool, call: Call) -> Operation:
    """The context manager around one operation call."""
    return Operation(name, is_mutation, call)


def retry(attempt: int, delay: float, error: BaseException) -> None:
    """The current operation retries (*attempt* is the retry's number) after *delay* s."""
    op = _current.get()
    if op is not None:
        op.retries += 1
        op.backend.retry(op, attempt, delay, error)


def token_renewed() -> None:
    """This process obtained a new user token (for the current operation, if any)."""
    op = _current.get()
    if op is not None:
        op.renewals += 1
    (op.backend if op is not None else backend()).token_renewed(op)


def revealed(polls: int, seconds: float, found: bool) -> None:
    """A reveal helper finished after *polls* polls and *seconds* s."""
    backend().revealed(polls, seconds, found)


def inject(headers: dict[str, str]) -> None:
    """Add the trace context (``traceparent``) of the current operation to *headers*."""
    op = _current.get()
    if op is not None:
        op.backend.inject(headers)


def _log_eventful(op: Operation, error: BaseException | None) -> None:
    call = op.call
    if error is None:
        outcome = "succeeded"
    else:
        code = getattr(error, "code", None)
        outcome = f"failed ({type(error).__name__}{f' {code}' if code else ''})"
    logger.info(
        "fluz %s %s after %d attempt(s), %d retr%s, %d token renewal(s); request_id=%s",
        op.name,
        outcome,
        call.attempts,
        op.retries,
        "y" if op.retries == 1 else "ies",
        op.renewals,
        call.request_id,
    )
