"""Scenario 4 in full (it is quick): the bad-input corpus, case by case."""

from __future__ import annotations

import pytest

from fluz.sandbox import SandboxServer

from ._canaries import SecretWatch
from ._corpus import bad_input_corpus

pytestmark = pytest.mark.anyio


async def test_every_bad_input_and_response_gives_a_typed_error(
    fluz_sandbox: SandboxServer, secret_watch: SecretWatch
) -> None:
    result = await bad_input_corpus(fluz_sandbox, secret_watch)
    assert result.passed, result.explain()
