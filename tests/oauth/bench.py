"""Figures for the OAuth layer (prints them; asserts nothing about speed).

    .venv/bin/python -m tests.oauth.bench

1. patToken signing: our stdlib HS256 signer vs PyJWT's ``jwt.encode`` (µs per token).
2. N concurrent calls across an access-token expiry on one user: refreshes sent, wall time.
3. ``import fluz.oauth`` on top of ``import fluz`` (fresh interpreters, median).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
import timeit
import uuid
from decimal import Decimal

import anyio
import httpx
import jwt

from fluz.oauth import OAuthApp, OAuthFluzClient, OAuthTokens, sign_pat_token
from fluz.sandbox import SandboxServer

SECRET = "bench-api-secret-0123456789abcdef0123"


def signing() -> None:
    def ours() -> str:
        return sign_pat_token(
            api_key="k",
            api_secret=SECRET,
            amount=Decimal("25.00"),
            transaction_type="DEPOSIT",
            external_id="user-42",
        )

    def pyjwt() -> str:
        now = int(time.time())
        claims = {
            "amount": 25.0,
            "transactionType": "DEPOSIT",
            "apiKey": "k",
            "externalId": "user-42",
            "jti": str(uuid.uuid4()),
            "iat": now,
            "exp": now + 300,
        }
        return jwt.encode(claims, SECRET, algorithm="HS256")

    for name, fn in (("stdlib signer", ours), ("PyJWT encode", pyjwt)):
        best = min(timeit.repeat(fn, number=2000, repeat=5)) / 2000
        print(f"patToken {name:14s} {best * 1e6:6.1f} µs/token")


async def concurrent_expiry(calls: int, ahead: bool) -> None:
    """*ahead*: the client sees the expiry coming (real time) and refreshes before
    sending; otherwise the token expired on the server's clock only, so every call is
    refused once (AUTH-0008) and replayed after the one refresh."""
    # 20 s, not 2: 1,000 calls queue for seconds behind the 100 in-flight slots, and a
    # token that expires while its request waits is refused (then replayed once).
    ttl = 20 if ahead else 600
    async with SandboxServer(oauth_access_token_ttl=ttl) as sandbox, httpx.AsyncClient() as web:
        c = sandbox.credentials
        consent = await web.get(
            sandbox.base_url + "/authorize",
            params={
                "response_type": "code",
                "client_id": c.oauth_client_id,
                "redirect_uri": "http://127.0.0.1/oauth/callback",
                "scopes": "LIST_PAYMENT",
            },
        )
        code = httpx.URL(consent.headers["location"]).params["code"]
        async with OAuthApp(
            client_id=c.oauth_client_id, app_secret=c.oauth_app_secret, base_url=sandbox.base_url
        ) as oauth:
            tokens = await oauth.exchange_code(code, redirect_uri="http://127.0.0.1/oauth/callback")
            saved: list[OAuthTokens] = []

            async def save(user: str, new: OAuthTokens) -> None:
                saved.append(new)

            async with OAuthFluzClient(oauth, url=sandbox.url, save_tokens=save) as fluz:
                alice = fluz.for_oauth_user("alice", tokens)
                await alice.get_wallet()
                if ahead:
                    await anyio.sleep(10.1)  # past the renewal point (half the lifetime)
                else:
                    sandbox.advance_clock(601)
                started = time.perf_counter()
                async with anyio.create_task_group() as tg:
                    for _ in range(calls):
                        tg.start_soon(alice.get_wallet)
                elapsed = time.perf_counter() - started
        counters = sandbox.counters()
    how = "seen ahead" if ahead else "server-side"
    print(
        f"{calls:5d} concurrent calls across an expiry ({how}): "
        f"{counters.oauth_refreshes} refresh, "
        f"{len(saved)} save_tokens call, {counters.requests_by_operation['getWallet'] - 1} "
        f"GraphQL requests, {elapsed:.2f} s"
    )


def import_cost() -> None:
    def median(code: str) -> float:
        runs = []
        for _ in range(7):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True)
            runs.append(time.perf_counter() - started)
        return statistics.median(runs)

    base = median("import fluz")
    with_oauth = median("import fluz, fluz.oauth")
    print(f"import fluz {base * 1000:.0f} ms; + fluz.oauth {(with_oauth - base) * 1000:+.0f} ms")


if __name__ == "__main__":
    signing()
    for calls in (100, 1000):
        for ahead in (True, False):
            anyio.run(concurrent_expiry, calls, ahead)
    import_cost()
