"""Sending one request: a bounded number inside httpx at once, a bounded response size."""

from __future__ import annotations

from typing import Any

import anyio
import httpx


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
    here costs nothing per waiter. The semaphore is made on first use, inside the event
    loop, and shared by every view of a client (they share the pool too).
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._semaphore: anyio.Semaphore | None = None

    def semaphore(self) -> anyio.Semaphore:
        if self._semaphore is None:
            self._semaphore = anyio.Semaphore(self.size)
        return self._semaphore


_SEND_OPTIONS = ("auth", "follow_redirects")  # httpx.AsyncClient.send(), not build_request()


async def post(
    http: httpx.AsyncClient,
    url: str,
    *,
    content: bytes,
    headers: dict[str, str],
    slots: RequestSlots,
    max_bytes: int,
    **options: Any,
) -> tuple[httpx.Response, bytes]:
    """POST *content* and read the whole (decoded) body; options as for ``http.post()``.

    Waiting for a free slot counts against the pool timeout, as waiting in httpx's pool
    would.

    Raises:
        httpx.RequestError: as ``http.post()`` (httpx.PoolTimeout when no slot came free).
        ResponseTooLarge: the body exceeds *max_bytes* (the connection is closed).
    """
    send_options = {k: options.pop(k) for k in _SEND_OPTIONS if k in options}
    semaphore = slots.semaphore()
    try:
        semaphore.acquire_nowait()  # a free slot: no checkpoint, as a plain http.post()
    except anyio.WouldBlock:
        try:
            with anyio.fail_after(_pool_timeout(http, options)):
                await semaphore.acquire()
        except TimeoutError:
            raise httpx.PoolTimeout("no request slot came free in time") from None
    try:
        # Built only now: thousands of waiting calls should not each hold a request.
        request = http.build_request("POST", url, content=content, headers=headers, **options)
        response = await http.send(request, stream=True, **send_options)
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
    return response, b"".join(chunks)


def _pool_timeout(http: httpx.AsyncClient, options: dict[str, Any]) -> float | None:
    timeout = options.get("timeout", httpx.USE_CLIENT_DEFAULT)
    if timeout is httpx.USE_CLIENT_DEFAULT:
        return http.timeout.pool
    return httpx.Timeout(timeout).pool
