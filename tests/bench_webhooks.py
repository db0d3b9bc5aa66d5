"""Figures for fluz.webhooks (a script, not a test): verify+parse, the ASGI receiver, the
de-duplication store's memory.

    .venv/bin/python tests/bench_webhooks.py [--events 20000]

Each timing is the best of three rounds on this process's one core.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import time
import tracemalloc
import uuid
from collections.abc import Callable
from typing import Any

from fluz.webhooks import InMemoryEventStore, WebhookEvent, WebhookReceiver, WebhookVerifier

SECRET = "whsec_bench"
PAYLOAD = {
    "eventType": "TRANSACTION_CREATE",
    "eventId": "",
    "createdAt": "2026-12-02T13:00:00.000Z",
    "userId": str(uuid.uuid4()),
    "accountId": str(uuid.uuid4()),
    "externalReference": "customer-42",
    "recordId": str(uuid.uuid4()),
    "transactionType": "GIFT_CARD_PURCHASE",
    "amount": "25.00",
    "status": "COMPLETED",
    "channel": "API",
}


def best_of_three(run: Callable[[], float]) -> float:
    return min(run() for _ in range(3))


def bench_verify_and_parse(events: int) -> None:
    verifier = WebhookVerifier(SECRET)
    body = json.dumps(PAYLOAD).encode()
    signature = verifier.sign(body)

    def run() -> float:
        start = time.perf_counter()
        for _ in range(events):
            verifier.construct_event(body, signature, event_id="e")
        return time.perf_counter() - start

    seconds = best_of_three(run)
    print(f"verify + parse ({len(body)} B body): {seconds / events * 1e6:.1f} us/event")


async def bench_receiver(events: int) -> None:
    async def handle(event: WebhookEvent) -> None:
        pass

    verifier = WebhookVerifier(SECRET)
    requests = []
    for n in range(events):
        body = json.dumps({**PAYLOAD, "eventId": str(n)}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"x-hmac-signature", verifier.sign(body).encode()),
            (b"x-event-id", str(n).encode()),
        ]
        requests.append((body, headers))

    async def run() -> float:
        app = WebhookReceiver(handle, verifier=verifier)
        sent: list[Any] = []

        async def send(message: Any) -> None:
            sent.append(message)

        start = time.perf_counter()
        for body, headers in requests:
            scope = {"type": "http", "method": "POST", "path": "/", "headers": headers}

            async def receive(body: bytes = body) -> dict[str, Any]:
                return {"type": "http.request", "body": body, "more_body": False}

            await app(scope, receive, send)
        elapsed = time.perf_counter() - start
        assert all(m.get("status", 200) == 200 for m in sent)
        return elapsed

    seconds = min([await run() for _ in range(3)])
    print(
        f"ASGI receiver, new events (verify, parse, claim, handle, complete): "
        f"{seconds / events * 1e6:.1f} us/event, {events / seconds:,.0f} events/s"
    )


async def bench_store_memory(count: int) -> None:
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    store = InMemoryEventStore(max_events=count)
    for n in range(count):
        event_id = str(uuid.UUID(int=n))
        await store.claim(event_id, 60)
        await store.complete(event_id, 86400)
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    print(
        f"InMemoryEventStore: {count:,} UUID event ids hold {used / 2**20:.1f} MiB "
        f"({used / count:.0f} B each, key string included)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20000)
    args = parser.parse_args()
    bench_verify_and_parse(args.events)
    asyncio.run(bench_receiver(args.events))
    asyncio.run(bench_store_memory(100_000))


if __name__ == "__main__":
    main()
