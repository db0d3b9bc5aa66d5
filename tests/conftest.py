"""Shared pytest configuration: every async test runs on asyncio and on trio; the
per-class plans of the input checks and of the idempotency keys are made anew by each test.
"""

from collections.abc import Iterator

import pytest

from fluz import _idempotency, _validation


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(autouse=True)
def fresh_class_plans() -> Iterator[None]:
    """Each test makes the per-class plans it uses (fluz._validation._plans,
    fluz._idempotency._key_kinds) with the code under test: with plans kept from an earlier
    test, a mutant of the code making them (``make mutate``) would go unexercised."""
    _validation._plans.clear()
    _idempotency._key_kinds.clear()
    return
