"""The audit archive on S3 with Object Lock (COMPLIANCE) and SSE-KMS: write once, read for verification."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError

from keel.audit.chain import DIGESTS_PREFIX, RECORDS_PREFIX, SealedRecord, chain_prefix
from keel.audit.ports import StoredObject
from keel.errors import AuditUnavailable, Conflict

HASH_METADATA = "record-hash"


class S3ObjectLockArchive:
    """AuditArchive on one versioned, Object Lock enabled bucket; each object gets its own retention."""

    def __init__(
        self,
        client: Any,
        bucket: str,
        *,
        kms_key_id: str | None,
        retention_days: int,
        mode: Literal["COMPLIANCE", "GOVERNANCE"] = "COMPLIANCE",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if retention_days < 1:
            raise ValueError("audit retention must be at least one day")
        self._client = client
        self._bucket = bucket
        self._kms_key_id = kms_key_id
        self._retention_days = retention_days
        self._mode = mode
        self._clock = clock

    def put_record(self, sealed: SealedRecord) -> bool:
        """Store a sealed record once; a redelivered record that is already stored is not written again."""
        return self._put_once(sealed.key, sealed.to_bytes(), sealed.hash)

    def put_digest(self, key: str, body: bytes) -> None:
        """Store a signed digest under its key (once)."""
        self._put_once(key, body, None)

    def chain_ids(self, tenant: str | None = None) -> list[str]:
        """Chain ids (tenant/day) that have records, from the key hierarchy."""
        tenants = [tenant] if tenant else self._children(RECORDS_PREFIX)
        return [f"{t}/{day}" for t in tenants for day in self._children(f"{RECORDS_PREFIX}{t}/")]

    def records(self, chain_id: str) -> Iterator[StoredObject]:
        """The latest version of each record key of a chain; keys hidden by a delete marker are absent."""
        return self._objects(chain_prefix(chain_id))

    def digests(self, chain_id: str) -> Iterator[StoredObject]:
        """The digests of a chain."""
        return self._objects(f"{DIGESTS_PREFIX}{chain_id}/")

    def retention(self, key: str) -> tuple[str | None, datetime | None]:
        """(mode, retain-until) of a key, read with head_object (get_object_retention is not usable on moto)."""
        head = self._call("head_object", Bucket=self._bucket, Key=key)
        return head.get("ObjectLockMode"), head.get("ObjectLockRetainUntilDate")

    def _put_once(self, key: str, body: bytes, record_hash: str | None) -> bool:
        kwargs: dict[str, Any] = {
            "Bucket": self._bucket,
            "Key": key,
            "Body": body,
            "ContentType": "application/json",
            "IfNoneMatch": "*",
            "ChecksumAlgorithm": "SHA256",
            "ObjectLockMode": self._mode,
            "ObjectLockRetainUntilDate": self._clock() + timedelta(days=self._retention_days),
        }
        if self._kms_key_id:
            kwargs |= {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self._kms_key_id, "BucketKeyEnabled": True}
        if record_hash:
            kwargs["Metadata"] = {HASH_METADATA: record_hash}
        try:
            self._client.put_object(**kwargs)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("PreconditionFailed", "412"):
                raise AuditUnavailable("the audit archive refused the write", details={"key": key}) from exc
            if record_hash is not None:
                stored = self._call("head_object", Bucket=self._bucket, Key=key).get("Metadata", {})
                if stored.get(HASH_METADATA) != record_hash:
                    raise Conflict(f"audit object {key} already exists with different content") from exc
            return False
        except BotoCoreError as exc:
            raise AuditUnavailable("the audit archive is unreachable") from exc
        return True

    def _children(self, prefix: str) -> list[str]:
        names: list[str] = []
        for page in self._pages("list_objects_v2", Prefix=prefix, Delimiter="/"):
            names.extend(p["Prefix"][len(prefix) :].rstrip("/") for p in page.get("CommonPrefixes", []))
        return sorted(names)

    def _objects(self, prefix: str) -> Iterator[StoredObject]:
        versions: dict[str, int] = {}
        latest: dict[str, str | None] = {}
        for page in self._pages("list_object_versions", Prefix=prefix):
            for version in page.get("Versions", []):
                versions[version["Key"]] = versions.get(version["Key"], 0) + 1
                if version.get("IsLatest"):
                    latest[version["Key"]] = version["VersionId"]
            for marker in page.get("DeleteMarkers", []):
                if marker.get("IsLatest"):
                    latest[marker["Key"]] = None
        for key in sorted(latest):
            version_id = latest[key]
            if version_id is None:
                continue
            body = self._call("get_object", Bucket=self._bucket, Key=key, VersionId=version_id)["Body"].read()
            yield StoredObject(key=key, body=body, versions=versions.get(key, 1))

    def _pages(self, operation: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        try:
            yield from self._client.get_paginator(operation).paginate(Bucket=self._bucket, **kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise AuditUnavailable(f"the audit archive could not be listed ({operation})") from exc

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        try:
            result: dict[str, Any] = getattr(self._client, operation)(**kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise AuditUnavailable(f"the audit archive failed on {operation}") from exc
        return result
