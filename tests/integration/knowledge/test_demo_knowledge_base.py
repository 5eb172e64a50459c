"""The demo knowledge base on osmem-server: idempotent ingest, supersession, fail closed, scoped retrieval."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from keel.access.pdp import PolicyDecisionPoint
from keel.access.scope import Indexes, scope_for
from keel.cli.main import main
from keel.errors import SearchUnavailable
from keel.identity.principal import Principal
from keel.knowledge.documents import SourceFile
from keel.knowledge.embeddings import OnnxMiniLMEmbedder
from keel.knowledge.evaluation import evaluate, load_golden
from keel.knowledge.ingest import IndexNames, Ingestor, read_folder
from keel.knowledge.opensearch import OpenSearchRetriever, detect_knn, opensearch_client
from keel.tenant.loader import default_tenant_dir
from tests.integration.knowledge.conftest import make_ingestor

DEMO_DIR = default_tenant_dir()

REPO = Path(__file__).resolve().parents[3]
GOLDEN = REPO / "evals" / "retrieval" / "golden.jsonl"
FORBIDDEN = REPO / "evals" / "retrieval" / "forbidden.jsonl"


def demo_sources() -> list[SourceFile]:
    rejects = [dataclasses.replace(f, name=f"rejects/{f.name}") for f in read_folder(DEMO_DIR / "rejects")]
    return read_folder(DEMO_DIR / "docs") + rejects


def principals() -> dict[str, Principal]:
    rows = json.loads((DEMO_DIR / "users.json").read_text())
    return {
        r["username"]: Principal(
            subject=r["username"],
            username=r["username"],
            groups=frozenset(r["groups"]),
            tenant="demo",
            department=r["department"],
            external=r["external"],
        )
        for r in rows
    }


@pytest.fixture(scope="module")
def demo_ingestor(search_client: Any, minilm: OnnxMiniLMEmbedder, module_names: IndexNames) -> Ingestor:
    return make_ingestor(search_client, minilm, module_names)


@pytest.fixture(scope="module")
def loaded(demo_ingestor: Ingestor) -> Any:
    """The demo tenant, ingested once for the read-only tests of this module."""
    return demo_ingestor.ingest(demo_sources(), origin="demo")


def scope(pdp: PolicyDecisionPoint, names: IndexNames, user: str, bot: str) -> Any:
    return scope_for(principals()[user], bot, pdp, indexes=Indexes(names.internal, names.external))


def test_ingesting_the_demo_twice_reports_zero_changes(demo_ingestor: Ingestor, loaded: Any) -> None:
    assert loaded.changes > 30
    again = demo_ingestor.ingest(demo_sources(), origin="demo")
    assert again.changes == 0 and again.chunks_written == 0
    assert len(again.unchanged) == len(loaded.added)


def test_demo_hygiene_findings(loaded: Any) -> None:
    rejected = {r.file: r.reason for r in loaded.rejected}
    assert "missing ACL metadata" in rejected["rejects/it-shared-drives-no-acl.md"]
    assert "unknown classification 'secret-ish'" in rejected["rejects/finance-vendor-list-bad-classification.md"]
    assert [(d.doc_id, d.kept) for d in loaded.duplicates] == [("it-guest-wifi-howto", "it-guest-wifi")]
    assert ("hr-remote-work-2024", "hr-remote-work") in [(s.doc_id, s.by) for s in loaded.superseded]
    assert "hr-bike-to-work" in [s.doc_id for s in loaded.stale]


def test_rejected_and_superseded_documents_are_not_searchable(
    search_client: Any, module_names: IndexNames, loaded: Any
) -> None:
    for doc_id in ("it-shared-drives", "finance-vendor-list", "hr-remote-work-2024", "it-guest-wifi-howto"):
        for index in (module_names.internal, module_names.external):
            found = search_client.search(index=index, body={"query": {"term": {"doc_id": doc_id}}})
            assert found["hits"]["hits"] == [], doc_id


def test_a_newer_version_makes_the_old_one_unretrievable(
    ingestor: Ingestor, minilm: OnnxMiniLMEmbedder, search_client: Any, names: IndexNames, pdp: PolicyDecisionPoint
) -> None:
    old = (
        (DEMO_DIR / "docs" / "hr" / "hr-remote-work-2024.md")
        .read_text()
        .replace("status: retired", "status: published")
    )
    ingestor.ingest([SourceFile("remote-2024.md", old.encode())], origin="upload", prune=False)
    retriever = OpenSearchRetriever(search_client, minilm, knn=False)
    hr = scope(pdp, names, "emma.engineer", "hr")
    assert "hr-remote-work-2024" in [p.doc_id for p in retriever.search(hr, "how many office days a week")]
    newer = (DEMO_DIR / "docs" / "hr" / "hr-remote-work.md").read_bytes()
    report = ingestor.ingest([SourceFile("remote.md", newer)], origin="upload", prune=False)
    assert [r.doc_id for r in report.removed] == ["hr-remote-work-2024"]
    found = [p.doc_id for p in retriever.search(hr, "how many office days a week remote work 2024", k=10)]
    assert "hr-remote-work-2024" not in found and "hr-remote-work" in found


def test_recall_at_5_on_the_golden_set(
    loaded: Any, minilm: OnnxMiniLMEmbedder, search_client: Any, module_names: IndexNames, pdp: PolicyDecisionPoint
) -> None:
    retriever = OpenSearchRetriever(search_client, minilm, knn=False)
    result = evaluate(retriever, load_golden(GOLDEN), lambda u, b: scope(pdp, module_names, u, b), k=5)
    print(result.to_text())
    assert result.recall >= 0.9


def test_forbidden_documents_never_come_back(
    loaded: Any, minilm: OnnxMiniLMEmbedder, search_client: Any, module_names: IndexNames, pdp: PolicyDecisionPoint
) -> None:
    retriever = OpenSearchRetriever(search_client, minilm, knn=False)
    for line in FORBIDDEN.read_text().splitlines():
        row = json.loads(line)
        try:
            passages = retriever.search(scope(pdp, module_names, row["user"], row["bot"]), row["question"], k=20)
        except Exception as exc:  # a Forbidden bot is an acceptable way of not returning the document
            assert type(exc).__name__ in ("Forbidden", "NotFound"), row
            continue
        assert not {p.doc_id for p in passages} & set(row["forbidden_doc_ids"]), row["id"]


def test_customer_bot_sees_only_public_documents(
    loaded: Any, minilm: OnnxMiniLMEmbedder, search_client: Any, module_names: IndexNames, pdp: PolicyDecisionPoint
) -> None:
    retriever = OpenSearchRetriever(search_client, minilm, knn=False)
    passages = retriever.search(
        scope(pdp, module_names, "carla.customer", "customer"), "salary bands VPN refunds", k=20
    )
    assert passages and all(p.classification == "public" for p in passages)


def test_passages_carry_version_heading_and_matched_parts(
    loaded: Any, minilm: OnnxMiniLMEmbedder, search_client: Any, module_names: IndexNames, pdp: PolicyDecisionPoint
) -> None:
    retriever = OpenSearchRetriever(search_client, minilm, knn=False)
    top = retriever.search(scope(pdp, module_names, "emma.engineer", "it"), "VPN GlobalProtect install")[0]
    assert top.doc_id == "it-vpn" and top.version == 4 and top.heading
    assert "lexical" in top.matched and "vector" in top.matched


def test_osmem_is_detected_as_having_no_knn(search_client: Any) -> None:
    assert detect_knn(search_client) is False


def test_a_down_engine_is_search_unavailable(minilm: OnnxMiniLMEmbedder, pdp: PolicyDecisionPoint) -> None:
    from keel.local.servers import free_port

    dead = opensearch_client(f"http://127.0.0.1:{free_port()}", timeout=2)
    retriever = OpenSearchRetriever(dead, minilm, knn=False)
    with pytest.raises(SearchUnavailable):
        retriever.search(scope(pdp, IndexNames("a", "b"), "emma.engineer", "hr"), "leave")


def test_cli_ingest_reports_zero_changes_and_eval_prints_recall(
    loaded: Any, opensearch_stack: Any, module_names: IndexNames, tmp_path: Path, monkeypatch: Any, capsys: Any
) -> None:
    # Same origin as the module's ingestion, so the CLI finds every document unchanged.
    monkeypatch.setenv("KEEL_STATE_DIR", str(tmp_path))
    common = ["--opensearch-url", opensearch_stack.url, "--index-internal", module_names.internal]
    common += ["--index-external", module_names.external]
    docs = str(DEMO_DIR / "docs")
    argv = ["kb", "ingest", docs, "--quiet", "--origin", "demo", "--report", str(tmp_path / "r.txt"), *common]
    assert main(argv) == 0
    assert "changes: 0" in (tmp_path / "r.txt").read_text()
    capsys.readouterr()
    assert main(["kb", "report", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["changes"] == 0
    assert main(["eval", "retrieval", "--min-recall", "0.9", *common]) == 0
    out = capsys.readouterr().out
    assert "recall@5 = " in out and "MRR = " in out
