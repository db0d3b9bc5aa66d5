"""Per-call options, the whole-call deadline and direct execute()."""

from __future__ import annotations

import contextvars
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
import pytest
from anyio.abc import SocketAttribute, SocketStream

from fluz import (
    CallOptions,
    FluzClient,
    FluzTimeoutError,
    RateLimitedError,
    ServerError,
    ValidationError,
)
from fluz._response import current_call
from fluz.sandbox import Faults, SandboxServer

from .fakes import ACCOUNT_ID, API_KEY, USER_ID, FakeFluz, gql, gql_error, make_jwt, wallet

pytestmark = pytest.mark.anyio

WALLET = gql({"getWallet": wallet()})


# ------------------------------------------------------------------ typed options


async def test_extra_headers_are_merged_into_the_request() -> None:
    fake = FakeFluz().on("GetWallet", WALLET)
    async with fake.client() as fluz:
        view = fluz.with_options(extra_headers={"X-Tenant": "t-1"})
        await view.get_wallet(options=CallOptions(extra_headers={"X-Trace": "abc"}))
    (sent,) = fake.seen("GetWallet")
    assert sent.request.headers["x-tenant"] == "t-1"
    assert sent.request.headers["x-trace"] == "abc"
    assert sent.request.headers["authorization"].startswith("Bearer ")


async def test_an_unknown_call_option_fails_at_the_call_before_sending() -> None:
    fake = FakeFluz().on("GetWallet", WALLET)
    async with fake.client() as fluz:
        with pytest.raises(TypeError, match="headers"):
            await fluz.get_wallet(headers={"X-Trace": "abc"})
        with pytest.raises(TypeError, match="timout"):
            await fluz.get_wallet(timout=1)
    assert fake.requests == []


def test_a_misspelt_call_option_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="timout"):
        CallOptions(timout=1)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"timeout": 0}, "timeout"),
        ({"timeout": float("nan")}, "timeout"),
        ({"deadline": -1}, "deadline"),
        ({"max_retries": -1}, "max_retries"),
        ({"extra_headers": {"Authorization": "Basic x"}}, "extra_headers"),
    ],
)
def test_call_options_out_of_range_name_the_option(options: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        CallOptions(**options)
    assert caught.value.field == field


async def test_per_call_max_retries_and_timeout_apply_to_that_call_only() -> None:
    fake = FakeFluz().on("GetWallet", gql_error("GE-9999", status=503))
    async with fake.client(max_retries=2) as fluz:
        with pytest.raises(ServerError):
            await fluz.get_wallet(options=CallOptions(max_retries=0, timeout=2.5))
        assert len(fake.seen("GetWallet")) == 1
        assert fake.seen("GetWallet")[0].request.extensions["timeout"]["read"] == 2.5
        with pytest.raises(ServerError):
            await fluz.get_wallet()
    assert len(fake.seen("GetWallet")) == 1 + 3


# ------------------------------------------------------------------ the deadline


# Retry-After fixes each wait at 0.5 s (no jitter), so the attempts a 1 s whole-call
# deadline allows do not depend on chance: one at 0, one at 0.5, none at 1.0. A deadline
# restarted per attempt, or none, makes a third (the default allows 3 retries).
@pytest.mark.fluz_sandbox(
    faults=Faults(rate_limited_rate=1.0, retry_after=0.5, operations=frozenset({"getWallet"}))
)
async def test_a_numeric_timeout_bounds_the_whole_call_across_retries(
    fluz_sandbox: SandboxServer,
) -> None:
    async with FluzClient(
        api_key=fluz_sandbox.api_key,
        user_id=fluz_sandbox.user_id,
        account_id=fluz_sandbox.account_id,
        url=fluz_sandbox.url,
    ) as fluz:
        await fluz.token_info()  # the token first: the deadline is about the call
        with pytest.raises((RateLimitedError, FluzTimeoutError)):
            await fluz.with_options(timeout=1.0).get_wallet()
    assert 1 <= fluz_sandbox.counters().requests_by_operation["getWallet"] <= 2


@asynccontextmanager
async def trickling_server() -> AsyncIterator[str]:
    """A loopback server answering every request with a body that never ends: one byte
    every 50 ms (each within any read timeout)."""

    async def serve(stream: SocketStream) -> None:
        async with stream:
            head = b""
            while b"\r\n\r\n" not in head:
                head += await stream.receive()
            header, _, body = head.partition(b"\r\n\r\n")
            length = int(header.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            while len(body) < length:
                body += await stream.receive()
            operation = json.loads(body)["operationName"]
            if operation == "GenerateUserAccessToken":
                payload = json.dumps(
                    {
                        "data": {
                            "generateUserAccessToken": {
                                "accessToken": make_jwt(),
                                "token": None,
                                "refreshToken": None,
                                "scopes": [],
                            }
                        }
                    }
                ).encode()
                await stream.send(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(payload)}\r\n\r\n".encode()
                    + payload
                )
                return
            await stream.send(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n"
            )
            while True:
                await stream.send(b"1\r\n \r\n")
                await anyio.sleep(0.05)

    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    port = listener.extra(SocketAttribute.local_port)
    async with anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, serve)
        yield f"http://127.0.0.1:{port}/graphql"
        tg.cancel_scope.cancel()


async def test_a_body_that_trickles_forever_ends_at_the_deadline() -> None:
    async with trickling_server() as url:
        fluz = FluzClient(api_key=API_KEY, user_id=USER_ID, account_id=ACCOUNT_ID, url=url)
        async with fluz:
            with anyio.fail_after(10):  # what would otherwise be forever
                with pytest.raises(FluzTimeoutError) as caught:
                    await fluz.get_wallet(options=CallOptions(deadline=0.5))
    assert caught.value.code == "DEADLINE"
    assert caught.value.request_sent is True
    assert caught.value.operation == "GetWallet"


async def test_a_deadline_leaves_no_cancellation_behind_in_the_task() -> None:
    async with trickling_server() as url:
        fluz = FluzClient(api_key=API_KEY, user_id=USER_ID, account_id=ACCOUNT_ID, url=url)
        async with fluz:
            with anyio.fail_after(10):
                with pytest.raises(FluzTimeoutError):
                    await fluz.get_wallet(options=CallOptions(deadline=0.2))
    # The deadline's cancellation does not reach what the task does next.
    with anyio.CancelScope() as scope:
        await anyio.sleep(0.3)
    assert not scope.cancelled_caught


async def test_an_enclosing_scope_that_ends_first_cancels_the_call_without_an_error() -> None:
    async with trickling_server() as url:
        fluz = FluzClient(api_key=API_KEY, user_id=USER_ID, account_id=ACCOUNT_ID, url=url)
        async with fluz:
            with anyio.fail_after(10):
                with anyio.move_on_after(0.3) as outer:
                    await fluz.get_wallet(options=CallOptions(deadline=5))
    assert outer.cancelled_caught


async def test_a_retry_that_cannot_finish_before_the_deadline_is_not_started() -> None:
    fake = FakeFluz().on(
        "GetWallet", gql_error("GE-9999", status=503, headers={"Retry-After": "5"})
    )
    async with fake.client(max_retry_after=10) as fluz:
        with anyio.fail_after(4):
            with pytest.raises(ServerError) as caught:
                await fluz.get_wallet(options=CallOptions(deadline=1))
    assert caught.value.retry_after == 5
    assert len(fake.seen("GetWallet")) == 1


async def test_a_deadline_during_a_retry_gives_no_request_id_of_an_earlier_attempt() -> None:
    # Quoting a request id to support must name the request that timed out: the retry
    # got no answer, so no id, and not the id of the failed attempt before it.
    async def no_answer(request: httpx.Request) -> httpx.Response:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    fake = FakeFluz().on(
        "GetWallet", gql_error("GE-9999", status=503, rid="rid-of-attempt-1"), no_answer
    )
    async with fake.client() as fluz:
        await fluz.token_info()
        with anyio.fail_after(10):
            with pytest.raises(FluzTimeoutError) as caught:
                await fluz.get_wallet(options=CallOptions(deadline=0.5))
    assert caught.value.code == "DEADLINE"
    assert len(fake.seen("GetWallet")) == 2
    assert caught.value.request_id is None


# ------------------------------------------------------------------ execute()

QUERY = "query Marco { marco }"


async def test_execute_returns_a_readable_response_over_real_http(
    fluz_sandbox: SandboxServer,
) -> None:
    async with FluzClient(api_key=fluz_sandbox.api_key, url=fluz_sandbox.url) as fluz:
        response = await fluz.execute(QUERY, "Marco")
        assert response.json()["data"] == {"marco": "polo"}
        assert current_call.get() is None  # nothing of the call stays in the context
        found: list[dict[str, Any]] = []

        async def elsewhere() -> None:
            found.append(fluz.get_data(response))

        async with anyio.create_task_group() as tg:
            tg.start_soon(elsewhere)
    assert found == [{"marco": "polo"}]


async def test_a_direct_execute_leaves_no_payload_in_the_callers_context() -> None:
    fake = FakeFluz().on("Marco", gql({"marco": "polo"}))
    async with fake.client() as fluz:
        context = contextvars.copy_context()
        await fluz.execute(QUERY, "Marco")
        assert current_call.get() is None
        assert context.get(current_call) is None


def test_the_generated_base_surface_is_not_exposed() -> None:
    fluz = FakeFluz().client()
    for name in ("execute_ws", "headers", "http_client", "ws_url", "ws_headers"):
        assert not hasattr(fluz, name), name


def test_client_construction_problems_are_reported_at_once() -> None:
    from fluz import ConfigurationError

    with pytest.raises(ConfigurationError) as caught:
        FluzClient(api_key="", user_id="nope", account_id=ACCOUNT_ID, url="http://example.com/x")
    problems = caught.value.problems
    assert len(problems) == 3
    text = str(caught.value)
    assert "API key" in text
    assert "user_id is not a UUID" in text
    assert "https" in text
