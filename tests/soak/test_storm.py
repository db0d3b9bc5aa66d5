"""Short version of scenario 2 (``python -m tests.soak`` runs 2,000 calls)."""

from __future__ import annotations

import pytest

from fluz.sandbox import SandboxServer

from ._canaries import SecretWatch
from ._storm import transient_storms

pytestmark = pytest.mark.anyio


async def test_storms_are_survived_and_unkeyed_mutations_never_retried(
    fluz_sandbox: SandboxServer, secret_watch: SecretWatch
) -> None:
    result = await transient_storms(fluz_sandbox, secret_watch, calls=300, concurrency=30)
    assert result.passed, result.explain()
    print(result.figures)
