"""Scenario 7, scale: thousands of concurrent ``reveal_gift_card`` pollers in one process.

The cards are seeded straight into the sandbox (no purchases: the pollers are what is
measured), ready at staggered times. All pollers start at once, so their polls queue:
in the client, and behind the server's throughput. Queueing only ever delays a poll, so
the exact check uses, for each poll, the instant the sandbox judged the card's readiness
(one read of its own clock, recorded with the poll: what the poll was answered is decided
by that instant alone, however long the request queued before or after it), per poller:

* the sandbox served exactly as many polls as the client reports making (no hidden,
  lost or doubled poll);
* every poll but the last was served before the card was ready, the last one after: the
  poller stopped at the first poll after readiness;
* consecutive polls were served at least the scheduled delay apart (0.3 s, 0.6 s, 1.2 s
  ...): it never polled before its delay had elapsed.

Also reported: how many pollers needed fewer polls than the unqueued schedule implies
(queueing pushed a poll past readiness), the queueing lag, peak RSS growth and CPU time.
"""

from __future__ import annotations

import itertools
import statistics
from typing import Any

import anyio
import httpx

from fluz import FluzError, GiftCardDetails
from fluz import _constants as C

from ._canaries import SecretWatch
from ._harness import CANARY_PREFIX, Result, SandboxHandle, Stopwatch, make_client, rss_bytes

READY_SPREAD = 60.0  # s: card i of n is ready (i / n) * ready_spread after seeding
# The sandbox clock and the client's sleeps use different clocks (time.time(), monotonic):
# allow them to disagree by this much when comparing poll spacing with the schedule.
CLOCK_TOLERANCE = 0.002
SAMPLE_EVERY = 0.25  # s between RSS samples
# Ten connections: httpcore's pool hands one idle connection to several waiting requests
# and retries the losers, which costs more CPU the more connections and requests are in
# it; on this 2-core machine more connections only lower throughput.
LIMITS = httpx.Limits(max_connections=10, max_keepalive_connections=10)


def scheduled_delay(poll: int) -> float:
    """The reveal backoff after poll number *poll* (1-based), as the client's defaults."""
    return min(C.REVEAL_INITIAL_DELAY * C.REVEAL_MULTIPLIER ** (poll - 1), C.REVEAL_MAX_DELAY)


def judge_poller(times: list[float], ready_at: float, attempts: int) -> dict[str, Any]:
    """Check one poller against the sandbox's record of its polls (see module doc)."""
    spacing = [
        later - earlier - scheduled_delay(n)
        for n, (earlier, later) in enumerate(itertools.pairwise(times), start=1)
    ]
    unqueued = 1  # polls the schedule implies if each were served the moment it was due
    due = times[0] if times else 0.0
    while due < ready_at:
        due += scheduled_delay(unqueued)
        unqueued += 1
    served_ready = sum(t >= ready_at for t in times)
    return {
        "count_matches": len(times) == attempts,
        "stopped_at_first_ready": bool(times) and served_ready == 1 and times[-1] >= ready_at,
        "polled_on_after_ready": served_ready > 1,
        "stopped_before_ready": not served_ready,
        "never_early": all(lag >= -CLOCK_TOLERANCE for lag in spacing),
        "lags": spacing,
        "unqueued": unqueued,
        "polls": len(times),
    }


async def scale(
    sandbox: SandboxHandle,
    watch: SecretWatch,
    *,
    pollers: int = 10_000,
    ready_spread: float = READY_SPREAD,
) -> Result:
    result = Result("7. scale", f"{pollers:,} concurrent pollers, ready over {ready_spread:g} s")
    sandbox.configure(canary_prefix=CANARY_PREFIX)
    delays = [ready_spread * i / pollers for i in range(pollers)]
    details: dict[str, GiftCardDetails] = {}
    errors: dict[str, int] = {}
    peak = 0

    async with make_client(sandbox, watch, limits=LIMITS) as fluz:
        await fluz.get_wallet()  # token and first connection: not part of the measurement
        ready = sandbox.add_gift_cards(delays)
        baseline = peak = rss_bytes()

        async def poll(card: str) -> None:
            try:
                details[card] = await fluz.reveal_gift_card(card)
            except FluzError as exc:
                watch.scan_object(exc, "reveal error")
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1

        async def sample_rss() -> None:
            nonlocal peak
            while True:
                peak = max(peak, rss_bytes())
                await anyio.sleep(SAMPLE_EVERY)

        with Stopwatch() as clock:
            async with anyio.create_task_group() as outer:
                outer.start_soon(sample_rss)
                async with anyio.create_task_group() as tg:
                    for card in ready:
                        tg.start_soon(poll, card)
                peak = max(peak, rss_bytes())
                outer.cancel_scope.cancel()
    counters = sandbox.counters()

    verdicts = [
        judge_poller(list(counters.reveal_poll_times.get(card, ())), at, details[card].attempts)
        for card, at in ready.items()
        if card in details
    ]
    for card in list(details)[:: max(1, pollers // 100)]:
        watch.scan_object(details[card], "GiftCardDetails")
    lags = [lag for v in verdicts for lag in v["lags"]]
    polls = sum(v["polls"] for v in verdicts)
    fewer = sum(v["polls"] < v["unqueued"] for v in verdicts)
    with_code = sum(bool(d.code and d.code.startswith(CANARY_PREFIX)) for d in details.values())
    result.seconds = clock.wall
    result.figures = {
        "revealed": f"{len(details)}/{pollers}",
        "polls": f"{polls:,} ({polls / max(len(verdicts), 1):.2f} per poller, "
        f"{polls / clock.wall:.0f}/s)",
        "peak RSS growth": f"{(peak - baseline) / 2**20:.0f} MiB "
        f"({(peak - baseline) / max(pollers, 1) / 1024:.1f} KiB per poller)",
        "CPU": f"{clock.cpu:.0f} s process ({clock.thread_cpu:.0f} s event-loop thread) "
        f"in {clock.wall:.0f} s",
        "queueing lag per poll": f"median {statistics.median(lags or [0]):.1f} s, "
        f"max {max(lags or [0]):.1f} s",
        "fewer polls than unqueued schedule": fewer,
        "errors": sum(errors.values()),
    }
    early = sum(v["stopped_before_ready"] for v in verdicts)
    late = sum(v["polled_on_after_ready"] for v in verdicts)
    if early or late:
        result.figures["pollers that stopped before readiness / polled on after it"] = (
            f"{early} / {late}"
        )
    result.check("every poller revealed its card", len(details) == pollers and not errors)
    result.check("each card's details arrived", with_code == len(details))
    result.check("sandbox polls == client attempts", all(v["count_matches"] for v in verdicts))
    result.check(
        "each stopped at the first poll after readiness",
        all(v["stopped_at_first_ready"] for v in verdicts),
    )
    result.check("none polled before its delay", all(v["never_early"] for v in verdicts))
    return result
