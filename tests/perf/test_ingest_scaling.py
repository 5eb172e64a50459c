"""Ingestion is linear in input size (issue 22): one Markdown document of 100 KB, 1 MB and 5 MB.

Before the fix a document's content hash was recomputed for every chunk (400 KB took 26 s, 5 MB did not
finish in 5 minutes). Runs Keel's own pipeline (parse, hygiene, chunk, records) with the hashing embedder
and the in-memory index, so the figures are the pipeline's, not the embedding model's (which is linear in
chunks by construction; test_knowledge_perf prints its rate). Prints docs/s, MB/s, seconds per MB and
the process's peak RSS; asserts only that every size was ingested, never time.
"""

from __future__ import annotations

import random
import resource
import time

from keel.knowledge.documents import SourceFile
from keel.knowledge.ingest import IndexNames, Ingestor
from tests.fakes.knowledge import HashingEmbedder, InMemoryChunkStore

SIZES = {"100 KB": 100 * 1024, "1 MB": 1024 * 1024, "5 MB": 5 * 1024 * 1024}
WORDS = [
    "leave",
    "policy",
    "employee",
    "days",
    "annual",
    "salary",
    "manager",
    "approval",
    "request",
    "holiday",
    "sick",
    "pay",
    "office",
    "remote",
    "travel",
    "expense",
    "laptop",
    "password",
    "badge",
    "parking",
    "invoice",
    "contract",
    "deadline",
    "training",
    "onboarding",
    "benefits",
    "pension",
]


def _document(size: int, rng: random.Random) -> SourceFile:
    front = "---\nid: scaling\nacl_groups: [all-staff]\nclassification: internal\ndepartment: hr\n---\n# Scaling\n"
    parts: list[str] = []
    total = len(front)
    section = 0
    while total < size:
        text = f"## Section {section}\n" + ". ".join(" ".join(rng.choices(WORDS, k=12)) for _ in range(8)) + "."
        parts.append(text)
        total += len(text) + 2
        section += 1
    return SourceFile("scaling.md", (front + "\n\n".join(parts)).encode())


def _ingest(source: SourceFile) -> tuple[float, int]:
    ingestor = Ingestor(InMemoryChunkStore(), HashingEmbedder(), IndexNames("i", "e"), progress=False)
    started = time.perf_counter()
    report = ingestor.ingest([source], origin="scaling")
    seconds = time.perf_counter() - started
    assert report.chunks_written > 0 and not report.rejected, report.rejected
    return seconds, report.chunks_written


def test_ingestion_time_grows_linearly_with_document_size() -> None:
    rng = random.Random(22)
    _ingest(_document(10 * 1024, rng))  # imports and first-use costs are not part of any figure
    lines = []
    per_mb = []
    for label, size in SIZES.items():
        source = _document(size, rng)
        seconds, chunks = _ingest(source)
        megabytes = len(source.data) / (1024 * 1024)
        per_mb.append(seconds / megabytes)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        lines.append(
            f"  {label:>6}: {seconds:6.2f} s, {1 / seconds:6.2f} docs/s, {megabytes / seconds:5.2f} MB/s, "
            f"{seconds / megabytes:5.2f} s/MB, {chunks} chunks, process peak RSS {peak:.0f} MB"
        )
    print("\n[kb scaling] one Markdown document through the ingestion pipeline:")
    print("\n".join(lines))
    print(f"  seconds per MB, 5 MB against 100 KB: x{per_mb[-1] / per_mb[0]:.2f} (1.0 is linear)")
