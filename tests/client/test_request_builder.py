"""The client builds its requests itself (fluz._transport.RequestBuilder), faster than
``httpx.AsyncClient.build_request``: the requests must be the same, whatever the pool."""

from __future__ import annotations

import httpx
import pytest

from fluz import FluzClient
from fluz._redact import Sealed
from fluz._transport import RequestBuilder

from .fakes import ACCOUNT_ID, API_KEY, URL, USER_ID, FakeFluz, gql, wallet

BODY = b'{"query":"{ x }","variables":{}}'


def _both(
    http: httpx.AsyncClient,
    headers: dict[str, str],
    timeout: httpx.Timeout | float | None = None,
    builder: RequestBuilder | None = None,
) -> tuple[httpx.Request, httpx.Request]:
    url = httpx.URL(URL)
    ours = (builder or RequestBuilder()).build(http, url, Sealed(BODY), Sealed(headers), timeout)
    theirs = http.build_request(
        "POST",
        url,
        content=BODY,
        headers=headers,
        timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else timeout,
    )
    return ours, theirs


def _same(ours: httpx.Request, theirs: httpx.Request) -> None:
    assert ours.method == theirs.method == "POST"
    assert ours.url == theirs.url
    assert ours.headers.raw == theirs.headers.raw  # names, values and order
    assert ours.content == theirs.content == BODY
    assert ours.extensions == theirs.extensions


HEADERS = {"X-Tenant": "t-1", "Authorization": "Bearer abc", "Content-Type": "application/json"}


@pytest.mark.parametrize(
    "pool_headers",
    [
        {},
        {"User-Agent": "fluz-test"},
        # The request's headers replace the pool's of the same name (any case); the
        # pool's Host wins over the URL's, as httpx has it.
        {"authorization": "Basic pool", "X-Pool": "p", "x-tenant": "pool", "Host": "example"},
    ],
)
@pytest.mark.parametrize("timeout", [None, 2.5, httpx.Timeout(1.0, read=7.0)])
def test_requests_are_the_ones_build_request_makes(
    pool_headers: dict[str, str], timeout: httpx.Timeout | float | None
) -> None:
    http = httpx.AsyncClient(headers=pool_headers, timeout=httpx.Timeout(3.0, pool=9.0))
    _same(*_both(http, HEADERS, timeout))


def test_changes_to_the_pool_are_seen_by_the_next_request() -> None:
    http = httpx.AsyncClient(headers={"X-Pool": "1"})
    builder = RequestBuilder()
    _same(*_both(http, HEADERS, builder=builder))
    http.headers["X-Pool"] = "2"
    http.headers["X-Other"] = "o"
    http.timeout = httpx.Timeout(11.0)
    ours, theirs = _both(http, HEADERS, builder=builder)
    _same(ours, theirs)
    assert ours.headers["x-pool"] == "2"
    assert ours.extensions["timeout"]["read"] == 11.0
    # Another set of request headers, then the first one again.
    _same(*_both(http, {"Authorization": "Bearer other"}, builder=builder))
    _same(*_both(http, HEADERS, builder=builder))


def test_pools_with_cookies_or_params_and_odd_headers_are_served_too() -> None:
    http = httpx.AsyncClient(cookies={"session": "s"}, params={"tenant": "t"})
    ours, theirs = _both(http, HEADERS)
    _same(ours, theirs)
    assert ours.headers["cookie"] == "session=s"
    assert ours.url.params["tenant"] == "t"
    # Two request headers differing only in case are both sent, as httpx does.
    _same(*_both(httpx.AsyncClient(), {"X-A": "1", "x-a": "2", "Authorization": "x"}))


@pytest.mark.anyio
async def test_a_given_pools_headers_reach_the_server_and_changes_are_honoured() -> None:
    fake = FakeFluz().on("GetWallet", gql({"getWallet": wallet()}))
    http = httpx.AsyncClient(
        transport=httpx.MockTransport(fake), headers={"X-Pool": "1", "Content-Type": "text/x"}
    )
    fluz = FluzClient(
        api_key=API_KEY, user_id=USER_ID, account_id=ACCOUNT_ID, url=URL, http_client=http
    )
    async with fluz:
        await fluz.get_wallet()
        http.headers["X-Pool"] = "2"
        await fluz.get_wallet()
    first, second = fake.seen("GetWallet")
    assert first.request.headers["x-pool"] == "1"
    assert second.request.headers["x-pool"] == "2"
    # The client's own headers win over the pool's.
    assert first.request.headers.get_list("content-type") == ["application/json"]
    assert first.request.headers["authorization"].startswith("Bearer ")


@pytest.mark.parametrize(
    ("pool_headers", "headers"),
    [
        # A body header of the pool's or the request's is kept, as build_request keeps it.
        ({"Content-Length": "99"}, HEADERS),
        ({"Transfer-Encoding": "chunked"}, HEADERS),
        ({}, {**HEADERS, "content-length": "32"}),
    ],
)
def test_body_headers_set_by_the_pool_or_the_request_are_kept(
    pool_headers: dict[str, str], headers: dict[str, str]
) -> None:
    http = httpx.AsyncClient(headers=pool_headers)
    _same(*_both(http, headers))


def test_an_empty_body_gets_the_request_build_request_makes() -> None:
    http = httpx.AsyncClient()
    url = httpx.URL(URL)
    ours = RequestBuilder().build(http, url, Sealed(b""), Sealed(HEADERS), None)
    theirs = http.build_request("POST", url, content=b"", headers=HEADERS)
    assert ours.headers.raw == theirs.headers.raw  # Content-Length: 0 first, as httpx has it
    assert ours.content == theirs.content == b""
