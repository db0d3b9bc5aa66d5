"""Short version of scenario 3 (``python -m tests.soak`` runs 10,000 calls)."""

from __future__ import annotations

import pytest

from fluz.sandbox import SandboxServer

from ._canaries import SecretWatch
from ._tokens import short_lived_tokens

pytestmark = pytest.mark.anyio


async def test_two_second_tokens_never_surface_an_auth_error(
    fluz_sandbox: SandboxServer, secret_watch: SecretWatch
) -> None:
    result = await short_lived_tokens(fluz_sandbox, secret_watch, calls=600, concurrency=50)
    assert result.passed, result.explain()
    print(result.figures)
