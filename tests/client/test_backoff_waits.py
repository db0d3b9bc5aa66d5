"""Retries wait: the backoff and Retry-After delays really pass between attempts, and the
retry policy refuses settings that would make them meaningless.

The waits are measured from the times the (in-process) server received each attempt,
so a client that logged a delay but did not sleep it fails here.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from itertools import pairwise

import httpx
import pytest

from fluz import RateLimitedError, RetryPolicy, ServerError

from .fakes import FakeFluz, gql_error, merchants_page

pytestmark = pytest.mark.anyio


def stamped(fake: FakeFluz, *replies: httpx.Response) -> list[float]:
    """Script GetMerchants with *replies*; return the list their arrival times go to."""
    arrivals: list[float] = []

    def reply(response: httpx.Response) -> object:
        def answer(request: httpx.Request) -> httpx.Response:
            arrivals.append(time.monotonic())
            return response

        return answer

    fake.on("GetMerchants", *(reply(r) for r in replies))  # type: ignore[arg-type]
    return arrivals


def gaps(arrivals: list[float]) -> list[float]:
    return [later - earlier for earlier, later in pairwise(arrivals)]


async def test_retries_wait_the_scheduled_backoff_between_attempts() -> None:
    fake = FakeFluz()
    arrivals = stamped(
        fake, gql_error("GE-9999", status=503), gql_error("GE-9999", status=503), merchants_page(1)
    )
    # Default jitter 0.5: retry n waits between half and all of base * 2**(n-1).
    async with fake.client(max_retries=2, retry_base_delay=0.06, retry_max_delay=1.0) as fluz:
        await fluz.get_merchants()
    first, second = gaps(arrivals)
    assert first >= 0.03
    assert second >= 0.06


async def test_the_backoff_is_capped_at_the_maximum_delay() -> None:
    fake = FakeFluz()
    arrivals = stamped(fake, gql_error("GE-9999", status=503), merchants_page(1))
    async with fake.client(retry_base_delay=30.0, retry_max_delay=0.02, deadline=5.0) as fluz:
        # Capped at 0.02 s the retry fits the deadline; an uncapped 30 s one would not start.
        await fluz.get_merchants()
    assert len(arrivals) == 2


async def test_a_retry_after_is_waited_out_before_the_retry() -> None:
    fake = FakeFluz()
    arrivals = stamped(
        fake,
        gql_error("RL-0001", status=429, headers={"Retry-After": "0.15"}),
        merchants_page(1),
    )
    async with fake.client(retry_base_delay=0.001, retry_max_delay=0.001) as fluz:
        await fluz.get_merchants()
    assert gaps(arrivals)[0] >= 0.15


async def test_a_retry_after_equal_to_the_cap_is_still_waited_out() -> None:
    fake = FakeFluz()
    arrivals = stamped(
        fake,
        gql_error("RL-0001", status=429, headers={"Retry-After": "0.05"}),
        merchants_page(1),
    )
    async with fake.client(max_retry_after=0.05) as fluz:
        await fluz.get_merchants()
    assert len(arrivals) == 2


async def test_a_retry_after_date_in_the_past_means_retry_now() -> None:
    past = format_datetime(datetime.now(UTC) - timedelta(seconds=30), usegmt=True)
    fake = FakeFluz().on(
        "GetMerchants", gql_error("RL-0001", status=429, headers={"Retry-After": past})
    )
    async with fake.client(max_retries=0) as fluz:
        with pytest.raises(RateLimitedError) as caught:
            await fluz.get_merchants()
    assert caught.value.retry_after == 0.0


async def test_no_retries_means_a_single_attempt() -> None:
    fake = FakeFluz()
    arrivals = stamped(fake, gql_error("GE-9999", status=503))
    async with fake.client(max_retries=0) as fluz:
        with pytest.raises(ServerError):
            await fluz.get_merchants()
    assert len(arrivals) == 1


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"max_retries": -1}, "max_retries must be >= 0"),
        ({"base_delay": -0.1}, "retry delays must be >= 0"),
        ({"max_delay": -0.1}, "retry delays must be >= 0"),
        ({"max_retry_after": -0.1}, "retry delays must be >= 0"),
        ({"jitter": -0.1}, r"jitter must be within \[0, 1\]"),
        ({"jitter": 1.01}, r"jitter must be within \[0, 1\]"),
    ],
    ids=["retries", "base", "max", "retry-after", "jitter-low", "jitter-high"],
)
def test_a_retry_policy_out_of_range_names_the_setting(
    settings: dict[str, float], message: str
) -> None:
    with pytest.raises(ValueError, match=f"^{message}$"):
        RetryPolicy(**settings)  # type: ignore[arg-type]


def test_retry_policy_bounds_are_inclusive() -> None:
    policy = RetryPolicy(max_retries=0, base_delay=0, max_delay=0, max_retry_after=0, jitter=1.0)
    assert policy.delay(1) is None  # no retries at all
    assert RetryPolicy(max_retries=1, base_delay=0, max_delay=0, jitter=1.0).delay(1) == 0.0
    assert RetryPolicy(max_retries=1, max_retry_after=0).delay(1, retry_after=0.0) == 0.0
