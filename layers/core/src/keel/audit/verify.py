"""Recompute audit chains from what is stored and report every modified, missing, inserted or moved record.

Findings are ordered by position, so the first one is the first broken link. Each names the chain, the
seq and the key, so an auditor can go straight to the object.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

from keel.audit.chain import content_hash, digest_of, genesis_hash, parse_record_key, split_chain_id
from keel.audit.ports import AuditArchive, ChainHead, ChainLedger, DigestSigner, StoredObject

FindingKind = Literal[
    "modified",  # a record's content no longer matches its own hash
    "broken_link",  # a record does not point at the hash of the record before it
    "gap",  # a seq is missing (deleted, or hidden by a delete marker)
    "inserted",  # a record the ledger never sealed at that place
    "fork",  # two records claim one seq and nothing says which is genuine
    "reordered",  # a record stored at a position other than its own seq
    "overwritten",  # a key holds more than one version
    "corrupt",  # an object that is not a sealed record at all
    "head_mismatch",  # the chain's last record differs from the ledger's head
    "digest_invalid",  # a digest whose signature or figures do not hold
    "digest_mismatch",  # a signed digest disagrees with the stored records
]


@dataclass(frozen=True)
class Finding:
    """One thing wrong with a chain, and where."""

    kind: FindingKind
    chain_id: str
    seq: int | None
    detail: str
    key: str | None = None
    record_id: str | None = None

    def describe(self) -> str:
        """One line for the terminal."""
        where = f"seq {self.seq}" if self.seq is not None else "chain"
        extra = f" [{self.key}]" if self.key else ""
        return f"{self.chain_id} {where}: {self.kind}: {self.detail}{extra}"


@dataclass
class ChainReport:
    """The result of verifying one chain."""

    chain_id: str
    records: int = 0
    digests: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.findings


@dataclass
class _Entry:
    key: str
    key_seq: int
    key_rid: str
    body: dict[str, Any]
    stored_hash: str
    self_ok: bool

    @property
    def seq(self) -> int:
        return int(self.body["chain"]["seq"])

    @property
    def prev_hash(self) -> str:
        return str(self.body["chain"]["prev_hash"])

    @property
    def record_id(self) -> str:
        return str(self.body["record"].get("record_id", ""))


def verify_chain(
    chain_id: str,
    objects: Iterable[StoredObject],
    *,
    head: ChainHead | None = None,
    digests: Iterable[StoredObject] = (),
    signer: DigestSigner | None = None,
) -> ChainReport:
    """Verify one chain from its stored objects, its ledger head and its signed digests (each optional)."""
    report = ChainReport(chain_id)
    findings = report.findings
    entries: list[_Entry] = []
    for obj in objects:
        report.records += 1
        entry = _entry(chain_id, obj, findings)
        if entry is not None:
            entries.append(entry)
    by_seq: dict[int, list[_Entry]] = {}
    for entry in entries:
        if not entry.self_ok:
            findings.append(_at(entry, "modified", "its content does not match its own hash", chain_id))
        if entry.seq != entry.key_seq or entry.record_id != entry.key_rid:
            findings.append(_at(entry, "reordered", f"position {entry.key_seq} holds record seq {entry.seq}", chain_id))
        by_seq.setdefault(entry.seq, []).append(entry)
    chosen = _resolve(chain_id, by_seq, head, findings)
    # A corrupt object is already the finding for its seq; do not report it missing as well.
    corrupt = {f.seq for f in findings if f.kind == "corrupt" and f.seq is not None}
    _walk(chain_id, chosen, head, findings, corrupt)
    for obj in digests:
        report.digests += 1
        _check_digest(chain_id, obj, chosen, signer, findings)
    findings.sort(key=lambda f: (-1 if f.seq is None else f.seq, f.kind))
    return report


def _entry(chain_id: str, obj: StoredObject, findings: list[Finding]) -> _Entry | None:
    parsed = parse_record_key(obj.key)
    if parsed is None or parsed[0] != chain_id:
        findings.append(Finding("inserted", chain_id, None, "an object that is not a record of this chain", obj.key))
        return None
    _, key_seq, key_rid = parsed
    if obj.versions > 1:
        findings.append(
            Finding("overwritten", chain_id, key_seq, f"the key holds {obj.versions} versions", obj.key, key_rid)
        )
    try:
        body = json.loads(obj.body)
        int(body["chain"]["seq"])
        str(body["chain"]["prev_hash"])
        stored_hash = str(body["hash"])
        if not isinstance(body["record"], dict):
            raise TypeError("record is not an object")
    except (ValueError, KeyError, TypeError) as exc:
        findings.append(Finding("corrupt", chain_id, key_seq, f"not a sealed record ({exc})", obj.key, key_rid))
        return None
    return _Entry(obj.key, key_seq, key_rid, body, stored_hash, content_hash(body) == stored_hash)


def _at(entry: _Entry, kind: FindingKind, detail: str, chain_id: str) -> Finding:
    return Finding(kind, chain_id, entry.key_seq, detail, entry.key, entry.record_id)


def _resolve(
    chain_id: str, by_seq: dict[int, list[_Entry]], head: ChainHead | None, findings: list[Finding]
) -> dict[int, _Entry]:
    """One record per seq; extra claimants are insertions, told apart by who the next record links to."""
    chosen: dict[int, _Entry] = {}
    for seq in sorted(by_seq):
        candidates = by_seq[seq]
        if len(candidates) == 1:
            chosen[seq] = candidates[0]
            continue
        successors = {e.prev_hash for e in by_seq.get(seq + 1, [])}
        prev = chosen.get(seq - 1)
        expected_prev = genesis_hash(chain_id) if seq == 0 else (prev.stored_hash if prev else None)

        scored = sorted(
            ((_score(e, seq, successors, expected_prev, head), e) for e in candidates),
            key=lambda pair: (-pair[0], pair[1].key),
        )
        best = scored[0][1]
        if scored[1][0] == scored[0][0]:
            ids = ", ".join(e.record_id for _, e in scored)
            findings.append(_at(best, "fork", f"records {ids} all claim this seq", chain_id))
        for _, other in scored[1:]:
            findings.append(_at(other, "inserted", f"a second record at seq {seq}, not part of the chain", chain_id))
        chosen[seq] = best
    return chosen


def _score(entry: _Entry, seq: int, successors: set[str], expected_prev: str | None, head: ChainHead | None) -> int:
    """How strongly the stored chain vouches for a claimant of a seq: links from the next record weigh most."""
    return (
        8 * (entry.stored_hash in successors)
        + 8 * (head is not None and head.seq == seq and head.hash == entry.stored_hash)
        + 2 * entry.self_ok
        + (entry.prev_hash == expected_prev)
    )


def _walk(
    chain_id: str, chosen: dict[int, _Entry], head: ChainHead | None, findings: list[Finding], corrupt: set[int]
) -> None:
    last = max([*chosen, head.seq if head else -1], default=-1)
    missing: list[int] = []
    for seq in range(last + 1):
        entry = chosen.get(seq)
        if entry is None:
            if seq not in corrupt:
                missing.append(seq)
            continue
        if missing:
            findings.append(_gap(chain_id, missing))
            missing = []
        if head is not None and seq > head.seq:
            findings.append(_at(entry, "inserted", f"beyond the ledger head (seq {head.seq})", chain_id))
            continue
        if seq == 0:
            expected: str | None = genesis_hash(chain_id)
        else:
            before = chosen.get(seq - 1)
            expected = before.stored_hash if before else None
        # After a gap the link cannot be checked; the gap is the finding.
        if expected is not None and entry.prev_hash != expected:
            findings.append(_at(entry, "broken_link", f"prev_hash does not match the hash of seq {seq - 1}", chain_id))
    if missing:
        findings.append(_gap(chain_id, missing))
    if head is not None and head.seq in chosen and chosen[head.seq].stored_hash != head.hash:
        findings.append(_at(chosen[head.seq], "head_mismatch", "differs from the ledger's head hash", chain_id))


def _gap(chain_id: str, missing: list[int]) -> Finding:
    span = f"seq {missing[0]}" if len(missing) == 1 else f"seq {missing[0]}..{missing[-1]}"
    return Finding("gap", chain_id, missing[0], f"{span} missing (deleted or never stored)")


def _check_digest(
    chain_id: str,
    obj: StoredObject,
    chosen: dict[int, _Entry],
    signer: DigestSigner | None,
    findings: list[Finding],
) -> None:
    try:
        body = json.loads(obj.body)
        last_seq, first_seq, count = int(body["last_seq"]), int(body["first_seq"]), int(body["count"])
        head_hash, signature = str(body["head_hash"]), base64.b64decode(body["signature"])
    except (ValueError, KeyError, TypeError) as exc:
        findings.append(Finding("digest_invalid", chain_id, None, f"unreadable digest ({exc})", obj.key))
        return
    if body.get("chain_id") != chain_id or count != last_seq - first_seq + 1:
        findings.append(Finding("digest_invalid", chain_id, last_seq, "chain id or count do not hold", obj.key))
    if signer is not None and not signer.verify(
        digest_of(body), signature, key_id=str(body.get("key_id")), algorithm=str(body.get("signing_algorithm"))
    ):
        findings.append(Finding("digest_invalid", chain_id, last_seq, "the KMS signature does not verify", obj.key))
        return
    entry = chosen.get(last_seq)
    if entry is None:
        findings.append(Finding("digest_mismatch", chain_id, last_seq, "a signed digest covers this seq", obj.key))
    elif entry.stored_hash != head_hash:
        findings.append(_at(entry, "digest_mismatch", "differs from the hash in a signed digest", chain_id))


def verify_archive(
    archive: AuditArchive,
    *,
    ledger: ChainLedger | None = None,
    signer: DigestSigner | None = None,
    tenant: str | None = None,
    since: date | None = None,
    until: date | None = None,
) -> list[ChainReport]:
    """Verify every chain in the archive (optionally of one tenant, between two UTC days inclusive)."""
    reports = []
    chain_ids = set(archive.chain_ids(tenant))
    if ledger is not None and since is not None and until is not None:
        # A chain the ledger knows but the archive has no object of was deleted whole; verify it too.
        for offset in range((until - since).days + 1):
            day_ids = ledger.chains((since + timedelta(days=offset)).isoformat())
            chain_ids.update(c for c in day_ids if tenant is None or split_chain_id(c)[0] == tenant)
    for chain_id in sorted(chain_ids):
        day = date.fromisoformat(split_chain_id(chain_id)[1])
        if (since and day < since) or (until and day > until):
            continue
        head = ledger.head(chain_id) if ledger is not None else None
        reports.append(
            verify_chain(
                chain_id, archive.records(chain_id), head=head, digests=archive.digests(chain_id), signer=signer
            )
        )
    return reports
