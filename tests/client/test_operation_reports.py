"""What an operator sees of the requests a call made, checked against the sandbox: the
trace context each request carries, the numbered retry events on the operation's span,
the polls a reveal took in its metric, and the duration (in milliseconds) in each DEBUG
attempt line."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fluz_graphql.input_types import OffsetInput, PurchaseGiftCardInput
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from fluz import FluzClient, _telemetry
from fluz._otel import OtelBackend
from fluz.sandbox import Faults, SandboxServer

pytestmark = pytest.mark.anyio


@pytest.fixture
def metrics() -> InMemoryMetricReader:
    return InMemoryMetricReader()


@pytest.fixture
def spans(metrics: InMemoryMetricReader) -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    meter_provider = MeterProvider(metric_readers=[metrics])
    _telemetry.use_backend(
        OtelBackend(tracer_provider=tracer_provider, meter_provider=meter_provider)
    )
    try:
        yield exporter
    finally:
        _telemetry.use_backend(None)


def client_for(sandbox: SandboxServer, **options: Any) -> FluzClient:
    return FluzClient(
        api_key=sandbox.api_key,
        user_id=sandbox.user_id,
        account_id=sandbox.account_id,
        url=sandbox.url,
        retry_base_delay=0.01,
        retry_max_delay=0.02,
        **options,
    )


async def test_each_request_carries_the_traceparent_of_its_own_operation(
    spans: InMemorySpanExporter, fluz_sandbox: SandboxServer
) -> None:
    received: list[httpx.Headers] = []

    async def capture(request: httpx.Request) -> None:
        received.append(request.headers)

    async with (
        httpx.AsyncClient(event_hooks={"request": [capture]}) as http,
        client_for(fluz_sandbox, http_client=http) as fluz,
    ):
        await fluz.get_wallet()  # the token mint, then the wallet
    by_span = {s.context.span_id: s.name for s in spans.get_finished_spans()}
    sent = [by_span[int(h["traceparent"].split("-")[2], 16)] for h in received]
    assert sent == ["fluz GenerateUserAccessToken", "fluz GetWallet"]


@pytest.mark.fluz_sandbox(
    faults=Faults(unavailable_rate=1.0, limit=2, operations=frozenset({"getWallet"}))
)
async def test_each_retry_is_an_event_numbered_in_order_with_its_delay(
    spans: InMemorySpanExporter, fluz_sandbox: SandboxServer
) -> None:
    async with client_for(fluz_sandbox) as fluz:
        await fluz.get_wallet()
    (span,) = [s for s in spans.get_finished_spans() if s.name == "fluz GetWallet"]
    retries = [dict(e.attributes or {}) for e in span.events if e.name == "retry"]
    assert [r.get("fluz.retry") for r in retries] == [1, 2]
    assert all(0 < r["fluz.retry.delay"] <= 0.02 for r in retries)
    # Each event says what failed (the sandbox answered 503 "unavailable").
    assert [r.get("error.type") for r in retries] == ["ServerError", "ServerError"]


@pytest.mark.fluz_sandbox(reveal_delay=0.1)
async def test_a_reveal_counts_its_polls_in_the_reveal_polls_metric(
    spans: InMemorySpanExporter, metrics: InMemoryMetricReader, fluz_sandbox: SandboxServer
) -> None:
    async with client_for(fluz_sandbox) as fluz:
        merchants = await fluz.get_merchants(paginate=OffsetInput(limit=5))
        slug = next(m.slug for m in merchants if m.offers)
        result = await fluz.purchase_and_reveal(
            PurchaseGiftCardInput(
                merchantSlug=slug, amount=10, idempotencyKey="5f0c2a1e-3b4d-4e6f-8a9b-0c1d2e3f4a5b"
            ),
            initial_delay=0.02,
            max_delay=0.05,
        )
    polls = [s for s in spans.get_finished_spans() if s.name == "fluz RevealGiftCardByGiftCardId"]
    assert result.details.attempts == len(polls) > 1  # the card was pending at first
    data = metrics.get_metrics_data()
    counted = [
        point.value
        for resource in (data.resource_metrics if data else ())
        for scope in resource.scope_metrics
        for metric in scope.metrics
        if metric.name == "fluz.client.reveal_polls"
        for point in metric.data.data_points
    ]
    assert counted == [len(polls)]


@pytest.mark.fluz_sandbox(faults=Faults(latency=0.05, operations=frozenset({"getWallet"})))
async def test_the_debug_attempt_line_gives_the_round_trip_in_milliseconds(
    fluz_sandbox: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    async with client_for(fluz_sandbox) as fluz:
        await fluz.token_info()
        with caplog.at_level(logging.DEBUG, logger="fluz"):
            await fluz.get_wallet()
    (line,) = [
        r.getMessage()
        for r in caplog.records
        if r.getMessage().startswith("fluz GetWallet attempt 1: HTTP 200 in ")
    ]
    found = re.search(r" in ([0-9.]+) ms,", line)
    assert found is not None
    # The sandbox held the request 50 ms: a round trip cannot have taken less.
    assert float(found.group(1)) >= 50.0
