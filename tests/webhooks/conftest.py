"""Fixtures of the webhook tests: a recording endpoint on a real loopback server."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from fluz.sandbox import SandboxServer

from .helpers import Api, AsgiServer, RecordingEndpoint


@pytest.fixture
def endpoint() -> Iterator[tuple[RecordingEndpoint, str]]:
    recorder = RecordingEndpoint()
    with AsgiServer(recorder) as server:
        yield recorder, server.url


@pytest.fixture
def api(fluz_sandbox: SandboxServer) -> Iterator[Api]:
    with httpx.Client(timeout=10) as http:
        yield Api(fluz_sandbox, http)
