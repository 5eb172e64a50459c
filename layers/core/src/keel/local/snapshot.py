"""Keep local data across restarts: moto and osmem-server hold everything in memory, so `keel dev`
writes a snapshot on shutdown and loads it on the next start: the tables and buckets, and the sections the
stack adds (the user pool's users, the search indices' documents, the helpdesk's tickets)."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from keel.errors import KeelError

logger = logging.getLogger("keel.local.snapshot")
SNAPSHOT_VERSION = 1
_PAGE = 500


class SnapshotError(KeelError):
    """The local stack's data could not be saved; what was written since start is not on disk."""

    code = "snapshot_failed"


def save(
    clients: Any,
    tables: list[str],
    buckets: list[str],
    path: Path,
    *,
    sections: Mapping[str, Any] | None = None,
) -> dict[str, int]:
    """Write every item of the tables, every object of the buckets and the extra sections to path.

    Returns counts. The file is replaced atomically, so a failed save leaves the previous snapshot whole.
    """
    try:
        return _save(clients, tables, buckets, path, dict(sections or {}))
    except Exception as exc:  # any failure (a dead endpoint, a full disk) means the data is not saved
        raise SnapshotError(f"could not save the local data to {path}: {type(exc).__name__}: {exc}") from exc


def _save(clients: Any, tables: list[str], buckets: list[str], path: Path, sections: dict[str, Any]) -> dict[str, int]:
    data: dict[str, Any] = {"version": SNAPSHOT_VERSION, "tables": {}, "buckets": {}, "sections": sections}
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
    data = _read(path)
    if data is None:
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


def sections(path: Path) -> dict[str, Any]:
    """The extra sections of a snapshot (empty when there is none or it cannot be read)."""
    data = _read(path)
    found = data.get("sections") if data else None
    return found if isinstance(found, dict) else {}


def _read(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(), object_hook=_decode_bytes)
    except ValueError:
        logger.warning("snapshot %s is unreadable; starting with fresh data", path)
        return None
    if not isinstance(data, dict) or data.get("version") != SNAPSHOT_VERSION:
        version = data.get("version") if isinstance(data, dict) else None
        logger.warning("snapshot %s has version %s; starting with fresh data", path, version)
        return None
    return data


def export_indices(client: Any) -> dict[str, Any]:
    """Every search index: its mappings and each document (id and source), paged in id order."""
    exported: dict[str, Any] = {}
    for name, description in client.indices.get(index="*").items():
        if name.startswith("."):
            continue
        documents: list[dict[str, Any]] = []
        after: list[Any] | None = None
        while True:
            body: dict[str, Any] = {"size": _PAGE, "query": {"match_all": {}}, "sort": [{"_id": "asc"}]}
            if after is not None:
                body["search_after"] = after
            hits = client.search(index=name, body=body)["hits"]["hits"]
            documents.extend({"id": hit["_id"], "source": hit["_source"]} for hit in hits)
            if len(hits) < _PAGE:
                break
            after = hits[-1]["sort"]
        exported[name] = {"mappings": description.get("mappings", {}), "documents": documents}
    return exported


def import_indices(client: Any, indices: Mapping[str, Any]) -> int:
    """Create missing indices with their mappings and put every document back; returns the document count."""
    count = 0
    for name, content in indices.items():
        if not client.indices.exists(index=name):
            client.indices.create(index=name, body={"mappings": content.get("mappings", {})})
        documents = content.get("documents", [])
        for start in range(0, len(documents), _PAGE):
            actions: list[dict[str, Any]] = []
            for document in documents[start : start + _PAGE]:
                actions.append({"index": {"_index": name, "_id": document["id"]}})
                actions.append(document["source"])
            response = client.bulk(body=actions)
            if response.get("errors"):
                raise SnapshotError(f"documents of index {name} could not be restored")
        client.indices.refresh(index=name)
        count += len(documents)
    return count


def _encode_bytes(value: Any) -> Any:
    # Binary attributes (the KMS-sealed PII vault) are kept as base64 with a marker.
    if isinstance(value, bytes | bytearray):
        return {"__bytes__": base64.b64encode(bytes(value)).decode()}
    raise TypeError(f"{type(value).__name__} cannot be saved in a snapshot")


def _decode_bytes(value: dict[str, Any]) -> Any:
    if set(value) == {"__bytes__"}:
        return base64.b64decode(value["__bytes__"])
    return value
