"""Short version of scenario 6 (``python -m tests.soak`` cancels 1,000 times)."""

from __future__ import annotations

import pytest

from fluz.sandbox import SandboxServer

from ._canaries import SecretWatch
from ._cancellation import cancellation

pytestmark = pytest.mark.anyio


async def test_cancelled_calls_leak_nothing_and_purchases_reconcile(
    fluz_sandbox: SandboxServer, secret_watch: SecretWatch
) -> None:
    result = await cancellation(fluz_sandbox, secret_watch, cancels=150, concurrency=20)
    assert result.passed, result.explain()
    print(result.figures)
