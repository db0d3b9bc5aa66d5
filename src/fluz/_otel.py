"""OpenTelemetry backend of :mod:`fluz._telemetry` (imported only when
``opentelemetry-api`` is installed: the ``otel`` extra).

Spans: one ``fluz <OperationName>`` CLIENT span per operation with the GraphQL semantic
attributes (``graphql.operation.name``/``type``), ``server.address``, and Fluz's:
``fluz.request_id``, ``fluz.attempts``, ``fluz.error.code``, ``fluz.idempotency_key`` (not a
secret: it names a purchase, it grants nothing). Retries and token renewals are span
events; the token operations and reveal polls are operations, so they are child spans
of the call that needed them. The span's context goes out in ``traceparent`` (the global
propagator), so the server's trace and the service's own join.

Metrics (meter ``fluz``): ``fluz.client.operations`` and ``fluz.client.errors`` (by
``error.code``) counters, ``fluz.client.operation.duration`` histogram (s),
``fluz.client.retries``, ``fluz.client.token_renewals``, ``fluz.client.reveal_polls``
counters and ``fluz.client.reveal.duration`` histogram (time to reveal, s).

No message text, variable, token or header value is ever an attribute.
"""

from __future__ import annotations

import time
from typing import Any

from opentelemetry import context, metrics, propagate, trace
from opentelemetry.trace import ProxyTracerProvider, SpanKind, Status, StatusCode

from ._telemetry import Operation

_SCOPE = "fluz"


class OtelBackend:
    """Spans and metrics through the OpenTelemetry API (the global providers unless
    given: tests pass the SDK's in-memory ones)."""

    def __init__(
        self,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
    ) -> None:
        self._tracer = trace.get_tracer(_SCOPE, tracer_provider=tracer_provider)
        self._global_tracing = tracer_provider is None
        meter = metrics.get_meter(_SCOPE, meter_provider=meter_provider)
        self._calls = meter.create_counter(
            "fluz.client.operations", unit="{operation}", description="operations called"
        )
        self._errors = meter.create_counter(
            "fluz.client.errors", unit="{operation}", description="operations that failed"
        )
        self._duration = meter.create_histogram(
            "fluz.client.operation.duration", unit="s", description="operation duration"
        )
        self._retries = meter.create_counter(
            "fluz.client.retries", unit="{retry}", description="attempts retried"
        )
        self._renewals = meter.create_counter(
            "fluz.client.token_renewals", unit="{token}", description="user tokens obtained"
        )
        self._reveal_polls = meter.create_counter(
            "fluz.client.reveal_polls", unit="{poll}", description="gift card reveal polls"
        )
        self._reveal_time = meter.create_histogram(
            "fluz.client.reveal.duration", unit="s", description="time to reveal a gift card"
        )

    def _tracing(self) -> bool:
        """Whether spans can be recorded: not while the global tracer provider is still
        the API's proxy (no SDK set up yet), whose spans only carry their parent's
        context."""
        return not (
            self._global_tracing and isinstance(trace.get_tracer_provider(), ProxyTracerProvider)
        )

    def start(self, op: Operation) -> None:
        if not self._tracing():
            # The span would record nothing and carry its parent's context, which is
            # current already (inject() sends it): skip making, entering and ending it.
            op.state = None
            return
        span = self._tracer.start_span(
            f"fluz {op.name}",
            kind=SpanKind.CLIENT,
            attributes={
                "graphql.operation.name": op.name,
                "graphql.operation.type": "mutation" if op.is_mutation else "query",
            },
        )
        op.state = (span, context.attach(trace.set_span_in_context(span)))

    def end(self, op: Operation, error: BaseException | None) -> None:
        labels: dict[str, str] = {"graphql.operation.name": op.name}
        code = None
        if error is not None:
            code = str(getattr(error, "code", None) or type(error).__name__)
            self._errors.add(1, {**labels, "error.code": code})
        if op.state is not None:
            self._end_span(op, error, code)
        self._calls.add(1, {**labels, "outcome": "error" if error is not None else "ok"})
        self._duration.record(time.perf_counter() - op.started, labels)

    def _end_span(self, op: Operation, error: BaseException | None, code: str | None) -> None:
        span, token = op.state
        context.detach(token)
        call = op.call
        attributes: dict[str, Any] = {"fluz.attempts": call.attempts}
        if call.request_id:
            attributes["fluz.request_id"] = call.request_id
        if call.idempotency_key:
            attributes["fluz.idempotency_key"] = call.idempotency_key
        if error is not None:
            attributes["fluz.error.code"] = code
            attributes["error.type"] = type(error).__name__
            span.set_status(Status(StatusCode.ERROR, type(error).__name__))
        span.set_attributes(attributes)
        span.end()

    def retry(self, op: Operation, attempt: int, delay: float, error: BaseException) -> None:
        if op.state is not None:
            op.state[0].add_event(
                "retry",
                {
                    "fluz.retry": attempt,
                    "fluz.retry.delay": delay,
                    "error.type": type(error).__name__,
                    "fluz.error.code": str(getattr(error, "code", None) or ""),
                },
            )
        self._retries.add(1, {"graphql.operation.name": op.name})

    def token_renewed(self, op: Operation | None) -> None:
        if op is not None and op.state is not None:
            op.state[0].add_event("token renewed")
        self._renewals.add(1)

    def revealed(self, polls: int, seconds: float, found: bool) -> None:
        outcome = {"outcome": "revealed" if found else "not revealed"}
        self._reveal_polls.add(polls, outcome)
        self._reveal_time.record(seconds, outcome)

    def inject(self, headers: dict[str, str]) -> None:
        propagate.inject(headers)
