"""Scenario 1, no double charges: purchases while the sandbox commits and then drops 30% of
purchase responses and resets 10% of connections before doing anything.

Each logical purchase is one input object, hence one idempotency key. The client retries
within its budget; a purchase that still fails must raise a typed error carrying that key,
and is reconciled the way a service would after a crash: by sending the same input (same
key) again until it succeeds. Afterwards the sandbox must hold exactly one purchase per
logical purchase, and the balance must have dropped by exactly their sum.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from fluz_graphql.input_types import DepositCashBalanceInput, PurchaseGiftCardInput

from fluz import FluzError, response_info
from fluz.sandbox import Faults

from ._canaries import SecretWatch
from ._harness import CANARY_PREFIX, Result, SandboxHandle, Stopwatch, make_client, run_all

DROP_AFTER_COMMIT_RATE = 0.3
RESET_RATE = 0.1
MAX_RETRIES = 2  # the client default: the rest is left to reconciliation on purpose
MAX_REPLAYS = 20  # a reconciliation that needs more is reported as lost


async def no_double_charges(
    sandbox: SandboxHandle, watch: SecretWatch, *, purchases: int = 1000, concurrency: int = 50
) -> Result:
    result = Result("1. no double charges", f"{purchases:,} purchases")
    sandbox.configure(canary_prefix=CANARY_PREFIX, reveal_delay=0)
    amounts = [Decimal(5 + i % 20) for i in range(purchases)]
    inputs = [
        PurchaseGiftCardInput(merchantSlug="amazon", amount=float(a), memo=f"soak-{i}")
        for i, a in enumerate(amounts)
    ]
    outcome: dict[int, uuid.UUID] = {}  # logical purchase -> purchase id
    reconciled = 0
    lost = 0
    keyed_errors = 0
    client_retries = 0
    error_kinds: dict[str, int] = {}

    async with make_client(
        sandbox, watch, max_retries=MAX_RETRIES, retry_base_delay=0.01, retry_max_delay=0.05
    ) as fluz:
        # Fund the spend account first (no faults yet): enough for every purchase once.
        await fluz.deposit_cash_balance(
            input=DepositCashBalanceInput(
                amount=float(sum(amounts)), bankAccountId=sandbox.seed_data.bank_account_id
            )
        )
        before = sandbox.balances().cash_total
        start_counters = sandbox.counters()
        sandbox.set_faults(
            Faults(
                drop_after_commit_rate=DROP_AFTER_COMMIT_RATE,
                reset_rate=RESET_RATE,
                operations=frozenset({"purchaseGiftCard"}),
            )
        )

        async def buy(index: int) -> None:
            nonlocal reconciled, lost, keyed_errors, client_retries
            request = inputs[index]
            for replay in range(MAX_REPLAYS + 1):
                try:
                    purchase = await fluz.purchase_gift_card(input=request)
                except FluzError as exc:
                    watch.scan_object(exc, "purchase error")
                    error_kinds[type(exc).__name__] = error_kinds.get(type(exc).__name__, 0) + 1
                    if exc.idempotency_key == str(request.idempotency_key):
                        keyed_errors += 1
                    if replay == 0:
                        reconciled += 1
                    continue
                info = response_info(purchase)
                client_retries += (info.attempts - 1) if info else 0
                watch.scan_object(purchase, "purchase result")
                assert purchase is not None
                outcome[index] = purchase.purchase_id
                return
            lost += 1

        with Stopwatch() as clock:
            await run_all(range(purchases), buy, concurrency=concurrency)
        sandbox.clear_faults()
        end_counters = sandbox.counters()
        after = sandbox.balances().cash_total
        # Every purchase the sandbox holds, by memo: each logical purchase exactly once.
        by_memo: dict[str, list[uuid.UUID]] = {}
        async for item in fluz.iter_user_purchases():
            if item.memo and item.memo.startswith("soak-"):
                by_memo.setdefault(item.memo, []).append(item.purchase_id)

    created = end_counters.purchases - start_counters.purchases
    failed_calls = sum(error_kinds.values())
    requests = end_counters.requests_by_operation.get(
        "purchaseGiftCard", 0
    ) - start_counters.requests_by_operation.get("purchaseGiftCard", 0)
    duplicates = sum(len(ids) for ids in by_memo.values()) - len(by_memo)
    distinct_sum = sum(amounts[i] for i in outcome)
    debited = before - after
    faults = {
        k: end_counters.faults.get(k, 0) - start_counters.faults.get(k, 0)
        for k in ("drop_after_commit", "reset")
    }
    matches = all(by_memo.get(f"soak-{i}") == [pid] for i, pid in outcome.items())

    result.seconds = clock.wall
    result.figures = {
        "purchases created": created,
        "duplicates": duplicates,
        "debited": f"${debited}",
        "sum of distinct purchases": f"${distinct_sum:.2f}",
        "faults injected": f"{faults['drop_after_commit']} drops after commit, "
        f"{faults['reset']} resets",
        "retries used": f"{client_retries} in-call + {failed_calls} failed calls replayed "
        f"({requests} purchase requests for {purchases} purchases)",
        "needed reconciliation": reconciled,
        "lost": lost + (purchases - len(outcome)),
    }
    result.check("every logical purchase succeeded or was reconciled", len(outcome) == purchases)
    result.check("each purchase exists exactly once at the sandbox", created == purchases)
    result.check("no duplicates", duplicates == 0)
    result.check("the purchase each call returned is the one the sandbox holds", matches)
    result.check("debits equal the sum of distinct purchases", debited == distinct_sum)
    result.check("every failure carried its idempotency key", keyed_errors == failed_calls)
    result.check("faults were injected", faults["drop_after_commit"] > 0 and faults["reset"] > 0)
    return result
