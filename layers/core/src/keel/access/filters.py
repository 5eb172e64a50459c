"""The permission filter inside every OpenSearch request (R7), and the same filter evaluated in memory.

The retriever puts ``permission_filter(scope)`` in the ``bool.filter`` of its query (BM25 and k-NN alike),
so a document outside the scope is never a candidate, let alone a result. ``admits`` evaluates exactly
that clause on a document's fields, for in-memory retrievers and for the tests that compare the two.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from keel.knowledge.ports import Passage, SearchScope

ACL_FIELD = "acl_groups"
CLASSIFICATION_FIELD = "classification"
DEPARTMENT_FIELD = "department"
# OpenSearch's metadata field naming the index a document lives in (queryable with term/terms).
INDEX_FIELD = "_index"


def permission_filter(scope: SearchScope) -> dict[str, Any]:
    """A bool query whose filter clauses admit only documents inside scope."""
    if not isinstance(scope, SearchScope):
        raise TypeError("permission_filter needs a SearchScope from keel.access.scope_for")
    clauses: list[dict[str, Any]] = [{"terms": {ACL_FIELD: sorted(scope.groups)}}]
    if scope.index_branches is not None:
        # The union of several bots over several indices: each branch is one bot's grant in its own indices.
        branches = [
            {
                "bool": {
                    "filter": [
                        {"terms": {INDEX_FIELD: list(indices)}},
                        {"term": {DEPARTMENT_FIELD: department}},
                        {"terms": {CLASSIFICATION_FIELD: sorted(classifications)}},
                    ]
                }
            }
            for indices, department, classifications in scope.index_branches
        ]
        clauses.append({"bool": {"should": branches, "minimum_should_match": 1}})
    elif scope.department_classifications is None:
        clauses.append({"terms": {CLASSIFICATION_FIELD: sorted(scope.classifications)}})
        if scope.departments is not None:
            clauses.append({"terms": {DEPARTMENT_FIELD: sorted(scope.departments)}})
    else:
        # Different classifications per department: one branch per department, at least one must hold.
        branches = [
            {
                "bool": {
                    "filter": [
                        {"term": {DEPARTMENT_FIELD: department}},
                        {"terms": {CLASSIFICATION_FIELD: sorted(classifications)}},
                    ]
                }
            }
            for department, classifications in scope.department_classifications
        ]
        clauses.append({"bool": {"should": branches, "minimum_should_match": 1}})
    return {"bool": {"filter": clauses}}


def scope_filter(scope: SearchScope) -> list[dict[str, Any]]:
    """The ``bool.filter`` clauses that confine a search to what scope may see."""
    clauses: list[dict[str, Any]] = permission_filter(scope)["bool"]["filter"]
    return clauses


def search_body(scope: SearchScope, query: Mapping[str, Any], *, size: int) -> dict[str, Any]:
    """A search body: the caller's scoring query under the permission filter."""
    return {"size": size, "query": {"bool": {"must": [dict(query)], "filter": scope_filter(scope)}}}


def admits(clause: Mapping[str, Any], document: Mapping[str, Any]) -> bool:
    """Evaluate a filter clause built here (bool/filter/should, terms, term) on a document's fields."""
    if "bool" in clause:
        body = clause["bool"]
        if not all(admits(c, document) for c in body.get("filter", [])):
            return False
        should: Sequence[Mapping[str, Any]] = body.get("should", [])
        if should:
            matched = sum(1 for c in should if admits(c, document))
            return matched >= int(body.get("minimum_should_match", 1))
        return True
    if "terms" in clause:
        ((name, accepted),) = clause["terms"].items()
        return bool(_values(document.get(name)) & set(accepted))
    if "term" in clause:
        ((name, value),) = clause["term"].items()
        return value in _values(document.get(name))
    raise ValueError(f"unsupported filter clause {sorted(clause)}; supported: bool, terms, term")


def passage_in_scope(scope: SearchScope, passage: Passage) -> bool:
    """Whether scope admits a retrieved passage: read from one of its indices, and its permission filter admits it.

    A passage that does not say its index is judged on its ACL groups, classification and department alone.
    """
    if passage.index is not None and passage.index not in scope.indices:
        return False
    fields = {
        ACL_FIELD: list(passage.acl_groups),
        CLASSIFICATION_FIELD: passage.classification,
        DEPARTMENT_FIELD: passage.department,
        INDEX_FIELD: passage.index,
    }
    return admits(permission_filter(scope), fields)


def _values(value: Any) -> set[Any]:
    if value is None:
        return set()
    if isinstance(value, list | tuple | set | frozenset):
        return set(value)
    return {value}
