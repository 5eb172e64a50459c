"""Dev's idle cost, before and after its cheaper choices (issue 19), with the guarantees those choices keep.

"Before" is dev synthesized with the choices switched off (managed NAT gateway, a dashboard per bot), so
the two bills differ by exactly those choices; both are priced by keel.launch.cost and printed per item.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from keel.launch.cost import CostItem, idle_costs, load_prices
from keel.launch.templates import Assembly
from stacks.config import StageConfig
from stacks.stage import KeelStage, add_nag_gate
from tests.infra.conftest import REPO_ROOT, SKIP_BUNDLING, Synthesized, file_context


def _assembly(templates: dict[str, dict[str, Any]]) -> Assembly:
    return Assembly(Path("."), templates)


@pytest.fixture(scope="module")
def dev_before(dev: Synthesized, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Dev's templates without the cheaper choices (nag gate on, as for every stage)."""
    config: StageConfig = dataclasses.replace(dev.config, nat_instance_type=None, one_dashboard=False)
    app = cdk.App(outdir=str(tmp_path_factory.mktemp("dev-before")), context={**file_context(), **SKIP_BUNDLING})
    stage = KeelStage(app, config, REPO_ROOT)
    add_nag_gate(app)
    app.synth()
    assembly = stage.synth()
    return {s.stack_name: s.template for s in assembly.stacks}


def _by_item(items: list[CostItem]) -> dict[str, float]:
    return {i.item: i.usd for i in items}


def test_dev_idle_cost_before_and_after_its_cheaper_choices(
    dev: Synthesized, dev_before: dict[str, dict[str, Any]]
) -> None:
    prices = load_prices()
    before = _by_item(idle_costs(_assembly(dev_before), prices))
    after = _by_item(idle_costs(_assembly(dev.raw), prices))
    print(f"\ndev idle cost per month (prices of {prices.as_of}, {prices.region}):")
    print(f"  {'item':<46} {'before':>8} {'after':>8}")
    for item in sorted(set(before) | set(after), key=lambda i: -max(before.get(i, 0), after.get(i, 0))):
        print(f"  {item:<46} {before.get(item, 0):>8.2f} {after.get(item, 0):>8.2f}")
    total_before, total_after = round(sum(before.values()), 2), round(sum(after.values()), 2)
    print(f"  {'total':<46} {total_before:>8.2f} {total_after:>8.2f}")
    nat_before = before["NAT gateways"] + before["public IPv4 addresses (NAT)"]
    nat_after = (
        after["EC2 instances (t4g.nano, NAT)"]
        + after["EC2 root volumes (gp3)"]
        + after["public IPv4 addresses (NAT instances)"]
    )
    print(
        f"  NAT: {nat_before:.2f} -> {nat_after:.2f}; dashboards: {before['CloudWatch dashboards']:.2f} -> "
        f"{after['CloudWatch dashboards']:.2f}"
    )
    assert "NAT gateways" not in after and nat_after < nat_before
    assert after["CloudWatch dashboards"] == prices.unit("dashboard_month") < before["CloudWatch dashboards"]
    assert round(total_before - total_after, 2) == round(
        nat_before - nat_after + before["CloudWatch dashboards"] - after["CloudWatch dashboards"], 2
    )


def test_only_dev_runs_a_nat_instance_and_one_dashboard(synthesized: Synthesized) -> None:
    instances = synthesized.resources("AWS::EC2::Instance")
    gateways = synthesized.resources("AWS::EC2::NatGateway")
    dashboards = synthesized.resources("AWS::CloudWatch::Dashboard")
    if synthesized.config.name == "dev":
        assert len(instances) == 1 and not gateways and len(dashboards) == 1
    else:
        assert not instances and len(gateways) == synthesized.config.nat_gateways
        assert len(dashboards) == len(synthesized.config.bots)


def test_the_nat_instance_keeps_the_guarantees(dev: Synthesized) -> None:
    # Encrypted root volume, IMDSv2 only, HTTPS in from the VPC alone, no SSH key, no inbound from the internet.
    ((_, instance),) = dev.resources("AWS::EC2::Instance").values()
    props = instance["Properties"]
    assert [m["Ebs"]["Encrypted"] for m in props["BlockDeviceMappings"]] == [True]
    assert "KeyName" not in props and props["SourceDestCheck"] is False
    launch = [r for _, r in dev.resources("AWS::EC2::LaunchTemplate").values()]
    assert launch and all(
        t["Properties"]["LaunchTemplateData"]["MetadataOptions"]["HttpTokens"] == "required" for t in launch
    )
    groups = {k.split("/", 1)[1]: r for k, (_, r) in dev.resources("AWS::EC2::SecurityGroup").items()}
    (group_ref,) = [g["Fn::GetAtt"][0] for g in props["SecurityGroupIds"]]
    ingress = groups[group_ref]["Properties"]["SecurityGroupIngress"]
    assert len(ingress) == 1 and ingress[0]["FromPort"] == ingress[0]["ToPort"] == 443
    assert "Fn::GetAtt" in ingress[0]["CidrIp"] and ingress[0]["CidrIp"]["Fn::GetAtt"][1] == "CidrBlock"
    assert "0.0.0.0/0" not in json.dumps(ingress)
