"""The hash chain and `verify`: any single modified, deleted, inserted or reordered record is named exactly."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keel.audit.chain import (
    canonical_json,
    content_hash,
    genesis_hash,
    parse_record_key,
    record_key,
    seal,
)
from keel.audit.sqs import QueuedMessage
from keel.audit.verify import verify_chain
from keel.audit.writer import AuditDigester, AuditWriter
from tests.fakes.audit import HmacDigestSigner, InMemoryArchive, InMemoryChainLedger, sample_record

CHAIN = "demo/2026-11-24"


def _build(n: int) -> tuple[InMemoryChainLedger, InMemoryArchive]:
    ledger, archive = InMemoryChainLedger(), InMemoryArchive()
    writer = AuditWriter(ledger, archive)
    result = writer.write_batch([QueuedMessage(f"m{i}", sample_record(i).model_dump_json()) for i in range(n)])
    assert result.written == n and not result.failed
    return ledger, archive


def _keys(archive: InMemoryArchive) -> list[str]:
    return sorted(k for k in archive.objects if k.startswith("records/"))


def _body(archive: InMemoryArchive, key: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(archive.objects[key][-1])
    return loaded


def _findings(ledger: InMemoryChainLedger, archive: InMemoryArchive, **kwargs: Any) -> set[tuple[str, int | None]]:
    report = verify_chain(CHAIN, archive.records(CHAIN), head=ledger.head(CHAIN), **kwargs)
    return {(f.kind, f.seq) for f in report.findings}


def test_a_record_hash_covers_everything_but_itself_and_is_deterministic() -> None:
    record = sample_record(1)
    first = seal(record, seq=0, prev_hash=genesis_hash(CHAIN))
    again = seal(record, seq=0, prev_hash=genesis_hash(CHAIN), sealed_at=None)
    assert first.hash == content_hash(first.body)
    assert first.body["record"] == again.body["record"]
    changed = dict(first.body, chain={**first.body["chain"], "seq": 1})
    assert content_hash(changed) != first.hash
    assert json.loads(first.to_bytes()) == first.body


@given(
    tenant=st.from_regex(r"[a-z0-9][a-z0-9-]{0,20}", fullmatch=True),
    seq=st.integers(min_value=0, max_value=9_999_999_999),
    record_id=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,40}", fullmatch=True),
)
def test_record_keys_parse_back_to_chain_seq_and_id(tenant: str, seq: int, record_id: str) -> None:
    chain_id = f"{tenant}/2026-11-24"
    assert parse_record_key(record_key(chain_id, seq, record_id)) == (chain_id, seq, record_id)


def test_an_intact_chain_verifies_clean() -> None:
    ledger, archive = _build(8)
    report = verify_chain(CHAIN, archive.records(CHAIN), head=ledger.head(CHAIN))
    assert report.ok and report.records == 8


def _modify(archive: InMemoryArchive, key: str, *, rehash: bool) -> None:
    body = _body(archive, key)
    body["record"]["turn"]["output_masked"] = "Something the bot never said."
    if rehash:
        body["hash"] = content_hash(body)
    archive.objects[key] = [canonical_json(body)]


TAMPERS = ["modify", "modify_rehash", "delete", "insert", "reorder"]


@settings(max_examples=150, deadline=None)
@given(n=st.integers(min_value=2, max_value=9), kind=st.sampled_from(TAMPERS), data=st.data())
def test_any_single_tampering_is_reported_exactly_which_and_where(n: int, kind: str, data: st.DataObject) -> None:
    # Given an intact chain of n records
    ledger, archive = _build(n)
    keys = _keys(archive)
    i = data.draw(st.integers(min_value=0, max_value=n - 1), label="index")
    # When one record is tampered with
    if kind == "modify":
        _modify(archive, keys[i], rehash=False)
        expected = {("modified", i)}
    elif kind == "modify_rehash":
        _modify(archive, keys[i], rehash=True)
        expected = {("broken_link", i + 1)} if i < n - 1 else {("head_mismatch", i)}
    elif kind == "delete":
        del archive.objects[keys[i]]
        expected = {("gap", i)}
    elif kind == "insert":
        at = data.draw(st.integers(min_value=0, max_value=n), label="insert_at")
        prev = genesis_hash(CHAIN) if at == 0 else _body(archive, keys[at - 1])["hash"]
        forged = seal(sample_record(900), seq=at, prev_hash=prev)
        archive.objects[forged.key] = [forged.to_bytes()]
        expected = {("inserted", at)}
    else:
        j = data.draw(st.integers(min_value=0, max_value=n - 1).filter(lambda x: x != i), label="other")
        archive.objects[keys[i]], archive.objects[keys[j]] = archive.objects[keys[j]], archive.objects[keys[i]]
        expected = {("reordered", i), ("reordered", j)}
    # Then verify names exactly that record and place, and nothing else
    assert _findings(ledger, archive) == expected


def test_the_first_finding_is_the_first_broken_place() -> None:
    ledger, archive = _build(6)
    keys = _keys(archive)
    del archive.objects[keys[4]]
    _modify(archive, keys[2], rehash=False)
    report = verify_chain(CHAIN, archive.records(CHAIN), head=ledger.head(CHAIN))
    assert [(f.kind, f.seq) for f in report.findings] == [("modified", 2), ("gap", 4)]
    assert report.findings[0].key == keys[2]
    assert "seq 2" in report.findings[0].describe()


def test_a_second_version_of_a_key_is_reported_as_overwritten() -> None:
    ledger, archive = _build(3)
    key = _keys(archive)[1]
    body = _body(archive, key)
    body["record"]["usage"]["cost_usd"] = 0.0
    archive.objects[key].append(canonical_json(body))
    assert _findings(ledger, archive) == {("overwritten", 1), ("modified", 1)}


def test_without_a_ledger_head_a_deleted_last_record_is_caught_by_the_signed_digest() -> None:
    ledger, archive = _build(5)
    signer = HmacDigestSigner()
    AuditDigester(ledger, archive, signer).digest(CHAIN)
    del archive.objects[_keys(archive)[4]]
    report = verify_chain(CHAIN, archive.records(CHAIN), digests=archive.digests(CHAIN), signer=signer)
    assert {(f.kind, f.seq) for f in report.findings} == {("digest_mismatch", 4)}


def test_a_rewritten_chain_with_every_hash_recomputed_fails_the_signed_digest() -> None:
    ledger, archive = _build(4)
    signer = HmacDigestSigner()
    AuditDigester(ledger, archive, signer).digest(CHAIN)
    # The strongest tamperer rewrites record 1 and re-links every record after it.
    keys = _keys(archive)
    prev = _body(archive, keys[0])["hash"]
    for index, key in enumerate(keys[1:], start=1):
        body = _body(archive, key)
        if index == 1:
            body["record"]["turn"]["output_masked"] = "rewritten"
        body["chain"]["prev_hash"] = prev
        body["hash"] = content_hash(body)
        prev = body["hash"]
        archive.objects[key] = [canonical_json(body)]
    report = verify_chain(CHAIN, archive.records(CHAIN), digests=archive.digests(CHAIN), signer=signer)
    assert {(f.kind, f.seq) for f in report.findings} == {("digest_mismatch", 3)}


def test_a_forged_digest_signature_is_reported() -> None:
    ledger, archive = _build(2)
    AuditDigester(ledger, archive, HmacDigestSigner(secret=b"attacker")).digest(CHAIN)
    report = verify_chain(CHAIN, archive.records(CHAIN), digests=archive.digests(CHAIN), signer=HmacDigestSigner())
    assert [(f.kind, f.seq) for f in report.findings] == [("digest_invalid", 1)]


def test_an_unreadable_digest_is_reported() -> None:
    _ledger, archive = _build(2)
    archive.objects[f"digests/{CHAIN}/0000000001.json"] = [b"not json"]
    report = verify_chain(CHAIN, archive.records(CHAIN), digests=archive.digests(CHAIN))
    assert [f.kind for f in report.findings] == ["digest_invalid"]


def test_a_corrupt_object_and_a_stray_key_are_reported() -> None:
    ledger, archive = _build(3)
    keys = _keys(archive)
    archive.objects[keys[1]] = [b"{not json"]
    archive.objects[f"records/{CHAIN}/notes.txt"] = [b"hello"]
    found = _findings(ledger, archive)
    assert found == {("corrupt", 1), ("inserted", None)}


def test_two_forged_claimants_with_no_witness_are_reported_as_a_fork() -> None:
    _ledger, archive = _build(2)
    prev = _body(archive, _keys(archive)[1])["hash"]
    for n in (901, 902):
        forged = seal(sample_record(n), seq=2, prev_hash=prev)
        archive.objects[forged.key] = [forged.to_bytes()]
    report = verify_chain(CHAIN, archive.records(CHAIN))
    kinds = sorted(f.kind for f in report.findings)
    assert kinds == ["fork", "inserted"]


@pytest.mark.parametrize("n", [1, 3])
def test_digests_cover_the_head_and_are_skipped_for_empty_chains(n: int) -> None:
    ledger, archive = _build(n)
    digester = AuditDigester(ledger, archive, HmacDigestSigner())
    body = digester.digest(CHAIN)
    assert body is not None and body["last_seq"] == n - 1 and body["count"] == n
    assert digester.digest("demo/2020-01-01") is None
    assert [d["chain_id"] for d in digester.digest_day("2026-11-24")] == [CHAIN]


def test_a_chain_deleted_whole_is_reported_from_the_ledger_when_a_range_is_given() -> None:
    from datetime import date

    from keel.audit.verify import verify_archive

    ledger, archive = _build(3)
    for key in _keys(archive):
        del archive.objects[key]
    reports = verify_archive(archive, ledger=ledger, since=date(2026, 11, 23), until=date(2026, 11, 25))
    assert [(r.chain_id, [(f.kind, f.seq) for f in r.findings]) for r in reports] == [(CHAIN, [("gap", 0)])]
