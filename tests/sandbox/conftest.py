"""Fixtures of the sandbox's own tests (the fluz_sandbox fixtures come from the plugin)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from fluz.sandbox import SandboxServer

from .helpers import Api


@pytest.fixture
def api(fluz_sandbox: SandboxServer) -> Iterator[Api]:
    with httpx.Client(timeout=10) as http:
        yield Api(fluz_sandbox, http)
