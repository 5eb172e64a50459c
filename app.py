#!/usr/bin/env python3
"""CDK entry point: one Stage per environment (dev, staging, prod), each from stacks.config (R1).

The only module of the CDK app that reads the environment and the CDK context:
- ``CDK_OUTDIR``: where the cloud assembly goes (default ``cdk.out``);
- context ``keel:targets``: ``{stage: {"account": ..., "region": ...}}`` (placeholders in cdk.json);
- context ``keel:overrides``: optional ``{stage: {"federation": {...}, "callback_urls": [...]}}``;
- context ``keel:stages``: optional list or comma-separated subset of stages to synthesize;
- context ``keel:tenant``: the tenant folder to deploy (cdk.json names the example tenant).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aws_cdk as cdk

from keel.errors import KeelError
from stacks.config import STAGE_NAMES, AccountTarget, ConfigError, build_stage_configs
from stacks.stage import KeelStage, add_nag_gate
from stacks.tenant import TenantBundle, TenantFolderError, read_tenant

REPO_ROOT = Path(__file__).resolve().parent


def _targets(raw: Any) -> dict[str, AccountTarget]:
    if not isinstance(raw, Mapping):
        raise ConfigError("context keel:targets: accepted is {stage: {account, region}} (see cdk.json)")
    targets = {}
    for stage, value in raw.items():
        if not isinstance(value, Mapping) or set(value) != {"account", "region"}:
            raise ConfigError(f"context keel:targets.{stage}: accepted is {{'account': ..., 'region': ...}}")
        targets[str(stage)] = AccountTarget(account=str(value["account"]), region=str(value["region"]))
    return targets


def _stages(raw: Any) -> list[str]:
    if raw is None:
        return list(STAGE_NAMES)
    names = [s.strip() for s in raw.split(",")] if isinstance(raw, str) else [str(s) for s in raw]
    unknown = [s for s in names if s not in STAGE_NAMES]
    if unknown or not names:
        raise ConfigError(f"context keel:stages {raw!r}: accepted is a subset of {', '.join(STAGE_NAMES)}")
    return names


def _tenant(raw: Any) -> TenantBundle:
    if not isinstance(raw, str) or not raw:
        raise ConfigError("context keel:tenant: accepted is the path of a tenant folder (see docs/tenant.md)")
    folder = (REPO_ROOT / raw).resolve()
    # The same checks as `keel tenant validate`: a broken tenant is never synthesized, let alone deployed.
    from keel.tenant.loader import load_tenant

    load_tenant(folder)
    try:
        return read_tenant(folder)
    except TenantFolderError as exc:
        raise ConfigError(str(exc)) from None


def main() -> int:
    """Synthesize the selected stages; a configuration error is one clear line, not a traceback."""
    # cdk.json's context is the base, so plain ``python app.py`` behaves like ``cdk synth``;
    # context given on the command line (CDK_CONTEXT_JSON) overrides it.
    file_context = json.loads((REPO_ROOT / "cdk.json").read_text(encoding="utf-8")).get("context", {})
    app = cdk.App(outdir=os.environ.get("CDK_OUTDIR", "cdk.out"), context=file_context)
    try:
        configs = build_stage_configs(
            _targets(app.node.try_get_context("keel:targets")),
            app.node.try_get_context("keel:overrides") or {},
            tenant=_tenant(app.node.try_get_context("keel:tenant")),
        )
        stages = _stages(app.node.try_get_context("keel:stages"))
    except (ConfigError, KeelError) as exc:
        print(f"keel cdk: {exc}", file=sys.stderr)
        return 2
    for stage in stages:
        KeelStage(app, configs[stage], REPO_ROOT)
    add_nag_gate(app)
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
