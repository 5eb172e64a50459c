"""The hash chain: canonical JSON, record hashes, sealing and the storage keys of records and digests (R14).

A sealed record is ``{"record": ..., "chain": {"id", "seq", "prev_hash"}, "sealed_at", "hash_alg", "hash"}``
where ``hash`` is the SHA-256 of the canonical JSON of everything else. Verification works on the raw
JSON, never on a re-validated model, so nothing a tamperer writes can be normalised away.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from keel.audit.records import AuditRecord

HASH_ALG = "sha256"
RECORDS_PREFIX = "records/"
DIGESTS_PREFIX = "digests/"
_RECORD_KEY = re.compile(r"^records/(?P<tenant>[^/]+)/(?P<day>\d{4}-\d{2}-\d{2})/(?P<seq>\d{10})-(?P<rid>[^/]+)\.json$")


def canonical_json(value: Any) -> bytes:
    """The one byte form hashes and signatures are computed over: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def content_hash(sealed: dict[str, Any]) -> str:
    """SHA-256 (hex) of a sealed record's canonical JSON without its own ``hash`` field."""
    body = {key: value for key, value in sealed.items() if key != "hash"}
    return hashlib.sha256(canonical_json(body)).hexdigest()


def digest_of(body: dict[str, Any]) -> bytes:
    """SHA-256 over a chain digest's canonical JSON without its signature: what KMS signs."""
    unsigned = {key: value for key, value in body.items() if key != "signature"}
    return hashlib.sha256(canonical_json(unsigned)).digest()


def genesis_hash(chain_id: str) -> str:
    """The ``prev_hash`` of a chain's first record; it binds that record to its chain."""
    return hashlib.sha256(f"keel-audit-genesis:{chain_id}".encode()).hexdigest()


def chain_id_of(tenant: str, day: str) -> str:
    """The id of the chain of one tenant on one UTC day."""
    return f"{tenant}/{day}"


def split_chain_id(chain_id: str) -> tuple[str, str]:
    """(tenant, day) of a chain id."""
    tenant, _, day = chain_id.partition("/")
    return tenant, day


@dataclass(frozen=True)
class SealedRecord:
    """A record with its place in the chain and its hash, exactly as stored."""

    body: dict[str, Any]

    @property
    def record_id(self) -> str:
        """The audit record's id."""
        return str(self.body["record"]["record_id"])

    @property
    def chain_id(self) -> str:
        """The chain the record was sealed into."""
        return str(self.body["chain"]["id"])

    @property
    def seq(self) -> int:
        """Its position in the chain, from 0."""
        return int(self.body["chain"]["seq"])

    @property
    def hash(self) -> str:
        """Its own hash."""
        return str(self.body["hash"])

    @property
    def key(self) -> str:
        """The S3 key the record is stored under."""
        return record_key(self.chain_id, self.seq, self.record_id)

    def to_bytes(self) -> bytes:
        """The stored form (canonical JSON, so a stored object hashes like its content)."""
        return canonical_json(self.body)


def seal(record: AuditRecord, *, seq: int, prev_hash: str, sealed_at: datetime | None = None) -> SealedRecord:
    """Place a record in its chain after the record whose hash is prev_hash."""
    body: dict[str, Any] = {
        "record": record.model_dump(mode="json"),
        "chain": {"id": record.chain_id, "seq": seq, "prev_hash": prev_hash},
        "sealed_at": (sealed_at or datetime.now(UTC)).astimezone(UTC).isoformat(),
        "hash_alg": HASH_ALG,
    }
    body["hash"] = content_hash(body)
    return SealedRecord(body)


def record_key(chain_id: str, seq: int, record_id: str) -> str:
    """records/<tenant>/<day>/<seq>-<record id>.json: listing order is chain order."""
    return f"{RECORDS_PREFIX}{chain_id}/{seq:010d}-{record_id}.json"


def parse_record_key(key: str) -> tuple[str, int, str] | None:
    """(chain id, seq, record id) of a record key, or None for a key that is not one."""
    match = _RECORD_KEY.match(key)
    if match is None:
        return None
    return chain_id_of(match["tenant"], match["day"]), int(match["seq"]), match["rid"]


def chain_prefix(chain_id: str) -> str:
    """The key prefix of one chain's records."""
    return f"{RECORDS_PREFIX}{chain_id}/"


def digest_key(chain_id: str, last_seq: int) -> str:
    """digests/<tenant>/<day>/<last seq>.json, beside the records it covers."""
    return f"{DIGESTS_PREFIX}{chain_id}/{last_seq:010d}.json"
