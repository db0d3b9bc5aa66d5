"""Fixtures of the example tests."""

from __future__ import annotations

import pytest

from fluz.sandbox import SandboxServer

from .helpers import sandbox_environ


@pytest.fixture
def sandbox(fluz_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> SandboxServer:
    """The sandbox, with the FLUZ_* environment the examples read pointing at it."""
    for name, value in sandbox_environ(fluz_sandbox).items():
        monkeypatch.setenv(name, value)
    for name in ("FLUZ_ENVIRONMENT", "FLUZ_SEAT_ID", "FLUZ_SCOPES"):
        monkeypatch.delenv(name, raising=False)
    return fluz_sandbox
