"""The audit trail end to end on moto: SQS -> writer -> DynamoDB ledger -> S3 Object Lock, KMS digests."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from keel.audit.chain import content_hash
from keel.audit.guard import SensitiveDataInRecord
from keel.audit.sqs import QueuedMessage, SqsAuditQueue
from keel.audit.trail import AuditTrail
from keel.audit.verify import verify_archive, verify_chain
from keel.audit.writer import drain
from keel.bootstrap import AwsClients
from keel.cli.main import main
from keel.errors import AuditUnavailable
from keel.local.servers import free_port
from tests.fakes.audit import sample_record

from .conftest import RETENTION_DAYS, AuditEnv

pytestmark = pytest.mark.integration
CHAIN = "demo/2026-11-24"


def _record_and_drain(env: AuditEnv, records: list) -> None:
    trail = env.trail()
    for record in records:
        trail.record(record)
    result = drain(env.source(), env.writer())
    assert not result.failed


def _messages(records: list) -> list[QueuedMessage]:
    return [QueuedMessage(f"m-{r.record_id}", r.model_dump_json()) for r in records]


def _cli(env: AuditEnv, *args: str) -> list[str]:
    return [*args, "--endpoint-url", env.url, "--bucket", env.bucket, "--table", env.table]


def test_200_concurrent_turns_give_200_records_in_one_valid_chain(audit_env: AuditEnv) -> None:
    # Given 200 turns recording at once through one shared SQS client
    trail = audit_env.trail()
    records = [sample_record(i) for i in range(200)]
    with ThreadPoolExecutor(max_workers=32) as pool:
        list(pool.map(trail.record, records))
    # When the local writer drains the queue (moto's transactions are not atomic under parallel
    # requests, so the local stack runs one writer; in AWS DynamoDB serialises them)
    result = drain(audit_env.source(), audit_env.writer())
    # Then there is one chain of exactly 200 records, seq 0..199, every link valid
    assert (result.written, result.failed) == (200, [])
    reports = verify_archive(audit_env.archive(), ledger=audit_env.ledger(), signer=audit_env.signer())
    assert [(r.chain_id, r.records, r.ok) for r in reports] == [(CHAIN, 200, True)]
    ids = {json.loads(o.body)["record"]["record_id"] for o in audit_env.archive().records(CHAIN)}
    assert ids == {r.record_id for r in records}
    assert audit_env.ledger().head(CHAIN).seq == 199  # type: ignore[union-attr]


def test_a_writer_with_a_stale_head_loses_the_conditional_write_and_rechains(audit_env: AuditEnv) -> None:
    # Given two writers (two Lambda instances); A has advanced the head and remembers it
    first, second = audit_env.writer(), audit_env.writer()
    first.write_batch(_messages([sample_record(0)]))
    # When B advances the head behind A's back, and A writes next from its stale view
    second.write_batch(_messages([sample_record(1)]))
    result = first.write_batch(_messages([sample_record(2)]))
    # Then A's conditional write was refused, it re-read the head, and the chain did not fork
    assert result.written == 1
    report = verify_chain(CHAIN, audit_env.archive().records(CHAIN), head=audit_env.ledger().head(CHAIN))
    assert report.ok and report.records == 3
    seqs = [json.loads(o.body)["chain"]["seq"] for o in audit_env.archive().records(CHAIN)]
    assert seqs == [0, 1, 2]


def test_a_record_delivered_twice_is_stored_once(audit_env: AuditEnv) -> None:
    record = sample_record(1)
    queue = SqsAuditQueue(audit_env.clients.sqs, audit_env.queue_url)
    queue.send(record)
    queue.send(record)
    result = drain(audit_env.source(), audit_env.writer())
    assert (result.written, result.duplicates) == (1, 1)
    assert len(list(audit_env.archive().records(CHAIN))) == 1


def test_records_are_locked_in_compliance_mode_encrypted_and_cannot_be_deleted(audit_env: AuditEnv) -> None:
    _record_and_drain(audit_env, [sample_record(0)])
    s3 = audit_env.clients.s3
    key = next(audit_env.archive().records(CHAIN)).key
    head = s3.head_object(Bucket=audit_env.bucket, Key=key)
    assert head["ObjectLockMode"] == "COMPLIANCE"
    remaining = head["ObjectLockRetainUntilDate"] - datetime.now(UTC)
    assert timedelta(days=RETENTION_DAYS - 1) < remaining <= timedelta(days=RETENTION_DAYS)
    assert head["ServerSideEncryption"] == "aws:kms" and audit_env.kms_key_id in head["SSEKMSKeyId"]
    version = head["VersionId"]
    with pytest.raises(ClientError) as refused:
        s3.delete_object(Bucket=audit_env.bucket, Key=key, VersionId=version)
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(ClientError):
        s3.delete_object(Bucket=audit_env.bucket, Key=key, VersionId=version, BypassGovernanceRetention=True)
    assert s3.head_object(Bucket=audit_env.bucket, Key=key, VersionId=version)["VersionId"] == version


def test_with_the_queue_down_record_raises_audit_unavailable() -> None:
    # Nothing listens on this loopback port: the queue is down.
    clients = AwsClients(region="us-east-1", endpoint_url=f"http://127.0.0.1:{free_port()}")
    sqs = clients.client("sqs", connect_timeout=1, read_timeout=1, retries={"max_attempts": 1})
    trail = AuditTrail(SqsAuditQueue(sqs, "http://127.0.0.1/123456789012/audit"))
    with pytest.raises(AuditUnavailable) as refused:
        trail.record(sample_record(1))
    assert "cannot be given" in refused.value.message


def test_a_queue_that_does_not_exist_is_audit_unavailable(audit_env: AuditEnv) -> None:
    sqs = audit_env.clients.client("sqs", retries={"max_attempts": 1})
    with pytest.raises(AuditUnavailable):
        AuditTrail(SqsAuditQueue(sqs, f"{audit_env.url}/123456789012/missing-{uuid.uuid4().hex}")).record(
            sample_record(1)
        )


def test_pii_laden_records_are_refused_and_nothing_is_queued(audit_env: AuditEnv) -> None:
    trail = audit_env.trail()
    with pytest.raises(SensitiveDataInRecord):
        trail.record(sample_record(1, input_masked="I'm ann@example.org, card 5500 0000 0000 0004"))
    assert audit_env.source().receive() == []


def test_signed_digests_verify_with_kms_and_a_forged_one_is_caught(audit_env: AuditEnv) -> None:
    _record_and_drain(audit_env, [sample_record(i) for i in range(3)])
    body = audit_env.digester().digest(CHAIN)
    assert body is not None and body["last_seq"] == 2
    archive, signer = audit_env.archive(), audit_env.signer()
    assert verify_chain(CHAIN, archive.records(CHAIN), digests=archive.digests(CHAIN), signer=signer).ok
    forged = dict(body, head_hash="0" * 64)
    archive.put_digest(f"digests/{CHAIN}/0000000099.json", json.dumps(forged).encode())
    report = verify_chain(CHAIN, archive.records(CHAIN), digests=archive.digests(CHAIN), signer=signer)
    assert [(f.kind, f.key) for f in report.findings] == [("digest_invalid", f"digests/{CHAIN}/0000000099.json")]


def test_keel_audit_verify_reports_an_overwrite_and_a_delete_marker(
    audit_env: AuditEnv, capsys: pytest.CaptureFixture[str]
) -> None:
    _record_and_drain(audit_env, [sample_record(i) for i in range(5)])
    assert main(_cli(audit_env, "audit", "verify")) == 0
    keys = [o.key for o in audit_env.archive().records(CHAIN)]
    s3 = audit_env.clients.s3
    # Object Lock keeps old versions, but a new version can still be put over a key...
    body = json.loads(s3.get_object(Bucket=audit_env.bucket, Key=keys[1])["Body"].read())
    body["record"]["turn"]["output_masked"] = "an answer the bot never gave"
    s3.put_object(Bucket=audit_env.bucket, Key=keys[1], Body=json.dumps(body).encode())
    # ...and a delete without a version id leaves a delete marker that hides the record.
    s3.delete_object(Bucket=audit_env.bucket, Key=keys[3])
    capsys.readouterr()
    assert main(_cli(audit_env, "audit", "verify")) == 1
    out = capsys.readouterr()
    assert f"{CHAIN} seq 1: modified" in out.out and f"{CHAIN} seq 1: overwritten" in out.out
    assert f"{CHAIN} seq 3: gap" in out.out
    assert f"FAILED: {CHAIN}: " in out.err and "seq 1" in out.err
    assert main(_cli(audit_env, "audit", "verify", "--json")) == 1
    report = json.loads(capsys.readouterr().out)
    assert {(f["kind"], f["seq"]) for f in report["chains"][0]["findings"]} == {
        ("modified", 1),
        ("overwritten", 1),
        ("gap", 3),
    }


def test_keel_audit_verify_filters_by_day_and_tenant(audit_env: AuditEnv, capsys: pytest.CaptureFixture[str]) -> None:
    _record_and_drain(audit_env, [sample_record(0), sample_record(1, tenant="acme")])
    assert main(_cli(audit_env, "audit", "verify", "--tenant", "acme", "--since", "2026-11-24")) == 0
    out = capsys.readouterr().out
    assert "acme/2026-11-24: 1 records" in out and "demo/" not in out
    assert main(_cli(audit_env, "audit", "verify", "--until", "2026-11-23", "--allow-empty")) == 0
    assert "0 chain(s), 0 record(s)" in capsys.readouterr().out


def test_keel_audit_verify_fails_on_no_chain_and_on_a_count_other_than_expected(
    audit_env: AuditEnv, capsys: pytest.CaptureFixture[str]
) -> None:
    # After a lost snapshot the archive is empty: that is a failure, not "nothing to check".
    assert main(_cli(audit_env, "audit", "verify", "--until", "2026-11-23")) == 1
    assert "no audit chain found" in capsys.readouterr().err
    _record_and_drain(audit_env, [sample_record(i) for i in range(3)])
    assert main(_cli(audit_env, "audit", "verify", "--expect", "3")) == 0
    assert "3 record(s)" in capsys.readouterr().out
    assert main(_cli(audit_env, "audit", "verify", "--expect", "4")) == 1
    assert "expected 4 audit records, found 3" in capsys.readouterr().err
    assert main(_cli(audit_env, "audit", "verify", "--expect", "4", "--json")) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False and report["records"] == 3
    with pytest.raises(SystemExit):
        main(_cli(audit_env, "audit", "verify", "--expect", "many"))
    assert "is not a record count" in capsys.readouterr().err


def test_keel_audit_export_writes_a_conversation(
    audit_env: AuditEnv, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _record_and_drain(audit_env, [sample_record(0, conversation_id="conv-X"), sample_record(1)])
    assert main(_cli(audit_env, "audit", "export", "--conversation", "conv-X", "--out", str(tmp_path))) == 0
    exported = json.loads((tmp_path / "audit-conv-X.json").read_text())
    assert [e["sealed"]["record"]["record_id"] for e in exported] == ["rec-000000"]
    assert content_hash(exported[0]["sealed"]) == exported[0]["sealed"]["hash"]
    assert "# Audit report: conversation conv-X" in (tmp_path / "audit-conv-X.md").read_text()
    assert main(_cli(audit_env, "audit", "export", "--conversation", "nope", "--out", str(tmp_path))) == 1
    assert "no audit records for conversation nope" in capsys.readouterr().err


def test_keel_audit_digest_and_drain_commands(audit_env: AuditEnv, capsys: pytest.CaptureFixture[str]) -> None:
    audit_env.trail().record(sample_record(0))
    assert main([*_cli(audit_env, "audit", "drain"), "--queue-url", audit_env.queue_url]) == 0
    assert "written 1" in capsys.readouterr().out
    digest = [*_cli(audit_env, "audit", "digest"), "--day", "2026-11-24", "--signing-key-id", audit_env.signing_key_id]
    assert main(digest) == 0
    assert f"{CHAIN}: signed seq 0..0" in capsys.readouterr().out
    assert main(_cli(audit_env, "audit", "verify")) == 0
    assert "1 records, 1 digests: ok" in capsys.readouterr().out


def test_bad_cli_input_gets_a_clear_message(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["audit", "verify", "--since", "yesterday", "--endpoint-url", "http://127.0.0.1:1", "--bucket", "b"])
    assert "is not a day; use YYYY-MM-DD" in capsys.readouterr().err
