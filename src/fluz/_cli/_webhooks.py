"""``fluz webhooks``: receive, check and send webhooks while building an endpoint.

- ``listen``: a local receiver that verifies and prints each delivery, optionally
  forwarding the exact bytes and headers to your app (``--forward-to``) and answering with
  your app's status; ``--sandbox URL`` takes the sandbox's secret and registers itself.
- ``verify``: check a saved body against a signature; print the parsed event.
- ``sign``: print the ``X-HMAC-Signature`` of a body.
- ``send``: POST a signed sample event to your endpoint (no Fluz, no sandbox needed).
- ``trigger``: make a running sandbox emit an event to its registered endpoints.

The secret comes from an environment variable (default FLUZ_WEBHOOK_SECRET), never a flag:
flags are visible to other users in the process list. It is never printed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import httpx

from .. import _constants as C
from ..webhooks import (
    EVENT_TYPES,
    WebhookError,
    WebhookPayloadError,
    WebhookSignatureError,
    WebhookVerifier,
)
from ..webhooks._receiver import Receive, Scope, Send, read_body, request_headers, send_json
from ._exit import ExitCode

ENV_SECRET = "FLUZ_WEBHOOK_SECRET"  # noqa: S105 (a variable name)
LISTEN_PORT = 8787
BAD_SIGNATURE = 1  # exit code of `verify` when the signature does not match

EPILOG = f"""\
The secret is read from ${ENV_SECRET} (or --secret-env NAME), never from a flag, and never
printed.

exit codes:
  0    success
  1    verify: bad signature or invalid body; send/trigger: the endpoint refused it
  2    usage or configuration error (bad arguments, the secret missing ...)
  5    could not reach the endpoint or the sandbox
  130  interrupted"""

_SIGNATURE = C.WEBHOOK_SIGNATURE_HEADER.lower().encode()
_EVENT_ID = C.WEBHOOK_EVENT_ID_HEADER.lower().encode()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fluz webhooks",
        description="Receive, check and send Fluz webhooks while building an endpoint.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def scheme(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--secret-env",
            default=ENV_SECRET,
            metavar="NAME",
            help="environment variable holding the secret (default %(default)s)",
        )
        sub.add_argument("--encoding", choices=("hex", "base64"), default="hex")
        sub.add_argument("--prefix", default="", help='signature prefix to send, e.g. "sha256="')

    sub = commands.add_parser("listen", help="receive, verify and print deliveries")
    scheme(sub)
    sub.add_argument("--host", default="127.0.0.1")
    sub.add_argument("--port", type=int, default=LISTEN_PORT)
    sub.add_argument("--forward-to", metavar="URL", help="POST each delivery on to your app")
    sub.add_argument(
        "--sandbox",
        metavar="URL",
        help="a sandbox's base URL: use its secret and register this listener with it",
    )
    sub.add_argument("--events", metavar="EVENT,EVENT", help="with --sandbox: only these")
    sub.add_argument("--print-body", action="store_true", help="print each verified body")

    sub = commands.add_parser("verify", help="verify a saved body and print its event")
    scheme(sub)
    sub.add_argument("body", metavar="FILE", help="the raw body ('-' for stdin)")
    sub.add_argument("--signature", required=True, help="the X-HMAC-Signature value")
    sub.add_argument("--event-id", help="the X-Event-ID value")

    sub = commands.add_parser("sign", help="print the X-HMAC-Signature of a body")
    scheme(sub)
    sub.add_argument("body", metavar="FILE", help="the raw body ('-' for stdin)")

    sub = commands.add_parser("send", help="POST a signed sample event to an endpoint")
    scheme(sub)
    sub.add_argument("url", metavar="URL")
    sub.add_argument("event_type", metavar="EVENT", help=f"e.g. {EVENT_TYPES[0]}")
    sub.add_argument("--data", type=_json_object, default={}, help="fields, a JSON object")
    sub.add_argument("--event-id", default=None, help="default: a new UUID")

    sub = commands.add_parser("trigger", help="make a running sandbox emit an event")
    sub.add_argument("event_type", metavar="EVENT", help=f"e.g. {EVENT_TYPES[0]}")
    sub.add_argument("--sandbox", required=True, metavar="URL", help="the sandbox's base URL")
    sub.add_argument("--data", type=_json_object, default={}, help="fields, a JSON object")
    sub.add_argument("--account-id", default=None)
    return parser


def main(argv: Sequence[str]) -> int:
    """Run ``fluz webhooks`` with *argv*; return the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        if args.command == "trigger":
            return _trigger(args, sys.stdout)
        if args.command == "listen":
            return _listen(args, sys.stdout)
        verifier = _verifier(args)
        if args.command == "sign":
            print(verifier.sign(_read(args.body)))
            return ExitCode.OK
        if args.command == "verify":
            return _verify(args, verifier, sys.stdout)
        return _send(args, verifier, sys.stdout)
    except _UsageError as exc:
        print(f"fluz webhooks: error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    except httpx.HTTPError as exc:
        print(f"fluz webhooks: could not reach the server ({type(exc).__name__})", file=sys.stderr)
        return ExitCode.UNREACHABLE
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED


class _UsageError(Exception):
    pass


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        raise argparse.ArgumentTypeError("not valid JSON") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("must be a JSON object")
    return value


def _read(name: str) -> bytes:
    try:
        return sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
    except OSError as exc:
        raise _UsageError(f"cannot read {name}: {exc.strerror}") from None


def _verifier(args: argparse.Namespace, secret: str | None = None) -> WebhookVerifier:
    secret = secret if secret is not None else os.environ.get(args.secret_env)
    if not secret:
        raise _UsageError(f"set the webhook secret in ${args.secret_env}")
    return WebhookVerifier(secret, encoding=args.encoding, prefix=args.prefix)


def _verify(args: argparse.Namespace, verifier: WebhookVerifier, out: TextIO) -> int:
    try:
        event = verifier.construct_event(_read(args.body), args.signature, event_id=args.event_id)
    except WebhookSignatureError as exc:
        print(f"signature: BAD ({exc.message})", file=out)
        return BAD_SIGNATURE
    except WebhookPayloadError as exc:
        print(f"signature: ok\nbody: INVALID ({exc.message})", file=out)
        return ExitCode.API_ERROR
    print(f"signature: ok\nevent: {type(event).__name__} {event.event_type}", file=out)
    return ExitCode.OK


def _send(args: argparse.Namespace, verifier: WebhookVerifier, out: TextIO) -> int:
    event_id = args.event_id or str(uuid.uuid4())
    payload = {
        "eventType": args.event_type,
        "eventId": event_id,
        "createdAt": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        **args.data,
    }
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        C.WEBHOOK_SIGNATURE_HEADER: verifier.sign(body),
        C.WEBHOOK_EVENT_ID_HEADER: event_id,
    }
    response = httpx.post(args.url, content=body, headers=headers, timeout=30.0)
    print(f"{args.event_type} {event_id} -> HTTP {response.status_code}", file=out)
    return ExitCode.OK if response.is_success else ExitCode.API_ERROR


def _trigger(args: argparse.Namespace, out: TextIO) -> int:
    body = {"eventType": args.event_type, "fields": args.data, "accountId": args.account_id}
    response = httpx.post(f"{_admin(args.sandbox)}/webhooks/trigger", json=body, timeout=10.0)
    result = response.json()
    if not response.is_success:
        raise _UsageError(str(result.get("error", response.status_code)))
    if result["eventId"] is None:
        print(f"{args.event_type}: no endpoint is registered for it", file=out)
        return ExitCode.API_ERROR
    print(f"{args.event_type} {result['eventId']} -> {result['deliveries']} endpoint(s)", file=out)
    return ExitCode.OK


def _admin(base_url: str) -> str:
    return base_url.rstrip("/").removesuffix("/api/v1/graphql") + "/_sandbox"


# -- listen -----------------------------------------------------------------------------------


class ListenApp:
    """ASGI: verify, print one line per delivery, forward or answer. Prints the event type,
    id and outcome; the body only with --print-body (it is the operator's own terminal)."""

    def __init__(
        self,
        verifier: WebhookVerifier,
        out: TextIO,
        forward_to: str | None = None,
        print_body: bool = False,
    ) -> None:
        self.verifier = verifier
        self.out = out
        self.forward_to = forward_to
        self.print_body = print_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        headers = request_headers(scope)
        body = await read_body(receive, headers.get(b"content-length"), C.WEBHOOK_MAX_BODY_BYTES)
        status, line = await self._handle(headers, body)
        print(f"{datetime.now().strftime('%H:%M:%S')}  {status}  {line}", file=self.out)
        self.out.flush()
        await send_json(send, status, {"status": line.split("  ")[-1]})

    async def _handle(self, headers: dict[bytes, str], body: bytes | None) -> tuple[int, str]:
        if body is None:
            return 413, "body too large"
        event_id = headers.get(_EVENT_ID)
        signature = headers.get(_SIGNATURE)
        try:
            event = self.verifier.construct_event(body, signature, event_id=event_id)
        except WebhookSignatureError as exc:
            return 401, f"{event_id}  BAD SIGNATURE: {exc.message}"
        except WebhookError as exc:
            return 400, f"{event_id}  INVALID BODY: {exc.message}"
        line = f"{event.event_type} {event_id}  signature ok"
        if self.print_body:
            line += "\n" + json.dumps(json.loads(body), indent=2)
        if self.forward_to is None:
            return 200, line
        forwarded = {
            "Content-Type": headers.get(b"content-type", "application/json"),
            C.WEBHOOK_SIGNATURE_HEADER: signature or "",
            C.WEBHOOK_EVENT_ID_HEADER: event_id or "",
        }
        try:
            async with httpx.AsyncClient(timeout=30.0, trust_env=False) as client:
                response = await client.post(self.forward_to, content=body, headers=forwarded)
        except httpx.HTTPError as exc:
            return 502, f"{line}  forward failed: {type(exc).__name__}"
        return response.status_code, f"{line}  forwarded: HTTP {response.status_code}"


def _listen(args: argparse.Namespace, out: TextIO) -> int:
    try:
        import uvicorn
    except ImportError:
        raise _UsageError(
            "listen needs uvicorn: pip install uvicorn (or 'fluz-client[sandbox]')"
        ) from None
    secret = None
    if args.sandbox:
        admin = _admin(args.sandbox)
        described = httpx.get(f"{admin}/webhooks", timeout=10.0).json()
        secret = described["secret"]
        args.encoding, args.prefix = described["encoding"], described["prefix"]
    verifier = _verifier(args, secret)
    url = f"http://{args.host}:{args.port}/"
    if args.sandbox:
        events = [e for e in (args.events or "").split(",") if e]
        registered = httpx.post(
            f"{_admin(args.sandbox)}/webhooks/endpoints",
            json={"url": url, "events": events},
            timeout=10.0,
        )
        if not registered.is_success:
            raise _UsageError(str(registered.json().get("error")))
    app = ListenApp(verifier, out, args.forward_to, args.print_body)
    print(f"listening on {url} (Ctrl-C to stop)", file=out, flush=True)
    config = uvicorn.Config(
        app, host=args.host, port=args.port, lifespan="off", log_level="warning"
    )
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(config).run()
    return ExitCode.OK
