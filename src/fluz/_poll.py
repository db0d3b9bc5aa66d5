"""A backoff poller on anyio: sleeping tasks only, cancellable, with an overall deadline."""

from __future__ import annotations

import inspect
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import anyio

from ._errors import (
    FluzError,
    RateLimitedError,
    ResponseDecodeError,
    RevealTimeoutError,
    ServerError,
    TransportError,
    ValidationError,
    converted,
)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PollProgress:
    """What a progress callback receives after each poll.

    Attributes:
        attempt: 1-based number of the poll just made.
        elapsed: seconds since polling started.
        done: True when this poll produced the awaited result.
        next_delay: seconds until the next poll, None when polling stops.
    """

    attempt: int
    elapsed: float
    done: bool
    next_delay: float | None


ProgressCallback = Callable[[PollProgress], object]


# Backoff and PollOutcome are plain classes: a frozen dataclass costs `import fluz` about
# 1 ms to create.


class Backoff:
    """Delays between polls: ``initial_delay * multiplier**n``, each capped at ``max_delay``
    and, with ``jitter`` > 0, scaled by a random factor in ``[1 - jitter, 1]``.

    Raises:
        ValueError: a delay is negative, the multiplier below 1 or jitter outside [0, 1].
    """

    __slots__ = ("initial_delay", "jitter", "max_delay", "multiplier")

    def __init__(
        self, initial_delay: float, multiplier: float, max_delay: float, jitter: float = 0.0
    ) -> None:
        if initial_delay < 0 or max_delay < 0:
            raise ValueError("poll delays must be >= 0")
        if multiplier < 1.0:
            raise ValueError("multiplier must be >= 1")
        if not 0.0 <= jitter <= 1.0:
            raise ValueError("jitter must be within [0, 1]")
        self.initial_delay = initial_delay
        self.multiplier = multiplier
        self.max_delay = max_delay
        self.jitter = jitter

    def delay(self, poll: int) -> float:
        """Delay after poll number *poll* (1-based)."""
        # Exponent bounded so a long poll never overflows a float.
        base = min(self.initial_delay * self.multiplier ** min(poll - 1, 64), self.max_delay)
        return base * (1.0 - self.jitter * random.random()) if self.jitter else base  # noqa: S311


class PollOutcome(Generic[T]):
    __slots__ = ("attempts", "elapsed", "value")

    def __init__(self, value: T, attempts: int, elapsed: float) -> None:
        self.value = value
        self.attempts = attempts
        self.elapsed = elapsed


async def poll_until(
    fetch: Callable[[], Awaitable[T]],
    is_done: Callable[[T], bool],
    *,
    backoff: Backoff,
    timeout: float,  # noqa: ASYNC109 (overall deadline of the polling, documented)
    on_progress: ProgressCallback | None = None,
    what: str = "poll",
    turns: anyio.Semaphore | None = None,
) -> PollOutcome[T]:
    """Call *fetch* until *is_done* accepts its result, sleeping per *backoff* in between.

    The first poll is immediate. No poll starts after the deadline (*timeout* seconds from
    the start), and the last one is made at the deadline. A poll that has started runs to
    its end (bounded by the call's own deadline) rather than being cut off, so
    ``attempts`` is exactly the polls the server saw. A poll that failed transiently (its
    own retries ran out on a timeout, a lost connection, a 5xx, a rate limit or an
    unreadable body) counts as "not done yet"; a permanent error (not found, permission,
    validation ...) propagates at once. Cancelling the caller cancels the poll (or its
    wait for a turn) cleanly: nothing is left running.

    *turns*, shared by many pollers, bounds their polls in progress at once: a poll
    waiting for its turn (first come, first served) costs a place in line instead of a
    whole call waiting for a connection, which is what 10,000 pending polls weigh. The
    poll has started when it joins the line, so it is made even if its turn comes after
    the deadline. Between polls a poller holds neither its last result nor its last error.

    Raises:
        RevealTimeoutError: the deadline passed first (carries attempts and elapsed; the
            last transient failure, if the last poll failed, as ``__cause__``).
        ValidationError: *timeout* is not a number > 0.
        FluzError: a poll failed permanently.
    """
    if not timeout > 0:  # also refuses NaN
        raise ValidationError(
            f"timeout must be a number > 0, not {timeout!r}",
            field="timeout",
            rule="positive",
            code="CLIENT_VALIDATION",
        )
    start = anyio.current_time()
    deadline = start + timeout
    attempt = 0
    while True:
        attempt += 1
        failed: FluzError | None = None
        if turns is not None:
            await _take_turn(turns)
        try:
            value = await fetch()
        except FluzError as exc:
            if not is_transient(exc):
                raise
            failed = exc
        finally:
            if turns is not None:
                turns.release()
        now = anyio.current_time()
        if failed is None:
            if is_done(value):
                await _notify(on_progress, PollProgress(attempt, now - start, True, None))
                return PollOutcome(value, attempt, now - start)
            del value  # not kept through the sleep (10,000 pollers hold 10,000 of them)
        if now >= deadline:
            await _notify(on_progress, PollProgress(attempt, now - start, False, None))
            error = _timed_out(what, attempt, now - start, failed)
            if failed is None:
                raise error
            raise error from converted(failed)
        failed = None  # nor its error, whose traceback holds the frames of the whole call
        wait = min(backoff.delay(attempt), deadline - now)
        await _notify(on_progress, PollProgress(attempt, now - start, False, wait))
        await anyio.sleep(wait)


async def _take_turn(turns: anyio.Semaphore) -> None:
    try:
        turns.acquire_nowait()  # a free turn: no checkpoint, as a poll without turns
    except anyio.WouldBlock:
        pass  # waited for below, outside this block: it would keep the exception alive
    else:
        return
    await turns.acquire()


def is_transient(error: FluzError) -> bool:
    """A failure that a later poll may not meet: keep polling."""
    return isinstance(
        error, TransportError | ServerError | RateLimitedError | ResponseDecodeError
    ) and not (isinstance(error, TransportError) and error.code == "UnsupportedProtocol")


def _timed_out(
    what: str, attempts: int, elapsed: float, failed: FluzError | None
) -> RevealTimeoutError:
    last = f"; the last poll failed: {type(failed).__name__}" if failed is not None else ""
    return RevealTimeoutError(
        f"{what} not finished after {attempts} polls in {elapsed:.1f}s{last}",
        attempts=attempts,
        elapsed=elapsed,
        code="POLL_TIMEOUT",
    )


async def _notify(callback: ProgressCallback | None, progress: PollProgress) -> None:
    if callback is None:
        return
    result = callback(progress)
    if inspect.isawaitable(result):
        await result
