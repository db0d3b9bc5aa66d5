"""The DEBUG lines an operator reads to follow one call: each attempt (operation, attempt
number, HTTP status, request id), each retry (which, of how many, after what), the
renewal after a rejected token. Never a secret."""

from __future__ import annotations

import logging

import httpx
import pytest

from .fakes import API_KEY, FakeFluz, gql, gql_error, merchants_page

pytestmark = pytest.mark.anyio


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "fluz"]


async def test_each_attempt_is_logged_with_its_status_and_request_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="fluz")
    fake = FakeFluz().on(
        "GetMerchants",
        gql_error("GE-9999", status=503, rid="req-1"),
        gql({"getMerchants": []}, rid="req-2"),
    )
    async with fake.client(max_retries=3) as fluz:
        await fluz.get_merchants()
    logged = lines(caplog)
    attempts = [line for line in logged if line.startswith("fluz GetMerchants attempt")]
    assert attempts[0].startswith("fluz GetMerchants attempt 1: HTTP 503 in ")
    assert attempts[0].endswith(" ms, request_id=req-1")
    assert attempts[1].startswith("fluz GetMerchants attempt 2: HTTP 200 in ")
    assert attempts[1].endswith(" ms, request_id=req-2")
    (retry,) = [line for line in logged if ": retry " in line]
    assert retry.startswith("fluz GetMerchants: retry 1 of 3 in ")
    assert retry.endswith("s after ServerError(GE-9999); request_id=req-1")
    assert all(API_KEY not in line for line in logged)


async def test_a_retry_after_a_bare_status_names_the_status(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="fluz")
    fake = FakeFluz().on("GetMerchants", httpx.Response(502), merchants_page(1))
    async with fake.client() as fluz:
        await fluz.get_merchants()
    (retry,) = [line for line in lines(caplog) if ": retry " in line]
    assert "after ServerError(HTTP 502);" in retry


async def test_a_rejected_token_renewal_is_logged_with_its_reason(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="fluz")
    fake = FakeFluz().on(
        "GetMerchants", gql_error("AUTH-0008", "expired", rid="req-9"), merchants_page(1)
    )
    async with fake.client() as fluz:
        await fluz.get_merchants()
    (renewal,) = [line for line in lines(caplog) if "renewing" in line]
    assert renewal == (
        "fluz GetMerchants: user token rejected (AUTH-0008), renewing and replaying once; "
        "request_id=req-9"
    )
    assert all(token not in "\n".join(lines(caplog)) for token in fake.issued)
