"""Connections are bounded: idle, trickling and surplus clients cannot hold the server.

Each test starts its own server with the limits shrunk to fractions of a second, so the
tests stay short; the figures at the real limits come from ``python -m tests.sandbox_abuse
sockets``.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import httpx
import pytest

from fluz.sandbox import SandboxServer, _runner, _server

SHORT = 0.5
PATIENCE = 4.0  # far above SHORT: only a server that never closes fails
Factory = Callable[..., SandboxServer]


@pytest.fixture
def short_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_runner, "HEADERS_TIMEOUT", SHORT, raising=False)
    monkeypatch.setattr(_server, "BODY_TIMEOUT", SHORT, raising=False)


@pytest.fixture
def server(short_limits: None, fluz_sandbox_factory: Factory) -> SandboxServer:
    return fluz_sandbox_factory()


def connect(sandbox: SandboxServer) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", sandbox.port), timeout=PATIENCE)
    return sock


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes; TimeoutError if it never does."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def test_a_connection_that_sends_nothing_is_closed_after_the_headers_timeout(
    server: SandboxServer,
) -> None:
    with connect(server) as sock:
        started = time.monotonic()
        assert read_until_closed(sock) == b""
        assert time.monotonic() - started < PATIENCE


def test_headers_trickled_slower_than_the_headers_timeout_are_cut_off(
    server: SandboxServer,
) -> None:
    request = b"POST /api/v1/graphql HTTP/1.1\r\nhost: 127.0.0.1\r\n"
    with connect(server) as sock:
        started = time.monotonic()
        cut_off = False
        for byte in request * 4:  # 4 x SHORT's worth of trickling, if it were let through
            try:
                sock.sendall(bytes([byte]))
            except OSError:  # broken pipe / reset: the server has closed
                cut_off = True
                break
            time.sleep(SHORT / 32)
        assert cut_off
        assert time.monotonic() - started < PATIENCE


def test_a_keep_alive_connection_gets_the_headers_timeout_again_after_a_response(
    server: SandboxServer,
) -> None:
    with connect(server) as sock:
        body = b'{"query": "{ marco }"}'
        sock.sendall(
            b"POST /api/v1/graphql HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: "
            b"application/json\r\ncontent-length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )
        answered = read_until_closed(sock)
    assert answered.startswith(b"HTTP/1.1 200")


def test_a_body_trickled_slower_than_the_body_timeout_gets_408_and_is_closed(
    server: SandboxServer,
) -> None:
    with connect(server) as sock:
        sock.sendall(
            b"POST /api/v1/graphql HTTP/1.1\r\nhost: 127.0.0.1\r\n"
            b"content-type: application/json\r\ncontent-length: 64\r\n\r\n"
        )
        started = time.monotonic()
        answer = b""
        try:
            for _ in range(64):
                sock.sendall(b" ")
                time.sleep(SHORT / 4)
        except OSError:
            pass
        answer = read_until_closed(sock)
        assert time.monotonic() - started < PATIENCE * 2
    assert answer.startswith(b"HTTP/1.1 408")
    assert b"connection: close" in answer.lower()


def test_at_the_connection_cap_the_longest_idle_connection_makes_room(
    monkeypatch: pytest.MonkeyPatch, fluz_sandbox_factory: Factory
) -> None:
    monkeypatch.setattr(_runner, "MAX_CONNECTIONS", 4, raising=False)
    sandbox = fluz_sandbox_factory()
    idle = [connect(sandbox) for _ in range(4)]
    try:
        time.sleep(0.1)
        response = httpx.post(sandbox.url, json={"query": "{ marco }"}, timeout=PATIENCE)
        assert response.status_code == 200
        assert read_until_closed(idle[0]) == b""  # the oldest idle one was closed
    finally:
        for sock in idle:
            sock.close()


def test_the_uvicorn_limits_are_set() -> None:
    config = _runner.uvicorn_config(None)  # type: ignore[arg-type]
    assert config.timeout_keep_alive == _runner.KEEP_ALIVE_TIMEOUT
    assert config.limit_concurrency == _runner.connection_cap()
    assert config.h11_max_incomplete_event_size == _runner.MAX_HEADER_BYTES


def test_a_burst_of_idle_connections_is_trimmed_to_the_cap(
    monkeypatch: pytest.MonkeyPatch, fluz_sandbox_factory: Factory
) -> None:
    # Connections accepted in one batch must each evict a different idle one: otherwise a
    # burst exhausts the process's file descriptors (300 idle sockets under ulimit -n 256).
    monkeypatch.setattr(_runner, "MAX_CONNECTIONS", 4, raising=False)
    sandbox = fluz_sandbox_factory()
    burst = [connect(sandbox) for _ in range(24)]
    try:
        time.sleep(0.5)
        for sock in burst:
            sock.setblocking(False)
        still_open = 0
        for sock in burst:
            try:
                closed = sock.recv(1) == b""
            except BlockingIOError:
                closed = False
            except OSError:
                closed = True
            still_open += not closed
        assert still_open <= 4
        response = httpx.post(sandbox.url, json={"query": "{ marco }"}, timeout=PATIENCE)
        assert response.status_code == 200
    finally:
        for sock in burst:
            sock.close()
