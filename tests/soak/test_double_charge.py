"""Short version of scenario 1 (``python -m tests.soak`` runs 1,000 purchases)."""

from __future__ import annotations

import pytest

from fluz.sandbox import SandboxServer

from ._canaries import SecretWatch
from ._double_charge import no_double_charges

pytestmark = pytest.mark.anyio


async def test_no_purchase_is_charged_twice_or_lost(
    fluz_sandbox: SandboxServer, secret_watch: SecretWatch
) -> None:
    result = await no_double_charges(fluz_sandbox, secret_watch, purchases=150, concurrency=15)
    assert result.passed, result.explain()
    print(result.figures)
