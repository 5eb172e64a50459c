"""Small real implementations of the audit ports for unit tests (no sockets)."""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Callable, Iterator

from keel.audit.chain import DIGESTS_PREFIX, RECORDS_PREFIX, SealedRecord, chain_prefix, genesis_hash
from keel.audit.ports import ChainHead, StoredObject
from keel.audit.records import AuditRecord
from keel.errors import AuditUnavailable, Conflict


class InMemoryAuditSink:
    """AuditSink that keeps what it was sent; `down=True` makes it behave like an unreachable queue."""

    def __init__(self, *, down: bool = False) -> None:
        self.sent: list[AuditRecord] = []
        self.down = down

    def send(self, record: AuditRecord) -> None:
        """Keep the record, or raise AuditUnavailable when down."""
        if self.down:
            raise AuditUnavailable("the audit queue is down")
        self.sent.append(record)


class InMemoryChainLedger:
    """ChainLedger with the same claim-once / compare-and-swap semantics as the DynamoDB one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.heads: dict[str, ChainHead] = {}
        self.claims: dict[str, SealedRecord] = {}
        self.lost_races = 0

    def seal(self, record: AuditRecord, build: Callable[[int, str], SealedRecord]) -> SealedRecord:
        """Build outside the lock, commit only if the head is unchanged (as a conditional write would)."""
        while True:
            with self._lock:
                if record.record_id in self.claims:
                    return self.claims[record.record_id]
                head = self.heads.get(record.chain_id)
            seq, prev = (head.seq + 1, head.hash) if head else (0, genesis_hash(record.chain_id))
            sealed = build(seq, prev)
            with self._lock:
                if record.record_id in self.claims:
                    return self.claims[record.record_id]
                if self.heads.get(record.chain_id) != head:
                    self.lost_races += 1
                    continue
                self.claims[record.record_id] = sealed
                self.heads[record.chain_id] = ChainHead(record.chain_id, seq, sealed.hash)
                return sealed

    def head(self, chain_id: str) -> ChainHead | None:
        """The current head."""
        return self.heads.get(chain_id)

    def chains(self, day: str) -> list[str]:
        """Chains with a head on that day."""
        return sorted(c for c in self.heads if c.endswith(f"/{day}"))


class InMemoryArchive:
    """AuditArchive as a dict of key -> versions; tests tamper with `objects` directly."""

    def __init__(self) -> None:
        self.objects: dict[str, list[bytes]] = {}
        self.fail_puts = 0

    def put_record(self, sealed: SealedRecord) -> bool:
        """Write once; an identical rewrite is a no-op, a different one a Conflict."""
        if self.fail_puts:
            self.fail_puts -= 1
            raise AuditUnavailable("the archive is down")
        body = sealed.to_bytes()
        existing = self.objects.get(sealed.key)
        if existing is not None:
            if existing[-1] != body:
                raise Conflict(f"{sealed.key} exists with different content")
            return False
        self.objects[sealed.key] = [body]
        return True

    def put_digest(self, key: str, body: bytes) -> None:
        """Store a digest once."""
        self.objects.setdefault(key, [body])

    def chain_ids(self, tenant: str | None = None) -> list[str]:
        """Chains that have records."""
        ids = {"/".join(k.split("/")[1:3]) for k in self.objects if k.startswith(RECORDS_PREFIX)}
        return sorted(c for c in ids if tenant is None or c.startswith(f"{tenant}/"))

    def records(self, chain_id: str) -> Iterator[StoredObject]:
        """Latest version of each record key, in key order."""
        return self._under(chain_prefix(chain_id))

    def digests(self, chain_id: str) -> Iterator[StoredObject]:
        """The chain's digests."""
        return self._under(f"{DIGESTS_PREFIX}{chain_id}/")

    def _under(self, prefix: str) -> Iterator[StoredObject]:
        for key in sorted(k for k in self.objects if k.startswith(prefix)):
            yield StoredObject(key, self.objects[key][-1], len(self.objects[key]))


class HmacDigestSigner:
    """DigestSigner with an HMAC key standing in for KMS."""

    algorithm = "HMAC_SHA_256"

    def __init__(self, key_id: str = "test-key", secret: bytes = b"test-secret") -> None:
        self.key_id = key_id
        self._secret = secret

    def sign(self, digest: bytes) -> bytes:
        """HMAC of the digest."""
        return hmac.new(self._secret, digest, hashlib.sha256).digest()

    def verify(self, digest: bytes, signature: bytes, *, key_id: str, algorithm: str) -> bool:
        """Constant-time comparison against a fresh HMAC."""
        return key_id == self.key_id and hmac.compare_digest(self.sign(digest), signature)


def sample_record(
    n: int = 0,
    *,
    tenant: str = "demo",
    conversation_id: str = "conv-0001",
    input_masked: str = "How many days of annual leave do I get, <PERSON_1>?",
    output_masked: str = "You get 25 days of annual leave [hr-annual-leave].",
    occurred_at: str = "2026-11-24T10:00:00+00:00",
) -> AuditRecord:
    """A realistic, clean turn record; n varies its ids and text."""
    from datetime import datetime, timedelta

    from keel.audit.records import GuardrailVerdict, turn_record
    from keel.identity.principal import Principal
    from keel.knowledge.ports import Passage
    from keel.models.ports import Completion

    principal = Principal(
        subject=f"sub-{n:04d}",
        username=f"user{n}",
        groups=frozenset({"all-staff", "hr"}),
        tenant=tenant,
        email=f"user{n}@example.com",
    )
    passage = Passage(
        doc_id="hr-annual-leave",
        chunk_id="hr-annual-leave#0",
        title="Annual leave",
        text="25 days",
        score=0.87,
        version=3,
    )
    return turn_record(
        record_id=f"rec-{n:06d}",
        principal=principal,
        occurred_at=datetime.fromisoformat(occurred_at) + timedelta(milliseconds=n),
        correlation_id=f"corr-{n:06d}",
        channel="web",
        bot="hr",
        conversation_id=conversation_id,
        message_id=f"msg-{n:06d}",
        input_masked=f"{input_masked} #{n}",
        output_masked=output_masked,
        outcome="answered",
        latency_ms=123.4,
        passages=[passage],
        cited=["hr-annual-leave"],
        completion=Completion(
            text=output_masked,
            model_id="model-large",
            input_tokens=412,
            output_tokens=38,
            latency_ms=90.0,
            cost_usd=0.0021,
        ),
        prompt_version="hr-v3",
        guardrails=[
            GuardrailVerdict(stage="input", decision="allow"),
            GuardrailVerdict(stage="output", decision="allow"),
        ],
    )
