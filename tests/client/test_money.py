"""Money is Decimal end to end: what the caller passes is what is validated, sent, charged
and returned (FluzClient against the sandbox over loopback HTTP)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from fluz_graphql.input_types import PurchaseGiftCardInput

from fluz import FluzClient, ValidationError
from fluz.sandbox import SandboxServer
from fluz.sandbox._errors import SandboxError
from fluz.sandbox._resolvers._common import money as sandbox_money

pytestmark = pytest.mark.anyio


@pytest.fixture
async def fluz(fluz_sandbox: SandboxServer) -> AsyncIterator[FluzClient]:
    async with FluzClient(
        api_key=fluz_sandbox.api_key,
        user_id=fluz_sandbox.user_id,
        account_id=fluz_sandbox.account_id,
        url=fluz_sandbox.url,
        retry_base_delay=0.005,
    ) as client:
        yield client


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (Decimal("19.99"), Decimal("19.99")),
        ("25.50", Decimal("25.50")),
        (7, Decimal("7")),
        (Decimal("1.10") * 3, Decimal("3.30")),  # Decimal arithmetic stays exact
    ],
)
async def test_a_decimal_amount_round_trips_exactly_through_the_sandbox(
    fluz: FluzClient, fluz_sandbox: SandboxServer, amount: Decimal | str | int, expected: Decimal
) -> None:
    before = fluz_sandbox.balances()
    purchase = await fluz.purchase_gift_card(
        input=PurchaseGiftCardInput(merchant_slug="amazon", amount=amount)
    )
    assert isinstance(purchase.purchase_amount, Decimal)
    assert purchase.purchase_amount == expected
    after = fluz_sandbox.balances()
    charged = (before.gift_card + before.cash_total) - (after.gift_card + after.cash_total)
    assert charged == expected  # the server charged exactly what the caller asked for
    wallet = await fluz.get_wallet()
    assert wallet.balances is not None
    cash = wallet.balances.cash_balance
    assert cash is not None
    assert isinstance(cash.available_balance, Decimal)


async def test_float_noise_is_refused_locally_and_nothing_is_sent(
    fluz: FluzClient, fluz_sandbox: SandboxServer
) -> None:
    # 1.1 * 3 == 3.3000000000000003: the old tolerance check passed it and sent the noise,
    # which Fluz refuses. Now the input cannot even be built.
    with pytest.raises(ValidationError) as caught:
        PurchaseGiftCardInput(merchant_slug="amazon", amount=1.1 * 3)  # type: ignore[arg-type]
    assert (caught.value.field, caught.value.rule) == ("amount", "max_2_decimals")
    assert fluz_sandbox.counters().requests == 0
    # A float whose shortest form has two decimals is exactly what gets sent and charged.
    purchase = await fluz.purchase_gift_card(
        input=PurchaseGiftCardInput(merchant_slug="amazon", amount=19.99)  # type: ignore[arg-type]
    )
    assert purchase.purchase_amount == Decimal("19.99")


async def test_client_check_and_sandbox_apply_the_same_amount_rule(
    fluz: FluzClient, fluz_sandbox: SandboxServer
) -> None:
    # An input built without validation (model_construct) is still checked before sending.
    raw = PurchaseGiftCardInput.model_construct(merchant_slug="amazon", amount=1.1 * 3)
    with pytest.raises(ValidationError) as caught:
        await fluz.purchase_gift_card(input=raw)
    assert (caught.value.field, caught.value.rule) == ("input.amount", "max_2_decimals")
    assert fluz_sandbox.counters().requests == 0
    # The sandbox's rule for what a foreign client might send: the same function, same words.
    with pytest.raises(SandboxError, match="amount must have at most 2 decimal places"):
        sandbox_money(1.1 * 3)
    assert sandbox_money(19.99) == Decimal("19.99")
