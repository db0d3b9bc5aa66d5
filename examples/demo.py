"""`make demo`: the main job of fluz-client, step by step, with timings.

Mint a token, look up merchants and the best offer, buy a gift card with an idempotency
key, poll for its details with the documented backoff (0.3 s, 0.6 s, 1.2 s ...), then
replay the purchase with the same key and show that Fluz returned the same purchase and
charged once.

Where it runs:
  * without FLUZ_API_KEY in the environment: against a local sandbox it starts on a free
    loopback port (gift-card details appear --reveal-delay seconds after purchase) and
    stops at the end;
  * with FLUZ_API_KEY, FLUZ_USER_ID, FLUZ_ACCOUNT_ID and FLUZ_URL or FLUZ_ENVIRONMENT set:
    against that Fluz. That buys a real gift card, so --yes is required.

    python examples/demo.py [--slug starbucks] [--amount 25] [--show-secrets] [--sandbox]

Exit status: 0 on success, 1 when a step failed (the message says which and why), 2 for a
usage error.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import anyio
from fluz_graphql.input_types import GetOfferQuoteInput, OffsetInput, PurchaseGiftCardInput

from fluz import FluzClient, FluzError, PollProgress, response_info

STEPS = 5


class Demo:
    """Prints numbered steps with their durations; everything goes to stdout."""

    def __init__(self, *, show_secrets: bool) -> None:
        self.show_secrets = show_secrets
        self.live = sys.stdout.isatty()  # rewrite the progress line in place on a terminal
        self.started = time.perf_counter()
        self.current = "setup"
        self.waits: list[float] = []  # the reveal's delays between polls

    @contextmanager
    def step(self, number: int, title: str) -> Iterator[None]:
        self.current = f"step {number} ({title})"
        print(f"\n[{number}/{STEPS}] {title}")
        start = time.perf_counter()
        yield
        print(f"      took {_duration(time.perf_counter() - start)}")

    def show(self, name: str, value: object) -> None:
        print(f"      {name:<16} {value}")

    def progress(self, poll: PollProgress) -> None:
        """Reveal progress: each poll and the wait before the next one."""
        if poll.done:
            state = "details ready"
        elif poll.next_delay is None:
            state = "not ready, giving up"
        else:
            state = f"not ready, next poll in {poll.next_delay:.1f} s"
            self.waits.append(poll.next_delay)
        line = f"      poll {poll.attempt:<2} at {poll.elapsed:5.2f} s  {state}"
        if self.live:
            end = "\n" if poll.next_delay is None else ""
            print(f"\r\033[K{line}", end=end, flush=True)
        else:
            print(line, flush=True)

    def secret(self, value: str | None) -> str:
        if value is None:
            return "-"
        if self.show_secrets:
            return value
        return "*" * 8 + value[-4:] if len(value) >= 8 else "****"


async def run_demo(fluz: FluzClient, args: argparse.Namespace) -> None:
    demo = Demo(show_secrets=args.show_secrets)
    try:
        await _steps(demo, fluz, args)
    except FluzError as exc:
        # The message names the operation, code and request id, never a secret.
        raise SystemExit(f"\ndemo failed at {demo.current}: {type(exc).__name__}: {exc}") from None
    print(f"\ndemo finished in {_duration(time.perf_counter() - demo.started)}")


async def _steps(demo: Demo, fluz: FluzClient, args: argparse.Namespace) -> None:
    with demo.step(1, "mint the user token (FluzClient does this by itself on first use)"):
        token = await fluz.token_info()
        demo.show("scopes", ", ".join(token.scopes))
        demo.show("expires", _expiry(token.expires_at))
        demo.show("token", "minted (never printed)")

    with demo.step(2, f"merchants, and the best offer for {args.slug} at ${args.amount:.2f}"):
        merchants = await fluz.get_merchants(paginate=OffsetInput(limit=5))
        demo.show("catalog (page 1)", ", ".join(f"{m.name}" for m in merchants))
        offer = await fluz.get_offer_quote(
            input=GetOfferQuoteInput(merchant_slug=args.slug, denomination=args.amount)
        )
        rates = (offer.offer_rates or [None])[0]
        demo.show("best offer", f"{offer.offer_id} ({offer.type_.value if offer.type_ else '?'})")
        if rates is not None:
            demo.show("reward", f"{rates.max_user_reward_value:g}% back")

    balance_before = await _balance(fluz)
    key = uuid.uuid4()  # chosen up front: reused, the same purchase is never made twice

    def purchase_input() -> PurchaseGiftCardInput:
        return PurchaseGiftCardInput(
            idempotency_key=key,
            offer_id=offer.offer_id,
            exclusive_rate_id=offer.exclusive_rate_id,
            amount=args.amount,
        )

    with demo.step(3, "buy the gift card (paid from the Fluz balance)"):
        purchase = await fluz.purchase_gift_card(input=purchase_input())
        gift_card_id = purchase.gift_card.gift_card_id
        balance_after = await _balance(fluz)
        info = response_info(purchase)
        demo.show("purchase id", purchase.purchase_id)
        demo.show("display id", purchase.purchase_display_id)
        demo.show("gift card id", gift_card_id)
        demo.show("idempotency key", key)
        demo.show("request id", info.request_id)
        demo.show("Fluz balance", f"{_money(balance_before)} -> {_money(balance_after)}")

    with demo.step(4, "reveal: poll until the details exist (0.3 s, then doubling)"):
        details = await fluz.reveal_gift_card(gift_card_id, on_progress=demo.progress)
        waits = " + ".join(f"{w:g} s" for w in demo.waits) or "none"
        demo.show("backoff", f"{details.attempts} polls, waits {waits}")
        demo.show("code", demo.secret(details.code))
        demo.show("pin", demo.secret(details.pin))
        demo.show("url", demo.secret(details.url))
        if not demo.show_secrets:
            demo.show("", "(masked: run with --show-secrets to print them)")

    with demo.step(5, "replay the purchase with the same idempotency key"):
        replay = await fluz.purchase_gift_card(input=purchase_input())
        balance_replayed = await _balance(fluz)
        demo.show("purchase id", replay.purchase_id)
        demo.show("Fluz balance", f"{_money(balance_after)} -> {_money(balance_replayed)}")
        if replay.purchase_id != purchase.purchase_id or balance_replayed != balance_after:
            raise SystemExit("the replay made a second purchase: idempotency is broken")
        demo.show("result", "same purchase returned, charged once")


async def _balance(fluz: FluzClient) -> Any:
    wallet = await fluz.get_wallet()
    cash = wallet.balances.cash_balance if wallet and wallet.balances else None
    return cash.available_balance if cash else None


def _money(value: Any) -> str:
    return "-" if value is None else f"${float(value):,.2f}"


def _duration(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _expiry(expires: datetime | None) -> str:
    if expires is None:
        return "unknown (not a JWT)"
    left = expires - datetime.now(UTC)
    return f"{expires:%Y-%m-%d %H:%M:%S} UTC (in {left.total_seconds():.0f} s)"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--slug", default="starbucks", help="merchant (default %(default)s)")
    parser.add_argument(
        "--amount", type=Decimal, default=Decimal("25.00"), help="USD (default %(default)s)"
    )
    parser.add_argument("--show-secrets", action="store_true", help="print code and PIN")
    parser.add_argument(
        "--reveal-delay",
        type=float,
        default=2.0,
        help="sandbox only: seconds until gift-card details exist (default %(default)s)",
    )
    parser.add_argument(
        "--sandbox", action="store_true", help="use a local sandbox even if FLUZ_API_KEY is set"
    )
    parser.add_argument("--yes", action="store_true", help="allow buying from a real Fluz")
    return parser.parse_args(argv)


async def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if os.environ.get("FLUZ_API_KEY") and not args.sandbox:
        # Configuration from FLUZ_* (FluzClient reads them itself).
        async with FluzClient() as fluz:
            if not args.yes:
                raise SystemExit(
                    f"FLUZ_API_KEY is set: this demo would buy a real ${args.amount:.2f} gift "
                    f"card at {fluz.url}.\nRerun with --yes to do that, or with --sandbox."
                )
            if not (os.environ.get("FLUZ_USER_ID") and os.environ.get("FLUZ_ACCOUNT_ID")):
                raise SystemExit("set FLUZ_USER_ID and FLUZ_ACCOUNT_ID: whose money to spend")
            print(f"fluz-client demo against {fluz.url}")
            await run_demo(fluz, args)
        return

    try:
        from fluz.sandbox import SandboxServer
    except ImportError:
        sys.exit("the demo needs the sandbox extra: pip install 'fluz-client[sandbox]'")
    start = time.perf_counter()
    async with SandboxServer(reveal_delay=args.reveal_delay) as sandbox:
        print(
            f"fluz-client demo against a local sandbox at {sandbox.url}\n"
            f"(started in {_duration(time.perf_counter() - start)}; gift-card details appear "
            f"{args.reveal_delay:g} s after purchase)"
        )
        async with FluzClient(
            api_key=sandbox.api_key,
            user_id=sandbox.user_id,
            account_id=sandbox.account_id,
            url=sandbox.url,
        ) as fluz:
            await run_demo(fluz, args)
    print("sandbox stopped")


if __name__ == "__main__":
    try:
        anyio.run(main)
    except KeyboardInterrupt:
        sys.exit(130)
