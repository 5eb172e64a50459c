"""Explanations (R6): may this user see this document, through which bot, and which policy decided?

The verdict comes from the same scope and filter the retriever uses (``scope_for`` and ``admits``), so an
explanation can never disagree with a search; the steps around it say which rule made the difference.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keel.access.filters import admits, permission_filter
from keel.access.pdp import PolicyDecisionPoint
from keel.access.scope import PUBLIC_GROUP, Indexes, scope_for
from keel.errors import Forbidden, InvalidRequest, NotFound
from keel.identity.principal import Principal

if TYPE_CHECKING:
    from keel.tenant.loader import Tenant


@dataclass(frozen=True)
class DocumentAccess:
    """The access-relevant metadata of one document."""

    id: str
    title: str
    department: str
    acl_groups: tuple[str, ...]
    classification: str

    def fields(self) -> dict[str, Any]:
        """The document as the search index stores its filter fields."""
        return {
            "acl_groups": list(self.acl_groups),
            "classification": self.classification,
            "department": self.department,
        }


@dataclass(frozen=True)
class BotVerdict:
    """Whether the document is visible through one bot, why, and the deciding policies."""

    bot: str
    visible: bool
    reason: str
    policy_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Explanation:
    """The answer to "why can (or can't) the bot see X?"."""

    user: str
    document: str
    verdicts: tuple[BotVerdict, ...] = field(default_factory=tuple)

    @property
    def visible_through(self) -> tuple[str, ...]:
        """Bots through which the user sees the document."""
        return tuple(v.bot for v in self.verdicts if v.visible)

    def render(self) -> str:
        """Plain text for the CLI and the admin API."""
        head = (
            f"{self.user} may see {self.document} through: {', '.join(self.visible_through)}"
            if self.visible_through
            else f"{self.user} may NOT see {self.document} through any bot"
        )
        lines = [head]
        for v in self.verdicts:
            policies = f" [policies: {', '.join(v.policy_ids)}]" if v.policy_ids else ""
            lines.append(f"  {v.bot}: {'visible' if v.visible else 'hidden'} - {v.reason}{policies}")
        return "\n".join(lines)


def explain(
    principal: Principal,
    document: DocumentAccess,
    pdp: PolicyDecisionPoint,
    *,
    bot: str | None = None,
    indexes: Indexes | None = None,
) -> Explanation:
    """Explain the document's visibility for principal through bot (or every bot)."""
    indexes = indexes or Indexes()
    bots = [pdp.bots.get(bot)] if bot else list(pdp.bots)
    verdicts = tuple(_verdict(principal, document, pdp, b.id, indexes) for b in bots)
    return Explanation(user=principal.username, document=document.id, verdicts=verdicts)


def _verdict(
    principal: Principal, document: DocumentAccess, pdp: PolicyDecisionPoint, bot_id: str, indexes: Indexes
) -> BotVerdict:
    definition = pdp.bots.get(bot_id)
    use = pdp.may_use(principal, bot_id)
    if not use.allowed:
        return BotVerdict(
            bot_id, False, "the user may not use this bot" + _default_deny(use.policy_ids), use.policy_ids
        )
    if document.department not in definition.collections:
        collections = ", ".join(definition.collections)
        return BotVerdict(bot_id, False, f"the bot reads only {collections}, not {document.department}")
    try:
        scope = scope_for(principal, definition, pdp, indexes=indexes)
    except Forbidden as exc:
        return BotVerdict(bot_id, False, exc.message, tuple(exc.details.get("policies", [])))  # type: ignore[arg-type]
    data = pdp.may_retrieve(principal, definition, document.department, document.classification)
    audience = pdp.bots.collection_audience(document.department)
    document_index = indexes.external if audience == "external" else indexes.internal
    if document_index not in scope.indices:
        return BotVerdict(bot_id, False, f"the document is in {document_index}, the bot searches {scope.index}")
    if not data.allowed:
        reason = f"{document.classification} documents of {document.department} are not retrievable for this user"
        reason += _default_deny(data.policy_ids)
        return BotVerdict(bot_id, False, reason, data.policy_ids)
    if not admits(permission_filter(scope), document.fields()):
        groups = ", ".join(document.acl_groups)
        reason = f"the document's ACL ({groups}) names none of the user's groups"
        return BotVerdict(bot_id, False, reason, data.policy_ids)
    matched = sorted(set(document.acl_groups) & (principal.groups | {PUBLIC_GROUP}))
    return BotVerdict(bot_id, True, f"ACL group {', '.join(matched)} and data policy allow it", data.policy_ids)


def _default_deny(policy_ids: tuple[str, ...]) -> str:
    return "" if policy_ids else " (no policy permits it: default deny)"


def tenant_documents(tenant: Tenant, source: Path | None = None) -> dict[str, DocumentAccess]:
    """The documents ingest would index from source (else the tenant's docs/ folder): read by ingest's own readers
    (every supported file type, sidecars, JSONL exports), placed in the collection each names (tenant.yaml's ids,
    names and aliases), then through ingest's hygiene (one version per id, no drafts, retired, superseded or
    duplicate documents). What ingest would reject or drop is left out: it is never indexed, so never cited."""
    from keel.knowledge.hygiene import clean
    from keel.knowledge.ingest import parse_sources, read_folder
    from keel.knowledge.report import IngestReport

    folder = source or tenant.docs_dir()
    if folder is None:
        raise InvalidRequest(f"the tenant {tenant.name!r} has no docs/ folder; pass --docs FOLDER or --docs FILE.jsonl")
    try:
        sources = read_folder(folder)
    except FileNotFoundError as exc:
        raise InvalidRequest(f"{folder} is neither a folder of documents nor a document file") from exc
    report = IngestReport(origin="explain", started_at="")
    indexed = clean(parse_sources(sources, report, tenant)).keep
    return {
        document.meta.id: DocumentAccess(
            id=document.meta.id,
            title=document.meta.title,
            department=document.meta.department or "",
            acl_groups=tuple(document.meta.acl_groups),
            classification=document.meta.classification,
        )
        for document in indexed
    }


def find_document(documents: dict[str, DocumentAccess], doc_id: str) -> DocumentAccess:
    """The document, or NotFound with a hint."""
    found = documents.get(doc_id)
    if found is None:
        raise NotFound(
            f"no document {doc_id!r}; {len(documents)} documents known, e.g. {', '.join(sorted(documents)[:3])}"
        )
    return found


def explain_for(
    *,
    user: str,
    groups: Iterable[str],
    doc_id: str,
    pdp: PolicyDecisionPoint,
    documents: dict[str, DocumentAccess],
    external: bool = False,
    department: str | None = None,
    bot: str | None = None,
    tenant: str = "default",
) -> Explanation:
    """The admin API's entry point: explain for a described (not signed-in) user."""
    if not user:
        raise InvalidRequest("--user is required: the user's id or name")
    group_set = frozenset(g.strip() for g in groups if g.strip())
    # A hypothetical principal for the explanation only; it never authenticates anything.
    principal = Principal(
        subject=user, username=user, groups=group_set, tenant=tenant, department=department, external=external
    )
    return explain(principal, find_document(documents, doc_id), pdp, bot=bot)
