"""OpenTelemetry spans and metrics of operations, checked with the SDK's in-memory
exporters against the sandbox; the INFO line of an operation that needed a retry or a
renewal; and no OpenTelemetry at all when it is not installed."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fluz_graphql.input_types import OffsetInput, PurchaseGiftCardInput
from opentelemetry import trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from fluz import FluzClient, ServerError, _telemetry
from fluz._otel import OtelBackend
from fluz.sandbox import Faults, SandboxServer

pytestmark = pytest.mark.anyio


class Telemetry:
    def __init__(self) -> None:
        self.spans = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans))
        self.metrics = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.metrics])

    def finished(self, name: str) -> list[ReadableSpan]:
        return [s for s in self.spans.get_finished_spans() if s.name == name]

    def points(self, metric: str) -> list[Any]:
        data = self.metrics.get_metrics_data()
        found = []
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for m in scope.metrics:
                    if m.name == metric:
                        found.extend(m.data.data_points)
        return found

    def total(self, metric: str, **attributes: str) -> float:
        return sum(
            p.value
            for p in self.points(metric)
            if all(p.attributes.get(k) == v for k, v in attributes.items())
        )


@pytest.fixture
def otel() -> Iterator[Telemetry]:
    telemetry = Telemetry()
    _telemetry.use_backend(
        OtelBackend(
            tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider
        )
    )
    try:
        yield telemetry
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


@pytest.fixture
async def fluz(fluz_sandbox: SandboxServer) -> AsyncIterator[FluzClient]:
    async with client_for(fluz_sandbox) as client:
        yield client


async def test_each_operation_is_a_client_span_with_graphql_and_fluz_attributes(
    otel: Telemetry, fluz: FluzClient
) -> None:
    await fluz.get_wallet()
    (span,) = otel.finished("fluz GetWallet")
    assert span.kind is SpanKind.CLIENT
    attributes = dict(span.attributes or {})
    assert attributes["graphql.operation.name"] == "GetWallet"
    assert attributes["graphql.operation.type"] == "query"
    assert attributes["fluz.attempts"] == 1
    assert isinstance(attributes["fluz.request_id"], str)
    assert attributes["fluz.request_id"]
    assert "fluz.error.code" not in attributes
    assert span.status.status_code is StatusCode.UNSET
    assert otel.total("fluz.client.operations", outcome="ok") == 2  # the mint and the call
    (duration,) = [
        p
        for p in otel.points("fluz.client.operation.duration")
        if p.attributes["graphql.operation.name"] == "GetWallet"
    ]
    assert duration.count == 1


async def test_the_token_renewal_is_a_child_span_and_an_event_of_the_call_that_needed_it(
    otel: Telemetry, fluz: FluzClient
) -> None:
    await fluz.get_wallet()
    (call,) = otel.finished("fluz GetWallet")
    (mint,) = otel.finished("fluz GenerateUserAccessToken")
    assert mint.parent is not None
    assert mint.parent.span_id == call.context.span_id
    assert [event.name for event in call.events] == ["token renewed"]
    assert otel.total("fluz.client.token_renewals") == 1


@pytest.mark.fluz_sandbox(
    faults=Faults(unavailable_rate=1.0, limit=1, operations=frozenset({"getWallet"}))
)
async def test_a_retry_is_an_event_and_a_metric_and_the_call_logs_one_info_line(
    otel: Telemetry,
    fluz_sandbox: SandboxServer,
    fluz: FluzClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await fluz.token_info()  # the mint first, so the retried call is the only eventful one
    with caplog.at_level(logging.INFO, logger="fluz"):
        await fluz.get_wallet()
    (span,) = otel.finished("fluz GetWallet")
    attributes = dict(span.attributes or {})
    assert attributes["fluz.attempts"] == 2
    (retry,) = [event for event in span.events if event.name == "retry"]
    assert (retry.attributes or {})["fluz.error.code"] == "GE-9999"
    assert otel.total("fluz.client.retries", **{"graphql.operation.name": "GetWallet"}) == 1
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    (line,) = [text for text in lines if "GetWallet" in text]
    assert "after 2 attempt(s), 1 retry" in line
    assert f"request_id={attributes['fluz.request_id']}" in line
    assert fluz_sandbox.api_key not in line


async def test_a_call_without_retry_or_renewal_logs_nothing_at_info(
    otel: Telemetry, fluz: FluzClient, caplog: pytest.LogCaptureFixture
) -> None:
    await fluz.token_info()
    with caplog.at_level(logging.INFO, logger="fluz"):
        await fluz.get_wallet()
    assert not [r for r in caplog.records if r.levelno >= logging.INFO]


async def test_the_renewing_call_logs_its_renewal_at_info_without_secrets(
    otel: Telemetry, fluz_sandbox: SandboxServer, fluz: FluzClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="fluz"):
        await fluz.get_wallet()
    identity = fluz._identity
    assert identity is not None
    token = await fluz._tokens.store.get(identity)
    assert token is not None
    (line,) = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert line.startswith("fluz GetWallet succeeded after 1 attempt(s), 0 retries, 1 token")
    for secret in (fluz_sandbox.api_key, token.access_token, token.refresh_token or "-"):
        assert secret not in caplog.text


@pytest.mark.fluz_sandbox(faults=Faults(unavailable_rate=1.0, operations=frozenset({"getWallet"})))
async def test_a_failed_operation_carries_its_error_code_on_the_span_and_the_metric(
    otel: Telemetry, fluz_sandbox: SandboxServer
) -> None:
    async with client_for(fluz_sandbox, max_retries=1) as fluz:
        with pytest.raises(ServerError):
            await fluz.get_wallet()
    (span,) = otel.finished("fluz GetWallet")
    assert span.status.status_code is StatusCode.ERROR
    attributes = dict(span.attributes or {})
    assert attributes["fluz.error.code"] == "GE-9999"
    assert attributes["error.type"] == "ServerError"
    assert attributes["fluz.attempts"] == 2
    assert otel.total("fluz.client.errors", **{"error.code": "GE-9999"}) == 1
    assert otel.total("fluz.client.operations", outcome="error") == 1


async def test_the_trace_context_goes_out_in_traceparent_so_traces_join(
    otel: Telemetry, fluz_sandbox: SandboxServer
) -> None:
    sent: list[httpx.Headers] = []

    async def capture(request: httpx.Request) -> None:
        sent.append(request.headers)

    tracer = otel.tracer_provider.get_tracer("service")
    async with (
        httpx.AsyncClient(event_hooks={"request": [capture]}) as http,
        client_for(fluz_sandbox, http_client=http) as fluz,
    ):
        with tracer.start_as_current_span("handle request") as parent:
            await fluz.get_wallet()
    (call,) = otel.finished("fluz GetWallet")
    assert call.parent is not None
    assert call.parent.span_id == parent.get_span_context().span_id
    trace_id = f"{parent.get_span_context().trace_id:032x}"
    wallet_request = sent[-1]
    assert wallet_request["traceparent"].split("-")[1] == trace_id
    assert wallet_request["traceparent"].split("-")[2] == f"{call.context.span_id:016x}"
    assert (
        trace.get_current_span() is trace.INVALID_SPAN
        or not trace.get_current_span().is_recording()
    )


@pytest.mark.fluz_sandbox(reveal_delay=0.1)
async def test_a_purchase_carries_its_idempotency_key_and_the_reveal_its_polls(
    otel: Telemetry, fluz: FluzClient
) -> None:
    merchants = await fluz.get_merchants(paginate=OffsetInput(limit=5))
    slug = next(m.slug for m in merchants if m.offers)
    key = "b8b2f4e0-7d8c-4d7e-9a51-6f0b7e6d9c11"
    result = await fluz.purchase_and_reveal(
        PurchaseGiftCardInput(merchantSlug=slug, amount=10, idempotencyKey=key),
        initial_delay=0.02,
        max_delay=0.05,
    )
    details = result.details
    (purchase,) = otel.finished("fluz PurchaseGiftCard")
    attributes = dict(purchase.attributes or {})
    assert attributes["fluz.idempotency_key"] == key
    assert attributes["graphql.operation.type"] == "mutation"
    polls = otel.finished("fluz RevealGiftCardByGiftCardId")
    assert len(polls) == details.attempts
    assert otel.total("fluz.client.reveal_polls", outcome="revealed") == details.attempts
    (reveal_time,) = otel.points("fluz.client.reveal.duration")
    assert reveal_time.count == 1
    assert reveal_time.sum == pytest.approx(details.elapsed)


def _python(code: str, **env: str) -> str:
    import os

    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=True,
    )
    return result.stdout.strip()


def test_import_fluz_imports_no_opentelemetry_redis_or_cryptography() -> None:
    code = (
        "import sys, fluz\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'opentelemetry', 'redis', 'cryptography'}))"
    )
    assert _python(code) == "[]"


def test_without_the_otel_extra_the_backend_is_the_no_op_one() -> None:
    # sys.modules[name] = None is how Python spells "not importable".
    code = (
        "import sys; sys.modules['opentelemetry'] = None\n"
        "from fluz import _telemetry\n"
        "print(type(_telemetry.backend()).__name__)"
    )
    assert _python(code) == "NoBackend"
    assert _python("from fluz import _telemetry; print(type(_telemetry.backend()).__name__)") == (
        "OtelBackend"
    )
    disabled = _python(
        "from fluz import _telemetry; print(type(_telemetry.backend()).__name__)",
        FLUZ_OTEL_DISABLED="1",
    )
    assert disabled == "NoBackend"


async def test_no_span_attribute_or_event_carries_a_secret(
    otel: Telemetry, fluz_sandbox: SandboxServer, fluz: FluzClient
) -> None:
    await fluz.get_wallet()
    identity = fluz._identity
    assert identity is not None
    token = await fluz._tokens.store.get(identity)
    assert token is not None
    dumped = " ".join(span.to_json() for span in otel.spans.get_finished_spans())
    assert "fluz GenerateUserAccessToken" in dumped
    for secret in (fluz_sandbox.api_key, token.access_token, token.refresh_token or "-"):
        assert secret not in dumped


async def test_without_an_sdk_the_callers_trace_context_and_baggage_go_out(
    fluz_sandbox: SandboxServer,
) -> None:
    # The API alone (no global provider set): the client makes no span (it would record
    # nothing), and the requests carry the caller's context as the API's non-recording
    # spans would: its trace context and its baggage.
    if not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        pytest.skip("a global tracer provider was set in this process")
    from opentelemetry import baggage, context
    from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

    sent: list[httpx.Headers] = []

    async def capture(request: httpx.Request) -> None:
        sent.append(request.headers)

    remote = NonRecordingSpan(SpanContext(0x1234, 0x5678, True, TraceFlags(1)))
    caller = baggage.set_baggage("tenant", "t-1", trace.set_span_in_context(remote))
    _telemetry.use_backend(OtelBackend())
    token = context.attach(caller)
    try:
        async with (
            httpx.AsyncClient(event_hooks={"request": [capture]}) as http,
            client_for(fluz_sandbox, http_client=http) as fluz,
        ):
            await fluz.get_wallet()
            assert trace.get_current_span() is remote
    finally:
        context.detach(token)
        _telemetry.use_backend(None)
    assert sent, "no request seen"
    for headers in sent:  # the token mint and the call
        assert headers["traceparent"] == f"00-{0x1234:032x}-{0x5678:016x}-01"
        assert headers["baggage"] == "tenant=t-1"


def test_an_sdk_set_after_the_client_started_gets_its_metrics_and_spans() -> None:
    # A fresh interpreter: the global providers can be set once per process.
    code = """
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from fluz import _telemetry
from fluz._response import CallRecord

def call():
    with _telemetry.operation("GetWallet", False, CallRecord()):
        pass

call()  # before any SDK: the API's proxies, nothing recorded
reader, spans = InMemoryMetricReader(), InMemorySpanExporter()
metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
tracing = TracerProvider()
tracing.add_span_processor(SimpleSpanProcessor(spans))
trace.set_tracer_provider(tracing)
call()
call()
points = [
    point.value
    for resource in reader.get_metrics_data().resource_metrics
    for scope in resource.scope_metrics
    for metric in scope.metrics
    if metric.name == "fluz.client.operations"
    for point in metric.data.data_points
]
print(type(_telemetry.backend()).__name__, points, len(spans.get_finished_spans()))
"""
    assert _python(code) == "OtelBackend [2] 2"


async def test_a_propagator_set_by_the_user_is_called_without_a_span_or_baggage(
    fluz_sandbox: SandboxServer,
) -> None:
    from opentelemetry import propagate
    from opentelemetry.context import Context
    from opentelemetry.propagators.textmap import (
        CarrierT,
        Getter,
        Setter,
        TextMapPropagator,
        default_getter,
        default_setter,
    )

    class Tenant(TextMapPropagator):
        def extract(
            self,
            carrier: CarrierT,
            context: Context | None = None,
            getter: Getter[Any] = default_getter,
        ) -> Context:
            return context or Context()

        def inject(
            self,
            carrier: CarrierT,
            context: Context | None = None,
            setter: Setter[Any] = default_setter,
        ) -> None:
            setter.set(carrier, "x-tenant", "t-1")

        @property
        def fields(self) -> set[str]:
            return {"x-tenant"}

    sent: list[httpx.Headers] = []

    async def capture(request: httpx.Request) -> None:
        sent.append(request.headers)

    default = propagate.get_global_textmap()
    _telemetry.use_backend(OtelBackend())
    propagate.set_global_textmap(Tenant())
    try:
        async with (
            httpx.AsyncClient(event_hooks={"request": [capture]}) as http,
            client_for(fluz_sandbox, http_client=http) as fluz,
        ):
            await fluz.get_wallet()
    finally:
        propagate.set_global_textmap(default)
        _telemetry.use_backend(None)
    assert sent, "no request seen"
    for headers in sent:
        assert headers["x-tenant"] == "t-1"
