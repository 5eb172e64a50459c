"""The ingestion report for the knowledge-base owner: JSON for machines, text for people."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from keel.knowledge.hygiene import ConflictGroup, Duplicate, Stale, Superseded


@dataclass(frozen=True)
class Rejection:
    """A file (or JSONL row) that was not indexed, and why."""

    file: str
    reason: str


@dataclass(frozen=True)
class Removal:
    """A document taken out of the index, and why."""

    doc_id: str
    index: str
    reason: str


@dataclass
class IngestReport:
    """Everything one ingestion run did and found."""

    origin: str
    started_at: str
    finished_at: str = ""
    dry_run: bool = False
    files: int = 0
    documents: int = 0
    chunks_written: int = 0
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[Removal] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    superseded: list[Superseded] = field(default_factory=list)
    drafts: list[str] = field(default_factory=list)
    stale: list[Stale] = field(default_factory=list)
    conflicts: list[ConflictGroup] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def changes(self) -> int:
        """Documents added, updated or removed (0 means the index is exactly as before)."""
        return len(self.added) + len(self.updated) + len(self.removed)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict, with the change count spelled out."""
        data = asdict(self)
        data["changes"] = self.changes
        return data

    def to_json(self) -> str:
        """Stable, indented JSON."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IngestReport:
        """Rebuild a report saved with to_json."""
        return cls(
            origin=data["origin"],
            started_at=data["started_at"],
            finished_at=data.get("finished_at", ""),
            dry_run=bool(data.get("dry_run", False)),
            files=int(data.get("files", 0)),
            documents=int(data.get("documents", 0)),
            chunks_written=int(data.get("chunks_written", 0)),
            added=list(data.get("added", [])),
            updated=list(data.get("updated", [])),
            removed=[Removal(**r) for r in data.get("removed", [])],
            unchanged=list(data.get("unchanged", [])),
            rejected=[Rejection(**r) for r in data.get("rejected", [])],
            duplicates=[Duplicate(**d) for d in data.get("duplicates", [])],
            superseded=[Superseded(**s) for s in data.get("superseded", [])],
            drafts=list(data.get("drafts", [])),
            stale=[Stale(**s) for s in data.get("stale", [])],
            conflicts=[ConflictGroup(c["subject"], tuple(c["doc_ids"])) for c in data.get("conflicts", [])],
            seconds=float(data.get("seconds", 0.0)),
        )

    def to_text(self) -> str:
        """A readable summary for the knowledge-base owner."""
        mode = " (dry run: nothing written)" if self.dry_run else ""
        lines = [
            f"Knowledge base ingestion of {self.origin}{mode}",
            f"  finished {self.finished_at or '-'} in {self.seconds:.1f} s: {self.files} files, "
            f"{self.documents} documents, {self.chunks_written} chunks written",
            f"  changes: {self.changes} (added {len(self.added)}, updated {len(self.updated)}, "
            f"removed {len(self.removed)}, unchanged {len(self.unchanged)})",
        ]
        sections: list[tuple[str, list[str]]] = [
            ("Added", self.added),
            ("Updated", self.updated),
            ("Removed from the index", [f"{r.doc_id} ({r.index}): {r.reason}" for r in self.removed]),
            ("Rejected (not indexed)", [f"{r.file}: {r.reason}" for r in self.rejected]),
            (
                "Duplicates (one copy kept)",
                [f"{d.doc_id} duplicates {d.kept} ({d.kind}, similarity {d.similarity})" for d in self.duplicates],
            ),
            (
                "Superseded or retired",
                [f"{s.doc_id}: {s.reason}" + (f" ({s.by})" if s.by else "") for s in self.superseded],
            ),
            ("Drafts (not indexed until published)", self.drafts),
            (
                "Stale (still indexed; ask the owner to review)",
                [
                    f"{s.doc_id}: updated {s.updated_at}, {s.age_days} days ago, owner {s.owner or '-'}"
                    for s in self.stale
                ],
            ),
            (
                "Conflicts (same subject, different content)",
                [f"'{c.subject}': {', '.join(c.doc_ids)}" for c in self.conflicts],
            ),
        ]
        for title, items in sections:
            if items:
                lines.append(f"{title} ({len(items)}):")
                lines.extend(f"  - {item}" for item in items)
        return "\n".join(lines)
