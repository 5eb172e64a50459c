"""Checks on the synthesized CloudFormation templates (R21): IAM access audit, cdk-nag, rotation, alarms, logging.

The templates come from an existing cloud assembly (cdk.out) or a fresh synthesis of one stage with
asset bundling skipped (no Docker, no pip): `python app.py` with CDK_OUTDIR in a temporary folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from keel.errors import ServiceUnavailable

# Services whose actions read or change customer data: a wildcard there is a finding.
DATA_SERVICES = frozenset({"dynamodb", "s3", "kms", "sqs", "sns", "secretsmanager", "es", "bedrock", "ssm", "states"})
ADMIN_POLICIES = ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess")
_LOGGING_MARKERS = ("PutModelInvocationLoggingConfiguration", "ModelInvocationLogging")


@dataclass
class Assembly:
    """The templates of one synthesized stage, and the cdk-nag validation report if there is one."""

    outdir: Path
    templates: dict[str, dict[str, Any]]
    validation: dict[str, Any] | None = None
    synth_seconds: float = 0.0
    synth_log: str = ""

    def resources(self, cfn_type: str) -> dict[str, dict[str, Any]]:
        """Every resource of a type: 'Stack/LogicalId' -> resource."""
        return {
            f"{stack}/{logical}": resource
            for stack, template in self.templates.items()
            for logical, resource in template.get("Resources", {}).items()
            if resource.get("Type") == cfn_type
        }


@dataclass
class AccessAudit:
    """What the IAM audit found."""

    roles: int
    functions: int
    wildcard_data_actions: list[dict[str, Any]] = field(default_factory=list)
    admin_policies: list[dict[str, Any]] = field(default_factory=list)
    shared_roles: dict[str, list[str]] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """No wildcard data action, no admin policy, one role per function."""
        return not (self.wildcard_data_actions or self.admin_policies or self.shared_roles)


def synthesize(repo_root: Path, outdir: Path, stage: str = "prod", *, timeout: float = 600.0) -> Assembly:
    """Synthesize one stage with bundling skipped into outdir and load it."""
    import time

    context = {"aws:cdk:bundling-stacks": [], "keel:stages": stage}
    env = {**os.environ, "CDK_OUTDIR": str(outdir), "CDK_CONTEXT_JSON": json.dumps(context)}
    started = time.perf_counter()
    try:
        done = subprocess.run(  # noqa: S603 - the repository's own CDK app
            [sys.executable, str(repo_root / "app.py")],
            cwd=repo_root,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ServiceUnavailable(f"CDK synthesis of {stage} took longer than {timeout:.0f} s") from exc
    log = (done.stdout or "") + (done.stderr or "")
    assembly = load_assembly(outdir, stage) if (outdir / f"assembly-{stage}").is_dir() else Assembly(outdir, {})
    assembly.synth_seconds = time.perf_counter() - started
    assembly.synth_log = log[-3000:] if done.returncode else ""
    if done.returncode != 0 and not assembly.templates:
        raise ServiceUnavailable(f"CDK synthesis of {stage} failed: {_last_lines(log)}")
    return assembly


def load_assembly(outdir: Path, stage: str = "prod") -> Assembly:
    """Read assembly-<stage>/*.template.json and validation-report.json from a cloud assembly folder."""
    folder = outdir / f"assembly-{stage}"
    templates = {
        path.name.removesuffix(".template.json"): json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(folder.glob("*.template.json"))
    }
    report = outdir / "validation-report.json"
    validation = json.loads(report.read_text(encoding="utf-8")) if report.is_file() else None
    return Assembly(outdir, templates, validation)


def audit_access(assembly: Assembly) -> AccessAudit:
    """Wildcard data actions, admin policies and roles shared between functions."""
    roles = assembly.resources("AWS::IAM::Role")
    functions = assembly.resources("AWS::Lambda::Function")
    audit = AccessAudit(roles=len(roles), functions=len(functions))
    for name, role in roles.items():
        props = role.get("Properties", {})
        for arn in props.get("ManagedPolicyArns", []) or []:
            text = json.dumps(arn)
            if any(admin in text for admin in ADMIN_POLICIES):
                audit.admin_policies.append({"role": name, "policy": text})
        for policy in props.get("Policies", []) or []:
            _statements(audit, name, policy.get("PolicyDocument", {}))
    for name, policy in assembly.resources("AWS::IAM::Policy").items():
        _statements(audit, name, policy.get("Properties", {}).get("PolicyDocument", {}))
    by_role: dict[str, list[str]] = {}
    for name, function in functions.items():
        role_key = json.dumps(function.get("Properties", {}).get("Role"), sort_keys=True)
        by_role.setdefault(role_key, []).append(name)
    audit.shared_roles = {role_key: names for role_key, names in by_role.items() if len(names) > 1}
    return audit


def _statements(audit: AccessAudit, owner: str, document: Mapping[str, Any]) -> None:
    for statement in _as_list(document.get("Statement")):
        if statement.get("Effect") != "Allow":
            continue
        actions = [a for a in _as_list(statement.get("Action")) if isinstance(a, str)]
        resources = _as_list(statement.get("Resource"))
        if "*" in actions and "*" in resources:
            audit.admin_policies.append({"policy": owner, "statement": "Action * on Resource *"})
        for action in actions:
            service, _, verb = action.partition(":")
            # CDK grants use scoped prefixes (s3:GetObject*); a whole service (dynamodb:*) or * is a finding.
            if action == "*" or (service in DATA_SERVICES and verb == "*"):
                audit.wildcard_data_actions.append({"policy": owner, "action": action, "resource": resources})


def nag_status(assembly: Assembly) -> tuple[bool, dict[str, Any]]:
    """cdk-nag: the AwsSolutions plugin's conclusion and its violation and suppression counts."""
    if assembly.validation is None:
        # No report: the gate is on in app.py, so a finished synthesis means no unacknowledged finding.
        ok = not assembly.synth_log
        return ok, {"report": "none written", "synthesis": "succeeded" if ok else _last_lines(assembly.synth_log)}
    plugins = []
    for plugin in assembly.validation.get("pluginReports", []):
        plugins.append(
            {
                "plugin": plugin.get("pluginName"),
                "conclusion": plugin.get("conclusion"),
                "violations": len(plugin.get("violations", [])),
                "acknowledged": len(plugin.get("suppressedViolations", [])),
            }
        )
    return all(p["conclusion"] == "success" for p in plugins), {"plugins": plugins}


def rotation(assembly: Assembly) -> tuple[bool, dict[str, Any]]:
    """Every Secrets Manager secret has a RotationSchedule."""
    secrets = assembly.resources("AWS::SecretsManager::Secret")
    schedules = assembly.resources("AWS::SecretsManager::RotationSchedule")
    rotated = {json.dumps(s.get("Properties", {}).get("SecretId"), sort_keys=True) for s in schedules.values()}
    missing = [name for name in secrets if json.dumps({"Ref": name.split("/", 1)[1]}, sort_keys=True) not in rotated]
    evidence = {
        "secrets": len(secrets),
        "rotation_schedules": len(schedules),
        "intervals_days": sorted(
            {
                s.get("Properties", {}).get("RotationRules", {}).get("AutomaticallyAfterDays")
                or s.get("Properties", {}).get("RotationRules", {}).get("ScheduleExpression")
                for s in schedules.values()
            },
            key=str,
        ),
        "without_rotation": missing,
    }
    return bool(secrets) and not missing, evidence


def alarms(assembly: Assembly) -> tuple[bool, dict[str, Any]]:
    """CloudWatch alarms exist and notify somewhere (an alarm action)."""
    found = assembly.resources("AWS::CloudWatch::Alarm")
    silent = [n for n, a in found.items() if not a.get("Properties", {}).get("AlarmActions")]
    metrics = sorted({str(a.get("Properties", {}).get("MetricName") or "expression/anomaly") for a in found.values()})
    return bool(found) and not silent, {"alarms": len(found), "metrics": metrics, "without_action": silent}


def invocation_logging(assembly: Assembly) -> tuple[bool, dict[str, Any]]:
    """Bedrock model-invocation logging: off, or only to the locked (Object Lock), encrypted audit bucket."""
    hits = [
        (stack, logical, resource)
        for stack, template in assembly.templates.items()
        for logical, resource in template.get("Resources", {}).items()
        if any(marker in json.dumps(resource) for marker in _LOGGING_MARKERS)
    ]
    if not hits:
        return True, {"model_invocation_logging": "off: no logging configuration in any template"}
    locked = {
        name.split("/", 1)[1]
        for name, bucket in assembly.resources("AWS::S3::Bucket").items()
        if bucket.get("Properties", {}).get("ObjectLockEnabled")
        and bucket.get("Properties", {}).get("BucketEncryption")
    }
    destinations = [
        {"resource": f"{stack}/{logical}", "locked_bucket": any(b in json.dumps(res) for b in locked)}
        for stack, logical, res in hits
    ]
    return all(d["locked_bucket"] for d in destinations), {"configurations": destinations}


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _last_lines(text: str, count: int = 3) -> str:
    lines = [line for line in text.splitlines() if line.strip() and "!!" not in line]
    return " / ".join(lines[-count:])[:500]
