"""The regression gate's scoring and comparison, and the sentence-limit directive the worse prompt relies on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keel.errors import InvalidRequest
from keel.launch.scenarios import (
    BotSummary,
    Observation,
    Scenario,
    ScenarioResult,
    Thresholds,
    behaviour_of,
    compare,
    load_scenarios,
    percentile,
    read_baseline,
    run_bot,
    summarise,
    write_baseline,
)
from keel.local.model_server import respond
from keel.models import extractive

ANSWER = Scenario("s1", "hr", "emma", "How much leave?", "answer", ("hr-leave",), ("25 days",))
REFUSE = Scenario("s2", "hr", "emma", "Salary bands?", "refuse", (), ())
ESCALATE = Scenario("s3", "hr", "emma", "A human please", "escalate", (), ())


def obs(behaviour: str, cited: tuple[str, ...] = (), answer: str = "", latency: float = 100.0) -> Observation:
    return Observation(behaviour, cited, answer, latency, cost_usd=0.001)


def summary(**overrides: float) -> BotSummary:
    values = {
        "behaviour_match": 0.8,
        "doc_recall": 0.7,
        "must_include": 0.6,
        "latency_p95_ms": 500.0,
        "cost_per_turn_usd": 0.003,
    }
    values.update(overrides)
    return BotSummary(
        "hr",
        10,
        values["behaviour_match"],
        values["doc_recall"],
        values["must_include"],
        100.0,
        values["latency_p95_ms"],
        values["cost_per_turn_usd"],
    )


def test_behaviour_is_read_from_the_outcome_and_citations() -> None:
    assert behaviour_of("escalated", []) == "escalate"
    assert behaviour_of("refused", []) == "refuse"
    assert behaviour_of("no_answer", []) == "refuse"
    assert behaviour_of("answered", []) == "refuse"  # an answer that cites nothing is no answer
    assert behaviour_of("answered", ["hr-leave"]) == "answer"
    assert behaviour_of("degraded", ["hr-leave"]) == "answer"


def test_a_result_scores_behaviour_documents_and_facts() -> None:
    good = ScenarioResult(ANSWER, obs("answer", ("hr-leave",), "You get **25 days**\nof leave [hr-leave]"))
    assert good.behaviour_ok and good.docs_ok and good.includes_hit == 1
    wrong_doc = ScenarioResult(ANSWER, obs("answer", ("hr-sick",), "nothing relevant"))
    assert wrong_doc.behaviour_ok and wrong_doc.docs_ok is False and wrong_doc.includes_hit == 0
    assert ScenarioResult(REFUSE, obs("refuse")).docs_ok is None  # documents are scored on answers only
    errored = ScenarioResult(REFUSE, Observation("refuse", (), "", 1.0, error="boom"))
    assert not errored.behaviour_ok


def test_summary_rates_and_latency() -> None:
    results = [
        ScenarioResult(ANSWER, obs("answer", ("hr-leave",), "25 days", 100)),
        ScenarioResult(REFUSE, obs("answer", ("hr-salary",), "x", 200)),
        ScenarioResult(ESCALATE, obs("escalate", (), "", 900)),
    ]
    s = summarise("hr", results)
    assert s.behaviour_match == pytest.approx(2 / 3, abs=1e-3)
    assert s.doc_recall == 1.0 and s.must_include == 1.0
    assert s.latency_p95_ms == 900 and s.cost_per_turn_usd == pytest.approx(0.001)


def test_an_unknown_cost_is_not_averaged_as_zero() -> None:
    s = summarise("hr", [ScenarioResult(REFUSE, Observation("refuse", (), "", 5.0, cost_usd=None))])
    assert s.cost_per_turn_usd is None


def test_run_bot_asks_every_scenario() -> None:
    asked: list[str] = []

    def ask(scenario: Scenario) -> Observation:
        asked.append(scenario.id)
        return obs(scenario.expected_behaviour)

    s = run_bot("hr", [ANSWER, REFUSE, ESCALATE], ask)
    assert asked == ["s1", "s2", "s3"] and s.scenarios == 3


def test_no_scenarios_is_an_error() -> None:
    with pytest.raises(InvalidRequest, match="no scenarios"):
        summarise("hr", [])


@pytest.mark.parametrize(
    ("metric", "value"),
    [
        ("behaviour_match", 0.7),
        ("doc_recall", 0.6),
        ("must_include", 0.5),
        ("latency_p95_ms", 1600.0),
        ("cost_per_turn_usd", 0.004),
    ],
)
def test_each_figure_past_its_threshold_is_a_regression(metric: str, value: float) -> None:
    found = compare(summary(), summary(**{metric: value}))
    assert [r.metric for r in found] == [metric]
    assert metric in found[0].describe()


def test_small_moves_within_the_thresholds_pass() -> None:
    candidate = summary(
        behaviour_match=0.76, doc_recall=0.66, must_include=0.56, latency_p95_ms=1400.0, cost_per_turn_usd=0.0035
    )
    assert compare(summary(), candidate) == []


def test_thresholds_can_be_tightened() -> None:
    assert compare(summary(), summary(must_include=0.59), Thresholds(must_include_drop=0.0))


@given(st.floats(0, 1), st.floats(0, 1), st.floats(0, 1), st.floats(1, 1e5), st.one_of(st.none(), st.floats(1e-6, 1)))
def test_a_candidate_equal_to_its_baseline_never_regresses(
    behaviour: float, docs: float, facts: float, p95: float, cost: float | None
) -> None:
    same = BotSummary("hr", 5, behaviour, docs, facts, p95, p95, cost)
    assert compare(same, same) == []


@given(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=50), st.floats(0.01, 1))
def test_percentile_is_one_of_the_values_and_bounded(values: list[float], q: float) -> None:
    p = percentile(values, q)
    assert p in values and min(values) <= p <= max(values)


def test_baselines_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "b" / "hr.json"
    write_baseline(path, summary())
    assert read_baseline(path).to_dict() == summary().to_dict()


def test_a_missing_or_broken_baseline_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequest, match="--record-baseline"):
        read_baseline(tmp_path / "nope.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(InvalidRequest, match="not JSON"):
        read_baseline(tmp_path / "bad.json")
    (tmp_path / "partial.json").write_text(json.dumps({"bot": "hr"}))
    with pytest.raises(InvalidRequest, match="lacks scenarios"):
        read_baseline(tmp_path / "partial.json")


def test_scenario_files_are_validated_with_file_and_line(tmp_path: Path) -> None:
    row = {
        "id": "x",
        "bot": "hr",
        "user": "u",
        "question": "q",
        "expected_behaviour": "answer",
        "expected_doc_ids": [],
        "must_include": [],
    }
    (tmp_path / "hr.jsonl").write_text(json.dumps(row) + "\n" + json.dumps({**row, "expected_behaviour": "maybe"}))
    with pytest.raises(InvalidRequest, match=r"hr\.jsonl line 2: expected_behaviour"):
        load_scenarios(tmp_path)
    with pytest.raises(InvalidRequest, match="no scenarios for bot it"):
        load_scenarios(tmp_path, ["it"])
    with pytest.raises(InvalidRequest, match="does not exist"):
        load_scenarios(tmp_path / "missing")


def test_the_repository_scenarios_load() -> None:
    folder = Path(__file__).resolve().parents[3] / "evals" / "scenarios"
    loaded = load_scenarios(folder)
    assert set(loaded) == {"customer", "finance", "hr", "it", "sales"}
    assert all(s.expected_behaviour in ("answer", "refuse", "escalate") for rows in loaded.values() for s in rows)


# ---------------------------------------------------------------- the directive the worse prompt uses

SOURCES = (
    '<source doc_id="leave">Staff get 25 days of annual leave. Annual leave is booked in the portal. '
    "Unused annual leave carries over up to 5 days.</source><question>How does annual leave work?</question>"
)


@pytest.mark.parametrize(
    ("system", "limit"),
    [
        ("", 3),
        ("Answer in at most 1 sentence.", 1),
        ("answer IN AT MOST 2 sentences", 2),
        ("Answer in at most 9 sentences.", 3),
        ("Answer in at most 0 sentences.", 3),
    ],
)
def test_sentence_limit_reads_the_directive(system: str, limit: int) -> None:
    assert extractive.sentence_limit(system) == limit


def test_the_local_model_honours_the_limit_in_the_system_prompt() -> None:
    body = {"messages": [{"role": "user", "content": [{"text": SOURCES}]}]}
    full = respond(body)["output"]["message"]["content"][0]["text"]
    short = respond({**body, "system": [{"text": "Rules. Answer in at most 1 sentence."}]})
    text = short["output"]["message"]["content"][0]["text"]
    assert full.count("[leave]") == 3 and text.count("[leave]") == 1
    assert text.split(" [leave]")[0] in full  # still a verbatim sentence
