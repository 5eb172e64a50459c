"""Ingest events are parsed strictly; the evaluation scores rankings; the CLI rejects bad input clearly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from keel.cli.main import main
from keel.errors import InvalidRequest, SearchUnavailable
from keel.knowledge.evaluation import GoldenQuestion, evaluate, load_golden
from keel.knowledge.events import parse_event
from keel.knowledge.ports import Passage, SearchScope
from keel.knowledge.report import IngestReport, Rejection


def s3_record(name: str, key: str, bucket: str = "kb") -> dict[str, object]:
    return {"eventName": name, "s3": {"bucket": {"name": bucket}, "object": {"key": key}}}


def test_s3_notifications_split_into_created_and_removed_keys() -> None:
    event = {
        "Records": [
            s3_record("ObjectCreated:Put", "hr/Annual+leave.md"),
            s3_record("ObjectRemoved:Delete", "it/vpn.md"),
            s3_record("ObjectCreated:Put", "it/wifi.md.meta.json"),
        ]
    }
    (command,) = parse_event(event)
    assert command.bucket == "kb" and not command.refresh
    assert command.created == ["hr/Annual leave.md", "it/wifi.md"]
    assert command.removed == ["it/vpn.md"]


def test_eventbridge_s3_and_scheduled_refresh() -> None:
    created = {
        "source": "aws.s3",
        "detail-type": "Object Created",
        "detail": {"bucket": {"name": "kb"}, "object": {"key": "a.md"}},
    }
    assert parse_event(created)[0].created == ["a.md"]
    scheduled = {"detail-type": "Scheduled Event", "source": "aws.events", "refresh": {"bucket": "kb"}}
    assert parse_event(scheduled)[0].refresh is True


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"hello": 1}, "unrecognised ingest event"),
        ({"Records": [{"eventName": "ObjectCreated:Put"}]}, "needs eventName"),
        ({"detail-type": "Scheduled Event"}, "needs"),
    ],
)
def test_bad_events_say_what_is_accepted(event: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        parse_event(event)


class ListRetriever:
    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers

    def search(self, scope: SearchScope, query: str, *, k: int = 5) -> list[Passage]:
        if query == "down":
            raise SearchUnavailable("down")
        return [Passage(d, f"{d}#0", d, "t", 1.0) for d in self.answers[query][:k]]


def question(q: str, expected: str) -> GoldenQuestion:
    return GoldenQuestion(id=q, bot="hr", user="u", question=q, expected_doc_ids=(expected,))


def test_recall_and_mrr_count_ranks_and_list_misses() -> None:
    retriever = ListRetriever({"q1": ["a", "b"], "q2": ["x", "b"], "q3": ["x", "y"]})
    result = evaluate(
        retriever,
        [question("q1", "a"), question("q2", "b"), question("q3", "c"), question("down", "a")],
        lambda user, bot: None,  # type: ignore[arg-type,return-value]
    )
    assert result.recall == 0.5
    assert result.mrr == pytest.approx((1 + 0.5) / 4)
    assert [m.question.id for m in result.misses] == ["q3", "down"]
    assert "error: down" in result.to_text() and "expected c; got x, y" in result.to_text()


def test_golden_file_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "golden.jsonl"
    path.write_text('{"id": "a", "bot": "hr", "user": "u", "question": "q", "expected_doc_ids": []}\n')
    with pytest.raises(InvalidRequest, match=r"golden.jsonl:1"):
        load_golden(path)
    with pytest.raises(InvalidRequest, match="does not exist"):
        load_golden(tmp_path / "absent.jsonl")


def test_report_round_trips_and_names_rejected_files() -> None:
    report = IngestReport(origin="demo", started_at="t", rejected=[Rejection("x.md", "missing ACL metadata")])
    again = IngestReport.from_dict(json.loads(report.to_json()))
    assert again == report and "x.md: missing ACL metadata" in again.to_text()


def test_cli_ingest_of_a_missing_path_is_a_clear_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["kb", "ingest", str(tmp_path / "nope"), "--opensearch-url", "http://127.0.0.1:9"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_cli_rejects_a_url_that_is_not_one(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["kb", "ingest", str(tmp_path), "--opensearch-url", "localhost:9200"]) == 2
    assert "not a URL" in capsys.readouterr().err


def test_cli_report_without_a_report_says_how_to_get_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEEL_STATE_DIR", str(tmp_path))
    assert main(["kb", "report"]) == 2
    assert "keel kb ingest" in capsys.readouterr().err


def test_cli_eval_without_a_stack_says_how_to_start_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEEL_STATE_DIR", str(tmp_path))
    assert main(["eval", "retrieval"]) == 2
    assert "make dev" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["kb", "--help"], ["kb", "ingest", "--help"], ["eval", "retrieval", "--help"]])
def test_every_subcommand_has_help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 0 and "usage: keel" in capsys.readouterr().out
