"""Short version of scenario 7 (``python -m tests.soak`` runs 10,000 pollers)."""

from __future__ import annotations

import pytest

from fluz.sandbox import SandboxServer

from ._canaries import SecretWatch
from ._scale import scale

pytestmark = pytest.mark.anyio


async def test_concurrent_pollers_poll_exactly_as_scheduled(
    fluz_sandbox: SandboxServer, secret_watch: SecretWatch
) -> None:
    result = await scale(fluz_sandbox, secret_watch, pollers=300, ready_spread=3.0)
    assert result.passed, result.explain()
    print(result.figures)
