"""Telemetry of the turn: stage timings and traces, per-turn metrics as CloudWatch EMF, and their names (R15).

The metric names, namespace and dimensions below are the contract with the CloudWatch dashboards and
alarms in stacks/ (see docs/kpis.md, "CloudWatch metrics"): change them together or not at all.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TextIO

from keel.analytics.logs import current_correlation, install_log_hygiene
from keel.contract import NAMESPACE, M

STAGES = (
    "identify",
    "route",
    "screen_in",
    "protect",
    "retrieve",
    "screen_ctx",
    "generate",
    "check_out",
    "decide",
    "record",
)
LOW_CONFIDENCE = 0.5
# Outcomes where the model produced an answer whose confidence means something.
ANSWERING_OUTCOMES = frozenset({"answered", "degraded", "no_answer", "ungrounded"})

Unit = Literal["Count", "Milliseconds", "None", "Percent"]


@dataclass(frozen=True)
class MetricPoint:
    """One metric value with its unit and dimensions."""

    name: str
    value: float
    unit: Unit
    dimensions: tuple[tuple[str, str], ...]

    def dims(self) -> dict[str, str]:
        """The dimensions as a dict."""
        return dict(self.dimensions)


class Telemetry(Protocol):
    """Stage timings and traces, metrics, and a flush at the end of an invocation (R15)."""

    def stage(self, name: str) -> AbstractContextManager[None]:
        """Time one stage (an X-Ray subsegment in Lambda)."""
        ...

    def metric(self, name: str, value: float, unit: Unit, dimensions: Mapping[str, str]) -> None:
        """Record one metric value under dimensions."""
        ...

    def flush(self) -> None:
        """Write out what was recorded (EMF lines in Lambda); a no-op when nothing is pending."""
        ...


def observe_turn(telemetry: Telemetry, result: Any, channel: str | None = None) -> None:
    """Emit the per-turn metrics of a TurnResult (or of TurnFacts) and flush them."""
    facts = getattr(result, "facts", result)
    dims = {"bot": str(facts.bot), "channel": str(channel or facts.channel)}
    outcome = str(facts.outcome)
    completion = facts.completion
    emit = telemetry.metric

    emit(M.TURNS, 1, "Count", dims)
    emit(M.ERRORS, 1 if outcome == "maintenance" else 0, "Count", dims)
    emit(M.TURN_LATENCY, round(float(facts.latency_ms), 3), "Milliseconds", dims)
    for stage_name, ms in facts.stage_ms.items():
        emit(M.STAGE_LATENCY, round(float(ms), 3), "Milliseconds", {**dims, "stage": stage_name})
    input_tokens = int(completion.input_tokens) if completion else 0
    output_tokens = int(completion.output_tokens) if completion else 0
    emit(M.INPUT_TOKENS, input_tokens, "Count", dims)
    emit(M.OUTPUT_TOKENS, output_tokens, "Count", dims)
    emit(M.TOKENS, input_tokens + output_tokens, "Count", dims)
    emit(M.COST, float(completion.cost_usd) if completion else 0.0, "None", dims)
    emit(M.RETRIEVAL_PASSAGES, len(facts.passages), "Count", dims)
    if facts.passages:
        emit(M.RETRIEVAL_TOP_SCORE, round(max(float(p.score) for p in facts.passages), 4), "None", dims)
    degradations = list(completion.degradations) if completion else []
    emit(M.FALLBACKS, 1 if degradations else 0, "Count", dims)
    for degradation in dict.fromkeys(degradations):
        emit(M.DEGRADATIONS, 1, "Count", {**dims, "degradation": str(degradation)})
    emit(M.ESCALATIONS, 1 if outcome == "escalated" else 0, "Count", dims)
    answering = outcome in ANSWERING_OUTCOMES
    emit(M.LOW_CONFIDENCE, 1 if answering and facts.confidence < LOW_CONFIDENCE else 0, "Count", dims)
    emit(M.UNGROUNDED, 1 if answering and not facts.grounded else 0, "Count", dims)
    emit(M.OUTCOMES, 1, "Count", {**dims, "outcome": outcome})
    for name, guard_dims in guardrail_counts(facts.guardrails):
        emit(name, 1, "Count", {**dims, **guard_dims})
    telemetry.flush()


def observe_error(telemetry: Telemetry, *, bot: str, channel: str) -> None:
    """Count a turn that failed before it produced a result (the channel calls this from its error path)."""
    dims = {"bot": bot or "unknown", "channel": channel}
    telemetry.metric(M.TURNS, 1, "Count", dims)
    telemetry.metric(M.ERRORS, 1, "Count", dims)
    telemetry.metric(M.OUTCOMES, 1, "Count", {**dims, "outcome": "error"})
    telemetry.flush()


def guardrail_counts(verdicts: Sequence[Mapping[str, Any]]) -> list[tuple[str, dict[str, str]]]:
    """One (GuardrailBlocked|GuardrailFlagged, {stage, category}) per category of each non-allowing verdict."""
    counts: list[tuple[str, dict[str, str]]] = []
    for verdict in verdicts:
        decision = str(verdict.get("decision", "allow"))
        if decision in ("block", "withhold"):
            name = M.GUARDRAIL_BLOCKED
        elif decision in ("flag", "low_confidence", "escalate"):
            name = M.GUARDRAIL_FLAGGED
        else:
            continue
        categories = [str(c) for c in verdict.get("categories") or []] or ["unspecified"]
        for category in dict.fromkeys(categories):
            counts.append((name, {"stage": str(verdict.get("stage", "input")), "category": category}))
    return counts


class RecordingTelemetry:
    """Keeps stage timings and metric points in memory (tests, the local stack, `keel ask`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.stages: list[tuple[str, float]] = []
        self.points: list[MetricPoint] = []
        self.flushes = 0

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the block."""
        started = time.perf_counter()
        try:
            yield
        finally:
            with self._lock:
                self.stages.append((name, (time.perf_counter() - started) * 1000))

    def metric(self, name: str, value: float, unit: Unit, dimensions: Mapping[str, str]) -> None:
        """Remember the point."""
        with self._lock:
            self.points.append(MetricPoint(name, float(value), unit, tuple(sorted(dimensions.items()))))

    def flush(self) -> None:
        """Count flushes (points stay readable)."""
        with self._lock:
            self.flushes += 1

    def observe(self, facts: Any) -> None:
        """The turn's own hook (keel.turn.Telemetry): emit the per-turn metrics."""
        observe_turn(self, facts)

    def total(self, name: str, **dimensions: str) -> float:
        """Sum of a metric over the points whose dimensions include the given ones."""
        with self._lock:
            return sum(
                p.value
                for p in self.points
                if p.name == name and all(p.dims().get(k) == v for k, v in dimensions.items())
            )


@dataclass
class _Pending:
    values: dict[str, list[float]] = field(default_factory=dict)
    units: dict[str, Unit] = field(default_factory=dict)


class PowertoolsTelemetry:
    """Powertools Logger (JSON, correlation id), Tracer (X-Ray subsegments) and EMF metrics for Lambda."""

    def __init__(
        self,
        *,
        service: str = "keel",
        namespace: str = NAMESPACE,
        tracing: bool = True,
        log_level: str = "INFO",
        stream: TextIO | None = None,
    ) -> None:
        from aws_lambda_powertools import Logger

        self._namespace = namespace
        self._stream = stream
        self._lock = threading.Lock()
        self._pending: dict[tuple[tuple[str, str], ...], _Pending] = {}
        # The "keel" logger is the parent of every keel.* logger, so its JSON handler formats them all.
        self.logger = Logger(service=service, level=log_level, stream=stream)
        # The X-Ray SDK opens its UDP emitter socket on import: only load it where traces are wanted.
        self.tracer: Any = None
        if tracing:
            from aws_lambda_powertools import Tracer

            self.tracer = Tracer(service=service)
        install_log_hygiene(logging.getLogger(service))

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """An X-Ray subsegment named after the stage (timed by X-Ray; a plain block when tracing is off)."""
        if self.tracer is None:
            yield
            return
        with self.tracer.provider.in_subsegment(f"## {name}") as subsegment:
            subsegment.put_annotation("correlation_id", current_correlation())
            yield

    def metric(self, name: str, value: float, unit: Unit, dimensions: Mapping[str, str]) -> None:
        """Queue a value under its dimension set (written at flush)."""
        key = tuple(sorted(dimensions.items()))
        with self._lock:
            pending = self._pending.setdefault(key, _Pending())
            pending.values.setdefault(name, []).append(float(value))
            pending.units[name] = unit

    def flush(self) -> None:
        """Write one EMF document per dimension set to stdout, where CloudWatch Logs turns it into metrics."""
        from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

        with self._lock:
            pending, self._pending = self._pending, {}
        for dims, group in pending.items():
            # service="" keeps Powertools from adding a "service" dimension the dashboards do not query.
            provider = AmazonCloudWatchEMFProvider(namespace=self._namespace, service="")
            for dim_name, dim_value in dims:
                provider.add_dimension(dim_name, dim_value)
            for name, values in group.values.items():
                for value in values:
                    provider.add_metric(name=name, unit=group.units[name], value=value)
            provider.add_metadata("correlation_id", current_correlation())
            document = provider.serialize_metric_set()
            stream = self._stream or sys.stdout
            stream.write(json.dumps(document, separators=(",", ":")) + "\n")
            stream.flush()

    def observe(self, facts: Any) -> None:
        """The turn's own hook (keel.turn.Telemetry): emit the per-turn metrics and log one summary line."""
        observe_turn(self, facts)
        self.logger.info(
            "turn completed",
            extra={
                "bot": facts.bot,
                "channel": facts.channel,
                "outcome": facts.outcome,
                "latency_ms": round(float(facts.latency_ms), 1),
                "stage_ms": {k: round(v, 1) for k, v in facts.stage_ms.items()},
            },
        )


def build_telemetry(environment: str, log_level: str = "INFO") -> PowertoolsTelemetry:
    """The turn's telemetry for an environment: X-Ray subsegments in AWS, none locally (no daemon there)."""
    return PowertoolsTelemetry(tracing=environment != "local", log_level=log_level)
