"""Events that drive ingestion in AWS: S3 notifications, EventBridge S3 events and the scheduled refresh."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus

from keel.errors import InvalidRequest
from keel.knowledge.ingest import Ingestor
from keel.knowledge.parsing import SIDECAR_SUFFIX, is_sidecar
from keel.knowledge.report import IngestReport
from keel.knowledge.service import ingest_s3_objects, refresh_from_s3, remove_s3_objects


@dataclass
class IngestCommand:
    """What one event asks for: a full refresh of a bucket, or objects created and removed in it."""

    bucket: str
    refresh: bool = False
    created: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def parse_event(event: dict[str, Any], *, default_bucket: str | None = None) -> list[IngestCommand]:
    """One command per bucket; InvalidRequest says which event shapes are accepted."""
    if not isinstance(event, dict):
        raise InvalidRequest("an ingest event must be a JSON object")
    if "Records" in event:
        return _s3_records(event["Records"])
    if event.get("source") == "aws.s3" and isinstance(event.get("detail"), dict):
        return _eventbridge_s3(event)
    if "refresh" in event or event.get("detail-type") == "Scheduled Event":
        refresh = event.get("refresh") or {}
        bucket = refresh.get("bucket") if isinstance(refresh, dict) else None
        bucket = bucket or default_bucket
        if not bucket:
            raise InvalidRequest('a scheduled refresh needs {"refresh": {"bucket": NAME}} as its input')
        return [IngestCommand(bucket=str(bucket), refresh=True)]
    raise InvalidRequest(
        "unrecognised ingest event; accepted: S3 notifications (Records), EventBridge S3 events "
        '(source aws.s3) or a scheduled refresh {"refresh": {"bucket": NAME}}'
    )


def _command(commands: dict[str, IngestCommand], bucket: str) -> IngestCommand:
    return commands.setdefault(bucket, IngestCommand(bucket=bucket))


def _file(commands: dict[str, IngestCommand], bucket: str, key: str, created: bool) -> None:
    command = _command(commands, bucket)
    if is_sidecar(key):
        # New or removed metadata: re-read the document it describes (which may now be rejected).
        command.created.append(key.removesuffix(SIDECAR_SUFFIX))
    elif created:
        command.created.append(key)
    else:
        command.removed.append(key)


def _s3_records(records: Any) -> list[IngestCommand]:
    commands: dict[str, IngestCommand] = {}
    if not isinstance(records, list):
        raise InvalidRequest("Records must be a list of S3 event records")
    for record in records:
        try:
            name = str(record["eventName"])
            bucket = str(record["s3"]["bucket"]["name"])
            key = unquote_plus(str(record["s3"]["object"]["key"]))
        except (KeyError, TypeError):
            raise InvalidRequest("an S3 record needs eventName, s3.bucket.name and s3.object.key") from None
        if name.startswith("ObjectCreated"):
            _file(commands, bucket, key, True)
        elif name.startswith("ObjectRemoved"):
            _file(commands, bucket, key, False)
    return list(commands.values())


def _eventbridge_s3(event: dict[str, Any]) -> list[IngestCommand]:
    detail = event["detail"]
    try:
        bucket = str(detail["bucket"]["name"])
        key = str(detail["object"]["key"])
    except (KeyError, TypeError):
        raise InvalidRequest("an EventBridge S3 event needs detail.bucket.name and detail.object.key") from None
    commands: dict[str, IngestCommand] = {}
    kind = str(event.get("detail-type", ""))
    if kind == "Object Created":
        _file(commands, bucket, key, True)
    elif kind == "Object Deleted":
        _file(commands, bucket, key, False)
    return list(commands.values())


def run(commands: list[IngestCommand], ingestor: Ingestor, s3: Any) -> list[IngestReport]:
    """Carry out the commands; each returns the report for its bucket."""
    reports = []
    for command in commands:
        if command.refresh:
            reports.append(refresh_from_s3(ingestor, s3, command.bucket))
            continue
        if command.removed:
            reports.append(remove_s3_objects(ingestor, command.bucket, sorted(set(command.removed))))
        if command.created:
            reports.append(ingest_s3_objects(ingestor, s3, command.bucket, sorted(set(command.created))))
    return reports
