"""Short versions of the fleet proofs (``make soak`` runs the full ones): worker
processes sharing one identity through Redis, and a renewer killed mid-renewal."""

from __future__ import annotations

import pytest

from fluz.sandbox import SandboxServer

from ._proof import renewer_killed_mid_renewal, workers_share_one_token


def test_eight_worker_processes_share_one_token_per_lifetime_fleet_wide(
    fluz_sandbox: SandboxServer, redis_url: str
) -> None:
    run = workers_share_one_token(
        fluz_sandbox, redis_url, workers=8, calls=30, seconds=6.0, token_ttl=4.0
    )
    print(run.summary())
    assert run.auth_errors == 0
    assert run.errors == 0
    assert run.ok == 8 * 30
    # Crossing at least one expiry: the first token and at least one renewal.
    assert run.tokens >= 2
    assert run.tokens <= run.most_tokens
    assert run.tokens - run.refreshes == 1  # one mint, then refreshes only


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # redis-py is asyncio-only
async def test_a_renewer_killed_mid_renewal_holds_the_others_up_at_most_one_lock_ttl(
    fluz_sandbox: SandboxServer, redis_url: str
) -> None:
    run = await renewer_killed_mid_renewal(fluz_sandbox, redis_url, lock_ttl=1.5)
    print(run.summary())
    assert run.tokens == 1  # the dead renewer never minted; the waiter did, once
    # The waiter respected the dead process's lock, then took over within one TTL
    # (plus its poll interval and the mint itself).
    assert run.recovered_after >= run.lock_left - 0.1
    assert run.recovered_after <= run.lock_ttl + 1.0
