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

import os
import time
from typing import Any

from opentelemetry import context, metrics, propagate, trace
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.propagators.textmap import TextMapPropagator
from opentelemetry.trace import ProxyTracerProvider, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from ._telemetry import Operation

_SCOPE = "fluz"
# The API's own propagators: they write nothing for an empty context.
_W3C = (TraceContextTextMapPropagator, W3CBaggagePropagator)
_UNKNOWN = object()


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
        # The API loads a provider named by this variable at its first lookup: then the
        # lookup is needed (see _tracing).
        self._provider_from_env = "OTEL_PYTHON_TRACER_PROVIDER" in os.environ
        self._propagator: tuple[TextMapPropagator | None, bool] = (None, False)
        self._meter = meter = metrics.get_meter(_SCOPE, meter_provider=meter_provider)
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
        if not self._global_tracing:
            return True
        # No provider set yet (the API's global, read directly: get_tracer_provider()
        # looks the environment up on every call until one is set).
        if getattr(trace, "_TRACER_PROVIDER", _UNKNOWN) is None and not self._provider_from_env:
            return False
        return not isinstance(trace.get_tracer_provider(), ProxyTracerProvider)

    def _metering(self) -> bool:
        """Whether measurements are recorded: not while the meter is the API's proxy
        without a meter provider set (it drops them), until an SDK's is set, even after
        this backend was made (the proxy then forwards to it). A meter of an unknown kind
        is assumed to record."""
        return getattr(self._meter, "_real_meter", self._meter) is not None

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
        metering = self._metering()
        if op.state is None and not metering:
            return
        labels: dict[str, str] = {"graphql.operation.name": op.name}
        code = None
        if error is not None:
            code = str(getattr(error, "code", None) or type(error).__name__)
            if metering:
                self._errors.add(1, {**labels, "error.code": code})
        if op.state is not None:
            self._end_span(op, error, code)
        if metering:
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
        if not context.get_current() and self._only_w3c(propagate.get_global_textmap()):
            return  # no span and no baggage: the API's propagators would write nothing
        propagate.inject(headers)

    def _only_w3c(self, propagator: TextMapPropagator) -> bool:
        """Whether *propagator* is the API's trace context and/or baggage propagator
        (the default), alone or composed; a propagator of the user's is always called."""
        checked, verdict = self._propagator
        if propagator is not checked:
            parts = (
                getattr(propagator, "_propagators", [None])
                if type(propagator) is CompositePropagator
                else [propagator]
            )
            verdict = all(type(part) in _W3C for part in parts)
            self._propagator = (propagator, verdict)
        return verdict
