"""Entry points: parse, build the client, run one command, map the outcome to an exit code."""

from __future__ import annotations

import argparse
import functools
import shlex
import sys
from collections.abc import Sequence
from typing import Any

import anyio

from .._client import FluzClient
from .._errors import FluzError
from ._commands import COMMANDS
from ._exit import ExitCode, exit_code_for
from ._oauth import run_oauth
from ._output import Console, write_error, write_result
from ._parser import build_parser

HINTS = {
    ExitCode.AUTH: "check FLUZ_API_KEY, the user/account ids and --scopes, and that the key "
    "belongs to this environment (FLUZ_URL / FLUZ_ENVIRONMENT)",
    ExitCode.UNREACHABLE: "check FLUZ_URL / FLUZ_ENVIRONMENT and the network; "
    "for a local sandbox, start one with: fluz sandbox",
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``fluz`` command with *argv* (default ``sys.argv[1:]``); return the exit
    code (see ``fluz --help``). Errors are reported on stderr (on stdout with ``--json``),
    never as a traceback."""
    return run(argv)


def run(argv: Sequence[str] | None = None, *, backend: str = "asyncio") -> int:
    """:func:`main` on the given anyio *backend* (``asyncio`` or ``trio``)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["sandbox"]:
        return serve_sandbox(argv[1:])
    if argv[:1] == ["webhooks"]:
        from ._webhooks import main as webhooks_main

        return webhooks_main(argv[1:])
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command == "sandbox":  # reached only with options before it
            parser.error("put `sandbox` first: fluz sandbox [sandbox options]")
    except SystemExit as exc:  # --help (0) or a usage error (2), already printed
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help(sys.stderr)
        return ExitCode.USAGE
    if args.command == "oauth":
        return run_oauth(args, backend=backend)
    try:
        return anyio.run(functools.partial(_run_command, args), backend=backend)
    except FluzError as exc:
        code = exit_code_for(exc)
        if code in HINTS:
            exc.add_note(HINTS[code])
        write_error(exc, sys.stdout if args.json else sys.stderr, as_json=args.json)
        return code
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED


async def _run_command(args: argparse.Namespace) -> int:
    options: dict[str, Any] = {}
    if args.request_timeout is not None:
        options["timeout"] = args.request_timeout
    if args.max_retries is not None:
        options["max_retries"] = args.max_retries
    async with FluzClient(
        api_key=args.api_key,
        user_id=args.user_id,
        account_id=args.account_id,
        seat_id=args.seat_id,
        scopes=args.scopes,
        environment=args.environment,
        url=args.url,
        **options,
    ) as fluz:
        console = Console(sys.stdout, sys.stderr, as_json=args.json)
        result = await COMMANDS[args.command](fluz, args, console)
    write_result(result, sys.stdout, as_json=args.json)
    return ExitCode.OK


def serve_sandbox(argv: Sequence[str]) -> int:
    """``fluz sandbox [options]``: serve a sandbox in the foreground until Ctrl-C, with the
    options of ``python -m fluz.sandbox``, and print the environment that points the
    ``fluz`` command and FluzClient at it."""
    try:
        from fluz.sandbox import SandboxServer
        from fluz.sandbox._cli import announce, options_from, parser
    except ModuleNotFoundError as exc:
        print(
            f"fluz sandbox needs the sandbox extra: pip install 'fluz-client[sandbox]' ({exc})",
            file=sys.stderr,
        )
        return ExitCode.USAGE
    except ImportError as exc:  # installed, but an incompatible version (the message says which)
        print(f"fluz sandbox: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    sandbox_parser = parser()
    sandbox_parser.prog = "fluz sandbox"
    try:
        args = sandbox_parser.parse_args(argv)
        server = SandboxServer(
            host=args.host,
            port=args.port,
            allow_remote=args.allow_remote,
            options=options_from(args),
        )
    except SystemExit as exc:
        return int(exc.code or 0)
    except ValueError as exc:
        print(f"fluz sandbox: error: {exc}", file=sys.stderr)
        return ExitCode.USAGE

    def ready(running: SandboxServer) -> None:
        announce(running)
        print("In another shell, point `fluz` and FluzClient at it with:", flush=True)
        print(sandbox_exports(running), flush=True)

    try:
        server.serve_forever(ready=ready)
    except OSError as exc:  # e.g. the port is taken
        print(f"fluz sandbox: cannot serve on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return ExitCode.UNREACHABLE
    except KeyboardInterrupt:
        pass
    return ExitCode.OK


def sandbox_exports(server: Any) -> str:
    """Shell ``export`` lines for the sandbox's URL and (fake) credentials."""
    values = {
        "FLUZ_URL": server.url,
        "FLUZ_API_KEY": server.api_key,
        "FLUZ_USER_ID": server.user_id,
        "FLUZ_ACCOUNT_ID": server.account_id,
        "FLUZ_SEAT_ID": server.seat_id,
        "FLUZ_WEBHOOK_SECRET": server.webhook_secret,
        "FLUZ_OAUTH_URL": server.base_url,
        "FLUZ_OAUTH_CLIENT_ID": server.credentials.oauth_client_id,
        "FLUZ_OAUTH_APP_SECRET": server.credentials.oauth_app_secret,
    }
    return "\n".join(f"  export {name}={shlex.quote(value)}" for name, value in values.items())
