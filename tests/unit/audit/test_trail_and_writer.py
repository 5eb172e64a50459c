"""The trail (fail closed, guard first) and the writer (once per record id, one chain under concurrency)."""

from __future__ import annotations

import importlib.util
import json
import logging
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from keel.audit.export import conversation_records, html_report, markdown_report, write_export
from keel.audit.guard import SensitiveDataInRecord
from keel.audit.records import ActionDetail, action_record
from keel.audit.sqs import QueuedMessage
from keel.audit.trail import AuditTrail
from keel.audit.verify import verify_chain
from keel.audit.writer import AuditDigester, AuditWriter
from keel.errors import AuditUnavailable, ConfigurationError
from keel.identity.principal import Principal
from keel.settings import Environment
from tests.fakes.audit import HmacDigestSigner, InMemoryArchive, InMemoryAuditSink, InMemoryChainLedger, sample_record

CHAIN = "demo/2026-11-24"
REPO = Path(__file__).resolve().parents[3]


def _messages(records: list) -> list[QueuedMessage]:
    return [QueuedMessage(f"m-{r.record_id}", r.model_dump_json()) for r in records]


def test_record_hands_a_clean_record_to_the_sink() -> None:
    sink = InMemoryAuditSink()
    AuditTrail(sink).record(sample_record(1))
    assert [r.record_id for r in sink.sent] == ["rec-000001"]


def test_with_the_queue_down_record_raises_audit_unavailable_by_default() -> None:
    with pytest.raises(AuditUnavailable):
        AuditTrail(InMemoryAuditSink(down=True)).record(sample_record(1))


def test_fail_open_in_dev_logs_loudly_and_returns(caplog: pytest.LogCaptureFixture) -> None:
    trail = AuditTrail(InMemoryAuditSink(down=True), environment=Environment.DEV, fail_open=True)
    with caplog.at_level(logging.ERROR, logger="keel.audit"):
        trail.record(sample_record(1))
    assert "AUDIT FAIL-OPEN" in caplog.text and "rec-000001" in caplog.text


@pytest.mark.parametrize("environment", [Environment.STAGING, Environment.PROD])
def test_fail_open_is_refused_outside_local_and_dev(environment: Environment) -> None:
    with pytest.raises(ConfigurationError, match="not allowed"):
        AuditTrail(InMemoryAuditSink(), environment=environment, fail_open=True)


def test_the_guard_refuses_pii_even_when_failing_open() -> None:
    sink = InMemoryAuditSink()
    trail = AuditTrail(sink, environment=Environment.LOCAL, fail_open=True)
    with pytest.raises(SensitiveDataInRecord):
        trail.record(sample_record(1, output_masked="Your IBAN is DE89370400440532013000"))
    assert sink.sent == []


def test_the_writer_chains_a_batch_in_time_order() -> None:
    ledger, archive = InMemoryChainLedger(), InMemoryArchive()
    records = [sample_record(i) for i in (3, 1, 2, 0)]
    result = AuditWriter(ledger, archive).write_batch(_messages(records))
    assert (result.written, result.duplicates, result.failed) == (4, 0, [])
    bodies = [json.loads(o.body) for o in archive.records(CHAIN)]
    assert [b["record"]["record_id"] for b in bodies] == [f"rec-00000{i}" for i in range(4)]
    assert verify_chain(CHAIN, archive.records(CHAIN), head=ledger.head(CHAIN)).ok


def test_a_redelivered_record_is_stored_once() -> None:
    ledger, archive = InMemoryChainLedger(), InMemoryArchive()
    writer = AuditWriter(ledger, archive)
    record = sample_record(5)
    first = writer.write_batch(_messages([record, record]))
    again = writer.write_batch(_messages([record]))
    assert (first.written, first.duplicates, again.written, again.duplicates) == (1, 1, 0, 1)
    assert len(list(archive.records(CHAIN))) == 1


def test_malformed_and_pii_messages_are_returned_for_the_dead_letter_queue() -> None:
    ledger, archive = InMemoryChainLedger(), InMemoryArchive()
    bad_json = QueuedMessage("m-bad", "{not json")
    pii = sample_record(9).model_dump(mode="json")
    pii["turn"]["input_masked"] = "my ssn is 078-05-1120"
    leaked = QueuedMessage("m-pii", json.dumps(pii))
    result = AuditWriter(ledger, archive).write_batch([bad_json, leaked, *_messages([sample_record(1)])])
    assert result.failed == ["m-bad", "m-pii"] and result.written == 1


def test_an_archive_failure_is_retried_into_the_same_place_without_a_gap() -> None:
    ledger, archive = InMemoryChainLedger(), InMemoryArchive()
    writer = AuditWriter(ledger, archive)
    archive.fail_puts = 1
    first = writer.write_batch(_messages([sample_record(0), sample_record(1)]))
    assert first.failed == ["m-rec-000000"] and first.written == 1
    retry = writer.write_batch(_messages([sample_record(0)]))
    assert retry.written == 1
    report = verify_chain(CHAIN, archive.records(CHAIN), head=ledger.head(CHAIN))
    assert report.ok and report.records == 2


def test_concurrent_writers_never_fork_the_chain() -> None:
    ledger, archive = InMemoryChainLedger(), InMemoryArchive()
    records = [sample_record(i) for i in range(120)]
    chunks = [records[k::6] for k in range(6)]
    barrier = threading.Barrier(6)

    def work(chunk: list) -> None:
        barrier.wait()
        for start in range(0, len(chunk), 5):
            AuditWriter(ledger, archive).write_batch(_messages(chunk[start : start + 5]))

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often so writers really race
    try:
        threads = [threading.Thread(target=work, args=(c,)) for c in chunks]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(old)
    report = verify_chain(CHAIN, archive.records(CHAIN), head=ledger.head(CHAIN))
    assert report.ok and report.records == 120
    assert ledger.head(CHAIN).seq == 119  # type: ignore[union-attr]


def test_the_export_reads_one_conversation_as_json_markdown_and_html(tmp_path: Path) -> None:
    ledger, archive = InMemoryChainLedger(), InMemoryArchive()
    principal = Principal(subject="s1", username="u", groups=frozenset({"it"}), tenant="demo")
    action = action_record(
        record_id="act-1",
        principal=principal,
        occurred_at=datetime(2026, 11, 24, 10, 5, tzinfo=UTC),
        correlation_id="c1",
        channel="slack",
        bot="it",
        conversation_id="conv-A",
        message_id=None,
        detail=ActionDetail(
            action="ec2:StopInstances",
            resource="i-0abc",
            policy="actions",
            decision="deny",
            policy_ids=("forbid-prod",),
            confirmation="not_required",
            result="not_run",
        ),
        latency_ms=5.0,
    )
    records = [sample_record(0, conversation_id="conv-A"), sample_record(1, conversation_id="conv-B"), action]
    AuditWriter(ledger, archive).write_batch(_messages(records))
    found = conversation_records(archive, "conv-A")
    assert [r["sealed"]["record"]["record_id"] for r in found] == ["rec-000000", "act-1"]
    lines = markdown_report(found, "conv-A")
    text = "\n".join(lines)
    assert "policy `actions` -> **deny**" in text and "forbid-prod" in text and "confirmation: not_required" in text
    assert "document `hr-annual-leave` v3 score 0.87 (cited)" in text
    paths = write_export(found, "conv-A", tmp_path)
    assert sorted(p.suffix for p in paths) == [".html", ".json", ".md"]
    assert "&lt;PERSON_1&gt;" in (tmp_path / "audit-conv-A.html").read_text()
    assert "<script" not in html_report(["<script>alert(1)</script>"], "x")


def test_the_handler_returns_partial_batch_failures_and_signs_digests() -> None:
    spec = importlib.util.spec_from_file_location("audit_writer_handler", REPO / "functions/audit_writer/handler.py")
    assert spec is not None and spec.loader is not None
    handler = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(handler)
    ledger, archive = InMemoryChainLedger(), InMemoryArchive()
    writer = AuditWriter(ledger, archive)
    event = {
        "Records": [
            {"messageId": "ok", "body": sample_record(1).model_dump_json()},
            {"messageId": "broken", "body": "{}"},
        ]
    }
    assert handler.handle_batch(event, writer) == {"batchItemFailures": [{"itemIdentifier": "broken"}]}
    digester = AuditDigester(ledger, archive, HmacDigestSigner())
    assert handler.handle_schedule(datetime(2026, 11, 25, 0, 30, tzinfo=UTC), digester) == {"signed": [CHAIN]}
