"""Retries: what is retried, the backoff, Retry-After, overrides and DEBUG logging."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from fluz import (
    FluzError,
    FluzTimeoutError,
    RateLimitedError,
    RetryPolicy,
    ServerError,
    TransportError,
    response_info,
)
from fluz._retry import parse_retry_after

from .fakes import FakeFluz, gql_error, merchants_page

pytestmark = pytest.mark.anyio


def retry_delays(caplog: pytest.LogCaptureFixture) -> list[float]:
    return [
        float(r.args[3])  # type: ignore[index]
        for r in caplog.records
        if r.name == "fluz" and "retry" in r.msg
    ]


@pytest.mark.parametrize(
    "failure",
    [
        gql_error("GE-9999", status=503),
        httpx.Response(502, text="<html>Bad Gateway</html>"),
        httpx.Response(500),
        httpx.Response(504),
        httpx.Response(408),
        gql_error("RL-0001", status=429, headers={"Retry-After": "0"}),
        gql_error("GE-9999", "internal error"),  # HTTP 200 with a GE-9999 error
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("peer closed connection without sending complete message body"),
        httpx.Response(200, text="<html>proxy page</html>"),
    ],
    ids=[
        "503",
        "502-html",
        "500",
        "504",
        "408",
        "429",
        "GE-9999",
        "connect",
        "read-timeout",
        "torn-body",
        "200-html",
    ],
)
async def test_transient_failures_of_a_query_are_retried(
    failure: httpx.Response | Exception,
) -> None:
    fake = FakeFluz().on("GetMerchants", failure, merchants_page(3))
    async with fake.client(max_retries=2) as fluz:
        page = await fluz.get_merchants()
    assert page is not None
    assert len(page) == 3
    assert len(fake.seen("GetMerchants")) == 2
    info = response_info(page[0])
    assert info is not None
    assert info.attempts == 2


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(400, json={"errors": [{"message": "bad"}]}),
        httpx.Response(403),
        gql_error("AR-0001", "bad input"),
        gql_error("RC-0001", "nobody"),
    ],
    ids=["400", "403", "AR-0001", "RC-0001"],
)
async def test_permanent_failures_are_not_retried(failure: httpx.Response) -> None:
    fake = FakeFluz().on("GetMerchants", failure)
    async with fake.client(max_retries=3) as fluz:
        with pytest.raises(FluzError):
            await fluz.get_merchants()
    assert len(fake.seen("GetMerchants")) == 1


async def test_retries_run_out_into_a_typed_error(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="fluz")
    fake = FakeFluz().on("GetMerchants", gql_error("GE-9999", status=503, rid="req-503"))
    async with fake.client(max_retries=2, retry_base_delay=0.002, retry_max_delay=0.003) as fluz:
        with pytest.raises(ServerError) as caught:
            await fluz.get_merchants()
    assert len(fake.seen("GetMerchants")) == 3
    assert caught.value.code == "GE-9999"
    assert caught.value.request_id == "req-503"
    delays = retry_delays(caplog)
    assert len(delays) == 2
    assert all(0 < d <= 0.003 for d in delays)
    messages = [r.getMessage() for r in caplog.records if "retry" in r.msg]
    assert "GetMerchants" in messages[0]
    assert "retry 1 of 2" in messages[0]
    assert "req-503" in messages[0]
    assert "ServerError(GE-9999)" in messages[0]


async def test_retry_after_is_honoured(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="fluz")
    fake = FakeFluz().on(
        "GetMerchants",
        gql_error("RL-0001", status=429, headers={"Retry-After": "0.05"}),
        merchants_page(1),
    )
    async with fake.client(retry_base_delay=5.0, retry_max_delay=5.0) as fluz:
        await fluz.get_merchants()
    assert retry_delays(caplog) == [0.05]


async def test_retry_after_beyond_the_cap_is_not_waited_out() -> None:
    fake = FakeFluz().on(
        "GetMerchants",
        gql_error("RL-0001", "slow down", status=429, headers={"Retry-After": "120"}),
    )
    async with fake.client(max_retry_after=30) as fluz:
        with pytest.raises(RateLimitedError) as caught:
            await fluz.get_merchants()
    assert caught.value.retry_after == 120
    assert len(fake.seen("GetMerchants")) == 1


async def test_per_call_override_with_options() -> None:
    fake = FakeFluz().on("GetMerchants", gql_error("GE-9999", status=503))
    async with fake.client(max_retries=2) as fluz:
        with pytest.raises(ServerError):
            await fluz.with_options(max_retries=0).get_merchants()
        assert len(fake.seen("GetMerchants")) == 1
        with pytest.raises(ServerError):
            await fluz.with_options(max_retries=4).get_merchants()
        assert len(fake.seen("GetMerchants")) == 6
        with pytest.raises(ServerError):
            await fluz.get_merchants()  # the client's own policy is unchanged
        assert len(fake.seen("GetMerchants")) == 9


async def test_timeouts_map_to_fluz_timeout_error() -> None:
    fake = FakeFluz().on("GetMerchants", httpx.ReadTimeout("slow"))
    async with fake.client(max_retries=1) as fluz:
        with pytest.raises(FluzTimeoutError) as caught:
            await fluz.get_merchants()
    assert isinstance(caught.value, TransportError)
    assert caught.value.request_sent
    assert not isinstance(caught.value, TimeoutError)  # does not shadow the builtin
    assert len(fake.seen("GetMerchants")) == 2


async def test_connect_errors_report_the_request_as_unsent() -> None:
    fake = FakeFluz().on("GetMerchants", httpx.ConnectError("refused"))
    async with fake.client(max_retries=1) as fluz:
        with pytest.raises(TransportError) as caught:
            await fluz.get_merchants()
    assert caught.value.request_sent is False
    assert caught.value.code == "ConnectError"


def test_backoff_doubles_and_is_capped() -> None:
    policy = RetryPolicy(max_retries=6, base_delay=0.5, max_delay=4.0, jitter=0.0)
    assert [policy.delay(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert policy.delay(7) is None


def test_jitter_stays_within_its_band() -> None:
    policy = RetryPolicy(max_retries=3, base_delay=1.0, max_delay=8.0, jitter=0.5)
    delays = [policy.delay(2) for _ in range(200)]
    assert all(d is not None and 1.0 <= d <= 2.0 for d in delays)
    assert len(set(delays)) > 1


def test_retry_after_values() -> None:
    policy = RetryPolicy(max_retry_after=10)
    assert policy.delay(1, retry_after=3.0) == 3.0
    assert policy.delay(1, retry_after=11.0) is None
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after("-5") == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    parsed = parse_retry_after(later)
    assert parsed is not None
    assert 25 < parsed <= 30
