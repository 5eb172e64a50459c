"""Shared helpers for the knowledge unit tests: document builders and scopes from the demo policies."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from keel.access.pdp import PolicyDecisionPoint
from keel.identity.principal import Principal
from keel.knowledge.documents import SourceFile
from keel.tenant.loader import load_tenant

META: dict[str, Any] = {
    "department": "hr",
    "acl_groups": ["all-staff"],
    "classification": "internal",
    "owner": "hr@acme.example",
    "version": 1,
    "updated_at": "2026-05-01",
    "status": "published",
}


def markdown(doc_id: str, body: str, **overrides: Any) -> SourceFile:
    """A Markdown source with front matter; a None override removes the key."""
    meta = {"id": doc_id, "title": doc_id.replace("-", " ").title(), **META, **overrides}
    meta = {k: v for k, v in meta.items() if v is not None}
    text = f"---\n{yaml.safe_dump(meta)}---\n{body}\n"
    return SourceFile(name=f"{doc_id}.md", data=text.encode())


def person(name: str, *groups: str, department: str | None = None, external: bool = False) -> Principal:
    """A verified principal for tests."""
    return Principal(
        subject=f"sub-{name}",
        username=name,
        groups=frozenset(groups),
        tenant="demo",
        department=department,
        external=external,
    )


@pytest.fixture(scope="session")
def pdp() -> PolicyDecisionPoint:
    """The demo policies and bots."""
    return PolicyDecisionPoint.for_tenant(load_tenant())
