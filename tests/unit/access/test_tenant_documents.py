"""A tenant's documents as ingest places them (keel.access.explain.tenant_documents): `keel access explain` and the
launch checks read Markdown folders and JSONL exports alike, in the collections tenant.yaml's aliases name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from keel.access.explain import tenant_documents
from keel.cli.main import main
from keel.errors import InvalidRequest
from keel.tenant.loader import load_tenant
from tests.conftest import REPO_ROOT

LAKESIDE = REPO_ROOT / "examples" / "lakeside-health"


def test_an_export_is_placed_by_the_tenants_collection_names_and_aliases() -> None:
    documents = tenant_documents(load_tenant(LAKESIDE))
    # "Clinical Guidelines" (a name), "Klinik" and "Apotheke" (aliases) and "HR" land in the tenant's collection ids.
    assert documents["clin-sepsis-bundle"].department == "clinical"
    assert documents["clin-falls-prevention"].department == "clinical"
    assert documents["pharm-controlled-drugs"].department == "pharmacy"
    assert documents["people-shift-swaps"].department == "people"
    # Ingest's hygiene: the archived 2023 version is never indexed, so it is not among what can be cited.
    assert "clin-sepsis-bundle-2023" not in documents


def test_a_row_naming_no_collection_of_the_tenant_is_left_out(tmp_path: Path) -> None:
    rows = [
        {
            "id": "a",
            "title": "A",
            "department": "Klinik",
            "acl_groups": ["staff"],
            "classification": "internal",
            "text": "Ward rounds start.",
        },
        {
            "id": "b",
            "title": "B",
            "department": "Marketing",
            "acl_groups": ["staff"],
            "classification": "internal",
            "text": "Spring.",
        },
    ]
    export = tmp_path / "export.jsonl"
    export.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    assert list(tenant_documents(load_tenant(LAKESIDE), export)) == ["a"]


def test_a_tenant_without_documents_says_how_to_name_them(tmp_path: Path) -> None:
    tenant = load_tenant(LAKESIDE)
    with pytest.raises(InvalidRequest, match="neither a folder"):
        tenant_documents(tenant, tmp_path / "missing.txt")


def test_keel_access_explain_reads_the_tenants_export(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["access", "explain", "--user", "u", "--groups", "staff,nursing", "--doc", "pharm-insulin-storage"]
    assert main([*argv, "--tenant", str(LAKESIDE), "--json"]) == 0
    verdicts = json.loads(capsys.readouterr().out)
    assert verdicts["visible_through"] == ["ward-assistant"]


def test_every_file_type_ingest_reads_is_placed_sidecars_included(tmp_path: Path) -> None:
    # A PDF-like or HTML file with its metadata in a sidecar is a document too: citing it must be checked as well.
    (tmp_path / "rota.html").write_text("<h1>Rota</h1><p>Night shifts swap on Fridays.</p>", encoding="utf-8")
    sidecar = {
        "id": "rota",
        "title": "Rota",
        "department": "People and Culture",
        "acl_groups": ["people-partners"],
        "classification": "confidential",
    }
    (tmp_path / "rota.html.meta.json").write_text(json.dumps(sidecar), encoding="utf-8")
    (tmp_path / "notes.txt").write_text("no metadata at all", encoding="utf-8")  # ingest rejects it: never indexed
    documents = tenant_documents(load_tenant(LAKESIDE), tmp_path)
    assert list(documents) == ["rota"] and documents["rota"].department == "people"
    assert documents["rota"].acl_groups == ("people-partners",)
