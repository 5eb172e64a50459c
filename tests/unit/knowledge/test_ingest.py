"""The ingest use case on an in-memory store: fail closed, idempotent, newest version only, right index."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from keel.knowledge.documents import Document, SourceFile
from keel.knowledge.ingest import IndexNames, Ingestor
from tests.fakes.knowledge import HashingEmbedder, InMemoryChunkStore
from tests.unit.knowledge.conftest import markdown

NAMES = IndexNames("keel-internal", "keel-external")


def ingestor(store: InMemoryChunkStore, embedder: HashingEmbedder | None = None) -> Ingestor:
    return Ingestor(
        store, embedder or HashingEmbedder(), NAMES, progress=False, clock=lambda: datetime(2026, 11, 1, tzinfo=UTC)
    )


def batch() -> list[SourceFile]:
    return [
        markdown("hr-leave", "# Leave\n28 days a year."),
        markdown("it-vpn", "# VPN\nUse GlobalProtect.", department="it"),
        markdown("faq-plans", "# Plans\nFree, Pro, Business.", classification="public", acl_groups=["public"]),
        markdown("it-drives", "# Drives\nMap S:.", acl_groups=None),
    ]


def test_second_ingest_of_unchanged_content_reports_zero_changes_and_embeds_nothing() -> None:
    store, embedder = InMemoryChunkStore(), HashingEmbedder()
    first = ingestor(store, embedder).ingest(batch(), origin="demo")
    calls, writes = embedder.calls, store.writes
    second = ingestor(store, embedder).ingest(batch(), origin="demo")
    assert first.changes == 3 and second.changes == 0
    assert sorted(second.unchanged) == ["faq-plans", "hr-leave", "it-vpn"]
    assert embedder.calls == calls and store.writes == writes


def test_document_without_acl_is_not_indexed_and_is_reported_while_the_rest_lands() -> None:
    store = InMemoryChunkStore()
    report = ingestor(store).ingest(batch(), origin="demo")
    assert "it-drives" not in store.doc_ids("keel-internal") | store.doc_ids("keel-external")
    assert report.rejected[0].file == "it-drives.md" and "missing ACL" in report.rejected[0].reason
    assert {"hr-leave", "it-vpn"} <= store.doc_ids("keel-internal")
    assert "missing ACL" in report.to_text()


def test_public_content_goes_only_to_the_external_index() -> None:
    store = InMemoryChunkStore()
    ingestor(store).ingest(batch(), origin="demo")
    assert store.doc_ids("keel-external") == {"faq-plans"}
    assert "faq-plans" not in store.doc_ids("keel-internal")


def test_newer_version_in_a_later_batch_removes_the_old_one() -> None:
    store = InMemoryChunkStore()
    ingestor(store).ingest([markdown("remote-2024", "# Remote\nThree office days.")], origin="a", prune=False)
    newer = markdown("remote", "# Remote\nTwo office days.", supersedes=["remote-2024"], version=2)
    report = ingestor(store).ingest([newer], origin="b", prune=False)
    assert store.doc_ids("keel-internal") == {"remote"}
    assert report.removed[0].doc_id == "remote-2024" and "newer version" in report.removed[0].reason


def test_same_source_with_a_higher_version_replaces_the_indexed_one() -> None:
    store = InMemoryChunkStore()
    ingestor(store).ingest([markdown("vpn-v1", "# VPN\nCisco.", source="wiki://vpn")], origin="a")
    ingestor(store).ingest([markdown("vpn-v2", "# VPN\nGP.", source="wiki://vpn", version=2)], origin="b")
    assert store.doc_ids("keel-internal") == {"vpn-v2"}


def test_an_older_upload_of_an_indexed_source_is_refused() -> None:
    store = InMemoryChunkStore()
    ingestor(store).ingest([markdown("vpn-v2", "# VPN\nGP.", source="wiki://vpn", version=2)], origin="a")
    report = ingestor(store).ingest([markdown("vpn-v1", "# VPN\nCisco.", source="wiki://vpn")], origin="b")
    assert store.doc_ids("keel-internal") == {"vpn-v2"}
    assert report.superseded[0].doc_id == "vpn-v1"


def test_retired_document_leaves_the_index_on_the_next_refresh() -> None:
    store = InMemoryChunkStore()
    ingestor(store).ingest([markdown("old", "# Old\ntext")], origin="demo")
    report = ingestor(store).ingest([markdown("old", "# Old\ntext", status="retired")], origin="demo")
    assert store.doc_ids("keel-internal") == set()
    assert report.removed[0].reason.startswith("status is retired")


def test_deleted_file_leaves_the_index_on_refresh_but_not_without_prune() -> None:
    store = InMemoryChunkStore()
    ingestor(store).ingest(batch(), origin="demo")
    kept = ingestor(store).ingest(batch()[:1], origin="demo", prune=False)
    assert kept.changes == 0 and "it-vpn" in store.doc_ids("keel-internal")
    pruned = ingestor(store).ingest(batch()[:1], origin="demo")
    assert {r.doc_id for r in pruned.removed} == {"it-vpn", "faq-plans"}
    assert all(r.reason == "no longer in the source" for r in pruned.removed)


def test_prune_never_touches_another_origin() -> None:
    store = InMemoryChunkStore()
    ingestor(store).ingest(batch(), origin="demo")
    ingestor(store).ingest([markdown("other", "# Other\nx")], origin="elsewhere")
    assert {"hr-leave", "other"} <= store.doc_ids("keel-internal")


def test_file_that_becomes_rejected_is_taken_out_of_the_index() -> None:
    store = InMemoryChunkStore()
    ingestor(store).ingest([markdown("hr-leave", "# Leave\n28 days.")], origin="demo")
    report = ingestor(store).ingest(
        [markdown("hr-leave", "# Leave\n28 days.", classification="secret-ish")], origin="demo", prune=False
    )
    assert store.doc_ids("keel-internal") == set()
    assert "now rejected" in report.removed[0].reason


def test_changed_acl_reindexes_the_document_and_a_shorter_version_leaves_no_stale_chunks() -> None:
    store = InMemoryChunkStore()
    long_body = "# Leave\n" + " ".join(f"w{n}" for n in range(600))
    ingestor(store).ingest([markdown("hr-leave", long_body)], origin="demo")
    report = ingestor(store).ingest([markdown("hr-leave", "# Leave\nshort", acl_groups=["hr"])], origin="demo")
    assert report.updated == ["hr-leave"]
    chunks = list(store.docs["keel-internal"].values())
    assert len(chunks) == 1 and chunks[0]["acl_groups"] == ["hr"]


def test_reclassifying_to_public_moves_the_document_between_indices() -> None:
    store = InMemoryChunkStore()
    ingestor(store).ingest([markdown("plans", "# Plans\nx")], origin="demo")
    ingestor(store).ingest([markdown("plans", "# Plans\nx", classification="public")], origin="demo")
    assert store.doc_ids("keel-internal") == set() and store.doc_ids("keel-external") == {"plans"}


def test_dry_run_writes_nothing() -> None:
    store = InMemoryChunkStore()
    report = ingestor(store).ingest(batch(), origin="demo", dry_run=True)
    assert report.changes == 3 and store.writes == 0


def test_unexpected_parser_failure_rejects_only_that_file(monkeypatch: pytest.MonkeyPatch) -> None:
    import keel.knowledge.ingest as module

    real = module.parse_source

    def exploding(source: SourceFile) -> list[Document]:
        if source.name == "x.md":
            raise RuntimeError("parser bug")
        return real(source)

    monkeypatch.setattr(module, "parse_source", exploding)
    store = InMemoryChunkStore()
    report = ingestor(store).ingest([markdown("x", "# X\nx"), markdown("ok", "# Ok\nfine")], origin="demo")
    assert store.doc_ids("keel-internal") == {"ok"}
    assert report.rejected[0].reason == "could not be parsed (RuntimeError)"


def test_invalid_sidecar_rejects_the_file() -> None:
    source = SourceFile("a.txt", b"text", sidecar={"__invalid_sidecar__": True})
    report = ingestor(InMemoryChunkStore()).ingest([source], origin="demo")
    assert "sidecar" in report.rejected[0].reason


def test_remove_files_takes_out_documents_of_deleted_objects() -> None:
    store = InMemoryChunkStore()
    ingestor(store).ingest(batch(), origin="s3://kb")
    report = ingestor(store).remove_files(["it-vpn.md"], origin="s3://kb")
    assert [r.doc_id for r in report.removed] == ["it-vpn"]
    assert "it-vpn" not in store.doc_ids("keel-internal")


def test_chunk_records_carry_version_hash_and_vector() -> None:
    store = InMemoryChunkStore()
    ingestor(store).ingest([markdown("hr-leave", "# Leave\n28 days.", version=4)], origin="demo")
    (chunk,) = store.docs["keel-internal"].values()
    assert chunk["chunk_id"] == "hr-leave#0" and chunk["version"] == 4
    assert len(chunk["embedding"]) == 64 and len(chunk["content_hash"]) == 64
