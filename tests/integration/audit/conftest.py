"""Audit resources on the moto server: a ledger table, an Object Lock bucket with SSE-KMS, a queue, KMS keys."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from keel.audit.dynamodb import DynamoDBChainLedger
from keel.audit.kms import KmsDigestSigner
from keel.audit.s3_object_lock import S3ObjectLockArchive
from keel.audit.sqs import SqsAuditQueue, SqsBatchSource
from keel.audit.trail import AuditTrail
from keel.audit.writer import AuditDigester, AuditWriter
from keel.bootstrap import AwsClients

RETENTION_DAYS = 3


@dataclass
class AuditEnv:
    """Names and clients of one test's audit resources."""

    url: str
    clients: AwsClients
    table: str
    bucket: str
    queue_url: str
    kms_key_id: str
    signing_key_id: str

    def trail(self) -> AuditTrail:
        """The trail the turn would use."""
        return AuditTrail(SqsAuditQueue(self.clients.sqs, self.queue_url))

    def archive(self) -> S3ObjectLockArchive:
        """The archive with COMPLIANCE retention and SSE-KMS."""
        return S3ObjectLockArchive(
            self.clients.s3, self.bucket, kms_key_id=self.kms_key_id, retention_days=RETENTION_DAYS
        )

    def ledger(self) -> DynamoDBChainLedger:
        """A fresh ledger (each writer has its own, as each Lambda instance would)."""
        return DynamoDBChainLedger(self.clients.dynamodb, self.table)

    def writer(self) -> AuditWriter:
        """A writer with its own ledger."""
        return AuditWriter(self.ledger(), self.archive())

    def source(self) -> SqsBatchSource:
        """The queue as the writer reads it."""
        return SqsBatchSource(self.clients.sqs, self.queue_url)

    def signer(self) -> KmsDigestSigner:
        """The KMS digest signer."""
        return KmsDigestSigner(self.clients.client("kms"), self.signing_key_id)

    def digester(self) -> AuditDigester:
        """The digester."""
        return AuditDigester(self.ledger(), self.archive(), self.signer())


@pytest.fixture
def audit_env(moto_stack: Any) -> Iterator[AuditEnv]:
    """Fresh, uniquely named audit resources on the session's moto server."""
    clients = AwsClients(region="us-east-1", endpoint_url=moto_stack.url)
    suffix = uuid.uuid4().hex[:8]
    table, bucket = f"audit-chain-{suffix}", f"audit-{suffix}"
    clients.dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    kms = clients.client("kms")
    kms_key_id = kms.create_key(Description="audit encryption")["KeyMetadata"]["KeyId"]
    signing_key_id = kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec="RSA_2048")["KeyMetadata"]["KeyId"]
    clients.s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    clients.s3.put_object_lock_configuration(
        Bucket=bucket,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": RETENTION_DAYS}},
        },
    )
    clients.s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": kms_key_id}}]
        },
    )
    queue_url = clients.sqs.create_queue(QueueName=f"audit-{suffix}")["QueueUrl"]
    yield AuditEnv(moto_stack.url, clients, table, bucket, queue_url, kms_key_id, signing_key_id)
