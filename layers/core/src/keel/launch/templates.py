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

from keel.contract import SCHEME_TAG, Scheme
from keel.contract import SECRET_AGE_CHECK as CHECK
from keel.contract import SECRETS_OVERDUE_METRIC as OVERDUE_METRIC
from keel.errors import ServiceUnavailable
from keel.integrations.rotation import RotationFailed
from keel.integrations.rotation_schemes import RotationScheme, tag_map

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
    """Each secret rotates: a schedule its tags let succeed, or at its provider under the age check and its alarm."""
    secrets = assembly.resources("AWS::SecretsManager::Secret")
    schedules = assembly.resources("AWS::SecretsManager::RotationSchedule")
    intervals: dict[str, list[Any]] = {}
    for name, schedule in schedules.items():
        props = schedule.get("Properties", {})
        rules = props.get("RotationRules", {})
        every = rules.get("AutomaticallyAfterDays") or rules.get("ScheduleExpression")
        intervals.setdefault(_ref_key(name, props.get("SecretId")), []).append(every)
    checked, max_ages, rules = _age_checks(assembly)
    overdue_alarms = [
        name
        for name, alarm in assembly.resources("AWS::CloudWatch::Alarm").items()
        if alarm.get("Properties", {}).get("MetricName") == OVERDUE_METRIC
        and alarm.get("Properties", {}).get("AlarmActions")
    ]
    how: dict[str, str] = {}
    failing: dict[str, str] = {}
    automatic: list[str] = []
    provider: list[str] = []
    for key, secret in secrets.items():
        props = secret.get("Properties", {})
        name = props["Name"] if isinstance(props.get("Name"), str) else key
        verdict, reason = _rotation_verdict(key, name, props, intervals.get(key), key in checked, bool(overdue_alarms))
        how[name] = reason
        if verdict == "automatic":
            automatic.append(name)
        elif verdict == "provider":
            provider.append(name)
        else:
            failing[name] = reason
    evidence = {
        "secrets": len(secrets),
        "rotation_schedules": len(schedules),
        "automatic": automatic,
        "provider_rotated": provider,
        "intervals_days": sorted({i for found in intervals.values() for i in found}, key=str),
        "age_check": {"rules": rules, "max_age_days": sorted(max_ages), "overdue_alarms": overdue_alarms},
        "how": how,
        "failing": failing,
    }
    return bool(secrets) and not failing, evidence


def _rotation_verdict(
    key: str, name: str, props: Mapping[str, Any], every: list[Any] | None, age_checked: bool, alarmed: bool
) -> tuple[str, str]:
    """("automatic" | "provider" | "fail", how the secret rotates or why it does not)."""
    try:
        scheme: Scheme | None = RotationScheme.from_tags(name, tag_map(_as_list(props.get("Tags")))).scheme
        refusal = ""
    except RotationFailed as exc:
        scheme, refusal = None, exc.message
    if every:
        if scheme in (Scheme.REST_KEY, Scheme.SELF_ISSUED):
            return "automatic", f"automatic ({scheme}), every {every} days"
        if scheme is Scheme.PROVIDER:
            return "fail", f"a rotation schedule on a {SCHEME_TAG}=provider secret, which can never succeed"
        return "fail", f"a rotation schedule its tags cannot run: {refusal}"
    if scheme is Scheme.PROVIDER:
        if not age_checked:
            return "fail", f"{SCHEME_TAG}=provider but no scheduled {CHECK} check names it"
        if not alarmed:
            return "fail", f"{SCHEME_TAG}=provider and age-checked, but no {OVERDUE_METRIC} alarm with an action"
        return "provider", f"at its provider (put-secret-value); daily {CHECK} check and {OVERDUE_METRIC} alarm"
    if scheme is not None:
        return "fail", f"{SCHEME_TAG}={scheme} but no rotation schedule"
    return "fail", f"neither a rotation schedule nor the provider age check ({refusal})"


def _age_checks(assembly: Assembly) -> tuple[set[str], set[int], list[str]]:
    """Secrets named by an enabled scheduled rule's secret-age input, the max ages it passes, and the rules."""
    checked: set[str] = set()
    max_ages: set[int] = set()
    rules: list[str] = []
    for name, rule in assembly.resources("AWS::Events::Rule").items():
        props = rule.get("Properties", {})
        if not props.get("ScheduleExpression") or props.get("State", "ENABLED") != "ENABLED":
            continue
        stack = name.split("/", 1)[0]
        for target in _as_list(props.get("Targets")):
            try:
                event = json.loads(_render(target.get("Input"), stack))
            except (TypeError, ValueError):
                continue
            if not isinstance(event, dict) or event.get("check") != CHECK:
                continue
            rules.append(name)
            checked.update(str(s) for s in _as_list(event.get("secret_ids")))
            if isinstance(event.get("max_age_days"), int):
                max_ages.add(event["max_age_days"])
    return checked, max_ages, rules


def _render(value: Any, stack: str) -> str:
    """A rule input as text, each {"Ref": id} written as "stack/id" (how Assembly.resources names resources)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Ref" in value:
        return f"{stack}/{value['Ref']}"
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(_render(part, stack) for part in parts)
    raise TypeError(f"unrendered rule input {value!r}")


def _ref_key(owner: str, value: Any) -> str:
    stack = owner.split("/", 1)[0]
    if isinstance(value, dict) and "Ref" in value:
        return f"{stack}/{value['Ref']}"
    return json.dumps(value, sort_keys=True)


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


def models(assembly: Assembly) -> tuple[bool, dict[str, Any]]:
    """Every model a function is configured to call is active, a profile where one is required, and reachable.

    Reads ``KEEL_MODEL_*`` and ``KEEL_REGION`` of every function and asks the dated catalogue
    (keel.models.catalogue) why each id would fail from that Region.
    """
    from keel.models.catalogue import Catalogue

    catalogue = Catalogue()
    found: dict[str, dict[str, Any]] = {}
    for name, function in assembly.resources("AWS::Lambda::Function").items():
        variables = function.get("Properties", {}).get("Environment", {}).get("Variables", {}) or {}
        region = variables.get("KEEL_REGION")
        for key, model_id in sorted(variables.items()):
            if not key.startswith("KEEL_MODEL_") or not isinstance(model_id, str):
                continue
            entry = found.setdefault(model_id, {"region": region, "settings": set(), "functions": 0, "problems": []})
            entry["settings"].add(key)
            entry["functions"] += 1
            if not entry["problems"]:
                entry["problems"] = (
                    catalogue.problems(model_id, str(region))
                    if isinstance(region, str)
                    else [f"{name} has {key} but no KEEL_REGION to check it against"]
                )
    evidence = {
        "prices_as_of": catalogue.prices_as_of,
        "models": {m: {**e, "settings": sorted(e["settings"])} for m, e in sorted(found.items())},
        "failing": {m: e["problems"] for m, e in sorted(found.items()) if e["problems"]},
    }
    return bool(found) and not evidence["failing"], evidence


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _last_lines(text: str, count: int = 3) -> str:
    lines = [line for line in text.splitlines() if line.strip() and "!!" not in line]
    return " / ".join(lines[-count:])[:500]
