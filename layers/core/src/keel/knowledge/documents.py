"""Documents as ingestion sees them: a source file, its validated metadata, and the rejection of bad ones."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property
from typing import Any, Literal

from keel.knowledge.ports import CLASSIFICATIONS

Status = Literal["published", "draft", "retired"]
STATUSES: tuple[str, ...] = ("published", "draft", "retired")
# The status words real exports use, and what each means here; retired documents are never cited.
STATUS_WORDS: dict[str, str] = {
    **dict.fromkeys(("published", "current", "active", "live", "approved", "final", "released"), "published"),
    **dict.fromkeys(("draft", "in review", "in-review", "review", "pending", "wip"), "draft"),
    **dict.fromkeys(("retired", "superseded", "archived", "obsolete", "deprecated", "withdrawn", "expired"), "retired"),
}
# A public document needs no acl_groups: it is readable by everyone, so it gets this one group.
PUBLIC_GROUP = "public"
# Keys a document may carry in front matter, a sidecar or object tags; anything else is ignored.
METADATA_KEYS: tuple[str, ...] = (
    "id",
    "title",
    "collection",
    "department",
    "acl_groups",
    "classification",
    "owner",
    "source",
    "version",
    "updated_at",
    "status",
    "supersedes",
)
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")
_GROUP = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$")
_LIST_SPLIT = re.compile(r"[\s,+]+")


class RejectedDocument(Exception):
    """A source that must not be indexed; reason says what was wrong and what is accepted."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason


@dataclass(frozen=True)
class SourceFile:
    """One file as read from a folder or a bucket, before parsing."""

    name: str
    data: bytes
    sidecar: dict[str, Any] | None = None
    tags: dict[str, str] = field(default_factory=dict)
    # The size on disk when data was not read because it is over the limit (None: data is the whole file).
    size: int | None = None

    @property
    def byte_size(self) -> int:
        """The file's size in bytes."""
        return self.size if self.size is not None else len(self.data)


@dataclass(frozen=True)
class Section:
    """A heading and the text under it (heading is None before the first heading)."""

    heading: str | None
    text: str
    level: int = 0


@dataclass(frozen=True)
class DocumentMeta:
    """Validated metadata; building one is where ingestion fails closed."""

    id: str
    title: str
    acl_groups: tuple[str, ...]
    classification: str
    department: str | None = None
    owner: str | None = None
    source: str | None = None
    version: int = 1
    updated_at: datetime | None = None
    status: str = "published"
    supersedes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Document:
    """A parsed, validated document ready for hygiene, chunking and indexing."""

    meta: DocumentMeta
    sections: tuple[Section, ...]
    origin_name: str

    @property
    def id(self) -> str:
        """The document id (stable across versions only when the author keeps it)."""
        return self.meta.id

    @cached_property
    def body(self) -> str:
        """The whole text, headings included, as one string (built once: every chunk record reads it)."""
        parts = []
        for section in self.sections:
            if section.heading:
                parts.append(section.heading)
            if section.text:
                parts.append(section.text)
        return "\n".join(parts)

    @cached_property
    def content_hash(self) -> str:
        """sha256 of the normalised body only (duplicate detection ignores metadata).

        Computed once per document: computing it for each chunk record made ingestion quadratic in size.
        """
        return hashlib.sha256(normalise_text(self.body).encode()).hexdigest()

    def fingerprint(self, salt: str) -> str:
        """sha256 of everything that shapes the indexed chunks: metadata, body and the pipeline salt."""
        meta = self.meta
        payload = {
            "body": self.body,
            "meta": {
                "id": meta.id,
                "title": meta.title,
                "acl_groups": sorted(meta.acl_groups),
                "classification": meta.classification,
                "department": meta.department,
                "owner": meta.owner,
                "source": meta.source,
                "version": meta.version,
                "updated_at": meta.updated_at.isoformat() if meta.updated_at else None,
                "status": meta.status,
                "supersedes": sorted(meta.supersedes),
            },
            "salt": salt,
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def normalise_text(text: str) -> str:
    """Lower case, markup-light, single-spaced text used for hashing and shingling."""
    text = re.sub(r"[#*_`>|\[\]()]+", " ", text.lower())
    return re.sub(r"\s+", " ", text).strip()


def build_meta(name: str, raw: dict[str, Any], *, fallback_title: str | None) -> DocumentMeta:
    """Validate merged metadata into DocumentMeta, or raise RejectedDocument saying why."""
    doc_id = _text(raw.get("id")) or _id_from_name(name)
    if not _ID.match(doc_id):
        raise RejectedDocument(name, f"invalid id {doc_id!r}; accepted: letters, digits and _ . : - (max 128)")
    classification = (_text(raw.get("classification")) or "").lower()
    # A public document needs no ACL; any other is refused without one before anything else is checked.
    if classification == "public" and not _as_list(raw.get("acl_groups")):
        groups: tuple[str, ...] = (PUBLIC_GROUP,)
    else:
        groups = _groups(name, raw.get("acl_groups"))
    if not classification:
        raise RejectedDocument(name, f"missing classification; accepted: {', '.join(CLASSIFICATIONS)} (fail closed)")
    if classification not in CLASSIFICATIONS:
        raise RejectedDocument(
            name,
            f"unknown classification {classification!r}; accepted: {', '.join(CLASSIFICATIONS)} (fail closed)",
        )
    said = (_text(raw.get("status")) or "published").lower()
    status = STATUS_WORDS.get(said)
    if status is None:
        raise RejectedDocument(
            name,
            f"unknown status {said!r}; accepted: {', '.join(STATUS_WORDS)} "
            "(meaning published, draft or retired; retired and draft documents are never cited)",
        )
    title = _text(raw.get("title")) or fallback_title or doc_id
    department = _text(raw.get("collection")) or _text(raw.get("department"))
    return DocumentMeta(
        id=doc_id,
        title=title,
        acl_groups=groups,
        classification=classification,
        department=department.lower() if department else None,
        owner=_text(raw.get("owner")),
        source=_text(raw.get("source")),
        version=_version(name, raw.get("version")),
        updated_at=_timestamp(name, raw.get("updated_at")),
        status=status,
        supersedes=_id_list(name, raw.get("supersedes")),
    )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _id_from_name(name: str) -> str:
    stem = name.rsplit("/", 1)[-1]
    return stem.rsplit(".", 1)[0] if "." in stem else stem


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [part for part in _LIST_SPLIT.split(value.strip()) if part]
    if isinstance(value, list | tuple | set | frozenset):
        return [str(item).strip() for item in value if item is not None and str(item).strip()]
    return [str(value).strip()]


def _groups(name: str, value: Any) -> tuple[str, ...]:
    groups = _as_list(value)
    if not groups:
        raise RejectedDocument(
            name,
            "missing ACL metadata: acl_groups is absent or empty; accepted: a list of group names in "
            "front matter, a sidecar <file>.meta.json or the S3 object tag acl_groups (fail closed)",
        )
    bad = [group for group in groups if not _GROUP.match(group)]
    if bad:
        raise RejectedDocument(name, f"invalid acl_groups {bad}; accepted: letters, digits and _ . : @ -")
    return tuple(sorted(set(groups)))


def _id_list(name: str, value: Any) -> tuple[str, ...]:
    ids = [item for item in _as_list(value) if item.lower() not in ("null", "none")]
    bad = [item for item in ids if not _ID.match(item)]
    if bad:
        raise RejectedDocument(name, f"invalid supersedes ids {bad}; accepted: document ids")
    return tuple(sorted(set(ids)))


def _version(name: str, value: Any) -> int:
    if value is None or value == "":
        return 1
    try:
        version = int(str(value).strip())
    except ValueError:
        version = 0
    if version < 1:
        raise RejectedDocument(name, f"invalid version {value!r}; accepted: a whole number >= 1")
    return version


def _timestamp(name: str, value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        raise RejectedDocument(
            name, f"invalid updated_at {value!r}; accepted: an ISO 8601 date such as 2026-05-12"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
