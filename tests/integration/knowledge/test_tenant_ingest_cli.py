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
