"""`keel cost`: the arithmetic pinned on a small hand-made template, and the command's tables and errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from keel.cli.main import main
from keel.errors import InvalidRequest
from keel.launch.cost import (
    NOT_BILLED_WHILE_IDLE,
    PRICED_TYPES,
    TurnProfile,
    idle_costs,
    load_prices,
    stage_cost,
    table,
    unpriced_types,
)
from keel.launch.templates import Assembly

SONNET = "eu.anthropic.claude-sonnet-4-5-20250929-v1:0"
PROFILE = TurnProfile(
    measured_on="2026-12-04",
    how="hand-made",
    answer_input_tokens=1500,
    answer_output_tokens=200,
    planning_calls_per_turn=0.25,
    planning_input_tokens=400,
    planning_output_tokens=30,
    message_chars=250,
    answer_chars=600,
    lambda_seconds_per_turn=2.0,
)


def r(kind: str, **props: Any) -> dict[str, Any]:
    return {"Type": kind, "Properties": props}


SMALL = {
    "Nat": r("AWS::EC2::NatGateway"),
    "Ip": r("AWS::EC2::EIP"),
    "Endpoint": r("AWS::EC2::VPCEndpoint", VpcEndpointType="Interface", SubnetIds=["a", "b"]),
    "Gateway": r("AWS::EC2::VPCEndpoint", VpcEndpointType="Gateway"),
    "Search": r(
        "AWS::OpenSearchService::Domain",
        ClusterConfig={"InstanceType": "t3.small.search", "InstanceCount": 1},
        EBSOptions={"EBSEnabled": True, "VolumeSize": 10, "VolumeType": "gp3"},
    ),
    "Key1": r("AWS::KMS::Key"),
    "Key2": r("AWS::KMS::Key"),
    "Secret": r("AWS::SecretsManager::Secret"),
    "Alarm": r("AWS::CloudWatch::Alarm", MetricName="Errors"),
    "Band": r("AWS::CloudWatch::Alarm", Metrics=[{"Expression": "ANOMALY_DETECTION_BAND(m1, 2)"}]),
    "Board": r("AWS::CloudWatch::Dashboard"),
    "Acl": r("AWS::WAFv2::WebACL", Rules=[{}, {}]),
    "Logs": r("AWS::Logs::LogGroup", RetentionInDays=30),
    "Chat": r(
        "AWS::Lambda::Function",
        MemorySize=1024,
        Environment={"Variables": {"KEEL_MODEL_PRIMARY": SONNET, "KEEL_BEDROCK_GUARDRAIL_VERSION": "1"}},
    ),
}


def test_idle_cost_of_a_small_template_is_pinned() -> None:
    # eu-west-1 prices of aws_prices.json, 730 hours a month.
    items = {i.item: i.usd for i in idle_costs(Assembly(Path("."), {"s": {"Resources": SMALL}}), load_prices())}
    assert items == {
        "NAT gateways": 35.04,  # 0.048 x 730
        "OpenSearch data nodes (t3.small.search)": 27.74,  # 0.038 x 730
        "interface VPC endpoints": 16.06,  # 2 AZs x 0.011 x 730
        "WAF web ACLs": 5.0,
        "public IPv4 addresses (NAT)": 3.65,  # 0.005 x 730
        "CloudWatch dashboards": 3.0,
        "KMS keys": 2.0,
        "WAF rules": 2.0,
        "OpenSearch storage (gp3)": 1.34,  # 10 GB x 0.134
        "log ingestion (idle platform logs)": 0.57,  # 1 GB x 0.57
        "Secrets Manager secrets": 0.4,
        "CloudWatch anomaly-detection alarms": 0.3,
        "CloudWatch alarms": 0.1,
        "log storage at that retention": 0.03,  # 1 GB kept 30 days x 0.03
    }
    cost = stage_cost("dev", Assembly(Path("."), {"s": {"Resources": SMALL}}), PROFILE)
    assert cost.idle_usd == 97.23


def test_cost_per_thousand_turns_is_pinned() -> None:
    cost = stage_cost("dev", Assembly(Path("."), {"s": {"Resources": SMALL}}), PROFILE)
    items = {i.item: i.usd for i in cost.per_1k_turns}
    # Sonnet 4.5 through the eu profile: 0.0033 in, 0.0165 out per 1,000 tokens.
    assert items["model: answer call"] == pytest.approx(1000 * (1.5 * 0.0033 + 0.2 * 0.0165))  # 8.25
    assert items["model: tool-planning call"] == pytest.approx(250 * (0.4 * 0.0033 + 0.03 * 0.0165), abs=1e-4)
    assert items["guardrail (answer screen)"] == pytest.approx(1000 * 1 * 0.00015)  # 600 chars: 1 text unit
    assert items["PII detection (Comprehend)"] == pytest.approx(1000 * 3 * 0.0001)  # 250 chars: minimum 3 units
    assert items["REST API requests"] == pytest.approx(0.0035)
    assert items["Lambda (chat function)"] == pytest.approx(1000 * (2.0 * 0.0000133334 + 0.0000002), abs=1e-4)
    assert cost.per_1k_turns_usd == pytest.approx(sum(items.values()), abs=1e-3)
    text = table(cost, top=3)
    assert text.startswith("dev: idle 97.23 USD a month") and "11 smaller items" in text
    assert "NAT gateways" in text.splitlines()[2]


def test_an_unpriced_instance_type_is_a_clear_error() -> None:
    odd = {**SMALL, "Search": r("AWS::OpenSearchService::Domain", ClusterConfig={"InstanceType": "x9.huge.search"})}
    with pytest.raises(Exception, match=r"no opensearch_instance_hour price for 'x9\.huge\.search'; priced: "):
        idle_costs(Assembly(Path("."), {"s": {"Resources": odd}}), load_prices())


def _cdk_out(tmp_path: Path) -> Path:
    folder = tmp_path / "assembly-dev"
    folder.mkdir()
    (folder / "keel-dev-all.template.json").write_text(json.dumps({"Resources": SMALL}))
    return tmp_path


def test_the_command_prints_a_table_per_stage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    profile = tmp_path / "tokens.json"
    profile.write_text(json.dumps(PROFILE.__dict__))
    code = main(["cost", "--stage", "dev", "--cdk-out", str(_cdk_out(tmp_path)), "--turn-profile", str(profile)])
    out = capsys.readouterr().out
    assert code == 0 and out.startswith("dev: idle 97.23 USD a month")
    assert main(["cost", "--stage", "dev", "--cdk-out", str(tmp_path), "--turn-profile", str(profile), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["idle_monthly_usd"] == 97.23


def test_bad_inputs_are_clear_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cost", "--stage", "prod", "--cdk-out", str(_cdk_out(tmp_path))]) == 2
    assert "no assembly-prod folder" in capsys.readouterr().err
    broken = tmp_path / "broken.json"
    broken.write_text("{}")
    args = ["cost", "--stage", "dev", "--cdk-out", str(tmp_path), "--turn-profile", str(broken)]
    assert main(args) == 2
    assert "accepted is a JSON object with measured_on" in capsys.readouterr().err


def test_preflight_prints_the_audited_stages_bill() -> None:
    from keel.launch.preflight import Options, Preflight
    from tests.conftest import REPO_ROOT

    check = Preflight({}, Options(repo_root=REPO_ROOT, out_dir=Path("."), stage="dev"))
    check._assembly = Assembly(Path("."), {"s": {"Resources": SMALL}})
    status, summary, evidence, _ = check._cost()
    assert status == "pass" and summary.startswith("dev: idle 97.23 USD a month (largest: NAT gateways 35.04")
    assert evidence["per_1k_turns_usd"] > 0 and "NAT gateways" in evidence["markdown"]


def test_a_nat_instance_is_priced_with_its_volume_and_public_address() -> None:
    # A t4g.nano in a subnet that maps public addresses, with an 8 GB gp3 root volume.
    nat = {
        "Public": r("AWS::EC2::Subnet", MapPublicIpOnLaunch=True),
        "Private": r("AWS::EC2::Subnet", MapPublicIpOnLaunch=False),
        "Nat": r(
            "AWS::EC2::Instance",
            InstanceType="t4g.nano",
            SubnetId={"Ref": "Public"},
            BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 8, "VolumeType": "gp3"}}],
        ),
        "Template": r("AWS::EC2::LaunchTemplate"),
    }
    items = {i.item: i.usd for i in idle_costs(Assembly(Path("."), {"s": {"Resources": nat}}), load_prices())}
    assert items == {
        "EC2 instances (t4g.nano, NAT)": 3.36,  # 0.0046 x 730
        "public IPv4 addresses (NAT instances)": 3.65,  # 0.005 x 730
        "EC2 root volumes (gp3)": 0.7,  # 8 GB x 0.088
    }
    private = {**nat, "Nat": r("AWS::EC2::Instance", **{**nat["Nat"]["Properties"], "SubnetId": {"Ref": "Private"}})}
    items = {i.item for i in idle_costs(Assembly(Path("."), {"s": {"Resources": private}}), load_prices())}
    assert "public IPv4 addresses (NAT instances)" not in items


def test_an_instance_whose_volume_the_template_does_not_state_is_refused() -> None:
    bare = {"Nat": r("AWS::EC2::Instance", InstanceType="t4g.nano")}
    with pytest.raises(InvalidRequest, match="has no BlockDeviceMappings, so its root volume cannot be priced"):
        idle_costs(Assembly(Path("."), {"s": {"Resources": bare}}), load_prices())


def test_a_resource_type_with_no_price_is_refused_not_counted_as_zero(capsys: pytest.CaptureFixture[str]) -> None:
    # Given a template with a billable type cost.py does not know (an RDS instance), When it is priced,
    # Then the estimate stops with an error naming the type and where it is, never a silent zero.
    odd = {**SMALL, "Db": r("AWS::RDS::DBInstance", DBInstanceClass="db.t4g.micro")}
    with pytest.raises(InvalidRequest, match=r"no price for AWS::RDS::DBInstance \(s/Db\): add its price"):
        idle_costs(Assembly(Path("."), {"s": {"Resources": odd}}), load_prices())
    assert unpriced_types(Assembly(Path("."), {"s": {"Resources": SMALL}})) == {}


def test_the_command_refuses_an_unpriced_type_clearly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "assembly-dev"
    folder.mkdir()
    odd = {**SMALL, "Cache": r("AWS::ElastiCache::CacheCluster")}
    (folder / "keel-dev-all.template.json").write_text(json.dumps({"Resources": odd}))
    assert main(["cost", "--stage", "dev", "--cdk-out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "no price for AWS::ElastiCache::CacheCluster" in err and "Traceback" not in err


def test_every_known_free_type_says_why_and_no_type_is_both() -> None:
    assert all(reason.strip() for reason in NOT_BILLED_WHILE_IDLE.values())
    assert not PRICED_TYPES & set(NOT_BILLED_WHILE_IDLE)
