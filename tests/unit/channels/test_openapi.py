"""The checked-in HTTP API contract matches the code, and documents every route the local API serves."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from keel.channels.openapi import ROUTES, build_openapi, render
from keel.local.stack import ROUTES as STACK_ROUTES

DOCUMENT = Path(__file__).resolve().parents[3] / "docs" / "openapi.json"


def test_checked_in_document_matches_the_code() -> None:
    # When this fails: run `keel openapi` and commit docs/openapi.json with the code change.
    assert DOCUMENT.read_text() == render(), "docs/openapi.json drifted from the code; run `keel openapi`"


def test_every_route_the_local_api_serves_is_documented() -> None:
    paths = build_openapi()["paths"]
    for route in STACK_ROUTES:
        documented = [p for p in paths if p == route.prefix or p.startswith(route.prefix.rstrip("/") + "/")]
        assert documented, f"{route.prefix} is served but not in the OpenAPI route table"
        for method in route.methods:
            assert any(method.lower() in paths[p] for p in documented), f"{method} {route.prefix} undocumented"


def test_every_reference_resolves() -> None:
    document = build_openapi()
    schemas = document["components"]["schemas"]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if ref is not None:
                assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in schemas, ref
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)


def test_chat_request_schema_refuses_unknown_fields_like_the_handler() -> None:
    schema = build_openapi()["components"]["schemas"]["ChatRequest"]
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {"bot", "message"}


def test_every_operation_has_a_unique_id_and_documents_its_errors() -> None:
    ids = [op.operation_id for op in ROUTES]
    assert len(ids) == len(set(ids))
    for path, item in build_openapi()["paths"].items():
        for method, operation in item.items():
            assert "200" in operation["responses"], (method, path)
            assert any(code.startswith(("4", "5")) for code in operation["responses"]), (method, path)


def test_document_is_stable_json() -> None:
    assert json.loads(render()) == build_openapi()
