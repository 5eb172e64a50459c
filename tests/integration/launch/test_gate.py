"""The regression gate on the local stack: the served prompts pass against their own baseline, a deliberately
worse prompt version (evals/prompts-candidates: "Answer in at most 1 sentence") fails it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from keel.cli.main import main
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.integration
# Bots whose answers need more than one sentence for their facts and sources (the worse prompt hurts them).
BOTS = ["--bot", "finance", "--bot", "it", "--bot", "sales"]
# This test is about quality. The p95 of a few local turns moves with whatever else the machine runs: a fresh-clone CI
# run beside a training job measured finance at 1050 ms, then 2333 ms for the same configuration, past the 2x + 1 s
# allowance. The latency rule is tested with fixed figures in tests/unit/launch/test_scenarios.py.
LATENCY_NOT_UNDER_TEST = ["--latency-ratio", "50"]


def test_baseline_passes_and_a_worse_prompt_version_fails_the_gate(
    local_stack: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baselines = tmp_path / "baselines"
    # Given baselines recorded from the served configuration
    assert main(["eval", "scenarios", *BOTS, "--record-baseline", "--baselines", str(baselines)]) == 0
    assert sorted(p.name for p in baselines.iterdir()) == ["finance.json", "it.json", "sales.json"]

    # When the same configuration is gated, Then it passes
    same = tmp_path / "same.json"
    assert (
        main(["eval", "scenarios", *BOTS, *LATENCY_NOT_UNDER_TEST, "--baselines", str(baselines), "--out", str(same)])
        == 0
    )
    assert json.loads(same.read_text())["passed"] is True

    # When the worse candidate prompt is gated, Then the gate fails and names what regressed
    worse = tmp_path / "worse.json"
    candidate = REPO_ROOT / "evals" / "prompts-candidates"
    code = main(
        [
            "eval",
            "scenarios",
            *BOTS,
            *LATENCY_NOT_UNDER_TEST,
            "--baselines",
            str(baselines),
            "--candidate-prompt-dir",
            str(candidate),
            "--out",
            str(worse),
        ]
    )
    report = json.loads(worse.read_text())
    regressions = [r for bot in report["bots"].values() for r in bot["regressions"]]
    print("\nworse prompt regressions:", [(r["bot"], r["metric"], r["baseline"], r["candidate"]) for r in regressions])
    assert code == 1 and report["passed"] is False
    assert {r["metric"] for r in regressions} & {"behaviour_match", "doc_recall", "must_include"}
    versions = {bot["candidate"]["prompt_version"] for bot in report["bots"].values()}
    assert all(v and v.startswith("candidate:") for v in versions)
    assert "gate: FAILED" in capsys.readouterr().out


def test_a_candidate_prompt_version_that_does_not_exist_is_a_clear_error(
    local_stack: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["eval", "scenarios", "--bot", "hr", "--candidate-prompt-version", "99"]) == 2
    assert "prompt version v99 does not exist for bot hr" in capsys.readouterr().err
