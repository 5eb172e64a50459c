"""The audit writer: takes queued records, seals each into its chain once, and stores it write-once.

Chaining happens here, at write time, not in the turn: the turn pays one SendMessage, holds no
chain lock and cannot leave a hole in a chain by dying between claiming a seq and queueing.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from keel.audit.chain import SealedRecord, canonical_json, digest_key, digest_of, seal
from keel.audit.guard import ensure_clean
from keel.audit.ports import AuditArchive, ChainLedger, DigestSigner
from keel.audit.records import AuditRecord
from keel.audit.sqs import QueuedMessage, SqsBatchSource
from keel.errors import KeelError

_log = logging.getLogger("keel.audit.writer")
DIGEST_SCHEMA_VERSION = 1


@dataclass
class BatchResult:
    """What one batch did: records newly written, redeliveries skipped, and message ids to retry."""

    written: int = 0
    duplicates: int = 0
    failed: list[str] = field(default_factory=list)

    def add(self, other: BatchResult) -> None:
        """Accumulate another batch's figures."""
        self.written += other.written
        self.duplicates += other.duplicates
        self.failed.extend(other.failed)


class AuditWriter:
    """Seals and stores batches of queued audit records; idempotent per record id."""

    def __init__(
        self,
        ledger: ChainLedger,
        archive: AuditArchive,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._ledger = ledger
        self._archive = archive
        self._clock = clock

    def write_batch(self, messages: Sequence[QueuedMessage]) -> BatchResult:
        """Write every message it can; the ids of the others go back to the queue (then to its DLQ)."""
        result = BatchResult()
        parsed: list[tuple[QueuedMessage, AuditRecord]] = []
        for message in messages:
            try:
                record = AuditRecord.model_validate_json(message.body)
                ensure_clean(record)
            except (ValidationError, KeelError) as exc:
                # Not retried into success, but never dropped: the DLQ holds it for a human.
                _log.error("audit message %s rejected: %s", message.message_id, _reason(exc))
                result.failed.append(message.message_id)
                continue
            parsed.append((message, record))
        # Within a batch, chain order follows the order the turns happened in.
        parsed.sort(key=lambda pair: (pair[1].occurred_at, pair[1].record_id))
        for message, record in parsed:
            try:
                sealed = self._ledger.seal(record, self._builder(record))
                if self._archive.put_record(sealed):
                    result.written += 1
                else:
                    result.duplicates += 1
            except KeelError as exc:
                _log.error("audit record %s not written yet: %s", record.record_id, exc.message)
                result.failed.append(message.message_id)
        return result

    def _builder(self, record: AuditRecord) -> Callable[[int, str], SealedRecord]:
        def build(seq: int, prev_hash: str) -> SealedRecord:
            return seal(record, seq=seq, prev_hash=prev_hash, sealed_at=self._clock())

        return build


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5])
    return exc.message if isinstance(exc, KeelError) else type(exc).__name__


def drain(source: SqsBatchSource, writer: AuditWriter, *, max_batches: int | None = None) -> BatchResult:
    """Write queued records until the queue is empty (the local stand-in for the Lambda trigger)."""
    total = BatchResult()
    batches = 0
    while max_batches is None or batches < max_batches:
        messages = source.receive()
        if not messages:
            break
        result = writer.write_batch(messages)
        failed = set(result.failed)
        source.acknowledge([m for m in messages if m.message_id not in failed])
        total.add(result)
        batches += 1
        if failed and len(failed) == len(messages):
            # Nothing in this batch can be written now; stop instead of spinning on it.
            break
    return total


class AuditDigester:
    """Signs a digest of each chain's head (first/last seq, count, head hash) and stores it beside the records."""

    def __init__(
        self,
        ledger: ChainLedger,
        archive: AuditArchive,
        signer: DigestSigner,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._ledger = ledger
        self._archive = archive
        self._signer = signer
        self._clock = clock

    def digest(self, chain_id: str) -> dict[str, Any] | None:
        """Sign and store the digest of a chain's current head; None for a chain with no record."""
        head = self._ledger.head(chain_id)
        if head is None:
            return None
        body: dict[str, Any] = {
            "schema_version": DIGEST_SCHEMA_VERSION,
            "chain_id": chain_id,
            "first_seq": 0,
            "last_seq": head.seq,
            "count": head.seq + 1,
            "head_hash": head.hash,
            "created_at": self._clock().astimezone(UTC).isoformat(),
            "key_id": self._signer.key_id,
            "signing_algorithm": self._signer.algorithm,
        }
        signature = self._signer.sign(digest_of(body))
        body["signature"] = base64.b64encode(signature).decode()
        self._archive.put_digest(digest_key(chain_id, head.seq), canonical_json(body))
        return body

    def digest_day(self, day: str) -> list[dict[str, Any]]:
        """Digest every chain of a UTC day (the hourly schedule calls this for today and yesterday)."""
        digests = [self.digest(chain_id) for chain_id in self._ledger.chains(day)]
        return [d for d in digests if d is not None]
