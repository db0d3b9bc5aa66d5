"""``fluz oauth url | exchange | refresh``: setting up an OAuth app from a terminal.

The app secret is read from FLUZ_OAUTH_APP_SECRET only (a flag would show in the process
list). Tokens are never printed unless ``--show-secrets`` is given; ``--save FILE`` writes
them to a file only the current user can read. Because Fluz may rotate refresh tokens (it
does not say), ``exchange`` and ``refresh`` refuse to run unless the new tokens are saved
or shown: otherwise a grant could be used up and lost.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio

from .. import _constants as C
from .._errors import ConfigurationError, FluzError, ValidationError
from ..oauth import OAuthApp, OAuthTokens
from ._exit import EXIT_CODES_HELP, ExitCode, exit_code_for
from ._output import Result, fields, write_error, write_result

HELP = "OAuth apps: authorization URL, code exchange, token refresh"

EPILOG = f"""\
configuration:
  {C.ENV_OAUTH_CLIENT_ID} (or --client-id), {C.ENV_OAUTH_APP_SECRET} (exchange and refresh;
  never a flag), {C.ENV_OAUTH_URL} (or --base-url, e.g. a sandbox's http://127.0.0.1:8000)
  or {C.ENV_ENVIRONMENT}=production|staging (or --environment).

secrets:
  Tokens are masked unless --show-secrets is given; --save FILE writes them (JSON, mode
  0600). exchange and refresh need one of the two: Fluz may rotate refresh tokens, so the
  old one may stop working once the new one exists.

{EXIT_CODES_HELP}"""


def add_parser(commands: Any) -> None:
    """Register ``oauth`` and its actions on the ``fluz`` subcommands *commands*."""
    oauth = commands.add_parser(
        "oauth",
        help=HELP,
        description=HELP + ".",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    oauth.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print one JSON document"
    )
    actions = oauth.add_subparsers(
        dest="oauth_action", metavar="ACTION", title="actions", required=True
    )

    def action(name: str, help_text: str) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = actions.add_parser(
            name,
            help=help_text,
            description=help_text[0].upper() + help_text[1:] + ".",
            epilog=EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        group = sub.add_argument_group("app")
        group.add_argument("--client-id", help=f"OAuth client id ({C.ENV_OAUTH_CLIENT_ID})")
        where = group.add_mutually_exclusive_group()
        where.add_argument(
            "--environment",
            choices=sorted(C.OAUTH_BASE_URLS),
            default=argparse.SUPPRESS,
            help=f"Fluz environment ({C.ENV_ENVIRONMENT}; default {C.DEFAULT_ENVIRONMENT})",
        )
        where.add_argument(
            "--base-url", help=f"serving /authorize and /token/* ({C.ENV_OAUTH_URL})"
        )
        sub.add_argument(
            "--json", action="store_true", default=argparse.SUPPRESS, help="print one JSON document"
        )
        return sub

    sub = action("url", "build the authorization URL to send a user to, with a fresh state")
    sub.add_argument("--redirect-uri", required=True, help="a redirect URI registered for the app")
    sub.add_argument(
        "--scopes",
        required=True,
        type=lambda text: [s for s in text.replace(",", " ").split() if s],
        metavar="SCOPE,SCOPE",
        help="scopes to request (ScopeType names)",
    )

    sub = action("exchange", "exchange an authorization code for a user's tokens")
    sub.add_argument("code", metavar="CODE", help="the code of the callback (single-use)")
    sub.add_argument("--redirect-uri", required=True, help="exactly the one of the URL")
    _add_secret_options(sub)

    sub = action("refresh", "renew a user's tokens with their refresh token")
    source = sub.add_mutually_exclusive_group()
    source.add_argument(
        "--tokens-file",
        type=Path,
        metavar="FILE",
        help="read the refresh token from FILE (written by --save) and save the new tokens back",
    )
    source.add_argument(
        "--stdin", action="store_true", help="read the refresh token from standard input"
    )
    _add_secret_options(sub)


def _add_secret_options(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--save", type=Path, metavar="FILE", help="write the tokens to FILE (0600)")
    sub.add_argument("--show-secrets", action="store_true", help="print the tokens unmasked")


def run_oauth(args: argparse.Namespace, *, backend: str) -> int:
    """Run ``fluz oauth ACTION`` (parsed into *args*); return the exit code."""
    as_json = bool(getattr(args, "json", False))
    try:
        app = OAuthApp(
            client_id=args.client_id,
            environment=getattr(args, "environment", None) if args.base_url is None else None,
            base_url=args.base_url,
        )
        result = anyio.run(_run_action, app, args, backend=backend)
    except FluzError as exc:
        write_error(exc, sys.stdout if as_json else sys.stderr, as_json=as_json)
        return exit_code_for(exc)
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED
    write_result(result, sys.stdout, as_json=as_json)
    return ExitCode.OK


async def _run_action(app: OAuthApp, args: argparse.Namespace) -> Result:
    async with app:
        if args.oauth_action == "url":
            request = app.authorization_url(redirect_uri=args.redirect_uri, scopes=args.scopes)
            data = {
                "url": request.url,
                "state": request.state,
                "redirectUri": request.redirect_uri,
                "scopes": list(request.scopes),
            }
            text = (
                f"Send the user to:\n  {request.url}\n\n"
                f"On the callback, check that state is {request.state}, then run:\n"
                f"  fluz oauth exchange CODE --redirect-uri {request.redirect_uri} --save FILE"
            )
            return Result(data, text)
        save: Path | None = args.save
        if args.oauth_action == "refresh":
            refresh_token = _refresh_token(args)
            save = save or args.tokens_file
            _require_kept(save, args.show_secrets, "refresh")
            tokens = await app.refresh(refresh_token)
            what = "tokens renewed"
        else:
            _require_kept(save, args.show_secrets, "exchange")
            tokens = await app.exchange_code(args.code, redirect_uri=args.redirect_uri)
            what = "code exchanged"
        if save is not None:
            _write_private(save, tokens)
        return _describe(tokens, what, save, show=args.show_secrets)


def _refresh_token(args: argparse.Namespace) -> str:
    if args.tokens_file is not None:
        try:
            stored = json.loads(args.tokens_file.read_text())
            token = stored["refreshToken"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigurationError(
                f"cannot read a refreshToken from {args.tokens_file}: {type(exc).__name__}",
                code="CONFIG",
            ) from None
        if not isinstance(token, str):
            raise ConfigurationError(f"{args.tokens_file} has no refreshToken", code="CONFIG")
        return token
    if not args.stdin:
        raise ConfigurationError(
            "give the refresh token with --tokens-file FILE or --stdin (never as an argument: "
            "arguments show in the process list)",
            code="CONFIG",
        )
    return sys.stdin.readline().strip()


def _require_kept(save: Path | None, show: bool, action: str) -> None:
    if save is None and not show:
        raise ValidationError(
            f"{action} needs --save FILE or --show-secrets: the new tokens would be lost "
            "(and Fluz may already have retired the old refresh token)",
            field="save",
            rule="keep_tokens",
            code="CLIENT_VALIDATION",
        )


def _write_private(path: Path, tokens: OAuthTokens) -> None:
    """Replace *path* atomically with the tokens, readable by the current user only."""
    directory = path.resolve().parent
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=".fluz-oauth-")  # mode 0600
    try:
        with os.fdopen(fd, "w") as stream:
            json.dump(tokens.to_dict(), stream, indent=2)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _describe(tokens: OAuthTokens, what: str, saved: Path | None, *, show: bool) -> Result:
    now = datetime.now(UTC)
    access_in = (tokens.access_token_expires_at - now).total_seconds()
    refresh_expiry = tokens.refresh_token_expires_at
    masked = "[REDACTED] (--show-secrets prints it)"
    data: dict[str, Any] = {
        "scopes": list(tokens.scopes),
        "accessTokenExpiresAt": tokens.access_token_expires_at.isoformat(),
        "refreshTokenExpiresAt": refresh_expiry.isoformat() if refresh_expiry else None,
        "accessToken": tokens.access_token if show else None,
        "refreshToken": tokens.refresh_token if show else None,
        "secretsShown": show,
        "savedTo": str(saved) if saved else None,
    }
    text = f"{what}\n" + fields(
        [
            ("scopes", ", ".join(tokens.scopes) or None),
            ("access expires", f"{data['accessTokenExpiresAt']} (in {access_in:.0f} s)"),
            ("refresh expires", data["refreshTokenExpiresAt"]),
            ("access token", tokens.access_token if show else masked),
            ("refresh token", tokens.refresh_token if show else masked),
            ("saved to", data["savedTo"]),
        ]
    )
    return Result(data, text)
