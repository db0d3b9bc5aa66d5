"""Scenario 5, secret canaries: a watch every other scenario runs under.

Secrets are known values (the API key, every user token and refresh token the client
receives) or carry the canary prefix (every gift-card code, PIN and redemption URL the
sandbox makes, and the secrets of the bad-input corpus). The watch is a handler on the
root logger at DEBUG, so it sees every log line of fluz, httpx, httpcore, anyio and the
sandbox; scenarios also pass it the reprs and exception texts they meet. Any canary in
any of them is a leak.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import logging
import re
import traceback
from collections.abc import Iterator
from typing import Any

import httpx

from fluz import FluzClient

_MIN_SECRET = 8  # shorter known values would match ordinary text
_TOKEN_FIELDS = ("token", "accessToken", "refreshToken")


class SecretWatch(logging.Handler):
    """Counts what it scanned and records where a canary appeared (never the canary)."""

    def __init__(self, marker: str) -> None:
        super().__init__(level=logging.DEBUG)
        self.marker = marker
        self.known: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.log_lines = 0
        self.texts = 0
        self.leaks: list[str] = []

    # -- what is secret -------------------------------------------------------------------

    def add(self, *secrets: str | None) -> None:
        """Treat these values (and, for a JWT, its payload and signature) as canaries."""
        for secret in secrets:
            if not secret or len(secret) < _MIN_SECRET or secret in self.known:
                continue
            self.known.add(secret)
            parts = secret.split(".")
            if len(parts) == 3:  # a JWT: its header is the same for every token, not secret
                self.known.update(p for p in parts[1:] if len(p) >= _MIN_SECRET)
            self._pattern = None

    def add_api_key(self, api_key: str) -> None:
        """The API key, and the app secret inside it (base64 of ``app_id:app_secret``)."""
        self.add(api_key)
        with contextlib.suppress(binascii.Error, UnicodeDecodeError):
            self.add(base64.b64decode(api_key, validate=True).decode().partition(":")[2])

    def instrument(self, client: FluzClient) -> None:
        """Learn every user token and refresh token *client* receives, as it arrives.

        Uses an httpx response hook on the client's own pool (a private attribute:
        instrumentation only)."""
        http: httpx.AsyncClient = client._http
        hooks = http.event_hooks
        http.event_hooks = {**hooks, "response": [*hooks.get("response", []), self._on_response]}

    async def _on_response(self, response: httpx.Response) -> None:
        if b"UserAccessToken" not in response.request.content:
            return
        await response.aread()
        try:
            data = json.loads(response.content).get("data") or {}
        except (ValueError, AttributeError):
            return
        for payload in data.values() if isinstance(data, dict) else ():
            if isinstance(payload, dict):
                self.add(*(str(payload.get(f) or "") for f in _TOKEN_FIELDS))

    # -- where secrets must not be ------------------------------------------------------

    def scan(self, text: str, where: str) -> None:
        """Record a leak if *text* contains a canary."""
        if self._pattern is None:
            # The marker followed by a secret character: "CANARY-[REDACTED]" is no leak.
            alternatives = [re.escape(self.marker) + "[A-Za-z0-9]"]
            alternatives += map(re.escape, sorted(self.known, key=len, reverse=True))
            self._pattern = re.compile("|".join(alternatives))
        if self._pattern.search(text):
            self.leaks.append(where)

    def scan_object(self, value: Any, where: str) -> None:
        """Scan ``repr(value)`` (and ``str()``, plus the traceback, of an exception)."""
        self.texts += 1
        self.scan(repr(value), f"repr of {where}")
        if isinstance(value, BaseException):
            self.scan(str(value), f"str of {where}")
            self.scan("".join(traceback.format_exception(value)), f"traceback of {where}")

    def emit(self, record: logging.LogRecord) -> None:
        self.log_lines += 1
        text = record.getMessage()
        if record.exc_info:
            text += "".join(traceback.format_exception(*record.exc_info))
        self.scan(text, f"log line of {record.name}")

    @contextlib.contextmanager
    def capturing(self) -> Iterator[SecretWatch]:
        """Install on the root logger at DEBUG for the block."""
        root = logging.getLogger()
        level = root.level
        root.addHandler(self)
        root.setLevel(logging.DEBUG)
        try:
            yield self
        finally:
            root.removeHandler(self)
            root.setLevel(level)

    def figures(self) -> dict[str, Any]:
        return {
            "log lines scanned": self.log_lines,
            "reprs/errors scanned": self.texts,
            "canary values": len(self.known),
            "leaks": len(self.leaks),
        }
