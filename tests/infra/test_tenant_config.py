"""The tenant is deployed through AppConfig: schema validator, stepped rollout with alarm rollback, and
function roles that read only the tenant profile."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk.assertions import Template

from stacks.tenant_config import READ_ACTIONS
from tests.infra.conftest import REPO_ROOT, Synthesized


def tenant_template(stage: Synthesized) -> dict[str, Any]:
    assembly = stage.stage.synth()
    template: dict[str, Any] = assembly.get_stack_by_name(f"keel-{stage.config.name}-tenant-config").template
    return template


def of_type(template: dict[str, Any], cfn_type: str) -> list[dict[str, Any]]:
    return [r["Properties"] for r in template["Resources"].values() if r["Type"] == cfn_type]


def test_the_profile_validates_with_the_tenant_schema_and_hosts_the_tenant(prod: Synthesized) -> None:
    template = tenant_template(prod)
    (profile,) = of_type(template, "AWS::AppConfig::ConfigurationProfile")
    (validator,) = profile["Validators"]
    assert validator["Type"] == "JSON_SCHEMA"
    assert validator["Content"] == (REPO_ROOT / "docs" / "tenant.schema.json").read_text()
    (version,) = of_type(template, "AWS::AppConfig::HostedConfigurationVersion")
    document = json.loads(version["Content"])
    assert document["tenant"]["name"] == prod.config.tenant.document["name"]
    assert set(document["policies"]) == set(prod.config.tenant.policies)


def test_prod_rolls_out_in_steps_and_rolls_back_on_the_chat_error_alarm(prod: Synthesized) -> None:
    template = tenant_template(prod)
    (strategy,) = of_type(template, "AWS::AppConfig::DeploymentStrategy")
    assert strategy["GrowthFactor"] < 100 and strategy["FinalBakeTimeInMinutes"] >= 10
    (environment,) = of_type(template, "AWS::AppConfig::Environment")
    (monitor,) = environment["Monitors"]
    assert monitor["AlarmArn"].endswith(":alarm:keel-prod-fn-chat-errors")
    (deployment,) = of_type(template, "AWS::AppConfig::Deployment")
    assert set(deployment) >= {"ApplicationId", "EnvironmentId", "ConfigurationProfileId", "ConfigurationVersion"}


def test_function_roles_read_only_the_tenant_profile(prod: Synthesized) -> None:
    grants = []
    for concern, template in prod.raw.items():
        for policy in Template.from_json(template).find_resources("AWS::IAM::Policy").values():
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                if any(a.startswith("appconfig:") for a in actions):
                    grants.append((concern, sorted(actions), json.dumps(statement["Resource"])))
    assert grants, "no function reads the tenant"
    for concern, actions, resource in grants:
        assert actions == sorted(READ_ACTIONS), (concern, actions)
        assert "/configuration/" in resource and "*" not in resource, (concern, resource)
    # The turn, the channels and ingestion read it; the audit writer and escalation worker never do.
    assert {concern for concern, _, _ in grants} == {"api", "knowledge"}
