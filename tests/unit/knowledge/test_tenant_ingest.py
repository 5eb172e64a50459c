"""Ingestion that meets real exports: the tenant's collections, status words, public rows without ACLs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from keel.knowledge.documents import STATUS_WORDS, SourceFile
from keel.knowledge.ingest import IndexNames, Ingestor, read_folder
from keel.tenant.loader import Tenant, load_tenant
from tests.fakes.knowledge import HashingEmbedder, InMemoryChunkStore

NAMES = IndexNames("keel-internal", "keel-external")
LAKESIDE = Path(__file__).resolve().parents[3] / "examples" / "lakeside-health"


@pytest.fixture(scope="module")
def lakeside() -> Tenant:
    return load_tenant(LAKESIDE)


def ingestor(store: InMemoryChunkStore, tenant: Tenant) -> Ingestor:
    return Ingestor(
        store, HashingEmbedder(), NAMES, progress=False, clock=lambda: datetime(2026, 11, 1, tzinfo=UTC), catalog=tenant
    )


def rows(*items: dict[str, Any]) -> SourceFile:
    return SourceFile(name="export.jsonl", data="\n".join(json.dumps(i) for i in items).encode())


def row(doc_id: str, **fields: Any) -> dict[str, Any]:
    base = {"id": doc_id, "title": doc_id, "text": f"## {doc_id}\nSome facts about {doc_id}.", "status": "current"}
    return {**base, **fields}


def test_the_lakeside_export_lands_in_its_collections_and_indices(lakeside: Tenant) -> None:
    store = InMemoryChunkStore()
    docs = lakeside.docs_dir()
    assert docs is not None
    report = ingestor(store, lakeside).ingest(read_folder(docs), origin="lakeside")
    assert report.rejected == []
    # An archived row is never indexed; every other row is, under its canonical collection id.
    assert "clin-sepsis-bundle-2023" not in store.doc_ids("keel-internal")
    assert store.doc_ids("keel-external") == {"patients-visiting-hours", "patients-parking"}
    internal = store.doc_ids("keel-internal")
    assert {"clin-falls-prevention", "pharm-controlled-drugs", "people-shift-swaps"} <= internal
    departments = {d["doc_id"]: d["department"] for d in store.docs.get("keel-internal", {}).values()}
    assert departments["clin-falls-prevention"] == "clinical"  # "Klinik", an alias
    assert departments["people-grievance-procedure"] == "people"  # "People and Culture", the name
    assert departments["people-shift-swaps"] == "people"  # "HR", an alias in another case


def test_each_bad_row_is_rejected_with_its_reason(lakeside: Tenant) -> None:
    store = InMemoryChunkStore()
    report = ingestor(store, lakeside).ingest(read_folder(LAKESIDE / "rejects"), origin="rejects")
    reasons = {r.file.split(":")[-1]: r.reason for r in report.rejected}
    assert len(reasons) == 4 and store.doc_ids("keel-internal") == set()
    assert "collection 'radiology' is not defined by the tenant; accepted: clinical, pharmacy, people" in reasons["1"]
    assert "missing ACL" in reasons["2"]
    assert "internal document in external collection 'patients'" in reasons["3"]
    assert "unknown status 'maybe'" in reasons["4"]


def test_a_public_row_needs_no_acl_groups_and_a_private_one_does(lakeside: Tenant) -> None:
    store = InMemoryChunkStore()
    report = ingestor(store, lakeside).ingest(
        [
            rows(
                row("leaflet", collection="Patients", classification="public"),
                row("secret", collection="people", classification="confidential"),
            )
        ],
        origin="x",
    )
    assert store.doc_ids("keel-external") == {"leaflet"}
    assert [r.file for r in report.rejected] == ["export.jsonl:2"]
    (chunk, *_) = store.docs["keel-external"].values()
    assert chunk["acl_groups"] == ["public"]


def test_a_public_document_of_an_internal_collection_stays_in_the_internal_index(lakeside: Tenant) -> None:
    store = InMemoryChunkStore()
    ingestor(store, lakeside).ingest([rows(row("canteen", department="PEOPLE", classification="public"))], origin="x")
    assert store.doc_ids("keel-internal") == {"canteen"} and store.doc_ids("keel-external") == set()


def test_a_row_without_any_collection_is_rejected(lakeside: Tenant) -> None:
    report = ingestor(InMemoryChunkStore(), lakeside).ingest(
        [rows(row("loose", classification="internal", acl_groups=["staff"]))], origin="x"
    )
    assert "names no collection" in report.rejected[0].reason


@pytest.mark.parametrize(
    ("word", "meaning"),
    [
        ("Current", "published"),
        ("active", "published"),
        ("In Review", "draft"),
        ("superseded", "retired"),
        ("ARCHIVED", "retired"),
    ],
)
def test_common_status_words_are_understood(word: str, meaning: str, lakeside: Tenant) -> None:
    assert STATUS_WORDS[word.lower()] == meaning
    store = InMemoryChunkStore()
    ingestor(store, lakeside).ingest(
        [rows(row("doc", status=word, collection="people", classification="internal", acl_groups=["staff"]))],
        origin="x",
    )
    # Only published documents are ever cited; drafts and retired ones never reach the index.
    assert (store.doc_ids("keel-internal") == {"doc"}) == (meaning == "published")
