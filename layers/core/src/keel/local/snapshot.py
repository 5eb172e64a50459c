"""Keep local data across restarts: moto and osmem-server hold everything in memory, so `keel dev`
writes a snapshot of the tables and buckets on shutdown and loads it on the next start."""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path
from typing import Any

logger = logging.getLogger("keel.local.snapshot")
SNAPSHOT_VERSION = 1


def save(clients: Any, tables: list[str], buckets: list[str], path: Path) -> dict[str, int]:
    """Write every item of the tables and every object of the buckets to path; returns counts."""
    data: dict[str, Any] = {"version": SNAPSHOT_VERSION, "tables": {}, "buckets": {}}
    counts = {"items": 0, "objects": 0}
    for table in tables:
        items: list[dict[str, Any]] = []
        for page in clients.dynamodb.get_paginator("scan").paginate(TableName=table):
            items.extend(page.get("Items", []))
        data["tables"][table] = items
        counts["items"] += len(items)
    for bucket in buckets:
        objects = []
        for page in clients.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for entry in page.get("Contents", []):
                body = clients.s3.get_object(Bucket=bucket, Key=entry["Key"])["Body"].read()
                objects.append({"key": entry["Key"], "body": base64.b64encode(body).decode()})
        data["buckets"][bucket] = objects
        counts["objects"] += len(objects)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(data, default=_encode_bytes))
    temporary.replace(path)
    return counts


def load(clients: Any, path: Path) -> dict[str, int]:
    """Put a snapshot's items and objects back; a missing or unreadable snapshot loads nothing."""
    counts = {"items": 0, "objects": 0}
    if not path.is_file():
        return counts
    try:
        data = json.loads(path.read_text(), object_hook=_decode_bytes)
    except ValueError:
        logger.warning("snapshot %s is unreadable; starting with fresh data", path)
        return counts
    if data.get("version") != SNAPSHOT_VERSION:
        logger.warning("snapshot %s has version %s; starting with fresh data", path, data.get("version"))
        return counts
    for table, items in data.get("tables", {}).items():
        for item in items:
            clients.dynamodb.put_item(TableName=table, Item=item)
        counts["items"] += len(items)
    for bucket, objects in data.get("buckets", {}).items():
        for entry in objects:
            clients.s3.put_object(Bucket=bucket, Key=entry["key"], Body=base64.b64decode(entry["body"]))
        counts["objects"] += len(objects)
    return counts


def _encode_bytes(value: Any) -> Any:
    # Binary attributes (the KMS-sealed PII vault) are kept as base64 with a marker.
    if isinstance(value, bytes | bytearray):
        return {"__bytes__": base64.b64encode(bytes(value)).decode()}
    raise TypeError(f"{type(value).__name__} cannot be saved in a snapshot")


def _decode_bytes(value: dict[str, Any]) -> Any:
    if set(value) == {"__bytes__"}:
        return base64.b64decode(value["__bytes__"])
    return value
