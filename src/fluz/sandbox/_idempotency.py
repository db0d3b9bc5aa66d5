"""Idempotency keys: a repeated request gets the original result and never acts twice.

Keys are scoped per (app, account). The first request with a key runs; requests with the same
key that arrive while it runs wait for its outcome (an in-flight future), and later ones get
the stored result. The same key with a different request (another operation, or any input
field other than the key differing) is rejected with IDEM-0001. Only successes are stored: a
request that failed changed nothing, so its key may be used again.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ._errors import IDEMPOTENCY_CONFLICT, SandboxError

IDEMPOTENT_OPERATIONS = frozenset(
    {
        "purchaseGiftCard",
        "depositCashBalance",
        "withdrawCashBalance",
        "transferInternalBalance",
        "createTransfer",
        "closeUserCashBalance",
        "createVirtualCard",
        "requestAccountTransfer",
    }
)


def fingerprint(operation: str, arguments: Mapping[str, Any]) -> str:
    """A canonical text of the request, without the key itself."""

    def strip(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: strip(v) for k, v in value.items() if k != "idempotency_key"}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return json.dumps([operation, strip(arguments)], sort_keys=True, default=str)


@dataclass
class _Entry:
    fingerprint: str
    outcome: asyncio.Future[Any]


class IdempotencyStore:
    def __init__(self) -> None:
        self._entries: dict[tuple[str, str, str], _Entry] = {}

    def clear(self) -> None:
        self._entries.clear()

    async def run(
        self,
        scope: tuple[str, str],
        key: str,
        request_fingerprint: str,
        execute: Callable[[], Awaitable[Any]],
    ) -> Any:
        """The stored or in-flight result for ``key``, or the result of ``execute()``."""
        slot = (*scope, key)
        entry = self._entries.get(slot)
        if entry is not None:
            if entry.fingerprint != request_fingerprint:
                raise SandboxError(
                    IDEMPOTENCY_CONFLICT,
                    "idempotencyKey was already used with a different request; "
                    "use a new key for a new request",
                )
            # shield: a waiter going away must not cancel the shared outcome.
            return await asyncio.shield(entry.outcome)
        outcome: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._entries[slot] = _Entry(request_fingerprint, outcome)
        try:
            result = await execute()
        except BaseException as exc:
            if slot in self._entries and self._entries[slot].outcome is outcome:
                del self._entries[slot]
            if isinstance(exc, Exception):
                outcome.set_exception(exc)
                outcome.exception()  # retrieved: no "never retrieved" warning without waiters
            else:
                outcome.cancel()
            raise
        outcome.set_result(result)
        return result
