"""Helpers of the OAuth tests: the sandbox's registration, consent over plain HTTP."""

from __future__ import annotations

import base64
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from urllib.parse import parse_qs, urlsplit

import httpx

from fluz.sandbox import SandboxServer

CALLBACK = "http://127.0.0.1:8765/oauth/callback"  # registered (loopback: any port)
SCOPES = ["LIST_OFFERS", "LIST_PAYMENT", "PURCHASE_GIFTCARD"]
WALLET = "{ getWallet { balances { cashBalance { availableBalance } } } }"
MERCHANTS = "{ getMerchants(paginate: {limit: 1, offset: 0}) { slug } }"
GIFT_CARDS = "{ getGiftCards(paginate: {limit: 1, offset: 0}) { giftCardId } }"


def basic(server: SandboxServer, secret: str | None = None) -> dict[str, str]:
    c = server.credentials
    raw = f"{c.oauth_client_id}:{secret or c.oauth_app_secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def consent(
    server: SandboxServer,
    *,
    scopes: list[str] | None = None,
    redirect_uri: str = CALLBACK,
    state: str | None = "st-1",
    **extra: str,
) -> httpx.Response:
    """GET /authorize as a browser would, without following the redirect."""
    params = {
        "response_type": "code",
        "client_id": server.credentials.oauth_client_id,
        "redirect_uri": redirect_uri,
        "scopes": " ".join(scopes or SCOPES),
        **extra,
    }
    if state is not None:
        params["state"] = state
    return httpx.get(server.base_url + "/authorize", params=params)


def redirected_params(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    query = urlsplit(response.headers["location"]).query
    return {k: v[0] for k, v in parse_qs(query).items()}


def new_code(server: SandboxServer, **kwargs: object) -> str:
    return redirected_params(consent(server, **kwargs))["code"]  # type: ignore[arg-type]


def exchange(server: SandboxServer, code: str, redirect_uri: str = CALLBACK) -> httpx.Response:
    return httpx.get(
        server.base_url + "/token/exchange",
        params={"code": code, "redirect_uri": redirect_uri},
        headers=basic(server),
    )


def refresh(server: SandboxServer, refresh_token: str) -> httpx.Response:
    return httpx.get(
        server.base_url + "/token/refresh",
        params={"refresh_token": refresh_token},
        headers=basic(server),
    )


def graphql(server: SandboxServer, token: str, query: str) -> dict[str, object]:
    response = httpx.post(
        server.url, json={"query": query}, headers={"Authorization": f"Bearer {token}"}
    )
    body: dict[str, object] = response.json()
    return body


def load_callback_example() -> ModuleType:
    """``examples/oauth_callback.py`` as a module (examples/ is not a package)."""
    name = "fluz_example_oauth_callback"
    if name not in sys.modules:
        path = Path(__file__).resolve().parents[2] / "examples" / "oauth_callback.py"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]
