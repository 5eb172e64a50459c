"""Template checks on small hand-made assemblies: each finding is caught, clean templates pass."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from keel.launch.templates import (
    Assembly,
    alarms,
    audit_access,
    invocation_logging,
    load_assembly,
    models,
    nag_status,
    rotation,
)


def role(policies: list[dict[str, Any]] | None = None, managed: list[Any] | None = None) -> dict[str, Any]:
    props: dict[str, Any] = {"AssumeRolePolicyDocument": {}}
    if policies:
        props["Policies"] = [{"PolicyName": "p", "PolicyDocument": {"Statement": policies}}]
    if managed:
        props["ManagedPolicyArns"] = managed
    return {"Type": "AWS::IAM::Role", "Properties": props}


def function(role_id: str) -> dict[str, Any]:
    return {"Type": "AWS::Lambda::Function", "Properties": {"Role": {"Fn::GetAtt": [role_id, "Arn"]}}}


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Type": "AWS::IAM::Policy", "Properties": {"PolicyDocument": {"Statement": list(statements)}}}


def allow(action: Any, resource: Any = "arn:aws:dynamodb:eu-west-1:1:table/t") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def assembly(resources: dict[str, Any]) -> Assembly:
    return Assembly(Path("."), {"stack": {"Resources": resources}})


CLEAN = {
    "RoleA": role(
        managed=[{"Fn::Join": ["", ["arn:", "aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]]}]
    ),
    "RoleB": role(),
    "FnA": function("RoleA"),
    "FnB": function("RoleB"),
    "PolA": policy(allow(["dynamodb:GetItem", "dynamodb:Query"]), allow(["s3:GetObject*", "s3:List*"])),
    "PolB": policy(allow("xray:PutTraceSegments", "*"), {"Effect": "Deny", "Action": "*", "Resource": "*"}),
}


def test_least_privilege_templates_pass() -> None:
    audit = audit_access(assembly(CLEAN))
    assert audit.passed and audit.roles == 2 and audit.functions == 2


def test_a_whole_service_wildcard_on_data_is_a_finding() -> None:
    audit = audit_access(assembly({**CLEAN, "PolC": policy(allow("dynamodb:*"))}))
    assert not audit.passed
    assert audit.wildcard_data_actions[0]["action"] == "dynamodb:*"


def test_admin_policies_are_findings() -> None:
    managed = assembly({**CLEAN, "RoleA": role(managed=["arn:aws:iam::aws:policy/AdministratorAccess"])})
    assert audit_access(managed).admin_policies
    star = assembly({**CLEAN, "PolC": policy(allow("*", "*"))})
    assert audit_access(star).admin_policies and audit_access(star).wildcard_data_actions


def test_functions_sharing_a_role_are_a_finding() -> None:
    audit = audit_access(assembly({**CLEAN, "FnB": function("RoleA")}))
    assert list(audit.shared_roles.values()) == [["stack/FnA", "stack/FnB"]]


REST_KEY = {
    "keel:rotation": "rest-key",
    "keel:rotation-url": "https://crm.example.com",
    "keel:rotation-auth": "bearer",
    "keel:rotation-field": "access_token",
}


def secret(name: str, tags: dict[str, str] | None = None) -> dict[str, Any]:
    props: dict[str, Any] = {"Name": name}
    if tags is not None:
        props["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()] + [{"Key": "stage", "Value": "prod"}]
    return {"Type": "AWS::SecretsManager::Secret", "Properties": props}


def schedule(secret_id: str) -> dict[str, Any]:
    return {
        "Type": "AWS::SecretsManager::RotationSchedule",
        "Properties": {"SecretId": {"Ref": secret_id}, "RotationRules": {"AutomaticallyAfterDays": 30}},
    }


def age_rule(*secret_ids: str) -> dict[str, Any]:
    # The shape CDK synthesizes for RuleTargetInput.from_object with secret ARN tokens.
    parts: list[Any] = ['{"check":"secret-age","secret_ids":["']
    for i, secret_id in enumerate(secret_ids):
        parts += [{"Ref": secret_id}, '","' if i < len(secret_ids) - 1 else '"],"max_age_days":30}']
    target = {"Arn": {"Fn::GetAtt": ["Fn", "Arn"]}, "Id": "Target0", "Input": {"Fn::Join": ["", parts]}}
    return {"Type": "AWS::Events::Rule", "Properties": {"ScheduleExpression": "cron(0 6 * * ? *)", "Targets": [target]}}


OVERDUE_ALARM = {
    "Type": "AWS::CloudWatch::Alarm",
    "Properties": {"MetricName": "SecretsOverdue", "Namespace": "Keel", "AlarmActions": [{"Ref": "Topic"}]},
}
ROTATED = {
    "Crm": secret("keel/prod/crm", REST_KEY),
    "CrmRotation": schedule("Crm"),
    "Slack": secret("keel/prod/slack-bot-token", {"keel:rotation": "provider"}),
    "AgeCheck": age_rule("Slack"),
    "Overdue": OVERDUE_ALARM,
}


def test_rotation_passes_when_each_secret_has_a_schedule_or_the_age_check_and_says_how() -> None:
    ok, evidence = rotation(assembly(ROTATED))
    assert ok and evidence["failing"] == {}
    assert evidence["automatic"] == ["keel/prod/crm"] and evidence["provider_rotated"] == ["keel/prod/slack-bot-token"]
    assert evidence["how"]["keel/prod/crm"] == "automatic (rest-key), every [30] days"
    assert "daily secret-age check" in evidence["how"]["keel/prod/slack-bot-token"]
    assert evidence["age_check"] == {
        "rules": ["stack/AgeCheck"],
        "max_age_days": [30],
        "overdue_alarms": ["stack/Overdue"],
    }


def test_a_secret_with_neither_a_schedule_nor_the_age_check_fails() -> None:
    untagged = {**ROTATED, "Helpdesk": secret("keel/prod/helpdesk")}
    ok, evidence = rotation(assembly(untagged))
    assert not ok and list(evidence["failing"]) == ["keel/prod/helpdesk"]
    assert "neither a rotation schedule nor the provider age check" in evidence["failing"]["keel/prod/helpdesk"]
    unchecked = {**ROTATED, "Helpdesk": secret("keel/prod/helpdesk", {"keel:rotation": "provider"})}
    assert "no scheduled secret-age check" in rotation(assembly(unchecked))[1]["failing"]["keel/prod/helpdesk"]
    tagged = {**ROTATED, "Hr": secret("keel/prod/hr", REST_KEY)}
    assert rotation(assembly(tagged))[1]["failing"] == {
        "keel/prod/hr": "keel:rotation=rest-key but no rotation schedule"
    }


def test_a_schedule_on_a_secret_whose_tags_cannot_rotate_fails() -> None:
    # The old shape: every secret scheduled, provider-issued ones untagged, so each rotation fails.
    untagged = {**ROTATED, "Slack": secret("keel/prod/slack-bot-token"), "SlackRotation": schedule("Slack")}
    ok, evidence = rotation(assembly(untagged))
    assert (
        not ok
        and "its tags cannot run: keel/prod/slack-bot-token has no keel:rotation tag"
        in (evidence["failing"]["keel/prod/slack-bot-token"])
    )
    on_provider = {**ROTATED, "SlackRotation": schedule("Slack")}
    assert "can never succeed" in rotation(assembly(on_provider))[1]["failing"]["keel/prod/slack-bot-token"]
    half_tagged = {**ROTATED, "Crm": secret("keel/prod/crm", {"keel:rotation": "rest-key"})}
    assert "has no keel:rotation-url tag" in rotation(assembly(half_tagged))[1]["failing"]["keel/prod/crm"]


def test_provider_secrets_need_an_overdue_alarm_that_notifies() -> None:
    silent = {**ROTATED, "Overdue": {**OVERDUE_ALARM, "Properties": {"MetricName": "SecretsOverdue"}}}
    ok, evidence = rotation(assembly(silent))
    assert not ok and "no SecretsOverdue alarm with an action" in evidence["failing"]["keel/prod/slack-bot-token"]
    disabled = {
        **ROTATED,
        "AgeCheck": {**age_rule("Slack"), "Properties": {**age_rule("Slack")["Properties"], "State": "DISABLED"}},
    }
    assert not rotation(assembly(disabled))[0]
    assert rotation(assembly({}))[0] is False  # no secrets at all is not "configured"


def test_alarms_must_exist_and_notify() -> None:
    alarm = {"Type": "AWS::CloudWatch::Alarm", "Properties": {"MetricName": "Errors", "AlarmActions": ["topic"]}}
    assert alarms(assembly({"A": alarm}))[0]
    assert not alarms(assembly({}))[0]
    silent = {"Type": "AWS::CloudWatch::Alarm", "Properties": {"MetricName": "Errors"}}
    assert alarms(assembly({"A": alarm, "B": silent}))[1]["without_action"] == ["stack/B"]


def test_invocation_logging_off_or_only_to_the_locked_bucket() -> None:
    assert invocation_logging(assembly({}))[0]
    locked = {
        "Type": "AWS::S3::Bucket",
        "Properties": {"ObjectLockEnabled": True, "BucketEncryption": {"x": 1}},
    }
    to_locked = {"Type": "Custom::AWS", "Properties": {"Create": "PutModelInvocationLoggingConfiguration AuditBucket"}}
    assert invocation_logging(assembly({"AuditBucket": locked, "Log": to_locked}))[0]
    elsewhere = {"Type": "Custom::AWS", "Properties": {"Create": "PutModelInvocationLoggingConfiguration OtherBucket"}}
    ok, evidence = invocation_logging(assembly({"AuditBucket": locked, "Log": elsewhere}))
    assert not ok and evidence["configurations"][0]["locked_bucket"] is False


def test_nag_status_reads_the_validation_report(tmp_path: Path) -> None:
    (tmp_path / "assembly-prod").mkdir()
    (tmp_path / "assembly-prod" / "prodApi.template.json").write_text(json.dumps({"Resources": {}}))
    report = {"pluginReports": [{"pluginName": "nag", "conclusion": "failure", "violations": [{}]}]}
    (tmp_path / "validation-report.json").write_text(json.dumps(report))
    loaded = load_assembly(tmp_path)
    assert list(loaded.templates) == ["prodApi"]
    ok, evidence = nag_status(loaded)
    assert not ok and evidence["plugins"][0]["violations"] == 1
    no_report = Assembly(tmp_path, {})
    assert nag_status(no_report)[0]


def configured(region: str, **variables: str) -> dict[str, Any]:
    env = {"KEEL_REGION": region, **{f"KEEL_MODEL_{k.upper()}": v for k, v in variables.items()}}
    return {"Type": "AWS::Lambda::Function", "Properties": {"Environment": {"Variables": env}}}


SONNET = "anthropic.claude-sonnet-4-5-20250929-v1:0"


def test_preflight_models_pass_for_current_profiles_reachable_from_the_region() -> None:
    ok, evidence = models(assembly({"Chat": configured("eu-west-1", primary=f"eu.{SONNET}")}))
    assert ok and evidence["failing"] == {}
    assert evidence["models"][f"eu.{SONNET}"]["settings"] == ["KEEL_MODEL_PRIMARY"]


@pytest.mark.parametrize(
    ("model_id", "region", "message"),
    [
        ("anthropic.claude-3-haiku-20240307-v1:0", "eu-west-1", "legacy model"),
        (SONNET, "eu-west-1", "bare model id"),
        (f"eu.{SONNET}", "us-east-1", "cannot be invoked from us-east-1"),
    ],
)
def test_preflight_models_fail_on_legacy_bare_and_unreachable_ids(model_id: str, region: str, message: str) -> None:
    ok, evidence = models(assembly({"Chat": configured(region, primary=f"eu.{SONNET}", small=model_id)}))
    assert not ok
    assert message in " ".join(evidence["failing"][model_id])


def test_preflight_models_fail_when_no_function_names_a_model() -> None:
    assert models(assembly(CLEAN))[0] is False
