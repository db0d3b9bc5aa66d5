"""Scenario 2, transient storms: 30% of all responses are HTTP 503 or 429 with Retry-After.

A mix of queries and keyed (idempotent) mutations must all succeed within the retry budget
configured here. Interleaved mutations without an idempotency key must never be retried:
the sandbox's request count per operation is compared with the calls made (and, for the
retried operations, with the attempts each result reports).
"""

from __future__ import annotations

import random
import statistics
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from fluz_graphql.input_types import (
    DepositCashBalanceInput,
    OffsetInput,
    PurchaseGiftCardInput,
    UpdateBankCardNicknameInput,
    UpdateUserCashBalanceInput,
)

from fluz import FluzClient, FluzError, RateLimitedError, ServerError, response_info
from fluz.sandbox import Faults

from ._canaries import SecretWatch
from ._harness import CANARY_PREFIX, Result, SandboxHandle, Stopwatch, make_client, run_all

UNAVAILABLE_RATE = 0.15
RATE_LIMITED_RATE = 0.15
RETRY_AFTER = 1.0  # seconds, as a real server would send (an integer)
# 0.3**11 * 2,000 calls = 0.004 expected failures: the budget a 30% storm needs.
MAX_RETRIES = 10
UNKEYED_SHARE = 0.1  # unkeyed mutations interleaved, on top of the measured calls

Call = Callable[[FluzClient], Awaitable[Any]]


def _retried_calls(sandbox: SandboxHandle) -> dict[str, tuple[str, Call]]:
    """Queries and keyed mutations, by name: (root field, call)."""
    seeds = sandbox.seed_data
    return {
        "getWallet": ("getWallet", lambda f: f.get_wallet()),
        "getMerchants": ("getMerchants", lambda f: f.get_merchants(paginate=OffsetInput(limit=5))),
        "getGiftCards": ("getGiftCards", lambda f: f.get_gift_cards(paginate=OffsetInput(limit=5))),
        "getUserCashBalances": ("getUserCashBalances", lambda f: f.get_user_cash_balances()),
        "marco": ("marco", lambda f: f.marco()),
        "purchaseGiftCard": (
            "purchaseGiftCard",
            lambda f: f.purchase_gift_card(
                input=PurchaseGiftCardInput(merchantSlug="amazon", amount=1)
            ),
        ),
        "depositCashBalance": (
            "depositCashBalance",
            lambda f: f.deposit_cash_balance(
                input=DepositCashBalanceInput(amount=1, bankAccountId=seeds.bank_account_id)
            ),
        ),
    }


def _unkeyed_calls(sandbox: SandboxHandle) -> dict[str, tuple[str, Call]]:
    seeds = sandbox.seed_data
    return {
        "updateBankCardNickname": (
            "updateBankCardNickname",
            lambda f: f.update_bank_card_nickname(
                input=UpdateBankCardNicknameInput(bankCardId=seeds.bank_card_id, nickname="storm")
            ),
        ),
        "updateUserCashBalance": (
            "updateUserCashBalance",
            lambda f: f.update_user_cash_balance(
                input=UpdateUserCashBalanceInput(
                    userCashBalanceId=seeds.second_cash_balance_id, nickname="Storm"
                )
            ),
        ),
    }


async def transient_storms(
    sandbox: SandboxHandle, watch: SecretWatch, *, calls: int = 2000, concurrency: int = 50
) -> Result:
    result = Result("2. transient storms", f"{calls:,} calls")
    sandbox.configure(canary_prefix=CANARY_PREFIX)
    retried = _retried_calls(sandbox)
    unkeyed = _unkeyed_calls(sandbox)
    rng = random.Random(2)
    plan = [rng.choice(sorted(retried)) for _ in range(calls)]
    plan += [rng.choice(sorted(unkeyed)) for _ in range(int(calls * UNKEYED_SHARE))]
    rng.shuffle(plan)
    made: Counter[str] = Counter()  # calls per root field
    attempts: Counter[str] = Counter()  # HTTP attempts per root field, as results report
    retries_per_call: list[int] = []
    succeeded = 0
    failures: Counter[str] = Counter()  # retried operations that still failed, by error
    unkeyed_failures: Counter[str] = Counter()
    unkeyed_untyped = 0

    async with make_client(
        sandbox,
        watch,
        max_retries=MAX_RETRIES,
        retry_base_delay=0.02,
        retry_max_delay=0.5,
        max_retry_after=RETRY_AFTER,
    ) as fluz:
        await fluz.get_wallet()  # the token, before the storm (its mint is not measured)
        sandbox.add_gift_cards([0.0])  # so that getGiftCards returns an item to read
        start = sandbox.counters()
        sandbox.set_faults(
            Faults(
                unavailable_rate=UNAVAILABLE_RATE,
                rate_limited_rate=RATE_LIMITED_RATE,
                retry_after=RETRY_AFTER,
            )
        )

        async def call(name: str) -> None:
            nonlocal succeeded, unkeyed_untyped
            field, operation = (retried | unkeyed)[name]
            made[field] += 1
            try:
                value = await operation(fluz)
            except FluzError as exc:
                watch.scan_object(exc, f"{name} error")
                if name in unkeyed:
                    unkeyed_failures[type(exc).__name__] += 1
                    unkeyed_untyped += not isinstance(exc, ServerError | RateLimitedError)
                    attempts[field] += 1
                else:
                    failures[type(exc).__name__] += 1
                return
            watch.scan_object(value, f"{name} result")
            info = response_info(value[0] if isinstance(value, list) and value else value)
            # marco returns a plain string: it carries no metadata; count it separately.
            count = info.attempts if info else 0
            attempts[field] += count
            if name in retried:
                succeeded += 1
                if info:
                    retries_per_call.append(count - 1)

        with Stopwatch() as clock:
            await run_all(plan, call, concurrency=concurrency)
        sandbox.clear_faults()
        end = sandbox.counters()

    def served(field: str) -> int:
        return end.requests_by_operation.get(field, 0) - start.requests_by_operation.get(field, 0)

    unkeyed_made = sum(made[f] for f, _ in unkeyed.values())
    unkeyed_served = sum(served(f) for f, _ in unkeyed.values())
    measured = [f for f, _ in retried.values() if f != "marco"]
    mismatched = {f: (served(f), attempts[f]) for f in measured if served(f) != attempts[f]}
    faults = {k: end.faults.get(k, 0) - start.faults.get(k, 0) for k in end.faults}
    histogram = Counter(retries_per_call)
    result.seconds = clock.wall
    result.figures = {
        "success": f"{succeeded}/{calls} ({100 * succeeded / calls:.1f}%)",
        "retry budget": f"max_retries={MAX_RETRIES}, Retry-After {RETRY_AFTER:g} s honoured",
        "faults": f"{faults.get('unavailable', 0)} x 503, {faults.get('rate_limited', 0)} x 429",
        "retries per call": f"mean {statistics.fmean(retries_per_call or [0]):.2f}, "
        f"max {max(retries_per_call or [0])}, "
        f"0/1/2/3+: {histogram[0]}/{histogram[1]}/{histogram[2]}/"
        f"{sum(v for k, v in histogram.items() if k >= 3)}",
        "unkeyed mutations": f"{unkeyed_made} calls, {unkeyed_served} requests "
        f"({unkeyed_made - sum(unkeyed_failures.values())} ok, "
        f"{sum(unkeyed_failures.values())} failed without retry)",
    }
    if mismatched:
        result.figures["requests vs attempts"] = mismatched
    result.check("every query and keyed mutation succeeded", succeeded == calls and not failures)
    result.check("requests at the sandbox equal the attempts results report", not mismatched)
    result.check("no unkeyed mutation was retried", unkeyed_served == unkeyed_made)
    result.check("unkeyed failures are typed ServerError/RateLimitedError", unkeyed_untyped == 0)
    result.check(
        "the storm was injected (503s and 429s)",
        faults.get("unavailable", 0) > 0 and faults.get("rate_limited", 0) > 0,
    )
    return result
