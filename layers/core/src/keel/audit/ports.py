"""Ports of the audit capability: the queue the turn writes to, the ledger, the archive and the signer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from keel.audit.chain import SealedRecord
from keel.audit.records import AuditRecord


class AuditSink(Protocol):
    """Where the turn hands a record; returns only once the record is durably accepted."""

    def send(self, record: AuditRecord) -> None:
        """Queue one record durably, or raise AuditUnavailable."""
        ...


@dataclass(frozen=True)
class ChainHead:
    """The last sealed record of a chain: its seq and hash."""

    chain_id: str
    seq: int
    hash: str


class ChainLedger(Protocol):
    """Assigns each record its place in its chain exactly once (the conditional write lives here)."""

    def seal(self, record: AuditRecord, build: Callable[[int, str], SealedRecord]) -> SealedRecord:
        """The record sealed after the current head; the earlier sealing if the record id was seen before."""
        ...

    def head(self, chain_id: str) -> ChainHead | None:
        """The chain's current head, or None for a chain with no record yet."""
        ...

    def chains(self, day: str) -> list[str]:
        """The ids of the chains that have a head on a UTC day."""
        ...


@dataclass(frozen=True)
class StoredObject:
    """One object of the archive as read back: key, body and how many versions the key holds."""

    key: str
    body: bytes
    versions: int = 1


class AuditArchive(Protocol):
    """The write-once store of sealed records and signed digests."""

    def put_record(self, sealed: SealedRecord) -> bool:
        """Store a sealed record; False if that exact record was already stored. Raise Conflict if it differs."""
        ...

    def put_digest(self, key: str, body: bytes) -> None:
        """Store a signed digest beside the records."""
        ...

    def chain_ids(self, tenant: str | None = None) -> list[str]:
        """The ids of every chain with records (optionally of one tenant)."""
        ...

    def records(self, chain_id: str) -> Iterator[StoredObject]:
        """Every object under a chain's record prefix, in key order."""
        ...

    def digests(self, chain_id: str) -> Iterator[StoredObject]:
        """Every digest of a chain, in key order."""
        ...


class DigestSigner(Protocol):
    """Signs and verifies the SHA-256 digest of a chain digest (KMS in AWS and locally)."""

    key_id: str
    algorithm: str

    def sign(self, digest: bytes) -> bytes:
        """The signature of a 32-byte SHA-256 digest."""
        ...

    def verify(self, digest: bytes, signature: bytes, *, key_id: str, algorithm: str) -> bool:
        """Whether the signature over the digest is valid for that key and algorithm."""
        ...
