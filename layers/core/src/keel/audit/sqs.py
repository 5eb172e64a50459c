"""SQS adapters: the queue the turn writes audit records to, and the batch source a local drain reads."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from keel.audit.records import AuditRecord
from keel.errors import AuditUnavailable

UNAVAILABLE = "the audit trail is unavailable, so this answer cannot be given; please try again shortly"


class SqsAuditQueue:
    """AuditSink on SQS: send() returns only after SendMessage succeeded and SQS echoed the body's MD5."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self._client = client
        self._queue_url = queue_url

    def send(self, record: AuditRecord) -> None:
        """Queue one record durably or raise AuditUnavailable."""
        body = record.model_dump_json()
        try:
            response = self._client.send_message(
                QueueUrl=self._queue_url,
                MessageBody=body,
                MessageAttributes={
                    "record_id": {"DataType": "String", "StringValue": record.record_id},
                    "tenant": {"DataType": "String", "StringValue": record.tenant},
                    "schema_version": {"DataType": "Number", "StringValue": str(record.schema_version)},
                },
            )
        except (ClientError, BotoCoreError) as exc:
            raise AuditUnavailable(UNAVAILABLE, details={"record_id": record.record_id}) from exc
        # SQS echoes the MD5 of what it stored; a mismatch means the record was not queued as written.
        expected = hashlib.md5(body.encode(), usedforsecurity=False).hexdigest()
        if response.get("MD5OfMessageBody") != expected:
            raise AuditUnavailable(UNAVAILABLE, details={"record_id": record.record_id, "reason": "md5"})


@dataclass(frozen=True)
class QueuedMessage:
    """One message as the writer sees it, from a Lambda event or from ReceiveMessage."""

    message_id: str
    body: str
    receipt_handle: str | None = None


class SqsBatchSource:
    """Reads and acknowledges batches of audit messages (the local stand-in for the Lambda event source)."""

    def __init__(self, client: Any, queue_url: str, *, visibility_timeout: int = 60) -> None:
        self._client = client
        self._queue_url = queue_url
        self._visibility_timeout = visibility_timeout

    def receive(self, *, max_messages: int = 10, wait_seconds: int = 0) -> list[QueuedMessage]:
        """Up to max_messages messages, hidden from other readers until acknowledged or timed out."""
        response = self._client.receive_message(
            QueueUrl=self._queue_url,
            MaxNumberOfMessages=max_messages,
            WaitTimeSeconds=wait_seconds,
            VisibilityTimeout=self._visibility_timeout,
        )
        return [QueuedMessage(m["MessageId"], m["Body"], m["ReceiptHandle"]) for m in response.get("Messages", [])]

    def acknowledge(self, messages: list[QueuedMessage]) -> None:
        """Delete messages that were written."""
        entries = [
            {"Id": str(i), "ReceiptHandle": m.receipt_handle} for i, m in enumerate(messages) if m.receipt_handle
        ]
        for start in range(0, len(entries), 10):
            self._client.delete_message_batch(QueueUrl=self._queue_url, Entries=entries[start : start + 10])
