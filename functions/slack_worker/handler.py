"""Lambda handler for the Slack work queue (SQS): run each job once, report the ones to retry."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError

from keel.channels.slack import SlackJob
from keel.channels.wiring import channels_from_environment
from keel.errors import KeelError
from keel.lazy import Lazy

logger = logging.getLogger("keel.slack.worker")
_worker = Lazy(lambda: channels_from_environment().slack_worker())


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """SQS batch entry point with partial batch responses (ReportBatchItemFailures)."""
    failures: list[dict[str, str]] = []
    for record in event.get("Records", []):
        try:
            _worker().process(SlackJob.model_validate_json(record["body"]))
        except ValidationError:
            # A malformed job can never succeed; retrying would only park it in the DLQ later.
            logger.error("dropping malformed Slack job %s", record.get("messageId"))
        except KeelError as exc:
            logger.warning("Slack job %s failed (%s); it will be retried", record.get("messageId"), exc.code)
            failures.append({"itemIdentifier": str(record.get("messageId"))})
    return {"batchItemFailures": failures}
