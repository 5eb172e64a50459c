"""Audit cost per turn on moto: p50/p95 of record() (SQS SendMessage) and of the writer per record.

Prints figures; never asserts on time. Run: make perf (or pytest tests/perf/test_audit_perf.py -s).
"""

from __future__ import annotations

import statistics
import time
import uuid
from typing import Any

import pytest

from keel.audit.dynamodb import DynamoDBChainLedger
from keel.audit.s3_object_lock import S3ObjectLockArchive
from keel.audit.sqs import SqsAuditQueue, SqsBatchSource
from keel.audit.trail import AuditTrail
from keel.audit.writer import AuditWriter
from keel.bootstrap import AwsClients
from tests.fakes.audit import sample_record

TURNS = 300


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@pytest.mark.slow
def test_audit_cost_per_turn(moto_stack: Any) -> None:
    clients = AwsClients(region="us-east-1", endpoint_url=moto_stack.url)
    suffix = uuid.uuid4().hex[:8]
    table, bucket = f"perf-audit-{suffix}", f"perf-audit-{suffix}"
    clients.dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    clients.s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    kms_key = clients.client("kms").create_key()["KeyMetadata"]["KeyId"]
    queue_url = clients.sqs.create_queue(QueueName=f"perf-audit-{suffix}")["QueueUrl"]
    trail = AuditTrail(SqsAuditQueue(clients.sqs, queue_url))
    records = [sample_record(i) for i in range(TURNS)]

    record_ms = []
    for record in records:
        started = time.perf_counter()
        trail.record(record)
        record_ms.append((time.perf_counter() - started) * 1000)

    writer = AuditWriter(
        DynamoDBChainLedger(clients.dynamodb, table),
        S3ObjectLockArchive(clients.s3, bucket, kms_key_id=kms_key, retention_days=1),
    )
    source = SqsBatchSource(clients.sqs, queue_url)
    per_record_ms = []
    written = 0
    while messages := source.receive():
        started = time.perf_counter()
        result = writer.write_batch(messages)
        elapsed = (time.perf_counter() - started) * 1000
        source.acknowledge(messages)
        per_record_ms.extend([elapsed / len(messages)] * len(messages))
        written += result.written

    guard_ms = []
    from keel.audit.guard import ensure_clean

    for record in records[:100]:
        started = time.perf_counter()
        ensure_clean(record)
        guard_ms.append((time.perf_counter() - started) * 1000)

    print(
        f"\naudit cost per turn on moto ({TURNS} turns, written {written}):"
        f"\n  record() [guard + SQS SendMessage]: p50 {_pct(record_ms, 0.5):.2f} ms, p95 {_pct(record_ms, 0.95):.2f} ms"
        f"\n    of which the PII/secret guard:   p50 {_pct(guard_ms, 0.5):.3f} ms, p95 {_pct(guard_ms, 0.95):.3f} ms"
        f"\n  writer per record [ledger transaction + S3 put, batches of 10]: "
        f"p50 {_pct(per_record_ms, 0.5):.2f} ms, p95 {_pct(per_record_ms, 0.95):.2f} ms, "
        f"mean {statistics.fmean(per_record_ms):.2f} ms"
    )
    assert written == TURNS
