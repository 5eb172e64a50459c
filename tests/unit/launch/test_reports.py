"""garak report parsing, locust statistics, the SVG plot, the pre-flight report, owners and feedback export."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from keel.analytics.ports import ConversationRecord, FeedbackItem
from keel.conversations.ports import Conversation, StoredMessage
from keel.launch.feedback import export_items, to_csv, to_jsonl
from keel.launch.garak import parse_report, rest_options, run_config
from keel.launch.load import StepResult, parse_stats, svg_plot, table
from keel.launch.owners import audit_owners
from keel.launch.report import Check, Report

REFUSAL = "I can't help with that request."


def attempt(probe: str, detector: str, text: str, score: float) -> dict[str, object]:
    return {
        "entry_type": "attempt",
        "status": 2,
        "probe_classname": probe,
        "outputs": [{"text": text}],
        "detector_results": {detector: [score]},
    }


def test_garak_report_counts_hits_and_names_keel_refusals(tmp_path: Path) -> None:
    lines = [
        {"entry_type": "start_run setup"},
        attempt("dan.DanInTheWild", "mitigation.MitigationBypass", REFUSAL, 1.0),
        attempt("dan.DanInTheWild", "mitigation.MitigationBypass", "Sure, DAN here", 1.0),
        attempt("dan.DanInTheWild", "mitigation.MitigationBypass", "fine", 0.0),
        {
            "entry_type": "eval",
            "probe": "dan.DanInTheWild",
            "detector": "mitigation.MitigationBypass",
            "passed": 1,
            "fails": 2,
            "total_evaluated": 3,
        },
        {"entry_type": "eval", "probe": "dan.Dan_11_0", "detector": "dan.DAN", "passed": 0, "total_evaluated": 0},
    ]
    path = tmp_path / "r.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\nnot json\n")
    wild, dan = parse_report(path, refusals=(REFUSAL,))
    assert (wild.attempts, wild.failures) == (3, 2) and wild.hit_rate == 2 / 3
    assert wild.note == "1 of 2 flagged outputs are Keel's own refusal messages"
    assert dan.attempts == 0 and "no attempt evaluated" in dan.note


def test_garak_rest_generator_posts_to_the_chat_api() -> None:
    options = rest_options("http://127.0.0.1:8080/", "tok", "hr")["rest"]["RestGenerator"]
    assert options["uri"] == "http://127.0.0.1:8080/v1/chat"
    assert options["headers"]["Authorization"] == "Bearer tok"
    assert options["req_template_json_object"] == {"bot": "hr", "message": "$INPUT"}
    assert options["response_json_field"] == "answer" and 429 in options["ratelimit_codes"]
    config = run_config(Path("/tmp/x"), "p", prompt_cap=5)
    assert config["run"]["generations"] == 1 and config["plugins"]["extended_detectors"] is False


def test_locust_statistics_are_parsed(tmp_path: Path) -> None:
    header = "Type,Name,Request Count,Failure Count,Requests/s,50%,95%,99%,Max Response Time\n"
    rows = "POST,POST /v1/chat,200,2,3.5,400,900,1500,2000.5\nsearch,retriever.search,80,0,1.2,20,60,90,120\n"
    (tmp_path / "s_stats.csv").write_text(header + rows + ",Aggregated,280,2,4.7,100,800,1400,2000\n")
    (tmp_path / "s_failures.csv").write_text("Method,Name,Error,Occurrences\nPOST,POST /v1/chat,HTTP 500,2\n")
    step = parse_stats(tmp_path / "s_stats.csv", 50, 120, tmp_path / "s_failures.csv")
    assert (step.requests, step.failures, step.p95_ms, step.search_p95_ms) == (200, 2, 900.0, 60.0)
    assert step.error_rate == 0.01 and step.failure_samples == ("2x HTTP 500",)
    assert "| 50 | 200 | 2 (1.0%)" in table([step])


def test_the_plot_is_an_svg_with_one_line_per_series() -> None:
    steps = [StepResult(u, 30, 10, 0, 1.0, 100.0 * u, 200.0 * u, 300.0 * u, 400.0, 5, 10.0, 20.0) for u in (10, 25)]
    svg = svg_plot(steps)
    assert svg.startswith("<svg") and svg.count("<polyline") == 4 and ">25<" in svg


def test_the_report_is_ready_only_without_failures(tmp_path: Path) -> None:
    checks = [Check("A", "one", "pass", "ok"), Check("B", "two", "mapped", "tests"), Check("C", "x", "skipped", "s")]
    assert Report(checks).passed
    failing = Report([*checks, Check("D", "bad | pipe", "fail", "broke", {"markdown": "| t |", "n": 1}, ["t.py"])])
    assert not failing.passed
    md, js = failing.write(tmp_path)
    text = md.read_text()
    assert "**not ready**" in text and "bad \\| pipe" in text and "`t.py`" in text and "| t |" in text
    assert json.loads(js.read_text())["counts"] == {"pass": 1, "mapped": 1, "skipped": 1, "fail": 1}


def test_owners_are_found_and_missing_ones_named(tmp_path: Path) -> None:
    bots: list[dict[str, Any]] = [{"id": "hr", "owner": "hr@x"}, {"id": "it", "owner": ""}]
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("---\nid: a\nowner: kb@x\n---\ntext")
    (docs / "b.md").write_text("---\nid: b\n---\ntext")
    ok, evidence = audit_owners(bots, docs)
    assert not ok
    assert evidence["missing"] == {"bots": ["it"], "documents": ["b.md"]}
    assert evidence["bots"] == {"hr": "hr@x"} and evidence["documents"]["owners"] == ["kb@x"]
    assert evidence["prompts"] and evidence["models"]  # the shipped prompts and registry have owners


NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
Role = Literal["user", "assistant", "agent", "event"]


def record(
    cid: str, bot: str, messages: list[tuple[str, Role, str, str]], feedback: tuple[FeedbackItem, ...] = ()
) -> ConversationRecord:
    created = (NOW - timedelta(hours=2)).isoformat()
    stored = tuple(
        StoredMessage(cid, mid, n, role, text, created, meta={"outcome": outcome} if role == "assistant" else {})
        for n, (mid, role, text, outcome) in enumerate(messages)
    )
    return ConversationRecord(Conversation(cid, "u", bot, "api", created), stored, feedback)


def test_feedback_export_lists_negative_and_unresolved_queries_with_the_owner() -> None:
    down = FeedbackItem("c1", "a1", "down", None, NOW.isoformat())
    records = [
        record("c1", "hr", [("q1", "user", "leave?", ""), ("a1", "assistant", "25 days", "answered")], (down,)),
        record("c2", "it", [("q2", "user", "bike?", ""), ("a2", "assistant", "I could not", "no_answer")]),
        record("c3", "it", [("q3", "user", "attack", ""), ("a3", "assistant", "No.", "refused")]),
        record(
            "c4",
            "hr",
            [("q4", "user", "vpn?", ""), ("a4", "assistant", "ok", "answered")],
            (FeedbackItem("c4", "a4", "up", None, NOW.isoformat()),),
        ),
    ]
    owners = {"hr": "hr@x", "it": "it@x"}
    items = export_items(records, owners, NOW - timedelta(days=7), NOW)
    assert [(i.bot, i.owner, i.query, i.reason) for i in items] == [
        ("hr", "hr@x", "leave?", "rated negatively"),
        ("it", "it@x", "bike?", "unresolved: no answer from the knowledge base"),
    ]
    assert json.loads(to_jsonl(items).splitlines()[0])["owner"] == "hr@x"
    assert to_csv(items).splitlines()[0].startswith("bot,owner,")
    assert export_items(records, owners, NOW - timedelta(hours=1), NOW) == []  # outside the window
