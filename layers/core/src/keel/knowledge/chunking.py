"""Chunking: headings stay with their text, long sections split with overlap, chunk ids stay stable."""

from __future__ import annotations

from dataclasses import dataclass

from keel.knowledge.documents import Document, Section

# About 180 MiniLM word pieces: below its 256-token window, so nothing is cut off when embedding.
TARGET_CHARS = 800
OVERLAP_CHARS = 150
CHUNKER_VERSION = "c1"


@dataclass(frozen=True)
class Chunk:
    """One indexable piece of a document: `doc_id#n`, the heading it sits under and its text."""

    doc_id: str
    chunk_no: int
    heading: str | None
    text: str

    @property
    def chunk_id(self) -> str:
        """Stable id: the same document content always yields the same ids."""
        return f"{self.doc_id}#{self.chunk_no}"


def chunk_document(
    document: Document, *, target_chars: int = TARGET_CHARS, overlap_chars: int = OVERLAP_CHARS
) -> list[Chunk]:
    """Pack small sections together and split long ones with overlap; every piece names its heading."""
    if overlap_chars >= target_chars:
        raise ValueError("overlap must be smaller than the chunk size")
    pieces: list[tuple[str | None, str]] = []
    pending_heading: str | None = None
    pending: list[str] = []
    pending_len = 0
    for section in document.sections:
        block = _render(section)
        if not block:
            continue
        if pending and pending_len + len(block) + 2 <= target_chars:
            pending.append(block)
            pending_len += len(block) + 2
            continue
        if pending:
            pieces.append((pending_heading, "\n\n".join(pending)))
        if len(block) <= target_chars:
            pending_heading, pending, pending_len = section.heading, [block], len(block)
        else:
            pieces.extend((section.heading, text) for text in _split(section, target_chars, overlap_chars))
            pending_heading, pending, pending_len = None, [], 0
    if pending:
        pieces.append((pending_heading, "\n\n".join(pending)))
    return [
        Chunk(doc_id=document.id, chunk_no=number, heading=heading, text=text)
        for number, (heading, text) in enumerate(pieces)
    ]


def _render(section: Section) -> str:
    text = section.text.strip()
    if section.heading:
        return f"{section.heading}\n{text}".strip()
    return text


def _split(section: Section, target: int, overlap: int) -> list[str]:
    # Each piece repeats the heading so no text is ever separated from the heading it belongs to.
    prefix = f"{section.heading}\n" if section.heading else ""
    room = max(target - len(prefix), overlap + 50)
    words = section.text.split()
    pieces: list[str] = []
    start = 0
    while start < len(words):
        length = 0
        end = start
        while end < len(words) and length + len(words[end]) + 1 <= room:
            length += len(words[end]) + 1
            end += 1
        if end == start:
            end = start + 1
        pieces.append(prefix + " ".join(words[start:end]))
        if end >= len(words):
            break
        back = end
        carried = 0
        while back > start + 1 and carried + len(words[back - 1]) + 1 <= overlap:
            carried += len(words[back - 1]) + 1
            back -= 1
        start = back
    return pieces
