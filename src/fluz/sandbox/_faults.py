"""Deciding, per request, which configured fault (if any) it suffers."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ._config import NO_FAULTS, Faults

FaultKind = Literal["unavailable", "rate_limited", "reset", "drop_after_commit"]


@dataclass(frozen=True)
class FaultPlan:
    """What happens to one request: added latency and at most one failure."""

    latency: float = 0.0
    failure: FaultKind | None = None
    retry_after: float = 0.0


NO_FAULT = FaultPlan()


class FaultInjector:
    def __init__(self, faults: Faults = NO_FAULTS, default_seed: int = 0) -> None:
        self.configure(faults, default_seed)

    def configure(self, faults: Faults, default_seed: int) -> None:
        self.faults = faults
        # Seeded on purpose: a fault sequence must be reproducible.
        self._rng = random.Random(default_seed if faults.seed is None else faults.seed)  # noqa: S311
        self._injected = 0

    def plan(self, root_fields: Sequence[str]) -> FaultPlan:
        faults = self.faults
        if not faults.active or not faults.targets(root_fields):
            return NO_FAULT
        failure: FaultKind | None = None
        exhausted = faults.limit is not None and self._injected >= faults.limit
        if faults.failure_rate > 0 and not exhausted:
            draw = self._rng.random()
            bands: tuple[tuple[float, FaultKind], ...] = (
                (faults.unavailable_rate, "unavailable"),
                (faults.rate_limited_rate, "rate_limited"),
                (faults.reset_rate, "reset"),
                (faults.drop_after_commit_rate, "drop_after_commit"),
            )
            for rate, kind in bands:
                if draw < rate:
                    failure = kind
                    self._injected += 1
                    break
                draw -= rate
        return FaultPlan(faults.latency, failure, faults.retry_after)
