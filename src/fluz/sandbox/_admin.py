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
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from ._config import ADMIN_PATH, Faults

if TYPE_CHECKING:
    from ._core import Sandbox
    from ._server import Receive, Scope, Send


def _is_loopback(client: Any) -> bool:
    if not client:
        return False
    try:
        return ipaddress.ip_address(client[0]).is_loopback
    except ValueError:
        return False


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
        self.sandbox.reset(body.get("seed"))
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
        self.sandbox.advance_clock(float(body["seconds"]))
        return {"clockOffset": self.sandbox.clock.offset}

    def _skip_delays(self, body: dict[str, Any], query: dict[str, list[str]]) -> Any:
        self.sandbox.skip_delays()
        return {"ok": True}

    def _add_gift_cards(self, body: dict[str, Any], query: dict[str, list[str]]) -> Any:
        delays = [float(d) for d in body["revealDelays"]]
        return {
            "readyAt": self.sandbox.add_gift_cards(delays, body.get("merchantSlug", "starbucks"))
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        from ._server import BodyTimeout, read_body, send_json

        if not _is_loopback(scope.get("client")):
            await send_json(send, 403, {"error": "the admin endpoint is loopback-only"}, [])
            return
        route = (scope["method"], scope["path"][len(ADMIN_PATH) :].rstrip("/"))
        handler = self.routes.get(route)
        if handler is None:
            await send_json(
                send, 404, {"error": f"no admin route {route[0]} {route[1] or '/'}"}, []
            )
            return
        try:
            raw = await read_body(receive, None)
        except BodyTimeout:
            headers = [(b"connection", b"close")]
            await send_json(send, 408, {"error": "request body not received in time"}, headers)
            return
        try:
            body = json.loads(raw) if raw and raw.strip() else {}
            if not isinstance(body, dict):
                raise ValueError("the body must be a JSON object")
            query = parse_qs(scope.get("query_string", b"").decode())
            result = handler(body, query)
        except (ValueError, TypeError, KeyError) as exc:
            await send_json(send, 400, {"error": str(exc)}, [])
            return
        await send_json(send, 200, result, [])
