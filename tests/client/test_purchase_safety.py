"""Idempotency against the sandbox: the client replays only what it did not see succeed,
and never silently hands one call another call's purchase."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import anyio
import pytest
from fluz_graphql.input_types import PurchaseGiftCardInput

from fluz import (
    CallOptions,
    FluzClient,
    FluzError,
    InsufficientFundsError,
    TransportError,
    ValidationError,
    response_info,
)
from fluz.sandbox import Faults, SandboxServer

from .test_integration_sandbox import client_for, first_offer

pytestmark = pytest.mark.anyio


@pytest.fixture
async def fluz(fluz_sandbox: SandboxServer) -> Any:
    async with client_for(fluz_sandbox) as client:
        yield client


def spent(before: Any, after: Any) -> Decimal:
    return Decimal((before.gift_card + before.cash_total) - (after.gift_card + after.cash_total))


@pytest.mark.fluz_sandbox(faults=Faults(latency=0.3, operations=frozenset({"purchaseGiftCard"})))
async def test_concurrent_calls_sharing_an_input_never_return_one_purchase_twice(
    fluz_sandbox: SandboxServer, fluz: FluzClient
) -> None:
    slug, _ = await first_offer(fluz)
    shared = PurchaseGiftCardInput(merchantSlug=slug, amount=10)
    results: list[Any] = []
    refused: list[FluzError] = []

    async def buy() -> None:
        try:
            results.append(await fluz.purchase_gift_card(input=shared))
        except ValidationError as exc:
            refused.append(exc)

    async with anyio.create_task_group() as tg:
        for _ in range(3):
            tg.start_soon(buy)
    # One purchase, and the two other calls told so loudly: none of them silently got
    # the first call's purchase as its own.
    assert len(results) == 1
    assert len(refused) == 2
    assert all(isinstance(e, ValidationError) and e.rule == "input_in_flight" for e in refused)
    assert fluz_sandbox.counters().purchases == 1


async def test_an_input_reused_after_its_purchase_succeeded_buys_again(
    fluz_sandbox: SandboxServer, fluz: FluzClient
) -> None:
    slug, _ = await first_offer(fluz)
    before = fluz_sandbox.balances()
    template = PurchaseGiftCardInput(merchantSlug=slug, amount=10)
    first = await fluz.purchase_gift_card(input=template)
    second = await fluz.purchase_gift_card(input=template)
    third = await fluz.purchase_gift_card(input=template.model_copy())
    ids = {p.purchase_id for p in (first, second, third) if p is not None}
    assert len(ids) == 3
    keys = {response_info(p).idempotency_key for p in (first, second, third)}  # type: ignore[union-attr]
    assert len(keys) == 3
    assert fluz_sandbox.counters().purchases == 3
    assert spent(before, fluz_sandbox.balances()) == Decimal("30.00")


@pytest.mark.fluz_sandbox(
    faults=Faults(drop_after_commit_rate=1.0, limit=1, operations=frozenset({"purchaseGiftCard"}))
)
async def test_resending_an_input_after_an_unknown_outcome_replays_its_purchase(
    fluz_sandbox: SandboxServer,
) -> None:
    async with client_for(fluz_sandbox, max_retries=0) as fluz:
        slug, _ = await first_offer(fluz)
        before = fluz_sandbox.balances()
        request = PurchaseGiftCardInput(merchantSlug=slug, amount=10)
        with pytest.raises(TransportError) as caught:
            await fluz.purchase_gift_card(input=request)  # committed, response lost
        again = await fluz.purchase_gift_card(input=request)  # the naive retry
    assert again is not None
    assert response_info(again).idempotency_key == caught.value.idempotency_key  # type: ignore[union-attr]
    assert fluz_sandbox.counters().purchases == 1
    assert spent(before, fluz_sandbox.balances()) == Decimal("10.00")


@pytest.mark.fluz_sandbox(faults=Faults(latency=0.5, operations=frozenset({"purchaseGiftCard"})))
async def test_resending_an_input_after_a_cancelled_call_replays_its_purchase(
    fluz_sandbox: SandboxServer, fluz: FluzClient
) -> None:
    slug, _ = await first_offer(fluz)
    request = PurchaseGiftCardInput(merchantSlug=slug, amount=10)
    with anyio.move_on_after(0.2):
        await fluz.purchase_gift_card(input=request)  # cancelled while the server works
    key = request.idempotency_key
    again = await fluz.purchase_gift_card(input=request)
    assert again is not None
    assert request.idempotency_key == key
    assert fluz_sandbox.counters().purchases == 1


async def test_a_per_call_idempotency_key_leaves_the_input_untouched(
    fluz_sandbox: SandboxServer, fluz: FluzClient
) -> None:
    slug, _ = await first_offer(fluz)
    request = PurchaseGiftCardInput(merchantSlug=slug, amount=10)
    key = uuid.uuid4()
    first = await fluz.purchase_gift_card(input=request, idempotency_key=key)
    again = await fluz.purchase_gift_card(input=request, options=CallOptions(idempotency_key=key))
    assert first is not None
    assert again is not None
    assert first.purchase_id == again.purchase_id  # the caller's key: processed once
    assert request.idempotency_key is None
    assert response_info(first).idempotency_key == str(key)  # type: ignore[union-attr]
    assert fluz_sandbox.counters().purchases == 1


async def test_a_purchase_fluz_refused_gets_a_new_key_when_sent_again(
    fluz_sandbox: SandboxServer, fluz: FluzClient
) -> None:
    slug, _ = await first_offer(fluz)
    request = PurchaseGiftCardInput(merchantSlug=slug, amount=1500)  # more than the seeded balances
    with pytest.raises(InsufficientFundsError) as caught:
        await fluz.purchase_gift_card(input=request)
    refused_key = caught.value.idempotency_key
    assert caught.value.code == "BAL-0001"
    with pytest.raises(InsufficientFundsError) as again:
        await fluz.purchase_gift_card(input=request)
    assert again.value.idempotency_key != refused_key  # nothing was charged: a new attempt
