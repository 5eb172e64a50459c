"""Lambda: audit records from SQS into the Object Lock archive; and the hourly digest signer.

Thin: parse the event, make one call into keel.audit, return the partial-batch response.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from keel.audit.sqs import QueuedMessage
from keel.audit.writer import AuditDigester, AuditWriter
from keel.errors import ConfigurationError
from keel.lazy import once


@once
def _components() -> tuple[AuditWriter, AuditDigester | None]:
    # Built on the first invocation, never at import: clients and settings come from the environment then.
    from keel.audit.wiring import AuditConfig, build_digester, build_writer
    from keel.bootstrap import AwsClients
    from keel.settings import load_settings

    settings = load_settings()
    config = AuditConfig.from_settings(settings)
    clients = AwsClients.from_settings(settings)
    writer = build_writer(config, clients.dynamodb, clients.s3)
    digester = (
        build_digester(config, clients.dynamodb, clients.s3, clients.client("kms"))
        if config.audit_signing_key_id
        else None
    )
    return writer, digester


def handle_batch(event: dict[str, Any], writer: AuditWriter) -> dict[str, Any]:
    """Write an SQS batch; failed message ids go back to the queue (ReportBatchItemFailures)."""
    messages = [QueuedMessage(r["messageId"], r["body"]) for r in event.get("Records", [])]
    result = writer.write_batch(messages)
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in result.failed]}


def handle_schedule(now: datetime, digester: AuditDigester) -> dict[str, Any]:
    """Sign digests for today's and yesterday's chains (records of late turns still join yesterday's)."""
    days = [(now - timedelta(days=1)).date().isoformat(), now.date().isoformat()]
    signed = [d["chain_id"] for day in days for d in digester.digest_day(day)]
    return {"signed": signed}


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """SQS batches go to the writer; the EventBridge schedule goes to the digester."""
    writer, digester = _components()
    if "Records" in event:
        return handle_batch(event, writer)
    if digester is None:
        raise ConfigurationError("audit digests need KEEL_AUDIT_SIGNING_KEY_ID")
    return handle_schedule(datetime.now(UTC), digester)
