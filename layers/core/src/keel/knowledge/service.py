"""Entry points the CLI, the local stack and the ingest Lambda share: ingest a folder or a bucket."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from keel.knowledge.documents import SourceFile
from keel.knowledge.ingest import Ingestor, read_folder
from keel.knowledge.parsing import SIDECAR_SUFFIX, is_sidecar
from keel.knowledge.report import IngestReport

# S3 allows only letters, digits, spaces and + - = . _ : / @ in tag values, so lists use '+' or spaces.
_TAG_KEYS = (
    "id",
    "acl_groups",
    "classification",
    "collection",
    "department",
    "owner",
    "version",
    "status",
    "supersedes",
)


def ingest_folder(
    ingestor: Ingestor, path: Path, *, origin: str | None = None, prune: bool = True, dry_run: bool = False
) -> IngestReport:
    """Ingest every supported file under path; origin defaults to the folder's absolute path."""
    sources = read_folder(path)
    return ingestor.ingest(sources, origin=origin or f"file://{path.resolve()}", prune=prune, dry_run=dry_run)


def s3_origin(bucket: str) -> str:
    """The origin recorded on documents from a knowledge-base bucket (one bucket holds one knowledge base)."""
    return f"s3://{bucket}"


def read_s3_object(s3: Any, bucket: str, key: str) -> SourceFile:
    """One object with its tags and its `<key>.meta.json` sidecar (if any)."""
    import json

    from botocore.exceptions import ClientError

    data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    tag_set = s3.get_object_tagging(Bucket=bucket, Key=key).get("TagSet", [])
    tags = {t["Key"]: t["Value"] for t in tag_set if t["Key"] in _TAG_KEYS}
    sidecar: dict[str, Any] | None = None
    try:
        raw = s3.get_object(Bucket=bucket, Key=key + SIDECAR_SUFFIX)["Body"].read()
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("NoSuchKey", "404"):
            raise
    else:
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = None
        sidecar = parsed if isinstance(parsed, dict) else {"__invalid_sidecar__": True}
    return SourceFile(name=key, data=data, sidecar=sidecar, tags=tags)


def list_s3_documents(s3: Any, bucket: str) -> Iterator[str]:
    """Keys of the bucket that are documents (sidecars and folder markers are skipped)."""
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            key = item["Key"]
            if not key.endswith("/") and not is_sidecar(key):
                yield key


def refresh_from_s3(ingestor: Ingestor, s3: Any, bucket: str) -> IngestReport:
    """Scheduled refresh: the bucket is the truth; what left it leaves the index."""
    sources = (read_s3_object(s3, bucket, key) for key in list_s3_documents(s3, bucket))
    return ingestor.ingest(sources, origin=s3_origin(bucket), prune=True)


def ingest_s3_objects(ingestor: Ingestor, s3: Any, bucket: str, keys: list[str]) -> IngestReport:
    """S3 ObjectCreated: ingest these objects only (nothing else is pruned); a sidecar re-reads its file."""
    from botocore.exceptions import ClientError

    sources = []
    for key in sorted({key.removesuffix(SIDECAR_SUFFIX) for key in keys}):
        try:
            sources.append(read_s3_object(s3, bucket, key))
        except ClientError as exc:
            # Deleted again before this event was handled; its ObjectRemoved event takes it out.
            if exc.response.get("Error", {}).get("Code") not in ("NoSuchKey", "404"):
                raise
    return ingestor.ingest(sources, origin=s3_origin(bucket), prune=False)


def remove_s3_objects(ingestor: Ingestor, bucket: str, keys: list[str]) -> IngestReport:
    """S3 ObjectRemoved: documents that came from these keys leave the index."""
    return ingestor.remove_files([k for k in keys if not is_sidecar(k)], origin=s3_origin(bucket))


def upload_folder(s3: Any, bucket: str, path: Path, prefix: str = "") -> list[str]:
    """Upload a folder (sidecars included) to a bucket prefix, for `keel kb ingest --bucket`."""
    keys = []
    base = path if path.is_dir() else path.parent
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        key = prefix + file.relative_to(base).as_posix()
        s3.put_object(Bucket=bucket, Key=key, Body=file.read_bytes())
        keys.append(key)
    return keys
