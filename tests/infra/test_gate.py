"""The cdk-nag gate and the app entry point: findings fail synthesis, all three stages synthesize."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sqs as sqs

from stacks.config import STAGE_NAMES
from stacks.constructs.nag import acknowledge
from stacks.stage import add_nag_gate
from tests.infra.conftest import REPO_ROOT, SKIP_BUNDLING, Synthesized


def _app_with_queue(outdir: Path, *, acknowledged: bool) -> cdk.App:
    app = cdk.App(outdir=str(outdir))
    stack = cdk.Stack(cdk.Stage(app, "gate"), "Gate")
    queue = sqs.Queue(stack, "PlainQueue")  # no DLQ, no TLS-only policy: two AwsSolutions findings
    if acknowledged:
        acknowledge(queue, "AwsSolutions-SQS3", "test queue: acknowledging must let synthesis pass")
        acknowledge(queue, "AwsSolutions-SQS4", "test queue: acknowledging must let synthesis pass")
    add_nag_gate(app)
    return app


def test_an_unacknowledged_finding_fails_synthesis(tmp_path: Path) -> None:
    # Given a queue that breaks two AwsSolutions rules, When the app synthesizes, Then it refuses.
    app = _app_with_queue(tmp_path / "out", acknowledged=False)
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "out" / "validation-report.json").read_text())
    rules = {v["ruleName"] for p in report["pluginReports"] for v in p.get("violations", [])}
    assert {"AwsSolutions-SQS3", "AwsSolutions-SQS4"} <= rules


def test_acknowledged_findings_let_synthesis_pass(tmp_path: Path) -> None:
    _app_with_queue(tmp_path / "out", acknowledged=True).synth()


def test_an_acknowledgment_needs_a_real_reason(tmp_path: Path) -> None:
    stack = cdk.Stack(cdk.App(outdir=str(tmp_path)), "S")
    with pytest.raises(ValueError, match="real reason"):
        acknowledge(stack, "AwsSolutions-SQS3", "ok")


def test_every_stage_passes_the_nag_gate(synthesized: Synthesized) -> None:
    # The fixture synthesized with the gate on; a finding would have raised there. The report agrees.
    report = json.loads((synthesized.outdir / "validation-report.json").read_text())
    failures = [p for p in report["pluginReports"] if p["conclusion"] != "success"]
    assert failures == []


def _run_app(tmp_path: Path, context: dict[str, object]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CDK_OUTDIR": str(tmp_path / "cdk.out"), "CDK_CONTEXT_JSON": json.dumps(context)}
    return subprocess.run(
        [sys.executable, "app.py"], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
    )


@pytest.mark.slow
def test_app_py_synthesizes_all_three_stages(tmp_path: Path) -> None:
    done = _run_app(tmp_path, dict(SKIP_BUNDLING))
    assert done.returncode == 0, done.stderr[-3000:]
    manifest = json.loads((tmp_path / "cdk.out" / "manifest.json").read_text())
    assemblies = {name for name, a in manifest["artifacts"].items() if a["type"] == "cdk:cloud-assembly"}
    assert assemblies == {f"assembly-{stage}" for stage in STAGE_NAMES}


def test_app_py_rejects_an_unknown_stage_with_a_clear_message(tmp_path: Path) -> None:
    done = _run_app(tmp_path, {**SKIP_BUNDLING, "keel:stages": "qa"})
    assert done.returncode == 2
    assert "keel:stages" in done.stderr and "dev, staging, prod" in done.stderr
    assert "Traceback" not in done.stderr
