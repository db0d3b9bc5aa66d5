"""pytest plugin (entry point ``pytest11``): Fluz sandbox fixtures for any test suite.

Fixtures:

- ``fluz_sandbox``: a running sandbox, reset to its seeded state for each test. One server
  serves the whole session, so a test costs a reset (about a millisecond), not a start.
  Works in sync tests and in async tests on asyncio and trio (the server has its own
  thread and loop). Per-test options through the marker::

      @pytest.mark.fluz_sandbox(token_ttl=2, reveal_delay=0, faults=Faults(reset_rate=1, limit=1))
      def test_retry(fluz_sandbox): ...

  (any runtime SandboxOptions field, plus ``seed``; ``faults`` may be a Faults or a dict).
  Webhooks: ``webhook_urls=[f"{url}=APPROVAL_CREATE"]`` registers endpoints for the test,
  ``webhook_backoff=0.01`` makes retries fast; ``fluz_sandbox.webhook_secret`` signs.
- ``fluz_sandbox_factory``: ``factory(**options) -> SandboxServer`` starting a dedicated
  server (its own port and state) that stops at the end of the test.
- ``fluz_sandbox_session``: the session-wide server behind ``fluz_sandbox``, not reset.

This module imports nothing from the sandbox extra at pytest start-up: a suite without the
extra installed runs, and only tests that request these fixtures fail, saying what to
install.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from fluz.sandbox import SandboxServer

MARKER = "fluz_sandbox"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**options): options for the fluz_sandbox fixture "
        "(seed, token_ttl, reveal_delay, reveal_delay_by_merchant, reveal_jitter, "
        "issuer_delay, canary_prefix, faults, webhook_* options)",
    )


def _server_class() -> type[SandboxServer]:
    try:
        from fluz.sandbox import SandboxServer
    except ImportError as exc:
        missing = str(exc)
    else:
        return SandboxServer
    pytest.fail(
        "the Fluz sandbox fixtures need the sandbox extra: "
        f"pip install 'fluz-client[sandbox]' ({missing})",
        pytrace=False,
    )


@pytest.fixture(scope="session")
def fluz_sandbox_session() -> Iterator[SandboxServer]:
    with _server_class()() as server:
        yield server


@pytest.fixture
def fluz_sandbox(
    request: pytest.FixtureRequest, fluz_sandbox_session: SandboxServer
) -> SandboxServer:
    marker = request.node.get_closest_marker(MARKER)
    options: dict[str, Any] = dict(marker.kwargs) if marker else {}
    server = fluz_sandbox_session
    server.reset(seed=options.pop("seed", None))
    faults = options.pop("faults", None)
    if options:
        server.configure(**options)
    if isinstance(faults, dict):
        server.set_faults(**faults)
    elif faults is not None:
        server.set_faults(faults)
    return server


@pytest.fixture
def fluz_sandbox_factory() -> Iterator[Callable[..., SandboxServer]]:
    server_class = _server_class()
    started: list[SandboxServer] = []

    def start(**options: Any) -> SandboxServer:
        server = server_class(**options).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
