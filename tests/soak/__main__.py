"""``python -m tests.soak`` (``make soak``): every scenario at full size, then a summary.

    python -m tests.soak [--quick] [--only 1,4,7] [--backend asyncio|trio]

The sandbox runs in its own process (see RemoteSandbox); each scenario starts from a reset
sandbox, in a fresh event loop, with DEBUG logging into the secret watch. Prints the
summary table (Markdown) and every check; exits 1 if any check failed.
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from collections.abc import Awaitable, Callable

import anyio

from ._canaries import SecretWatch
from ._cancellation import cancellation
from ._corpus import bad_input_corpus
from ._double_charge import no_double_charges
from ._fleet import fleet_on_redis
from ._harness import CANARY_PREFIX, RemoteSandbox, Result, SandboxHandle, summary_table
from ._scale import scale
from ._storm import transient_storms
from ._tokens import short_lived_tokens

Scenario = Callable[[SandboxHandle, SecretWatch], Awaitable[Result]]

# Full sizes, and the --quick sizes (those of the pytest short versions).
SCENARIOS: dict[str, tuple[Scenario, Scenario]] = {
    "1": (
        functools.partial(no_double_charges, purchases=1000, concurrency=50),
        functools.partial(no_double_charges, purchases=150, concurrency=15),
    ),
    "2": (
        functools.partial(transient_storms, calls=2000, concurrency=50),
        functools.partial(transient_storms, calls=300, concurrency=30),
    ),
    "3": (
        functools.partial(short_lived_tokens, calls=10_000, concurrency=50),
        functools.partial(short_lived_tokens, calls=600, concurrency=50),
    ),
    "4": (bad_input_corpus, bad_input_corpus),
    "6": (
        functools.partial(cancellation, cancels=1000, concurrency=25),
        functools.partial(cancellation, cancels=150, concurrency=20),
    ),
    "7": (
        functools.partial(scale, pollers=10_000),
        functools.partial(scale, pollers=300, ready_spread=3.0),
    ),
    "8": (
        functools.partial(fleet_on_redis, workers=8, calls=1000, seconds=60.0, token_ttl=8.0),
        functools.partial(fleet_on_redis, workers=8, calls=30, seconds=6.0, token_ttl=4.0),
    ),
}


def canary_result(watch: SecretWatch, seconds: float) -> Result:
    result = Result("5. secret canaries", "all scenarios above, DEBUG logging")
    result.figures = watch.figures()
    result.seconds = seconds
    result.check("the watch saw log lines", watch.log_lines > 0)
    result.check("no canary in any log line, repr or error text", not watch.leaks)
    if watch.leaks:
        result.figures["where"] = ", ".join(sorted(set(watch.leaks)))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.soak", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="the short (pytest) sizes")
    parser.add_argument("--only", default=",".join(SCENARIOS), help="scenario numbers")
    parser.add_argument("--backend", default="asyncio", choices=("asyncio", "trio"))
    args = parser.parse_args(argv)
    chosen = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = set(chosen) - set(SCENARIOS)
    if unknown:
        parser.error(
            f"unknown scenario(s) {', '.join(sorted(unknown))}: use {', '.join(SCENARIOS)}"
        )

    results: list[Result] = []
    started = time.perf_counter()
    with RemoteSandbox() as sandbox:
        watch = SecretWatch(CANARY_PREFIX)
        watch.add_api_key(sandbox.api_key)
        for number in chosen:
            scenario = SCENARIOS[number][1 if args.quick else 0]
            sandbox.reset()
            print(f"running scenario {number} ...", file=sys.stderr, flush=True)
            with watch.capturing():
                result = anyio.run(scenario, sandbox, watch, backend=args.backend)
            results.append(result)
            print(
                f"  {result.scenario}: {'pass' if result.passed else 'FAIL'} "
                f"in {result.seconds:.0f} s",
                file=sys.stderr,
                flush=True,
            )
    results.append(canary_result(watch, time.perf_counter() - started))
    results.sort(key=lambda r: r.scenario)

    print(
        f"fluz-client soak ({'quick' if args.quick else 'full'}, {args.backend}), "
        f"{time.perf_counter() - started:.0f} s\n"
    )
    print(summary_table(results))
    print()
    for result in results:
        for name, ok in result.checks.items():
            print(f"{'PASS' if ok else 'FAIL'}  {result.scenario}: {name}")
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
