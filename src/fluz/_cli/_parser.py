"""The argument parser: one subcommand per operator task, shared connection options."""

from __future__ import annotations

import argparse
import math
import uuid
from decimal import Decimal
from typing import Any

from fluz_graphql.enums import GiftCardStatus
from fluz_graphql.money import MoneyError, parse_money

from .. import _constants as C
from ._exit import EXIT_CODES_HELP
from ._oauth import add_parser as add_oauth_parser

CONFIGURATION_HELP = f"""\
configuration:
  Flags win over environment variables: {C.ENV_API_KEY}, {C.ENV_USER_ID}, {C.ENV_ACCOUNT_ID},
  {C.ENV_SEAT_ID}, {C.ENV_URL} (or {C.ENV_ENVIRONMENT}=production|staging), {C.ENV_SCOPES}.
  Prefer {C.ENV_API_KEY} to --api-key: a flag is visible to other users in the process list.

secrets:
  Tokens are never printed. Gift-card codes, PINs and redemption URLs are masked
  unless --show-secrets is given."""

EPILOG = CONFIGURATION_HELP + "\n\n" + EXIT_CODES_HELP

# (name, help) of the subcommands, in the order --help lists them.
SUBCOMMANDS = {
    "sandbox": "start a local Fluz sandbox (see `fluz sandbox --help`)",
    "token": "mint a user token and show its scopes and expiry (never the token)",
    "merchants": "list merchants and their offers",
    "quote": "show the best offer for a merchant and amount",
    "purchase": "buy a gift card (with an idempotency key, shown for safe retries)",
    "reveal": "reveal a gift card's code and PIN, polling with backoff",
    "gift-cards": "list gift cards, page by page",
    "purchases": "list purchases, page by page",
    "wallet": "show balances, spend accounts and funding sources",
    "webhooks": "listen for, verify, sign, send and trigger webhooks (`fluz webhooks --help`)",
    "oauth": "OAuth apps: authorization URL, code exchange, token refresh (fluz oauth --help)",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fluz",
        description="Operate a Fluz integration: tokens, offers, purchases, reveals, wallet.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_connection_options(parser, suppress=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")

    def command(name: str, **kwargs: Any) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name,
            help=SUBCOMMANDS[name],
            description=SUBCOMMANDS[name][0].upper() + SUBCOMMANDS[name][1:] + ".",
            epilog=EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
            **kwargs,
        )
        _add_connection_options(sub, suppress=True)
        return sub

    # Listed for --help only: `fluz sandbox ...` is dispatched before parsing (its options
    # are the sandbox's own, see fluz._cli._app).
    commands.add_parser("sandbox", help=SUBCOMMANDS["sandbox"], add_help=False)
    commands.add_parser("webhooks", help=SUBCOMMANDS["webhooks"], add_help=False)

    command("token")

    sub = command("merchants")
    sub.add_argument("--name", help="only merchants whose name contains this")
    _add_paging_options(sub)

    sub = command("quote")
    sub.add_argument("slug", metavar="SLUG", help="merchant slug, e.g. amazon")
    sub.add_argument("amount", metavar="AMOUNT", type=_amount, help="denomination in USD")

    sub = command("purchase")
    sub.add_argument("slug", metavar="SLUG", help="merchant slug, e.g. amazon")
    sub.add_argument("amount", metavar="AMOUNT", type=_amount, help="amount in USD")
    funding = sub.add_argument_group(
        "funding (default: the Fluz balance)"
    ).add_mutually_exclusive_group()
    funding.add_argument("--bank-account", type=_uuid, metavar="ID", help="bank account id")
    funding.add_argument("--bank-card", type=_uuid, metavar="ID", help="bank card id")
    funding.add_argument("--paypal", type=_uuid, metavar="ID", help="PayPal vault id")
    sub.add_argument(
        "--balance-amount",
        type=_amount,
        metavar="USD",
        help="part of the amount taken from the Fluz balance, the rest from the source above",
    )
    sub.add_argument(
        "--idempotency-key",
        type=_uuid,
        metavar="UUID",
        help="reuse a key to retry a purchase safely (Fluz processes a key once); "
        "default: a new UUID, printed",
    )
    sub.add_argument("--reveal", action="store_true", help="reveal the gift card afterwards")
    _add_reveal_options(sub)

    sub = command("reveal")
    sub.add_argument("gift_card_id", metavar="GIFT_CARD_ID", type=_uuid, help="gift card id")
    _add_reveal_options(sub)

    sub = command("gift-cards")
    sub.add_argument(
        "--status",
        action="append",
        choices=[s.value for s in GiftCardStatus],
        help="only cards with this status (repeatable)",
    )
    _add_paging_options(sub)

    _add_paging_options(command("purchases"))
    command("wallet")
    add_oauth_parser(commands)  # its own options: an OAuth app needs no API key
    return parser


def _add_connection_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """Options accepted before and after the subcommand. On subcommands they default to
    SUPPRESS, so that an option given before the subcommand is not reset by the subparser."""

    def default(value: object) -> object:
        return argparse.SUPPRESS if suppress else value

    group = parser.add_argument_group("connection")
    where = group.add_mutually_exclusive_group()
    where.add_argument("--url", default=default(None), help=f"endpoint URL ({C.ENV_URL})")
    where.add_argument(
        "--environment",
        choices=sorted(C.ENVIRONMENT_URLS),
        default=default(None),
        help=f"Fluz environment ({C.ENV_ENVIRONMENT}; default {C.DEFAULT_ENVIRONMENT})",
    )
    group.add_argument("--api-key", default=default(None), help=f"API key ({C.ENV_API_KEY})")
    group.add_argument("--user-id", default=default(None), help=f"user id ({C.ENV_USER_ID})")
    group.add_argument(
        "--account-id", default=default(None), help=f"account id ({C.ENV_ACCOUNT_ID})"
    )
    group.add_argument("--seat-id", default=default(None), help=f"seat id ({C.ENV_SEAT_ID})")
    group.add_argument(
        "--scopes",
        type=lambda text: [s for s in text.replace(",", " ").split() if s],
        default=default(None),
        metavar="SCOPE,SCOPE",
        help=f"scopes of the user token ({C.ENV_SCOPES}; default: the client's)",
    )
    group.add_argument(
        "--request-timeout",
        type=_seconds,
        default=default(None),
        metavar="SECONDS",
        help="HTTP timeout of one request (default: connect 5 s, read 30 s)",
    )
    group.add_argument(
        "--max-retries",
        type=int,
        default=default(None),
        metavar="N",
        help=f"retries of a failed request (default {C.DEFAULT_MAX_RETRIES})",
    )
    output = parser.add_argument_group("output")
    output.add_argument(
        "--json",
        action="store_true",
        default=default(False),
        help='print one JSON document (errors too: {"error": {...}})',
    )


def _add_paging_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--limit", type=_count, default=50, help="rows to show, 0 for all (default %(default)s)"
    )
    parser.add_argument(
        "--page-size",
        type=_count,
        default=C.MAX_PAGE_SIZE,
        help=f"items per request, 1-{C.MAX_PAGE_SIZE} (default %(default)s)",
    )


def _add_reveal_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--timeout",
        type=_seconds,
        default=C.REVEAL_TIMEOUT,
        metavar="SECONDS",
        help="give up revealing after this long (default %(default)g); polls at "
        f"{C.REVEAL_INITIAL_DELAY:g} s, then doubling, each wait capped at "
        f"{C.REVEAL_MAX_DELAY:g} s",
    )
    parser.add_argument(
        "--show-secrets", action="store_true", help="print the code, PIN and URL unmasked"
    )


def _uuid(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a UUID: {text!r}") from None


def _amount(text: str) -> Decimal:
    """A positive dollar amount, by the client's money rule (fluz_graphql.money)."""
    try:
        value = parse_money(text)
    except MoneyError as exc:
        raise argparse.ArgumentTypeError(
            f"not an amount in dollars: {text!r} {exc.message} (e.g. 25 or 19.99)"
        ) from None
    if value <= 0:
        raise argparse.ArgumentTypeError(
            f"not an amount in dollars: {text!r} must be greater than 0 (e.g. 25 or 19.99)"
        )
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0: {text!r}")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0: {text!r}")
    return value
