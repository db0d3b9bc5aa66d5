"""Sending one request: a bounded number inside httpx at once, a bounded response size."""

from __future__ import annotations

from typing import Any

import anyio
import httpx

from . import _constants as C
from ._redact import Sealed


class ResponseTooLarge(Exception):
    """The response body (decompressed) grew past the limit; it was not read further."""

    def __init__(self, status_code: int, limit: int) -> None:
        super().__init__(f"response body is larger than {limit} bytes")
        self.status_code = status_code
        self.limit = limit


class RequestSlots:
    """At most *size* requests handed to httpx at once; later ones wait here, first come
    first served.

    httpcore's pool re-examines every waiting request against every connection on each
    pool event, so its cost grows with the square of the requests waiting in it: 10,000
    concurrent calls (pending reveals, say) stalled the event loop for minutes. Waiting
    here costs nothing per waiter. The semaphores are made on first use, inside the event
    loop, and shared by every view of a client (they share the pool too).

    Token requests have a lane of their own (``token_size`` slots): thousands of calls
    queued here may all be waiting for the token renewal, which must not queue behind
    them.
    """

    def __init__(
        self, size: int, token_size: int = C.TOKEN_REQUEST_SLOTS, *, one_entry: bool = False
    ) -> None:
        self.size = size
        self.token_size = token_size
        self.one_entry = one_entry
        self._semaphore: anyio.Semaphore | None = None
        self._token_semaphore: anyio.Semaphore | None = None
        self._poll_turns: anyio.Semaphore | None = None
        self._entry: anyio.Lock | None = None

    def entry(self) -> anyio.Lock | None:
        """The lock that lets one request at a time into httpcore's pool until it owns a
        connection (see :func:`post`); None unless *one_entry* (the client's own pool:
        the lock relies on httpcore's trace events, which other transports never send)."""
        if self.one_entry and self._entry is None:
            self._entry = anyio.Lock()
        return self._entry

    def semaphore(self, *, token_lane: bool = False) -> anyio.Semaphore:
        if token_lane:
            if self._token_semaphore is None:
                self._token_semaphore = anyio.Semaphore(self.token_size)
            return self._token_semaphore
        if self._semaphore is None:
            self._semaphore = anyio.Semaphore(self.size)
        return self._semaphore

    def poll_turns(self) -> anyio.Semaphore:
        """The turns of the polling helpers (``poll_until(turns=...)``): a few polls per
        slot in progress at once, so that the next ones are already queued for a slot
        when one comes free, and every other pending poll waits in this line, costing
        a place in it rather than a whole call."""
        if self._poll_turns is None:
            self._poll_turns = anyio.Semaphore(self.size * C.POLL_TURNS_PER_SLOT)
        return self._poll_turns

    def held(self, wait: float | None, *, token_lane: bool = False) -> _HeldSlot:
        """``async with slots.held(wait) as waited:`` holds one slot for the block, waiting
        at most *wait* seconds (None: forever) for it to come free; *waited* says whether
        it had to.

        Raises:
            httpx.PoolTimeout: no slot came free in time (as httpx's own pool would).
        """
        return _HeldSlot(self.semaphore(token_lane=token_lane), wait)


class _HeldSlot:
    __slots__ = ("_semaphore", "_wait")

    def __init__(self, semaphore: anyio.Semaphore, wait: float | None) -> None:
        self._semaphore = semaphore
        self._wait = wait

    async def __aenter__(self) -> bool:
        """Whether the slot had to be waited for."""
        try:
            self._semaphore.acquire_nowait()  # a free slot: no checkpoint, as http.post()
        except anyio.WouldBlock:
            pass  # waited for below, outside this block: it would keep the exception alive
        else:
            return False
        try:
            with anyio.fail_after(self._wait):
                await self._semaphore.acquire()
        except TimeoutError:
            raise httpx.PoolTimeout("no request slot came free in time") from None
        return True

    async def __aexit__(self, *exc_info: object) -> None:
        self._semaphore.release()


async def post(
    http: httpx.AsyncClient,
    request: httpx.Request,
    *,
    max_bytes: int,
    entry: anyio.Lock | None = None,
) -> tuple[httpx.Response, Sealed[bytes]]:
    """Send *request* (made by :class:`RequestBuilder`) and read the whole (decoded) body.

    The caller holds a request slot (:meth:`RequestSlots.held`). *entry*: see
    :meth:`RequestSlots.entry`.

    Raises:
        httpx.RequestError: as ``http.post()``.
        ResponseTooLarge: the body exceeds *max_bytes* (the connection is closed).
    """
    if entry is None:
        response = await http.send(request, stream=True)
    else:
        response = await _send_entering_alone(http, request, entry)
    try:
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise ResponseTooLarge(response.status_code, max_bytes)
            chunks.append(chunk)
    finally:
        await response.aclose()
    return response, Sealed(b"".join(chunks))


class _SetCookies(httpx.Cookies):
    """A cookie jar that reads a response only when it sets a cookie.

    httpx's ``extract_cookies`` wraps every response and its request in urllib objects for
    ``http.cookiejar``, which then finds no ``Set-Cookie`` header: a tenth of a call on a
    small response, for an API that sets no cookies. A response that does set one (a load
    balancer's affinity cookie, say) is read exactly as httpx reads it.
    """

    def extract_cookies(self, response: httpx.Response) -> None:
        headers = response.headers
        if "set-cookie" in headers or "set-cookie2" in headers:
            super().extract_cookies(response)


class OwnPool(httpx.AsyncClient):
    """The connection pool a FluzClient makes when it is given none: an
    ``httpx.AsyncClient`` whose cookie jar skips responses that set no cookie (see
    :class:`_SetCookies`). Only the client's own pool: a pool the user passes is theirs."""

    _set_cookies: httpx.Cookies

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # httpx's __init__ sets its jar without the property; ours replaces it here.
        self.cookies = kwargs.get("cookies")

    # httpx reads the jar only through this property (request merging, extraction).
    @property
    def cookies(self) -> httpx.Cookies:
        return self._set_cookies

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        self._set_cookies = _SetCookies(cookies)


_BUILD_REQUEST = httpx.AsyncClient.build_request


class RequestBuilder:
    """Builds a client's POST requests as ``http.build_request()`` would, in two thirds of
    its time.

    ``build_request`` merges the pool's default headers, cookies and query parameters into
    every request anew, through httpx's header normalisation: a tenth of a call on a small
    response. Here the pool's default headers (plus ``Host``), less those the request
    sets, are merged once into a template, copied per request; the template is made
    again whenever the pool's headers or the set of request header names change. The
    request is then made with its whole header list (``Content-Length`` included) and
    its body as a stream, which skips httpx's search of the headers for the ones it would
    add (half the request's making). A pool with cookies or query parameters, a subclass
    with its own ``build_request``, an empty body, a ``Content-Length`` or
    ``Transfer-Encoding`` header of the pool's or the request's, or request header names
    that differ only in case, get ``build_request`` itself.
    """

    __slots__ = ("_cache",)

    def __init__(self) -> None:
        # (pool, url, the pool's headers, templates by request header names): replaced as
        # one value, so a client shared by threads never pairs a template with other headers.
        self._cache: tuple[
            httpx.AsyncClient | None,
            httpx.URL | None,
            list[tuple[bytes, bytes]],
            dict[tuple[str, ...], list[tuple[bytes, bytes]]],
        ] = (None, None, [], {})

    def build(
        self,
        http: httpx.AsyncClient,
        url: httpx.URL,
        content: Sealed[bytes],
        headers: Sealed[dict[str, str]],
        timeout: httpx.Timeout | float | None,
    ) -> httpx.Request:
        """The POST request of *content* to the absolute *url*, with *headers* over the
        pool's defaults; *timeout* None: the pool's. Built only when the request is about
        to be sent: thousands of calls waiting for a slot should not each hold one.
        (*content* and *headers* stay sealed, see :class:`Sealed`, until handed to httpx.)
        """
        template = None
        body = content.value
        if (
            body
            and type(http).build_request is _BUILD_REQUEST
            and not http.cookies
            and not http.params
        ):
            defaults = http.headers.raw
            cache = self._cache
            if http is not cache[0] or url is not cache[1] or defaults != cache[2]:
                cache = self._cache = (http, url, defaults, {})
            names = tuple(headers.value)
            template = cache[3].get(names)
            if template is None:
                template = _template(defaults, url, names)
                if template is not None and len(cache[3]) < 64:  # one per set of names: few
                    cache[3][names] = template
        if template is None:
            return http.build_request(
                "POST",
                url,
                content=body,
                headers=headers.value,
                timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else timeout,
            )
        limits = http.timeout if timeout is None else httpx.Timeout(timeout)
        # The order build_request gives: Host and the pool's, the request's (not in the
        # template: appended; ASCII, as httpx encodes them), then the body's length.
        request = httpx.Request(
            "POST",
            url,
            headers=[
                *template,
                *[(k.encode("ascii"), v.encode("ascii")) for k, v in headers.value.items()],
                (b"Content-Length", str(len(body)).encode("ascii")),
            ],
            stream=httpx.ByteStream(body),
            extensions={"timeout": limits.as_dict()},
        )
        request.read()  # the body is in memory: request.content, as build_request leaves it
        return request


# Headers build_request derives from the body unless the pool or the request sets them.
_BODY_HEADERS = frozenset({b"content-length", b"transfer-encoding"})


def _template(
    defaults: list[tuple[bytes, bytes]], url: httpx.URL, names: tuple[str, ...]
) -> list[tuple[bytes, bytes]] | None:
    """What build_request() makes of the pool's headers *defaults* before the request's
    (*names*) are appended: a request header replaces the pool's of that name, and Host
    comes first unless the pool sets one. None when two *names* differ only in case
    (build_request keeps both), or when the pool or the request sets a header of the
    body's (build_request then keeps theirs)."""
    replaced = {name.lower().encode("ascii") for name in names}
    if len(replaced) < len(names) or not _BODY_HEADERS.isdisjoint(replaced):
        return None
    kept = [(name, value) for name, value in defaults if name.lower() not in replaced]
    if not _BODY_HEADERS.isdisjoint(name.lower() for name, _ in kept):
        return None
    if not any(name.lower() == b"host" for name, _ in kept):
        kept.insert(0, (b"Host", url.netloc))
    return kept


# The first httpcore trace event of a request that owns its connection: a new connection
# being opened for it, or request headers going out on a reused one (then ACTIVE).
_OWNS_CONNECTION = (
    ".connect_tcp.started",
    ".connect_unix_socket.started",
    ".send_request_headers.started",
)


async def _send_entering_alone(
    http: httpx.AsyncClient, request: httpx.Request, entry: anyio.Lock
) -> httpx.Response:
    """``http.send(request, stream=True)``, holding *entry* until the request owns its
    connection.

    httpcore 1.0's pool assigns a new request the first idle connection, which stays idle
    until that request, after a checkpoint, starts using it: every request arriving
    meanwhile is assigned the same connection, all but one find it busy and queue again,
    and the herd chases the next idle connection. With 50 calls in flight, 15 connections
    served them, throughput fell below that of one call in flight, and latencies reached
    seconds. One request at a time in that short section (a few µs, no I/O) ends it.
    """
    await entry.acquire()
    held = True

    async def trace(name: str, info: object) -> None:
        nonlocal held
        if held and name.endswith(_OWNS_CONNECTION):
            held = False
            entry.release()

    request.extensions["trace"] = trace
    try:
        return await http.send(request, stream=True)
    finally:
        if held:
            entry.release()


def pool_timeout(http: httpx.AsyncClient, timeout: httpx.Timeout | float | None) -> float | None:
    """How long a request may wait for a slot: the pool timeout of *timeout* (None: of
    *http*'s own), as waiting in httpx's pool would."""
    if timeout is None:
        return http.timeout.pool
    return httpx.Timeout(timeout).pool
