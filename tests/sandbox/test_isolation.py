"""One test's requests never leak into the next: a reset fences off work started before it."""

from __future__ import annotations

import time

import httpx
import pytest

from fluz.sandbox import Faults

from .helpers import PURCHASE, Api, new_key

LATENCY = 0.6


@pytest.mark.fluz_sandbox(
    faults=Faults(latency=LATENCY, operations=frozenset({"purchaseGiftCard"}))
)
def test_request_in_flight_across_reset_does_not_commit_into_the_fresh_state(api: Api) -> None:
    token = api.token()
    seeded = api.sandbox.balances()
    variables = {"input": {"idempotencyKey": new_key(), "merchantSlug": "amazon", "amount": 25}}
    headers = {"Authorization": f"Bearer {token}"}
    with pytest.raises(httpx.ReadTimeout):  # test A gives up; its purchase sleeps on
        api.http.post(
            api.sandbox.url,
            json={"query": PURCHASE, "variables": variables},
            headers=headers,
            timeout=LATENCY / 4,
        )
    api.sandbox.reset()  # the fixture, before test B
    time.sleep(LATENCY * 1.5)  # A's purchase wakes up meanwhile
    assert api.sandbox.counters().purchases == 0
    assert api.sandbox.balances() == seeded
    assert api.sandbox.counters().requests == 0  # test B sees only its own requests
