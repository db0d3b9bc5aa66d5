"""Scenario 3, short-lived tokens: many calls from 50 concurrent tasks with 2-second tokens.

No call may surface an auth error: the client renews ahead of ``exp`` and, when a token
expires in flight anyway (queued behind other calls), renews once and replays. Renewals
must follow the clock (the client renews at half the lifetime of so short a token), never
the call count; after the first mint they go through the refresh token.
"""

from __future__ import annotations

from collections import Counter

from fluz_graphql.input_types import OffsetInput

from fluz import AuthenticationError, FluzClient, FluzError, PermissionDeniedError

from ._canaries import SecretWatch
from ._harness import CANARY_PREFIX, Result, SandboxHandle, Stopwatch, make_client, run_all

TOKEN_TTL = 2.0


async def _one_call(fluz: FluzClient, index: int) -> object:
    if index % 3 == 0:
        return await fluz.get_wallet()
    if index % 3 == 1:
        return await fluz.get_user_cash_balances()
    return await fluz.get_merchants(paginate=OffsetInput(limit=1))


async def short_lived_tokens(
    sandbox: SandboxHandle, watch: SecretWatch, *, calls: int = 10_000, concurrency: int = 50
) -> Result:
    result = Result("3. short-lived tokens", f"{calls:,} calls, {concurrency} tasks")
    sandbox.configure(canary_prefix=CANARY_PREFIX, token_ttl=TOKEN_TTL)
    errors: Counter[str] = Counter()
    auth_errors = 0
    start = sandbox.counters()
    async with make_client(sandbox, watch) as fluz:

        async def call(index: int) -> None:
            nonlocal auth_errors
            try:
                value = await _one_call(fluz, index)
            except FluzError as exc:
                watch.scan_object(exc, "call error")
                errors[type(exc).__name__] += 1
                auth_errors += isinstance(exc, AuthenticationError | PermissionDeniedError)
                return
            if index % 100 == 0:
                watch.scan_object(value, "call result")

        with Stopwatch() as clock:
            await run_all(range(calls), call, concurrency=concurrency)
        renewals = fluz.token_renewals
        watch.scan_object(fluz, "client")
    end = sandbox.counters()

    minted = end.tokens_minted - start.tokens_minted
    refreshed = end.token_refreshes - start.token_refreshes
    requests = end.requests - start.requests
    # Every request is a call, a renewal, or a call replayed after its token was refused.
    replays = requests - calls - minted
    # The clock bounds the renewals both ways. A token lives 2-3 s (exp is rounded up to a
    # whole second) and is renewed at half its lifetime, so at most one renewal per second,
    # plus one per refusal in flight; and no token outlives 3 s, so at least one per 3 s.
    most = 1 + clock.wall / (TOKEN_TTL / 2) + replays
    least = int(clock.wall // (TOKEN_TTL + 1))
    result.seconds = clock.wall
    result.figures = {
        "duration": f"{clock.wall:.0f} s",
        "auth errors surfaced": auth_errors,
        "other errors": sum(errors.values()) - auth_errors,
        "tokens": f"{minted} = {minted - refreshed} mint + {refreshed} refreshes "
        f"({least}..{most:.0f} for the duration)",
        "calls per token": f"{calls / max(minted, 1):.0f}",
        "replayed after refusal": replays,
    }
    result.check("no auth error reached a caller", auth_errors == 0)
    result.check("no error at all reached a caller", not errors)
    result.check("renewals follow the clock", least <= minted <= most)
    result.check("renewals do not follow the calls", minted * 10 < calls)
    result.check("the client counted the same renewals", renewals == minted)
    result.check("renewals after the first use the refresh token", refreshed == minted - 1)
    return result
