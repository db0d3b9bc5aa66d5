"""Sending one request: a bounded number inside httpx at once, a bounded response size."""

from __future__ import annotations

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

    def __init__(self, size: int, token_size: int = C.TOKEN_REQUEST_SLOTS) -> None:
        self.size = size
        self.token_size = token_size
        self._semaphore: anyio.Semaphore | None = None
        self._token_semaphore: anyio.Semaphore | None = None

    def semaphore(self, *, token_lane: bool = False) -> anyio.Semaphore:
        if token_lane:
            if self._token_semaphore is None:
                self._token_semaphore = anyio.Semaphore(self.token_size)
            return self._token_semaphore
        if self._semaphore is None:
            self._semaphore = anyio.Semaphore(self.size)
        return self._semaphore


async def post(
    http: httpx.AsyncClient,
    url: str,
    *,
    content: Sealed[bytes],
    headers: Sealed[dict[str, str]],
    slots: RequestSlots,
    max_bytes: int,
    timeout: httpx.Timeout | float | None = None,  # noqa: ASYNC109 (httpx's, per request)
    token_lane: bool = False,
) -> tuple[httpx.Response, Sealed[bytes]]:
    """POST *content* and read the whole (decoded) body. *timeout* None: the pool's.

    Waiting for a free slot counts against the pool timeout, as waiting in httpx's pool
    would. The body and headers stay sealed (see :class:`Sealed`) until handed to httpx.

    Raises:
        httpx.RequestError: as ``http.post()`` (httpx.PoolTimeout when no slot came free).
        ResponseTooLarge: the body exceeds *max_bytes* (the connection is closed).
    """
    semaphore = slots.semaphore(token_lane=token_lane)
    try:
        semaphore.acquire_nowait()  # a free slot: no checkpoint, as a plain http.post()
    except anyio.WouldBlock:
        try:
            with anyio.fail_after(_pool_timeout(http, timeout)):
                await semaphore.acquire()
        except TimeoutError:
            raise httpx.PoolTimeout("no request slot came free in time") from None
    try:
        # Built only now: thousands of waiting calls should not each hold a request.
        request = http.build_request(
            "POST",
            url,
            content=content.value,
            headers=headers.value,
            timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else timeout,
        )
        response = await http.send(request, stream=True)
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
    finally:
        semaphore.release()
    return response, Sealed(b"".join(chunks))


def _pool_timeout(http: httpx.AsyncClient, timeout: httpx.Timeout | float | None) -> float | None:
    if timeout is None:
        return http.timeout.pool
    return httpx.Timeout(timeout).pool
