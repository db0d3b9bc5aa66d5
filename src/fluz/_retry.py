"""Retry policy: which failures are retried, and how long to wait before each retry."""

from __future__ import annotations

import random
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from time import time

from . import _constants as C


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter.

    Retry *n* (1-based) waits ``min(base_delay * 2**(n-1), max_delay)``, scaled by a random
    factor in ``[1 - jitter, 1]``. A ``Retry-After`` from the server replaces the computed
    delay when it is at most ``max_retry_after``; a longer one ends the retries at once.
    """

    max_retries: int = C.DEFAULT_MAX_RETRIES
    base_delay: float = C.DEFAULT_RETRY_BASE_DELAY
    max_delay: float = C.DEFAULT_RETRY_MAX_DELAY
    max_retry_after: float = C.DEFAULT_MAX_RETRY_AFTER
    jitter: float = C.DEFAULT_RETRY_JITTER

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if self.base_delay < 0 or self.max_delay < 0 or self.max_retry_after < 0:
            raise ValueError("retry delays must be >= 0")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError("jitter must be within [0, 1]")

    def delay(self, retry: int, retry_after: float | None = None) -> float | None:
        """Seconds to wait before retry number *retry* (1-based), or None: do not retry."""
        if retry > self.max_retries:
            return None
        if retry_after is not None:
            return retry_after if retry_after <= self.max_retry_after else None
        backoff = min(self.base_delay * 2.0 ** (retry - 1), self.max_delay)
        return backoff * (1.0 - self.jitter * random.random())  # noqa: S311 (not crypto)


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds (delta-seconds or an HTTP date), None if absent/invalid."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
