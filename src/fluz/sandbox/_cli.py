"""``python -m fluz.sandbox``: serve a sandbox in the foreground until Ctrl-C."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ._config import DEFAULT_HOST, DEFAULT_PORT, Faults, SandboxOptions

if TYPE_CHECKING:
    from ._runner import SandboxServer


def _slug_delay(text: str) -> tuple[str, float]:
    slug, sep, seconds = text.partition("=")
    if not sep or not slug:
        raise argparse.ArgumentTypeError("expected SLUG=SECONDS, e.g. starbucks=5")
    return slug, float(seconds)


def parser() -> argparse.ArgumentParser:
    defaults = SandboxOptions()
    p = argparse.ArgumentParser(
        prog="python -m fluz.sandbox",
        description="Serve a local, Fluz-compatible GraphQL API with in-memory seeded state.",
    )
    p.add_argument("--host", default=DEFAULT_HOST, help="address to bind (default %(default)s)")
    p.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="0 picks a free port (default %(default)s)"
    )
    p.add_argument("--allow-remote", action="store_true", help="allow a non-loopback --host")
    p.add_argument(
        "--seed", type=int, default=defaults.seed, help="seed of ids, credentials and catalog"
    )
    p.add_argument(
        "--token-ttl", type=float, default=defaults.token_ttl, help="user token lifetime, s"
    )
    p.add_argument(
        "--reveal-delay",
        type=float,
        default=defaults.reveal_delay,
        help="gift-card details appear after, s",
    )
    p.add_argument(
        "--reveal-delay-for",
        type=_slug_delay,
        action="append",
        default=[],
        metavar="SLUG=SECONDS",
        help="per-merchant reveal delay (repeatable)",
    )
    p.add_argument(
        "--reveal-jitter", type=float, default=0.0, help="extra random reveal delay, 0..s"
    )
    p.add_argument(
        "--issuer-delay",
        type=float,
        default=defaults.issuer_delay,
        help="bulk orders / address approval, s",
    )
    hooks = p.add_argument_group("webhooks (signed POSTs on purchases, transactions, approvals)")
    hooks.add_argument(
        "--webhook-url",
        action="append",
        default=[],
        metavar="URL[=EVENT,EVENT]",
        help="deliver events (default: all) to URL (repeatable)",
    )
    hooks.add_argument("--webhook-secret", default=None, help="signing secret (default: per seed)")
    hooks.add_argument("--webhook-encoding", choices=("hex", "base64"), default="hex")
    hooks.add_argument("--webhook-prefix", default="", help='e.g. "sha256=" (default: none)')
    hooks.add_argument(
        "--webhook-retries", type=int, default=defaults.webhook_retries, help="after the first"
    )
    hooks.add_argument(
        "--webhook-backoff", type=float, default=defaults.webhook_backoff, help="first retry, s"
    )
    hooks.add_argument(
        "--webhook-timeout", type=float, default=defaults.webhook_timeout, help="per POST, s"
    )
    faults = p.add_argument_group("faults (targeted requests only; rates are fractions 0..1)")
    faults.add_argument("--latency", type=float, default=0.0, help="added seconds per operation")
    faults.add_argument("--unavailable-rate", type=float, default=0.0, help="answer HTTP 503")
    faults.add_argument("--rate-limited-rate", type=float, default=0.0, help="answer HTTP 429")
    faults.add_argument("--retry-after", type=float, default=1.0, help="Retry-After of the 429s, s")
    faults.add_argument(
        "--reset-rate", type=float, default=0.0, help="reset the connection, no work done"
    )
    faults.add_argument(
        "--drop-after-commit-rate",
        type=float,
        default=0.0,
        help="do the work, then reset the connection",
    )
    faults.add_argument(
        "--fault-operations",
        default=None,
        metavar="OP,OP",
        help="only these root fields (default: all)",
    )
    faults.add_argument(
        "--fault-limit", type=int, default=None, help="stop after this many failures"
    )
    faults.add_argument("--fault-seed", type=int, default=None, help="default: --seed")
    return p


def options_from(args: argparse.Namespace) -> SandboxOptions:
    operations = None
    if args.fault_operations:
        operations = frozenset(op.strip() for op in args.fault_operations.split(",") if op.strip())
    return SandboxOptions(
        seed=args.seed,
        token_ttl=args.token_ttl,
        reveal_delay=args.reveal_delay,
        reveal_delay_by_merchant=dict(args.reveal_delay_for),
        reveal_jitter=args.reveal_jitter,
        issuer_delay=args.issuer_delay,
        webhook_urls=tuple(args.webhook_url),
        webhook_secret=args.webhook_secret,
        webhook_encoding=args.webhook_encoding,
        webhook_prefix=args.webhook_prefix,
        webhook_retries=args.webhook_retries,
        webhook_backoff=args.webhook_backoff,
        webhook_timeout=args.webhook_timeout,
        faults=Faults(
            latency=args.latency,
            unavailable_rate=args.unavailable_rate,
            rate_limited_rate=args.rate_limited_rate,
            retry_after=args.retry_after,
            reset_rate=args.reset_rate,
            drop_after_commit_rate=args.drop_after_commit_rate,
            operations=operations,
            limit=args.fault_limit,
            seed=args.fault_seed,
        ),
    )


def main(argv: Sequence[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    try:
        options = options_from(args)
    except ValueError as exc:
        p.error(str(exc))
    try:
        from ._runner import SandboxServer
    except ImportError as exc:
        print(
            f"the sandbox needs the extra: pip install 'fluz-client[sandbox]' ({exc})",
            file=sys.stderr,
        )
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        server = SandboxServer(
            host=args.host, port=args.port, allow_remote=args.allow_remote, options=options
        )
    except ValueError as exc:
        p.error(str(exc))
    try:
        server.serve_forever(ready=announce)
    except OSError as exc:  # e.g. the port is taken
        print(f"cannot serve on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it shut down on
        pass
    return 0


# The seeded credentials derive from the seed alone, so every installation has the same ones.
PUBLIC_CREDENTIALS_NOTE = (
    "These credentials are public test values, the same on every installation for this seed:\n"
    "anyone who can reach the port can use them. Never put real data or money through it."
)
REMOTE_WARNING = (
    "WARNING: --allow-remote: the sandbox listens on {host}, reachable from other machines.\n"
    "WARNING: its API key and user credentials are PUBLIC test values (the same on every\n"
    "WARNING: installation), so anyone on the network can call it as the sandbox user. The\n"
    "WARNING: admin endpoint stays loopback-only. Use it only on a network you trust."
)


def announce(server: SandboxServer) -> None:
    """Print the start-up banner (also ``fluz sandbox``'s), and to stderr a loud warning when
    the server is reachable from other machines."""
    from ._runner import is_loopback

    if not is_loopback(server.host):
        print(REMOTE_WARNING.format(host=server.host), file=sys.stderr, flush=True)
    c, seeds = server.credentials, server.seed_data
    scheme = server.options.webhook_prefix + server.options.webhook_encoding
    lines = [
        f"Fluz sandbox serving {server.url}",
        f"  admin        {server.admin_url}  (loopback only)",
        f"  API key      {c.api_key}   (send as: Authorization: Basic <API key>)",
        f"  app id       {c.app_id}",
        f"  user id      {c.user_id}",
        f"  account id   {c.account_id}",
        f"  seat id      {c.seat_id}",
        f"  OAuth client {c.oauth_client_id}  (app secret {c.oauth_app_secret})",
        f"  bank card    {seeds.bank_card_id}",
        f"  bank account {seeds.bank_account_id}",
        f"  webhooks     {', '.join(server.options.webhook_urls) or 'none (--webhook-url)'}",
        f"  webhook key  {server.webhook_secret}   (X-HMAC-Signature: {scheme} HMAC-SHA256)",
        f"  options      {server.options.to_json()}",
        PUBLIC_CREDENTIALS_NOTE,
        "Press Ctrl-C to stop.",
    ]
    print("\n".join(lines), flush=True)
