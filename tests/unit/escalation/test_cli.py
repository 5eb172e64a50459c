"""`keel escalation classify` and `report`: output shape and clear errors on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from keel.cli.main import main


def test_classify_prints_one_json_line_per_row(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [
        {"id": "a", "turns": [{"role": "user", "text": "Quiero hablar con una persona"}]},
        {"id": "b", "turns": [{"role": "user", "text": "How do I close a ticket?"}]},
        {"id": "c", "turns": [{"role": "user", "text": "orders?"}, {"role": "event", "text": "CRM timed out"}]},
    ]
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    assert main(["escalation", "classify", str(path)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines == [
        {"id": "a", "escalate": True, "reason": "explicit_request"},
        {"id": "b", "escalate": False, "reason": "none"},
        {"id": "c", "escalate": True, "reason": "system_failure"},
    ]


def test_a_bad_row_is_reported_with_its_line_and_the_accepted_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "a", "turns": [{"role": "robot", "text": "x"}]}\n')
    assert main(["escalation", "classify", str(path)]) == 2
    error = capsys.readouterr().err
    assert "bad.jsonl:1" in error and "user|assistant|event" in error and "Traceback" not in error


def test_report_prints_precision_and_recall_per_reason(capsys: pytest.CaptureFixture[str]) -> None:
    labelled = Path(__file__).resolve().parents[3] / "evals" / "escalation" / "labelled.jsonl"
    assert main(["escalation", "report", str(labelled), "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert set(body["reasons"]) == {
        "explicit_request",
        "vulnerable_customer",
        "high_risk_intent",
        "system_failure",
        "negative_sentiment",
        "low_confidence",
        "none",
    }
    assert all({"precision", "recall", "support"} <= set(v) for v in body["reasons"].values())
    # Per language too, with the acceptance figures of issue 18.
    assert {"de", "en", "fr"} <= set(body["languages"])
    assert {"escalation_f1", "explicit_honoured", "lookalikes_escalated"} <= set(body["overall"])
