"""Ports and value types of the knowledge capability."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

Classification = Literal["public", "internal", "confidential", "restricted"]
CLASSIFICATIONS: tuple[Classification, ...] = ("public", "internal", "confidential", "restricted")


class ScopeGrant:
    """Proof that keel.access.scope_for built a scope; its one instance is handed only to that module."""

    __slots__ = ()


_SCOPE_GRANT = ScopeGrant()


@dataclass(frozen=True)
class SearchScope:
    """What one principal may retrieve through one bot. Built only by keel.access.scope_for.

    Every search request carries one, and its fields become filters inside the query (R7) through
    keel.access.filters. ``department_classifications`` narrows classifications per department when the
    policies grant different classifications in different departments of one bot. ``index_branches`` is set
    only on the union of one principal's bot scopes over several indices ("auto", keel.access.union_scope):
    each branch is (indices, department, classifications), and a document must match one branch, its own
    index included, so one request over every index admits exactly what the bots' own searches admit.
    """

    subject: str
    index: str
    groups: frozenset[str]
    classifications: frozenset[str]
    departments: frozenset[str] | None = None
    department_classifications: tuple[tuple[str, frozenset[str]], ...] | None = None
    index_branches: tuple[tuple[tuple[str, ...], str, frozenset[str]], ...] | None = None
    grant: ScopeGrant | None = field(default=None, repr=False, compare=False, kw_only=True)

    @property
    def indices(self) -> tuple[str, ...]:
        """The indices searched: one, or internal and external for an internal bot that reads public content."""
        return tuple(self.index.split(","))

    def __post_init__(self) -> None:
        if self.grant is not _SCOPE_GRANT:
            raise TypeError("a SearchScope is built only by keel.access.scope_for(principal, bot, pdp)")
        # Spend the grant, so dataclasses.replace (which copies init fields) cannot widen a scope.
        object.__setattr__(self, "grant", None)
        if not self.subject or not self.index:
            raise ValueError("a search scope needs a subject and an index")
        if not self.groups or not self.classifications:
            raise ValueError("a search scope needs at least one group and one classification")
        if self.index_branches is not None and (
            not self.index_branches or any(not set(i) <= set(self.indices) for i, _, _ in self.index_branches)
        ):
            raise ValueError("index branches need at least one branch, each inside the scope's indices")


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk of a document, with where it came from."""

    doc_id: str
    chunk_id: str
    title: str
    text: str
    score: float
    version: int = 1
    classification: str = "internal"
    acl_groups: tuple[str, ...] = ()
    department: str | None = None
    heading: str | None = None
    matched: tuple[str, ...] = field(default=())
    # The index the passage was read from (set by retrievers; a search over several indices needs it).
    index: str | None = None


class Retriever(Protocol):
    """Searches the knowledge base inside a principal's scope."""

    def search(self, scope: SearchScope, query: str, *, k: int = 5) -> list[Passage]:
        """Return at most k passages, each inside scope; raise SearchUnavailable on failure."""
        ...


class Embedder(Protocol):
    """Turns texts into unit-length vectors of a fixed dimension."""

    model_id: str
    dimension: int

    def embed(self, texts: list[str]) -> list[list[float]]:
        """One L2-normalised vector per text, in order; raise ServiceUnavailable on failure."""
        ...


class CollectionCatalog(Protocol):
    """The tenant's collections as ingestion sees them: which one a row names, and its audience."""

    def collection_for(self, value: str) -> str | None:
        """The collection id a row's `collection` or `department` value names, or None."""
        ...

    def audience_of(self, collection: str) -> str | None:
        """'internal' or 'external' for a known collection id, else None."""
        ...

    def collection_ids(self) -> tuple[str, ...]:
        """Every collection id, for messages that list what is accepted."""
        ...
