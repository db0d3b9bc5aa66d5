"""The whole-call deadline: a cancel scope that costs a timer, not a task-state stack.

On asyncio, anyio's ``CancelScope(deadline=...)`` keeps per-task scope bookkeeping and
arms a loop timer whose cancelled handle stays in the loop's heap until its time comes
(120 s by default), holding a copy of the context current at entry (the operation, its
call record, telemetry state). :class:`_LoopDeadline` does what the scope does here with
one timer and the task's own cancel/uncancel counting (as ``asyncio.timeout`` does,
which anyio's scopes inside it respect); its timer runs in an empty context, so a
cancelled handle keeps nothing alive. Other backends (trio) get anyio's scope.
"""

from __future__ import annotations

import asyncio
import contextvars
from types import TracebackType
from typing import Protocol

import anyio

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


def now() -> float:
    """anyio's clock (the event loop's time on asyncio), read cheaply."""
    loop = asyncio._get_running_loop()
    return loop.time() if loop is not None else anyio.current_time()


def deadline_at(when: float) -> Deadline:
    """A scope that cancels its body at *when* (anyio's clock) and swallows that
    cancellation; any other cancellation (an enclosing scope's, the task's) goes on."""
    loop = asyncio._get_running_loop()
    if loop is None:
        return anyio.CancelScope(deadline=when)
    return _LoopDeadline(loop, when)


class _LoopDeadline:
    __slots__ = ("_cancelling", "_expired", "_handle", "_loop", "_task", "_when")

    def __init__(self, loop: asyncio.AbstractEventLoop, when: float) -> None:
        self._loop = loop
        self._when = when
        self._expired = False

    def __enter__(self) -> _LoopDeadline:
        task = asyncio.current_task(self._loop)
        assert task is not None  # called from a coroutine
        self._task = task
        self._cancelling = task.cancelling()
        self._handle = self._loop.call_at(self._when, self._expire, context=_NO_CONTEXT)
        return self

    def _expire(self) -> None:
        self._expired = True
        self._task.cancel()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        self._handle.cancel()
        # Swallowed only if this timer's cancellation is the task's last pending one
        # (an enclosing scope or task.cancel() that also fired still gets its error).
        return (
            self._expired
            and self._task.uncancel() <= self._cancelling
            and exc_type is not None
            and issubclass(exc_type, asyncio.CancelledError)
        )
