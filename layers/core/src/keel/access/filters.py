"""Permission filter clauses built from a SearchScope; they go inside every search request (R7)."""

from __future__ import annotations

from typing import Any

from keel.knowledge.ports import SearchScope


def scope_filter(scope: SearchScope) -> list[dict[str, Any]]:
    """The `bool.filter` clauses that confine a search to what scope may see."""
    clauses: list[dict[str, Any]] = [
        {"terms": {"acl_groups": sorted(scope.groups)}},
        {"terms": {"classification": sorted(scope.classifications)}},
    ]
    if scope.departments is not None:
        clauses.append({"terms": {"department": sorted(scope.departments)}})
    return clauses
