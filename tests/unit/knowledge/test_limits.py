"""Ingestion size limits (issue 22): a file or a JSONL row over the limit is refused, the limit named,
without the file being read; and the document's content hash is computed once, not once per chunk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from keel.knowledge import parsing
from keel.knowledge.documents import Document
from keel.knowledge.ingest import IndexNames, Ingestor, read_folder
from tests.fakes.knowledge import HashingEmbedder, InMemoryChunkStore

FRONT = "---\nid: {id}\nacl_groups: [all-staff]\nclassification: internal\ndepartment: hr\n---\n"


def _ingestor() -> Ingestor:
    return Ingestor(
        InMemoryChunkStore(), HashingEmbedder(), IndexNames("keel-internal", "keel-external"), progress=False
    )


def test_a_file_over_the_limit_is_not_read_and_is_rejected_naming_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parsing, "MAX_FILE_BYTES", 2048)
    (tmp_path / "small.md").write_text(FRONT.format(id="small") + "# Small\nFits.\n")
    (tmp_path / "big.md").write_text(FRONT.format(id="big") + "# Big\n" + "word " * 1000)
    sources = read_folder(tmp_path)
    big = next(s for s in sources if s.name == "big.md")
    assert big.data == b"" and big.byte_size > 2048, "an oversized file is not read into memory"
    report = _ingestor().ingest(sources, origin="limits")
    reasons = {r.file: r.reason for r in report.rejected}
    assert reasons == {"big.md": f"file is {big.byte_size / 1024:.1f} KB; the limit is 2.0 KB per file"}
    assert report.chunks_written >= 1


def test_a_jsonl_row_over_the_limit_is_rejected_and_the_other_rows_are_ingested(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parsing, "MAX_ROW_BYTES", 1024)
    rows = [
        {"id": "ok-row", "text": "Annual leave is 25 days.", "acl_groups": ["all-staff"], "classification": "internal"},
        {"id": "big-row", "text": "x " * 2000, "acl_groups": ["all-staff"], "classification": "internal"},
    ]
    (tmp_path / "rows.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    report = _ingestor().ingest(read_folder(tmp_path), origin="limits")
    reasons = {r.file: r.reason for r in report.rejected}
    assert list(reasons) == ["rows.jsonl:2"]
    assert reasons["rows.jsonl:2"].endswith("the limit is 1.0 KB per row")
    assert report.chunks_written == 1


def test_the_content_hash_is_computed_once_per_document(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = parsing.markdown_sections
    document = Document(
        meta=parsing.build_meta(
            "d.md", {"id": "d", "acl_groups": ["all-staff"], "classification": "internal"}, fallback_title="D"
        ),
        sections=tuple(real("# D\n" + "Some text. " * 50)),
        origin_name="d.md",
    )
    from keel.knowledge import documents

    original = documents.normalise_text

    def counting(text: str) -> str:
        calls.append(len(text))
        return original(text)

    monkeypatch.setattr(documents, "normalise_text", counting)
    assert document.content_hash == document.content_hash
    assert len(calls) == 1
