"""Lambda handler on the escalation queue: each message carries a task token; open the ticket, report back."""

from __future__ import annotations

import logging
import os
from typing import Any

from keel.escalation.wiring import EscalationConfig, build_worker
from keel.escalation.worker import EscalationWorker
from keel.lazy import once

logger = logging.getLogger("keel.escalation_worker")
_config = EscalationConfig.from_environ(os.environ)


@once
def _worker() -> EscalationWorker:
    # Built on the first message and kept while the Lambda stays warm.
    return build_worker(_config)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """SQS batch in; failed message ids out (ReportBatchItemFailures), so only those are redelivered."""
    worker = _worker()
    failures = []
    for record in event.get("Records", []):
        try:
            worker.handle(record["body"])
        except Exception:  # one bad message must not fail the batch
            logger.exception("escalation message %s failed", record.get("messageId"))
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
