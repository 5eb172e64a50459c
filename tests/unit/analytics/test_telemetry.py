"""Per-turn metrics from a turn's facts, stage timing, and the EMF documents CloudWatch reads."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

from keel.analytics.telemetry import (
    NAMESPACE,
    M,
    PowertoolsTelemetry,
    RecordingTelemetry,
    guardrail_counts,
    observe_error,
    observe_turn,
)
from keel.identity.principal import Principal
from keel.knowledge.ports import Passage
from keel.models.ports import Completion
from keel.turn import TurnFacts

PRINCIPAL = Principal("sub-1", "ana", frozenset({"all-staff"}), "demo")


def _facts(**overrides: object) -> TurnFacts:
    facts = TurnFacts(
        principal=PRINCIPAL,
        channel="api",
        bot="hr",
        conversation_id="c-1",
        message_id="m-1",
        correlation_id="corr-1",
        occurred_at=datetime(2026, 11, 1, tzinfo=UTC),
        input_masked="How many days off for <PERSON_1>?",
        outcome="degraded",
        passages=[
            Passage("d1", "d1#0", "Leave", "text", 0.82),
            Passage("d2", "d2#0", "Leave 2", "text", 0.4),
        ],
        completion=Completion("answer [d1]", "secondary", 120, 30, 80.0, cost_usd=0.0021, degradations=("fallback",)),
        guardrails=[
            {"stage": "input", "decision": "flag", "categories": ["injection", "jailbreak"]},
            {"stage": "context", "decision": "block", "categories": ["hidden_instruction"], "doc_id": "d3"},
            {"stage": "output", "decision": "deliver", "categories": []},
        ],
        confidence=0.3,
        grounded=False,
        latency_ms=250.0,
        stage_ms={"route": 2.0, "retrieve": 12.5, "generate": 200.0},
    )
    for key, value in overrides.items():
        setattr(facts, key, value)
    return facts


def test_observe_turn_emits_every_per_turn_metric() -> None:
    telemetry = RecordingTelemetry()
    observe_turn(telemetry, _facts())
    t = telemetry.total
    assert t(M.TURNS, bot="hr", channel="api") == 1
    assert t(M.ERRORS) == 0
    assert t(M.TURN_LATENCY) == 250.0
    assert t(M.STAGE_LATENCY, stage="retrieve") == 12.5
    assert (t(M.INPUT_TOKENS), t(M.OUTPUT_TOKENS), t(M.TOKENS)) == (120, 30, 150)
    assert t(M.COST) == 0.0021
    assert t(M.RETRIEVAL_TOP_SCORE) == 0.82
    assert t(M.RETRIEVAL_PASSAGES) == 2
    assert t(M.FALLBACKS) == 1
    assert t(M.DEGRADATIONS, degradation="fallback") == 1
    assert t(M.LOW_CONFIDENCE) == 1
    assert t(M.UNGROUNDED) == 1
    assert t(M.ESCALATIONS) == 0
    assert t(M.OUTCOMES, outcome="degraded") == 1
    assert t(M.GUARDRAIL_FLAGGED, stage="input", category="jailbreak") == 1
    assert t(M.GUARDRAIL_BLOCKED, stage="context", category="hidden_instruction") == 1
    assert telemetry.flushes == 1


def test_channel_argument_overrides_the_facts_channel() -> None:
    telemetry = RecordingTelemetry()
    observe_turn(telemetry, _facts(), channel="slack")
    assert telemetry.total(M.TURNS, channel="slack") == 1
    assert telemetry.total(M.TURNS, channel="api") == 0


def test_a_refused_turn_has_no_model_figures() -> None:
    telemetry = RecordingTelemetry()
    observe_turn(telemetry, _facts(outcome="refused", completion=None, passages=[], confidence=0.0))
    assert telemetry.total(M.TOKENS) == 0
    assert telemetry.total(M.COST) == 0
    assert telemetry.total(M.LOW_CONFIDENCE) == 0  # a refusal is not a low-confidence answer
    assert not [p for p in telemetry.points if p.name == M.RETRIEVAL_TOP_SCORE]


def test_maintenance_counts_as_an_error_and_escalation_as_escalation() -> None:
    telemetry = RecordingTelemetry()
    observe_turn(telemetry, _facts(outcome="maintenance"))
    observe_turn(telemetry, _facts(outcome="escalated"))
    assert telemetry.total(M.ERRORS) == 1
    assert telemetry.total(M.ESCALATIONS) == 1
    assert telemetry.total(M.TURNS) == 2


def test_observe_error_counts_a_failed_turn() -> None:
    telemetry = RecordingTelemetry()
    observe_error(telemetry, bot="", channel="web")
    assert telemetry.total(M.ERRORS, bot="unknown", channel="web") == 1
    assert telemetry.total(M.TURNS) == 1
    assert telemetry.total(M.OUTCOMES, outcome="error") == 1


def test_guardrail_counts_skip_allowed_verdicts_and_name_unspecified_categories() -> None:
    counts = guardrail_counts(
        [
            {"stage": "input", "decision": "allow", "categories": ["x"]},
            {"stage": "output", "decision": "withhold", "categories": []},
            {"stage": "output", "decision": "low_confidence", "categories": ["ungrounded", "ungrounded"]},
        ]
    )
    assert counts == [
        (M.GUARDRAIL_BLOCKED, {"stage": "output", "category": "unspecified"}),
        (M.GUARDRAIL_FLAGGED, {"stage": "output", "category": "ungrounded"}),
    ]


def test_recording_telemetry_times_stages_even_when_the_block_raises() -> None:
    telemetry = RecordingTelemetry()
    try:
        with telemetry.stage("generate"):
            raise RuntimeError("model down")
    except RuntimeError:
        pass
    assert [name for name, _ in telemetry.stages] == ["generate"]
    assert telemetry.stages[0][1] >= 0


def test_powertools_telemetry_writes_emf_with_namespace_keel_and_bot_channel_dimensions() -> None:
    stream = io.StringIO()
    telemetry = PowertoolsTelemetry(service="keel-unit-test", tracing=False, stream=stream)
    observe_turn(telemetry, _facts())
    documents = [json.loads(line) for line in stream.getvalue().splitlines() if '"_aws"' in line]
    by_dims = {tuple(d["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0]): d for d in documents}
    turn = by_dims[("bot", "channel")]
    assert turn["_aws"]["CloudWatchMetrics"][0]["Namespace"] == NAMESPACE
    assert (turn["bot"], turn["channel"]) == ("hr", "api")
    assert turn[M.TURNS] == [1.0] and turn[M.TOKENS] == [150.0]
    names = {m["Name"]: m["Unit"] for m in turn["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert names[M.TURN_LATENCY] == "Milliseconds"
    assert ("bot", "channel", "stage") in by_dims
    assert ("bot", "category", "channel", "stage") in {tuple(sorted(k)) for k in by_dims}
    assert all("service" not in d["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0] for d in documents)


def test_powertools_flush_with_nothing_pending_writes_nothing() -> None:
    stream = io.StringIO()
    PowertoolsTelemetry(service="keel-unit-test", tracing=False, stream=stream).flush()
    assert stream.getvalue() == ""


def test_powertools_stage_without_tracing_is_a_plain_block() -> None:
    telemetry = PowertoolsTelemetry(service="keel-unit-test", tracing=False, stream=io.StringIO())
    with telemetry.stage("retrieve"):
        value = 1
    assert value == 1


def test_powertools_observe_logs_one_summary_line_with_the_correlation_id() -> None:
    from keel.analytics.logs import correlation_scope

    stream = io.StringIO()
    # Powertools keeps one handler per logger name: a fresh name gets a handler on this stream.
    telemetry = PowertoolsTelemetry(service="keel-summary-test", tracing=False, stream=stream)
    with correlation_scope("corr-42"):
        telemetry.observe(_facts())
    logs = [json.loads(line) for line in stream.getvalue().splitlines() if '"_aws"' not in line]
    summary = [line for line in logs if line.get("message") == "turn completed"]
    assert len(summary) == 1
    assert summary[0]["correlation_id"] == "corr-42"
    assert summary[0]["outcome"] == "degraded"
