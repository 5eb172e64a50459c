"""`keel kb ingest` against osmem-server with a tenant: a partial load is an error unless asked for, and
the last line says so; the tenant's own export lands whole."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from keel.cli.main import main
from keel.knowledge.ingest import IndexNames

LAKESIDE = Path(__file__).resolve().parents[3] / "examples" / "lakeside-health"


def argv(path: Path, opensearch_stack: Any, names: IndexNames, *extra: str) -> list[str]:
    return [
        "kb", "ingest", str(path), "--tenant", str(LAKESIDE), "--quiet", "--opensearch-url", opensearch_stack.url,
        "--index-internal", names.internal, "--index-external", names.external, *extra,
    ]  # fmt: skip


def test_rejected_rows_exit_one_and_the_last_line_says_why(
    opensearch_stack: Any, names: IndexNames, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setenv("KEEL_STATE_DIR", str(tmp_path))
    assert main(argv(LAKESIDE / "rejects", opensearch_stack, names)) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("keel: 4 of the rows/files were rejected") and "--allow-rejects" in err[-1]
    assert main(argv(LAKESIDE / "rejects", opensearch_stack, names, "--allow-rejects")) == 0
    assert "partial load accepted" in capsys.readouterr().err


def test_the_tenants_export_loads_whole(
    opensearch_stack: Any, names: IndexNames, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setenv("KEEL_STATE_DIR", str(tmp_path))
    assert main(argv(LAKESIDE / "docs", opensearch_stack, names)) == 0
    out = capsys.readouterr().out
    # 11 rows: 10 published land, the archived one is never indexed.
    assert "changes: 10" in out and "Rejected" not in out


def test_lakeside_answers_each_person_from_what_they_may_read(
    search_client: Any, minilm: Any, names: IndexNames
) -> None:
    # Given the Lakeside export ingested through its tenant (as `keel dev --tenant` does)
    from keel.access.pdp import PolicyDecisionPoint
    from keel.access.scope import Indexes, scope_for
    from keel.identity.principal import Principal
    from keel.knowledge.ingest import Ingestor, read_folder
    from keel.knowledge.opensearch import ChunkIndex, OpenSearchRetriever
    from keel.tenant.loader import load_tenant

    tenant = load_tenant(LAKESIDE)
    store = ChunkIndex(search_client, indices=(names.internal, names.external), knn=False)
    Ingestor(store, minilm, names, progress=False, catalog=tenant).ingest(read_folder(LAKESIDE / "docs"), origin="x")
    pdp, indexes = PolicyDecisionPoint.for_tenant(tenant), Indexes(names.internal, names.external)
    retriever = OpenSearchRetriever(search_client, minilm, knn=False)

    def found(groups: set[str], bot: str, question: str, *, external: bool = False) -> list[str]:
        who = Principal("sub", "u", frozenset(groups), "lakeside", external=external)
        return [p.doc_id for p in retriever.search(scope_for(who, bot, pdp, indexes=indexes), question, k=10)]

    # Then a nurse's ward assistant reads the public leaflets where they live, beside clinical guidance
    nurse = found({"staff", "nursing"}, "ward-assistant", "visiting hours for relatives")
    assert "patients-visiting-hours" in nurse
    # but never the confidential review procedure, the pay scales or anything of People
    assert not {"clin-morbidity-review", "pharm-controlled-drugs"} & set(nurse)
    assert not [d for d in nurse if d.startswith("people-")]
    assert "clin-morbidity-review" in found({"staff", "clinicians"}, "ward-assistant", "morbidity mortality panel")
    # and a patient reads public leaflets only, through the patient bot
    patient = found({"patients"}, "patient-help", "parking visiting hours sepsis pay", external=True)
    assert patient and all(d.startswith("patients-") for d in patient)
