"""Benchmark: per-call overhead of FluzClient, and `import fluz` time (``make bench``).

Per call, on one in-process ``httpx.MockTransport`` that answers every request with the
same canned 20-item page (so no network and no server work is measured):

* raw httpx   - ``AsyncClient.post(json=<the same request body>)`` + ``response.json()``:
                the least any client must do (build and send the request, parse the JSON).
* raw+models  - raw httpx + validating the data into the generated pydantic models
                (``GetGiftCards.model_validate``): the floor of any client returning these
                typed models.
* generated   - the bare ariadne-codegen client: raw+models + its variable serialisation.
* FluzClient  - the generated method through FluzClient: + auth header from the cached
                token, operation lookup, client-side validation, error/payload checks,
                retry bookkeeping, response metadata on every item; it decodes the JSON
                with pydantic-core, faster than ``response.json()`` in the other columns.

Short batches of calls rotate through the columns, so that load from other processes
falls on all of them alike; the figures are medians over the batches, in microseconds of
CPU time per call (the calls never wait on I/O, so CPU time is their cost, without the
time the process spent descheduled on a busy machine).

Import times are medians of fresh interpreters, timed inside the interpreter around the
import statement, with a warm bytecode cache (in a temporary PYTHONPYCACHEPREFIX, so
nothing is written to the source tree; PYTHONDONTWRITEBYTECODE is ignored) as for an
installed package.

Run: ``python -m tests.bench`` (add ``--quick`` for a short smoke run).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import httpx
from fluz_graphql import Client as GeneratedClient
from fluz_graphql.get_gift_cards import GetGiftCards
from fluz_graphql.input_types import OffsetInput

from fluz import FluzClient

URL = "http://127.0.0.1:9/api/v1/graphql"
API_KEY = "bench-api-key"
USER_ID = "6f1c8a52-8d7e-4a4b-9a55-3e0e4c1b2a10"
ACCOUNT_ID = "0b9d2b4e-63a7-4d8e-8f0a-2c6f3c7e5d21"


def gift_card_page() -> bytes:
    cards = [
        {
            "giftCardId": str(uuid.UUID(int=i + 1)),
            "purchaserUserId": USER_ID,
            "status": "ACTIVE",
            "endDate": "2027-12-03T10:15:30Z",
            "createdAt": "2025-01-15T10:30:00.000Z",
            "termsAndConditions": "Use within 5 years.",
            "merchant": {
                "merchantId": str(uuid.UUID(int=1000 + i)),
                "name": f"Shop {i}",
                "slug": f"shop-{i}",
            },
        }
        for i in range(20)
    ]
    return json.dumps(
        {"data": {"getGiftCards": cards}, "extensions": {"requestId": "bench"}}
    ).encode()


def token_body() -> bytes:
    import base64

    def b64(d: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()

    now = int(time.time())
    jwt = f"{b64({'alg': 'HS256'})}.{b64({'iat': now, 'exp': now + 3600})}.sig"
    return json.dumps(
        {
            "data": {
                "generateUserAccessToken": {
                    "token": jwt,
                    "accessToken": jwt,
                    "refreshToken": None,
                    "scopes": [],
                }
            }
        }
    ).encode()


def transport() -> httpx.MockTransport:
    page, token = gift_card_page(), token_body()
    headers = {"content-type": "application/json"}

    def handler(request: httpx.Request) -> httpx.Response:
        body = token if b"GenerateUserAccessToken" in request.content[:400] else page
        return httpx.Response(200, content=body, headers=headers)

    return httpx.MockTransport(handler)


async def measure(rounds: int, batch: int) -> dict[str, float]:
    fluz = FluzClient(
        api_key=API_KEY,
        user_id=USER_ID,
        account_id=ACCOUNT_ID,
        url=URL,
        http_client=httpx.AsyncClient(transport=transport()),
    )
    generated = GeneratedClient(url=URL, http_client=httpx.AsyncClient(transport=transport()))
    raw = httpx.AsyncClient(transport=transport())
    # The exact request FluzClient sends, captured once, replayed by the raw column.
    captured: dict[str, Any] = {}

    def capture(request: httpx.Request) -> httpx.Response:
        captured["body"] = json.loads(request.content)
        captured["auth"] = request.headers["authorization"]
        return httpx.Response(200, content=gift_card_page())

    await fluz.get_gift_cards(paginate=OffsetInput(limit=20, offset=0))  # mints the token
    probe = fluz.with_options()
    probe._http = httpx.AsyncClient(transport=httpx.MockTransport(capture))
    await probe.get_gift_cards(paginate=OffsetInput(limit=20, offset=0))
    body, headers = captured["body"], {"Authorization": captured["auth"]}

    async def raw_call() -> None:
        response = await raw.post(URL, json=body, headers=headers)
        data = response.json()["data"]["getGiftCards"]
        assert len(data) == 20

    async def raw_models_call() -> None:
        response = await raw.post(URL, json=body, headers=headers)
        page = GetGiftCards.model_validate(response.json()["data"]).get_gift_cards
        assert page is not None
        assert len(page) == 20

    async def generated_call() -> None:
        page = await generated.get_gift_cards(paginate=OffsetInput(limit=20, offset=0))
        assert page is not None
        assert len(page) == 20

    async def fluz_call() -> None:
        page = await fluz.get_gift_cards(paginate=OffsetInput(limit=20, offset=0))
        assert page is not None
        assert len(page) == 20

    columns: dict[str, Callable[[], Awaitable[None]]] = {
        "raw httpx": raw_call,
        "raw+models": raw_models_call,
        "generated": generated_call,
        "FluzClient": fluz_call,
    }
    samples: dict[str, list[float]] = {name: [] for name in columns}
    order = list(columns.items())
    for call in columns.values():  # warm-up
        for _ in range(50):
            await call()
    for _ in range(rounds):
        order = order[1:] + order[:1]  # no column always runs first
        for name, call in order:
            start = time.process_time()
            for _ in range(batch):
                await call()
            samples[name].append((time.process_time() - start) / batch * 1e6)
    await fluz.aclose()
    await generated.http_client.aclose()
    await raw.aclose()
    return {name: statistics.median(values) for name, values in samples.items()}


def import_times(statements: list[str], runs: int) -> list[float]:
    """Median milliseconds each statement takes in a fresh interpreter (runs interleaved)."""
    with tempfile.TemporaryDirectory() as cache:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = cache
        probes = [
            f"import time; t = time.perf_counter(); {s}; print(time.perf_counter() - t)"
            for s in statements
        ]
        times: list[list[float]] = [[] for _ in statements]
        for attempt in range(runs + 1):
            for probe, samples in zip(probes, times, strict=True):
                out = subprocess.run(
                    [sys.executable, "-c", probe], env=env, check=True, capture_output=True
                )
                if attempt:  # the first run fills the bytecode cache
                    samples.append(float(out.stdout) * 1000)
    return [statistics.median(samples) for samples in times]


def main() -> None:
    quick = "--quick" in sys.argv
    rounds, batch, runs = (30, 10, 3) if quick else (300, 20, 15)
    results = anyio.run(measure, rounds, batch)
    base = results["raw httpx"]
    print(
        f"per call, 20-item getGiftCards page on MockTransport, CPU time "
        f"(median of {rounds} batches of {batch} calls per column):"
    )
    for name, value in results.items():
        print(f"  {name:<11} {value:8.1f} us/call   {value / base:5.2f}x raw httpx")
    fluz = results["FluzClient"]
    print(
        f"  FluzClient / raw+models: {fluz / results['raw+models']:.2f}x   "
        f"FluzClient / generated: {fluz / results['generated']:.2f}x"
    )

    deps, models, whole = import_times(
        ["import httpx, pydantic", "import fluz_graphql", "import fluz"], runs
    )
    print(f"import time (median of {runs} fresh interpreters, warm bytecode cache):")
    print(f"  import httpx, pydantic   {deps:7.1f} ms")
    print(f"  import fluz_graphql      {models:7.1f} ms   (generated models and client)")
    print(f"  import fluz              {whole:7.1f} ms   ({whole / deps:.2f}x httpx+pydantic)")


if __name__ == "__main__":
    main()
