"""Synthesize each stage once per test session (bundling skipped) and hand out its templates."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from keel.tenant.loader import default_tenant_dir
from stacks.config import STAGE_NAMES, AccountTarget, StageConfig, build_stage_configs
from stacks.stage import KeelStage, add_nag_gate
from stacks.tenant import read_tenant

REPO_ROOT = Path(__file__).resolve().parents[2]
# Template-only tests never build the layer: no pip, no network.
SKIP_BUNDLING: dict[str, list[str]] = {"aws:cdk:bundling-stacks": []}


def file_context() -> dict[str, Any]:
    """The context block of cdk.json (targets and feature flags)."""
    context: dict[str, Any] = json.loads((REPO_ROOT / "cdk.json").read_text(encoding="utf-8"))["context"]
    return context


def stage_configs() -> dict[str, StageConfig]:
    """The configs app.py builds from cdk.json."""
    targets = {s: AccountTarget(**v) for s, v in file_context()["keel:targets"].items()}
    return build_stage_configs(targets, tenant=read_tenant(default_tenant_dir()))


@dataclass
class Synthesized:
    """One synthesized stage: its config, its stage construct, its templates by concern, the assembly dir."""

    config: StageConfig
    stage: KeelStage
    templates: dict[str, Template]
    raw: dict[str, dict[str, Any]]
    outdir: Path

    def resources(self, cfn_type: str) -> dict[str, tuple[str, dict[str, Any]]]:
        """Every resource of a type across the stage's stacks: logical id -> (concern, resource)."""
        found: dict[str, tuple[str, dict[str, Any]]] = {}
        for concern, template in self.raw.items():
            for logical_id, resource in template.get("Resources", {}).items():
                if resource["Type"] == cfn_type:
                    found[f"{concern}/{logical_id}"] = (concern, resource)
        return found


_CACHE: dict[str, Synthesized] = {}


def synthesize(stage_name: str, tmp_root: Path) -> Synthesized:
    """Synthesize one stage with the nag gate on (a finding raises here)."""
    if stage_name not in _CACHE:
        outdir = tmp_root / stage_name
        app = cdk.App(outdir=str(outdir), context={**file_context(), **SKIP_BUNDLING})
        stage = KeelStage(app, stage_configs()[stage_name], REPO_ROOT)
        add_nag_gate(app)
        app.synth()
        assembly = stage.synth()
        raw: dict[str, dict[str, Any]] = {}
        for concern in (
            "data",
            "secrets",
            "identity",
            "search",
            "guardrail",
            "audit",
            "escalation",
            "knowledge",
            "api",
            "access",
            "observability",
        ):
            raw[concern] = assembly.get_stack_by_name(f"keel-{stage_name}-{concern}").template
        templates = {concern: Template.from_json(t) for concern, t in raw.items()}
        _CACHE[stage_name] = Synthesized(stage.config, stage, templates, raw, outdir)
    return _CACHE[stage_name]


@pytest.fixture(scope="session")
def synth_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the session's cloud assemblies go."""
    return tmp_path_factory.mktemp("cdk-out")


@pytest.fixture(scope="session", params=STAGE_NAMES)
def synthesized(request: pytest.FixtureRequest, synth_root: Path) -> Synthesized:
    """Each stage in turn (dev, staging, prod), synthesized once."""
    return synthesize(request.param, synth_root)


@pytest.fixture(scope="session")
def prod(synth_root: Path) -> Synthesized:
    """The prod stage."""
    return synthesize("prod", synth_root)


@pytest.fixture(scope="session")
def dev(synth_root: Path) -> Synthesized:
    """The dev stage."""
    return synthesize("dev", synth_root)
