"""The whole-call deadline: a cancel scope that costs a dictionary entry, not a timer.

On asyncio, anyio's ``CancelScope(deadline=...)`` keeps per-task scope bookkeeping and
arms a loop timer per call, whose cancelled handle stays in the loop's heap until its
time comes (120 s by default) holding a copy of the context current at entry (the
operation, its call record, telemetry state). Here every deadline of a loop is an entry
in one :class:`_Watchdog`, whose single timer is armed at the earliest of them (a call
that ends early leaves it armed: it finds nothing due and moves to the earliest left),
and the expiry is the task's own cancel/uncancel counting, as ``asyncio.timeout`` does
(anyio's scopes inside respect it). Other backends (trio) get anyio's scope.
"""

from __future__ import annotations

import contextvars
import math
import sys
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

import anyio

if TYPE_CHECKING:
    import asyncio

# The timer's context: it only cancels a task, it reads no context variable.
_NO_CONTEXT = contextvars.Context()


class Deadline(Protocol):
    """A context manager that cancels its body at a time on anyio's clock and then
    swallows the cancellation (so the code after the block runs only on expiry)."""

    def __enter__(self) -> object: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None: ...


def _asyncio_loop() -> asyncio.AbstractEventLoop | None:
    """The running asyncio event loop, if any. asyncio is not imported for this (``import
    fluz`` leaves it for the first call): while it is not, no asyncio loop runs."""
    module = sys.modules.get("asyncio")
    loop: asyncio.AbstractEventLoop | None = None if module is None else module._get_running_loop()
    return loop


def now() -> float:
    """anyio's clock (the event loop's time on asyncio), read cheaply."""
    loop = _asyncio_loop()
    return loop.time() if loop is not None else anyio.current_time()


def deadline_at(when: float) -> Deadline:
    """A scope that cancels its body at *when* (anyio's clock) and swallows that
    cancellation; any other cancellation (an enclosing scope's, the task's) goes on."""
    loop = _asyncio_loop()
    if loop is None:
        return anyio.CancelScope(deadline=when)
    return _LoopDeadline(loop, when)


class _Watchdog:
    """The deadlines of one event loop, and one timer at the earliest of them (whenever
    there is any: each is always covered by the armed timer)."""

    __slots__ = ("_armed_at", "_handle", "_loop", "_scopes", "cancelled", "current_task")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        import asyncio  # imported already: its loop is running

        self.current_task = asyncio.current_task
        self.cancelled = asyncio.CancelledError
        self._loop = loop
        self._scopes: dict[_LoopDeadline, None] = {}
        self._handle: asyncio.TimerHandle | None = None
        self._armed_at = math.inf

    def add(self, scope: _LoopDeadline) -> None:
        self._scopes[scope] = None
        if scope.when < self._armed_at:
            self._arm(scope.when)

    def discard(self, scope: _LoopDeadline) -> None:
        self._scopes.pop(scope, None)

    def _arm(self, when: float) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._armed_at = when
        # An empty context: the timer reads no context variable, and keeps none alive.
        self._handle = self._loop.call_at(when, self._fire, context=_NO_CONTEXT)

    def _fire(self) -> None:
        # Due: what the loop found due (it runs a timer up to its clock's resolution early).
        now = max(self._loop.time(), self._armed_at)
        self._handle, self._armed_at = None, math.inf
        earliest = math.inf
        for scope in list(self._scopes):
            if scope.when <= now:
                del self._scopes[scope]
                scope.expire()
            elif scope.when < earliest:
                earliest = scope.when
        if earliest < math.inf:
            self._arm(earliest)


# The watchdog of the loop seen last (one loop per thread is the common case; another
# loop gets a watchdog of its own, and each deadline remembers its own).
_last: tuple[asyncio.AbstractEventLoop | None, _Watchdog | None] = (None, None)


def _watchdog(loop: asyncio.AbstractEventLoop) -> _Watchdog:
    global _last
    seen, watchdog = _last
    if seen is not loop or watchdog is None:
        watchdog = _Watchdog(loop)
        _last = (loop, watchdog)
    return watchdog


class _LoopDeadline:
    __slots__ = ("_cancelling", "_expired", "_task", "_watchdog", "when")

    def __init__(self, loop: asyncio.AbstractEventLoop, when: float) -> None:
        self._watchdog = _watchdog(loop)
        self.when = when
        self._expired = False

    def __enter__(self) -> _LoopDeadline:
        task = self._watchdog.current_task(self._watchdog._loop)
        assert task is not None  # called from a coroutine
        self._task = task
        self._cancelling = task.cancelling()
        self._watchdog.add(self)
        return self

    def expire(self) -> None:
        self._expired = True
        self._task.cancel()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        self._watchdog.discard(self)
        # Swallowed only if this deadline's cancellation is the task's last pending one
        # (an enclosing scope or task.cancel() that also fired still gets its error).
        return (
            self._expired
            and self._task.uncancel() <= self._cancelling
            and exc_type is not None
            and issubclass(exc_type, self._watchdog.cancelled)
        )
