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


def test_report_prints_precision_and_recall_per_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A slice of the labelled set in three languages (the whole set is scored in test_decision).
    source = Path(__file__).resolve().parents[3] / "evals" / "escalation" / "labelled.jsonl"
    rows = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]
    picked = [r for r in rows if r["language"] in ("de", "fr")] + [r for r in rows if r["language"] == "en"][:10]
    labelled = tmp_path / "labelled.jsonl"
    labelled.write_text("\n".join(json.dumps(r) for r in picked), encoding="utf-8")
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


def test_report_compares_with_the_phrase_patterns_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [
        {
            "id": "a",
            "turns": [{"role": "user", "text": "Could a colleague of yours phone me back tomorrow?"}],
            "expected": {"escalate": True, "reason": "explicit_request"},
            "language": "en",
        },
        {
            "id": "b",
            "turns": [{"role": "user", "text": "Thanks, that fixed it."}],
            "expected": {"escalate": False, "reason": "none"},
            "language": "en",
            "intent": "lookalike",
        },
    ]
    path = tmp_path / "l.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    assert main(["escalation", "report", str(path), "--compare-rules"]) == 0
    out = capsys.readouterr().out
    assert "P rules" in out and "  rules" in out and "lookalike esc" in out


def test_corpus_refuses_to_change_the_frozen_test_split(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = Path(__file__).resolve().parents[3] / "evals" / "escalation" / "corpus"
    (tmp_path / "families").mkdir()
    for source in (corpus / "families").glob("*.txt"):
        (tmp_path / "families" / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "test-families.txt").write_text((corpus / "test-families.txt").read_text(encoding="utf-8"))
    assert main(["escalation", "corpus", "--dir", str(tmp_path)]) == 0
    assert (tmp_path / "train.jsonl").read_bytes() == (corpus / "train.jsonl").read_bytes()
    # Editing a frozen test family is refused, naming what to do instead.
    frozen = (tmp_path / "test-families.txt").read_text().split()[0]
    language = frozen.split("-")[0]
    family_file = tmp_path / "families" / f"{language}.txt"
    text = family_file.read_text(encoding="utf-8")
    marker = f"@ {frozen} "
    start = text.index(marker)
    line_end = text.index("\n", start)
    family_file.write_text(text[: line_end + 1] + "An extra paraphrase.\n" + text[line_end + 1 :], encoding="utf-8")
    assert main(["escalation", "corpus", "--dir", str(tmp_path)]) == 2
    assert "frozen" in capsys.readouterr().err


def test_report_measures_how_surface_edits_move_the_decision(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from keel.escalation import EscalationPolicy
    from keel.escalation.augment import PROBES
    from keel.escalation.evaluation import read_rows, robustness

    rows = [
        {
            "id": "a",
            "turns": [{"role": "user", "text": "I want to speak to a human"}],
            "expected": {"escalate": True, "reason": "explicit_request"},
        },
        {
            "id": "b",
            "turns": [{"role": "user", "text": "Thanks, that fixed it."}],
            "expected": {"escalate": False, "reason": "none"},
        },
    ]
    path = tmp_path / "l.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    # The phrase patterns alone, so the figures do not depend on the trained heads.
    measured = {m.edit: m for m in robustness(list(read_rows(path)), EscalationPolicy(semantic=False))}
    assert set(measured) == {name for name, _, _ in PROBES}
    assert all(m.rows == 2 and 0 <= m.broken <= m.changed <= 2 for m in measured.values())
    assert measured["greeting in front"].changed == measured["thanks after"].changed == 0
    assert main(["escalation", "report", str(path), "--robustness"]) == 0
    out = capsys.readouterr().out
    assert "robustness:" in out and all(name in out for name, _, _ in PROBES)
    assert main(["escalation", "report", str(path), "--robustness", "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert [r["edit"] for r in body["robustness"]] == [name for name, _, _ in PROBES]


def test_assistant_work_families_come_from_the_guardrails_training_look_alikes_only() -> None:
    from keel.escalation.corpus import WORK_CATEGORIES, assistant_work_families
    from keel.escalation.decision import EscalationPolicy, Turn, decide
    from keel.guardrails.dataset import frozen_split, train_rows

    work = assistant_work_families()
    categories = {r.family: r.category for r in train_rows(None) if r.label == "benign" and ":" not in r.category}
    test_families = set(frozen_split()["test_families"])
    assert len({f.language for f in work}) == 8
    for family in work:
        source = family.family.removeprefix("work-").rsplit("-", 1)[0]
        assert categories[source] in WORK_CATEGORIES  # never owners' own resources, obfuscated or multi-turn rows
        assert source not in test_families  # the guardrails' frozen test split is never read
        assert (family.reason, family.intent, len(family.texts)) == ("none", "work", 1)
    rules_only = EscalationPolicy(semantic=False)
    assert not any(decide([Turn(role="user", text=f.texts[0])], rules_only).escalate for f in work[:200])
