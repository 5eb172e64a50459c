"""Ingestion: parse, validate (fail closed), clean, chunk, embed and index only what changed."""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from keel.knowledge import parsing
from keel.knowledge.chunking import CHUNKER_VERSION, Chunk, chunk_document
from keel.knowledge.documents import Document, RejectedDocument, SourceFile
from keel.knowledge.hygiene import HygieneResult, Superseded, clean
from keel.knowledge.opensearch import VECTOR_FIELD, IndexedDocument
from keel.knowledge.parsing import (
    SIDECAR_SUFFIX,
    SUPPORTED_SUFFIXES,
    is_sidecar,
    parse_jsonl_rows,
    parse_source,
    suffix_of,
)
from keel.knowledge.ports import CollectionCatalog, Embedder
from keel.knowledge.report import IngestReport, Rejection, Removal

_WRITE_BATCH = 200


class ChunkStore(Protocol):
    """Where chunks live: the OpenSearch ChunkIndex in AWS and locally, an in-memory fake in unit tests."""

    indices: tuple[str, ...]

    def ensure(self, dimension: int) -> None:
        """Create missing indices."""
        ...

    def state(self) -> dict[str, IndexedDocument]:
        """Every indexed document by id."""
        ...

    def write(self, index: str, documents: list[dict[str, Any]]) -> None:
        """Index chunk documents."""
        ...

    def delete_documents(self, index: str, doc_ids: Sequence[str]) -> None:
        """Remove all chunks of these documents."""
        ...

    def refresh(self) -> None:
        """Make writes visible."""
        ...


@dataclass(frozen=True)
class IndexNames:
    """Internal and external (public) content never share an index (R7)."""

    internal: str
    external: str

    def for_classification(self, classification: str) -> str:
        """Without a tenant's collections: only explicitly public documents go to the external index."""
        return self.external if classification == "public" else self.internal

    def for_audience(self, audience: str) -> str:
        """With a tenant's collections: the collection's audience decides the index."""
        return self.external if audience == "external" else self.internal


def read_folder(root: Path) -> list[SourceFile]:
    """Every supported file under root (sidecars attached to their file), in name order."""
    if root.is_file():
        files = [root]
        base = root.parent
    elif root.is_dir():
        files = sorted(p for p in root.rglob("*") if p.is_file())
        base = root
    else:
        raise FileNotFoundError(f"{root} is neither a file nor a folder")
    sources = []
    for path in files:
        if is_sidecar(path.name) or path.name.startswith("."):
            continue
        sidecar_path = path.with_name(path.name + SIDECAR_SUFFIX)
        sidecar = _read_sidecar(sidecar_path) if sidecar_path.is_file() else None
        name = path.relative_to(base).as_posix()
        size = path.stat().st_size
        if size > parsing.MAX_FILE_BYTES:
            # Not read at all: the parser refuses it by its size, and the report names the limit.
            sources.append(SourceFile(name=name, data=b"", sidecar=sidecar, size=size))
            continue
        sources.append(SourceFile(name=name, data=path.read_bytes(), sidecar=sidecar))
    return sources


def _read_sidecar(path: Path) -> dict[str, Any]:
    import json

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        # An unreadable sidecar must not let the file through with weaker metadata: reject it downstream.
        return {"__invalid_sidecar__": True}
    return data if isinstance(data, dict) else {"__invalid_sidecar__": True}


def parse_sources(
    sources: Iterable[SourceFile], report: IngestReport, catalog: CollectionCatalog | None = None
) -> list[Document]:
    """Every document the sources hold, each placed in the tenant collection it names (catalog); what cannot be read
    or placed is recorded in report.rejected with its reason, and never stops the batch."""
    documents: list[Document] = []
    for source in sources:
        report.files += 1
        if source.sidecar and source.sidecar.get("__invalid_sidecar__"):
            report.rejected.append(
                Rejection(source.name, f"sidecar {source.name}{SIDECAR_SUFFIX} is not a JSON object")
            )
            continue
        try:
            items: list[Document | RejectedDocument] = (
                parse_jsonl_rows(source) if suffix_of(source.name) == ".jsonl" else list(parse_source(source))
            )
            for item in items:
                placed = item if isinstance(item, RejectedDocument) else place(item, catalog)
                if isinstance(placed, RejectedDocument):
                    report.rejected.append(Rejection(placed.name, placed.reason))
                else:
                    documents.append(placed)
        except RejectedDocument as exc:
            report.rejected.append(Rejection(exc.name, exc.reason))
        except Exception as exc:  # one bad file must never stop the batch
            report.rejected.append(Rejection(source.name, f"could not be parsed ({exc.__class__.__name__})"))
    return documents


def place(document: Document, catalog: CollectionCatalog | None) -> Document | RejectedDocument:
    """The document under its tenant collection's id, or why it has no place (fail closed)."""
    if catalog is None:
        return document
    accepted = ", ".join(catalog.collection_ids())
    named = document.meta.department
    if not named:
        return RejectedDocument(
            document.origin_name, f"names no collection; accepted: a collection (or department) of {accepted}"
        )
    collection = catalog.collection_for(named)
    if collection is None:
        return RejectedDocument(
            document.origin_name, f"collection {named!r} is not defined by the tenant; accepted: {accepted}"
        )
    if catalog.audience_of(collection) == "external" and document.meta.classification != "public":
        return RejectedDocument(
            document.origin_name,
            f"{document.meta.classification} document in external collection {collection!r}; "
            "accepted there: classification public only",
        )
    return dataclasses.replace(document, meta=dataclasses.replace(document.meta, department=collection))


class Ingestor:
    """The ingest use case; the same code runs in the Lambda, the CLI and the tests."""

    def __init__(
        self,
        store: ChunkStore,
        embedder: Embedder,
        names: IndexNames,
        *,
        stale_after_days: int = 365,
        progress: bool | None = None,
        clock: Any = None,
        catalog: CollectionCatalog | None = None,
    ) -> None:
        self._store = store
        self._catalog = catalog
        self._embedder = embedder
        self._names = names
        self._stale_after_days = stale_after_days
        self._progress = sys.stderr.isatty() if progress is None else progress
        self._clock = clock or (lambda: datetime.now(UTC))
        self._salt = f"{CHUNKER_VERSION}|{embedder.model_id}|{embedder.dimension}"

    def ingest(
        self, sources: Iterable[SourceFile], *, origin: str, prune: bool = True, dry_run: bool = False
    ) -> IngestReport:
        """Bring the index in line with sources; prune removes this origin's documents that are gone."""
        started = time.perf_counter()
        report = IngestReport(origin=origin, started_at=self._clock().isoformat(), dry_run=dry_run)
        documents = self._parse(sources, report)
        hygiene = clean(documents, stale_after_days=self._stale_after_days, now=self._clock())
        self._store.ensure(self._embedder.dimension)
        state = self._store.state()
        self._against_index(hygiene, state)
        _copy_findings(hygiene, report)
        report.documents = len(documents)
        removals = self._removals(hygiene, state, origin, prune, report)
        writes = self._writes(hygiene, state, report)
        if not dry_run:
            self._apply(removals, writes, state, origin, report)
        report.removed = sorted(removals.values(), key=lambda r: r.doc_id)
        report.seconds = round(time.perf_counter() - started, 3)
        report.finished_at = self._clock().isoformat()
        return report

    def remove_files(self, files: Sequence[str], *, origin: str) -> IngestReport:
        """Take every document that came from these files out of the index (S3 ObjectRemoved)."""
        report = IngestReport(origin=origin, started_at=self._clock().isoformat())
        state = self._store.state()
        wanted = set(files)
        removals = {
            doc_id: Removal(doc_id, entry.index, "its source file was deleted")
            for doc_id, entry in state.items()
            if entry.origin == origin and entry.file in wanted
        }
        self._apply(removals, [], state, origin, report)
        report.removed = sorted(removals.values(), key=lambda r: r.doc_id)
        report.finished_at = self._clock().isoformat()
        return report

    def _parse(self, sources: Iterable[SourceFile], report: IngestReport) -> list[Document]:
        return parse_sources(sources, report, self._catalog)

    def _index_of(self, document: Document) -> str:
        if self._catalog is None:
            return self._names.for_classification(document.meta.classification)
        return self._names.for_audience(self._catalog.audience_of(document.meta.department or "") or "internal")

    def _against_index(self, hygiene: HygieneResult, state: dict[str, IndexedDocument]) -> None:
        # Incremental batches: a document older than what the index holds for the same source loses.
        by_source: dict[str, IndexedDocument] = {}
        for entry in state.values():
            if entry.source and (entry.source not in by_source or entry.version > by_source[entry.source].version):
                by_source[entry.source] = entry
        keep = []
        for document in hygiene.keep:
            indexed = by_source.get(document.meta.source or "")
            if indexed and indexed.doc_id != document.id and indexed.version > document.meta.version:
                hygiene.superseded.append(
                    Superseded(document.id, indexed.doc_id, "the index holds a newer version of this source")
                )
            else:
                keep.append(document)
        hygiene.keep = keep

    def _removals(
        self,
        hygiene: HygieneResult,
        state: dict[str, IndexedDocument],
        origin: str,
        prune: bool,
        report: IngestReport,
    ) -> dict[str, Removal]:
        wanted = {d.id for d in hygiene.keep}
        removals: dict[str, Removal] = {}

        def drop(doc_id: str, reason: str) -> None:
            entry = state.get(doc_id)
            if entry is not None and doc_id not in wanted and doc_id not in removals:
                removals[doc_id] = Removal(doc_id, entry.index, reason)

        for item in hygiene.superseded:
            drop(item.doc_id, item.reason + (f" ({item.by})" if item.by else ""))
        for dup in hygiene.duplicates:
            drop(dup.doc_id, f"{dup.kind} duplicate of {dup.kept}")
        for draft in hygiene.drafts:
            drop(draft, "status is draft")
        for document in hygiene.keep:
            for doc_id, reason in _replaced_by(document, state):
                drop(doc_id, reason)
        rejected_files = {r.file.split(":", 1)[0] for r in report.rejected}
        for doc_id, entry in state.items():
            if entry.origin != origin:
                continue
            if entry.file in rejected_files:
                drop(doc_id, "its source file is now rejected (see rejected)")
            elif prune and doc_id not in wanted:
                drop(doc_id, "no longer in the source")
        return removals

    def _writes(
        self, hygiene: HygieneResult, state: dict[str, IndexedDocument], report: IngestReport
    ) -> list[tuple[Document, str, str]]:
        writes = []
        for document in hygiene.keep:
            index = self._index_of(document)
            fingerprint = document.fingerprint(self._salt)
            entry = state.get(document.id)
            if entry is None:
                report.added.append(document.id)
            elif entry.fingerprint != fingerprint or entry.index != index:
                report.updated.append(document.id)
            else:
                report.unchanged.append(document.id)
                continue
            writes.append((document, index, fingerprint))
        return writes

    def _apply(
        self,
        removals: dict[str, Removal],
        writes: list[tuple[Document, str, str]],
        state: dict[str, IndexedDocument],
        origin: str,
        report: IngestReport,
    ) -> None:
        by_index: dict[str, list[str]] = {}
        for removal in removals.values():
            by_index.setdefault(removal.index, []).append(removal.doc_id)
        for document, _index, _fp in writes:
            entry = state.get(document.id)
            if entry is not None:
                # Old chunks go first: a shorter new version must not leave a tail of stale chunks.
                by_index.setdefault(entry.index, []).append(document.id)
        for index, doc_ids in sorted(by_index.items()):
            self._store.delete_documents(index, sorted(set(doc_ids)))
        pending: dict[str, list[dict[str, Any]]] = {}
        for document, index, fingerprint in self._progress_over(writes):
            chunks = chunk_document(document)
            vectors = self._embedder.embed([_embedding_text(document, c) for c in chunks])
            pending.setdefault(index, []).extend(
                _chunk_record(document, chunk, vector, fingerprint, origin, len(chunks), self._embedder.model_id)
                for chunk, vector in zip(chunks, vectors, strict=True)
            )
            report.chunks_written += len(chunks)
            if len(pending[index]) >= _WRITE_BATCH:
                self._store.write(index, pending.pop(index))
        for index, records in pending.items():
            self._store.write(index, records)
        self._store.refresh()

    def _progress_over(self, writes: list[tuple[Document, str, str]]) -> Iterable[tuple[Document, str, str]]:
        if not self._progress or len(writes) < 2:
            return writes
        from tqdm import tqdm

        return tqdm(writes, desc="embedding and indexing", unit="doc", file=sys.stderr)


def _replaced_by(document: Document, state: dict[str, IndexedDocument]) -> list[tuple[str, str]]:
    replaced = [(old, f"replaced by a newer version ({document.id})") for old in document.meta.supersedes]
    source = document.meta.source
    if source:
        replaced.extend(
            (entry.doc_id, f"replaced by a newer version of the same source ({document.id})")
            for entry in state.values()
            if entry.source == source and entry.doc_id != document.id and entry.version < document.meta.version
        )
    return replaced


def _copy_findings(hygiene: HygieneResult, report: IngestReport) -> None:
    report.duplicates = hygiene.duplicates
    report.superseded = hygiene.superseded
    report.drafts = hygiene.drafts
    report.stale = hygiene.stale
    report.conflicts = hygiene.conflicts


def _embedding_text(document: Document, chunk: Chunk) -> str:
    # The title gives a chunk deep in a document the context its own words lack.
    return f"{document.meta.title}\n{chunk.text}"


def _chunk_record(
    document: Document,
    chunk: Chunk,
    vector: list[float],
    fingerprint: str,
    origin: str,
    count: int,
    model_id: str,
) -> dict[str, Any]:
    meta = document.meta
    return {
        "doc_id": meta.id,
        "chunk_id": chunk.chunk_id,
        "chunk_no": chunk.chunk_no,
        "chunk_count": count,
        "title": meta.title,
        "heading": chunk.heading,
        "text": chunk.text,
        "version": meta.version,
        "classification": meta.classification,
        "acl_groups": list(meta.acl_groups),
        "department": meta.department,
        "owner": meta.owner,
        "source": meta.source,
        "status": meta.status,
        "origin": origin,
        "file": document.origin_name.split(":", 1)[0],
        "fingerprint": fingerprint,
        "content_hash": document.content_hash,
        "embedding_model": model_id,
        "updated_at": meta.updated_at.isoformat() if meta.updated_at else None,
        VECTOR_FIELD: vector,
    }


__all__ = ["SUPPORTED_SUFFIXES", "ChunkStore", "IndexNames", "Ingestor", "read_folder"]
