"""The admin endpoint (``/_sandbox``): the in-process controls over HTTP, loopback only.

GET    /_sandbox                 credentials, seed ids, options, clock offset
GET    /_sandbox/counters        SandboxCounters as JSON
GET    /_sandbox/balances        ?accountId=... (default: the sandbox user's account)
POST   /_sandbox/reset           {"seed": 7}  (body optional)
GET    /_sandbox/faults          the current Faults
PUT    /_sandbox/faults          Faults fields: {"reset_rate": 1, "limit": 1,
                                 "operations": ["purchaseGiftCard"]}
DELETE /_sandbox/faults          no faults
PATCH  /_sandbox/options         runtime options, e.g. {"token_ttl": 5, "reveal_delay": 0}
POST   /_sandbox/advance-clock   {"seconds": 601}
POST   /_sandbox/skip-delays     make pending reveals / bulk orders / addresses ready
POST   /_sandbox/gift-cards      {"revealDelays": [0.5, 30], "merchantSlug": "starbucks"}:
                                 seed revealable cards -> {"readyAt": {gift card id: time}}
GET    /_sandbox/webhooks        signing secret, endpoints, counters, deliveries
POST   /_sandbox/webhooks/endpoints  {"url": "http://127.0.0.1:9000/hook", "events": [...]}
DELETE /_sandbox/webhooks/endpoints  {"url": ...}
POST   /_sandbox/webhooks/trigger    {"eventType": "TRANSACTION_DECLINE", "fields": {...}}
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from ._config import ADMIN_MAX_BODY_BYTES, ADMIN_PATH, Faults
from ._webhooks import admin_routes as webhook_routes

if TYPE_CHECKING:
    from ._core import Sandbox
    from ._server import Receive, Scope, Send


def is_loopback_host(host: str) -> bool:
    """``localhost`` or a loopback IP, IPv4-mapped IPv6 (``::ffff:127.0.0.1``) included."""
    host = host.strip().rstrip(".").lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


def _is_loopback(client: Any) -> bool:
    return bool(client) and is_loopback_host(str(client[0]))


def _split_host(value: str) -> tuple[str, str]:
    """("host", "port") of a Host header value or an origin's authority."""
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        return host, rest.removeprefix(":")
    host, _, port = value.rpartition(":") if value.count(":") == 1 else (value, "", "")
    return host, port


def _refusal(scope: Scope) -> tuple[int, str] | None:
    """Why a request may not use the admin API: it must come from loopback, name a loopback
    Host (a DNS-rebinding page names its own domain), and, when a browser says where it
    comes from, be same-origin. A web page the developer visits can then neither read the
    API key from ``GET /_sandbox`` nor reset or re-configure the sandbox."""
    if not _is_loopback(scope.get("client")):
        return 403, "the admin endpoint is loopback-only"
    headers: dict[bytes, str] = {}
    for key, value in scope["headers"]:
        headers.setdefault(bytes(key).lower(), bytes(value).decode("latin-1"))
    host, port = _split_host(headers.get(b"host", ""))
    if not is_loopback_host(host):
        return 403, "the admin endpoint needs a loopback Host header (127.0.0.1, localhost)"
    origin = headers.get(b"origin")
    if origin is not None:
        scheme, _, authority = origin.partition("://")
        origin_host, origin_port = _split_host(authority)
        if scheme != "http" or not is_loopback_host(origin_host) or origin_port != port:
            return 403, "the admin endpoint refuses cross-origin requests"
    if headers.get(b"sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return 403, "the admin endpoint refuses cross-site requests"
    content_type = headers.get(b"content-type")
    if content_type is not None and content_type.split(";")[0].strip().lower() != (
        "application/json"
    ):
        return 415, "admin request bodies must be application/json"
    return None


Handler = Callable[[dict[str, Any], dict[str, list[str]]], Any]


class AdminApi:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.routes: dict[tuple[str, str], Handler] = {
            ("GET", ""): lambda body, query: sandbox.describe(),
            ("GET", "/counters"): lambda body, query: dataclasses.asdict(
                sandbox.counters_snapshot()
            ),
            ("GET", "/balances"): self._balances,
            ("POST", "/reset"): self._reset,
            ("GET", "/faults"): lambda body, query: sandbox.options.faults.to_json(),
            ("PUT", "/faults"): self._set_faults,
            ("DELETE", "/faults"): self._clear_faults,
            ("PATCH", "/options"): self._configure,
            ("POST", "/advance-clock"): self._advance_clock,
            ("POST", "/skip-delays"): self._skip_delays,
            ("POST", "/gift-cards"): self._add_gift_cards,
            **webhook_routes(sandbox),
        }

    def _balances(self, body: dict[str, Any], query: dict[str, list[str]]) -> Any:
        account_id = query.get("accountId", [None])[0]
        try:
            balances = self.sandbox.balances(account_id)
        except KeyError:
            raise ValueError(f"unknown account {account_id}") from None
        data = dataclasses.asdict(balances)
        data["cash_total"] = balances.cash_total
        return data

    def _reset(self, body: dict[str, Any], query: dict[str, list[str]]) -> Any:
        seed = body.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError("seed must be an integer")
        self.sandbox.reset(seed)
        return self.sandbox.describe()

    def _set_faults(self, body: dict[str, Any], query: dict[str, list[str]]) -> Any:
        self.sandbox.set_faults(Faults.from_json(body))
        return self.sandbox.options.faults.to_json()

    def _clear_faults(self, body: dict[str, Any], query: dict[str, list[str]]) -> Any:
        self.sandbox.set_faults(Faults())
        return self.sandbox.options.faults.to_json()

    def _configure(self, body: dict[str, Any], query: dict[str, list[str]]) -> Any:
        self.sandbox.configure(**body)
        return self.sandbox.options.to_json()

    def _advance_clock(self, body: dict[str, Any], query: dict[str, list[str]]) -> Any:
        self.sandbox.advance_clock(_required(body, "seconds"))
        return {"clockOffset": self.sandbox.clock.offset}

    def _skip_delays(self, body: dict[str, Any], query: dict[str, list[str]]) -> Any:
        self.sandbox.skip_delays()
        return {"ok": True}

    def _add_gift_cards(self, body: dict[str, Any], query: dict[str, list[str]]) -> Any:
        delays = _required(body, "revealDelays")
        if not isinstance(delays, list) or any(
            isinstance(d, bool) or not isinstance(d, int | float) for d in delays
        ):
            raise ValueError("revealDelays must be a list of numbers")
        slug = body.get("merchantSlug", "starbucks")
        if not isinstance(slug, str):
            raise ValueError("merchantSlug must be a string")
        return {"readyAt": self.sandbox.add_gift_cards(delays, slug)}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        from ._server import BodyTimeout, read_body, send_json

        refusal = _refusal(scope)
        if refusal is not None:
            await send_json(send, refusal[0], {"error": refusal[1]}, [])
            return
        route = (scope["method"], scope["path"][len(ADMIN_PATH) :].rstrip("/"))
        handler = self.routes.get(route)
        if handler is None:
            await send_json(
                send, 404, {"error": f"no admin route {route[0]} {route[1] or '/'}"}, []
            )
            return
        try:
            raw = await read_body(receive, None, ADMIN_MAX_BODY_BYTES)
        except BodyTimeout:
            headers = [(b"connection", b"close")]
            await send_json(send, 408, {"error": "request body not received in time"}, headers)
            return
        if raw is None:
            error = f"admin request bodies are at most {ADMIN_MAX_BODY_BYTES} bytes"
            await send_json(send, 413, {"error": error}, [(b"connection", b"close")])
            return
        if raw.strip() and _header_value(scope, b"content-type") is None:
            error = "admin request bodies must be application/json"
            await send_json(send, 415, {"error": error}, [])
            return
        try:
            body = json.loads(raw, parse_constant=_no_constants) if raw.strip() else {}
            if not isinstance(body, dict):
                raise ValueError("the body must be a JSON object")
            query = parse_qs(scope.get("query_string", b"").decode())
            result = handler(body, query)
        except (ValueError, TypeError, KeyError) as exc:
            await send_json(send, 400, {"error": str(exc)}, [])
            return
        await send_json(send, 200, result, [])


def _header_value(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if bytes(key).lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _required(body: dict[str, Any], name: str) -> Any:
    if name not in body:
        raise ValueError(f"{name} is required")
    return body[name]
