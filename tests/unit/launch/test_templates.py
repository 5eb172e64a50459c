"""Template checks on small hand-made assemblies: each finding is caught, clean templates pass."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from keel.launch.templates import (
    Assembly,
    alarms,
    audit_access,
    invocation_logging,
    load_assembly,
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


def test_rotation_needs_a_schedule_per_secret() -> None:
    secret = {"Type": "AWS::SecretsManager::Secret", "Properties": {}}
    schedule = {
        "Type": "AWS::SecretsManager::RotationSchedule",
        "Properties": {"SecretId": {"Ref": "S1"}, "RotationRules": {"AutomaticallyAfterDays": 30}},
    }
    ok, evidence = rotation(assembly({"S1": secret, "S2": secret, "R1": schedule}))
    assert not ok and evidence["without_rotation"] == ["stack/S2"]
    ok, evidence = rotation(assembly({"S1": secret, "R1": schedule}))
    assert ok and evidence["intervals_days"] == [30]
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
