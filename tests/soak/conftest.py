"""Fixtures of the short soak runs: every test runs under a secret watch."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fluz.sandbox import SandboxServer

from ._canaries import SecretWatch
from ._harness import CANARY_PREFIX


@pytest.fixture
def secret_watch(fluz_sandbox: SandboxServer) -> Iterator[SecretWatch]:
    """A watch for the test's sandbox canaries; the test fails if any leaked."""
    watch = SecretWatch(CANARY_PREFIX)
    watch.add_api_key(fluz_sandbox.api_key)
    with watch.capturing():
        yield watch
    assert not watch.leaks, f"secrets leaked into: {sorted(set(watch.leaks))}"
