"""Using the Fluz sandbox in your own pytest suite.

Installing ``fluz-client[sandbox]`` registers a pytest plugin: the ``fluz_sandbox``
fixture is a running, Fluz-compatible server on loopback, reset to its seeded state for
every test (one server per session, so a test costs a reset, not a start). The
``fluz_sandbox`` marker sets per-test options: delays, token lifetime, injected faults.

    pytest examples/test_sandbox_fixture.py
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from fluz_graphql.input_types import PurchaseGiftCardInput

from fluz import FluzClient, RevealTimeoutError
from fluz.sandbox import Faults, SandboxServer

pytestmark = pytest.mark.anyio  # anyio runs them on asyncio, and on trio when installed


# --- the code under test: a piece of your service --------------------------------------
async def send_reward(fluz: FluzClient, slug: str, amount: Decimal | int) -> str:
    """Buy a gift card and return its code (your service would email it)."""
    result = await fluz.purchase_and_reveal(
        PurchaseGiftCardInput(merchant_slug=slug, amount=amount)
    )
    assert result.details.code is not None
    return result.details.code


# --- fixtures -------------------------------------------------------------------------
@pytest.fixture
async def fluz(fluz_sandbox: SandboxServer) -> AsyncIterator[FluzClient]:
    async with FluzClient(
        api_key=fluz_sandbox.api_key,
        user_id=fluz_sandbox.user_id,
        account_id=fluz_sandbox.account_id,
        url=fluz_sandbox.url,
        retry_base_delay=0.01,  # keep retries quick in tests
    ) as client:
        yield client


# --- tests ----------------------------------------------------------------------------
@pytest.mark.fluz_sandbox(reveal_delay=0.2)
async def test_send_reward_buys_one_card(fluz: FluzClient, fluz_sandbox: SandboxServer) -> None:
    before = fluz_sandbox.balances().cash_total

    code = await send_reward(fluz, "amazon", 25)

    assert len(code) >= 8
    assert fluz_sandbox.counters().purchases == 1
    assert fluz_sandbox.balances().cash_total == before - 25


@pytest.mark.fluz_sandbox(
    reveal_delay=0,
    # The purchase is committed, then the connection is reset before the answer: the
    # client retries with the same idempotency key and Fluz replays the first result.
    faults=Faults(drop_after_commit_rate=1.0, operations=frozenset({"purchaseGiftCard"}), limit=1),
)
async def test_a_lost_response_never_charges_twice(
    fluz: FluzClient, fluz_sandbox: SandboxServer
) -> None:
    await send_reward(fluz, "amazon", 10)

    assert fluz_sandbox.counters().faults["drop_after_commit"] == 1
    assert fluz_sandbox.counters().purchases == 1


@pytest.mark.fluz_sandbox(reveal_delay=60)
async def test_slow_card_details_time_out(fluz: FluzClient) -> None:
    with pytest.raises(RevealTimeoutError) as caught:
        await fluz.purchase_and_reveal(
            PurchaseGiftCardInput(merchant_slug="amazon", amount=5), timeout=0.2
        )
    # The purchase went through: the error carries it, so the service can reveal later.
    assert caught.value.purchase is not None
