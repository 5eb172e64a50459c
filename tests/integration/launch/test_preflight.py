"""`keel preflight` on the local stack (load and garak skipped here: tests/perf/test_load.py and
test_garak_offline.py run them), and `keel feedback export` after a thumbs-down."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from keel.cli.main import main
from keel.launch import probes
from keel.launch.local import token_for

pytestmark = pytest.mark.integration
OWASP = [f"LLM{n:02d}" for n in range(1, 11)]


def test_preflight_lists_every_check_with_its_evidence(local_stack: Any, tmp_path: Path) -> None:
    out = tmp_path / "report"
    code = main(["preflight", "--out", str(out), "--skip-load", "--skip-garak"])
    report = json.loads((out / "preflight.json").read_text())
    checks = {c["id"]: c for c in report["checks"]}
    print("\n" + "\n".join(f"{c['id']} {c['status']}: {c['summary'][:110]}" for c in report["checks"]))
    assert list(checks)[:10] == OWASP
    assert {"S1", "S2", "S3", "S4", "S5", "I1", "I2", "I3", "I4", "I5", "I6", "C1", "O1"} <= set(checks)
    assert checks["S4"]["status"] == checks["S5"]["status"] == "skipped"
    for check_id in ("S1", "S2", "S3", "I1", "I2", "I3", "I4", "I5", "O1", "LLM03", "LLM04", "LLM05"):
        assert checks[check_id]["status"] == "pass", checks[check_id]
        assert checks[check_id]["evidence"], check_id
    assert checks["S3"]["evidence"]["model_down"][0]["degradations"]
    assert code == 0 and report["passed"] is True
    markdown = (out / "preflight.md").read_text()
    assert all(f"## {risk}" in markdown for risk in OWASP)


def test_feedback_export_names_the_owner_of_a_thumbs_down_answer(local_stack: Any, tmp_path: Path) -> None:
    info = local_stack.info()
    token = token_for(info, "finn.finance", ["all-staff", "finance"])
    status, reply = probes.chat(info["api_url"], token, "finance", "How do I book a business trip?")
    assert status == 200, reply
    import urllib.request

    body = {"conversation_id": reply["conversation_id"], "message_id": reply["message_id"], "rating": "down"}
    request = urllib.request.Request(
        f"{info['api_url']}/v1/feedback",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
    assert main(["feedback", "export", "--since", "1d", "--out", str(tmp_path)]) == 0
    rows = [json.loads(x) for x in (tmp_path / "finance.jsonl").read_text().splitlines()]
    mine = [r for r in rows if r["conversation_id"] == reply["conversation_id"]]
    assert mine and mine[0]["reason"] == "rated negatively" and mine[0]["owner"] == "finance-ops@acme.example"
    assert (tmp_path / "finance.csv").read_text().startswith("bot,owner,")
