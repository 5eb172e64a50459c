"""One Lambda function with its own least-privilege role, log group and the keel layer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.config import FUNCTION_NAMES, StageConfig
from stacks.constructs.layer import ARCHITECTURE, RUNTIME
from stacks.constructs.nag import acknowledge, acknowledge_wildcards
from stacks.constructs.retention import retention

# Data services whose actions must never be granted with a wildcard action.
DATA_SERVICES = frozenset({"dynamodb", "s3", "sqs", "kms", "secretsmanager", "es", "bedrock", "states", "sns"})


@dataclass(frozen=True)
class FunctionNetwork:
    """Where a VPC function runs: its subnets and the security groups it carries."""

    vpc: ec2.IVpc
    security_groups: Sequence[ec2.ISecurityGroup]


def function_role_name(config: StageConfig, name: str) -> str:
    """The physical role name of a function, known before the role exists (breaks stack cycles)."""
    return config.resource_name(f"fn-{name.replace('_', '-')}")


def function_role_arn(config: StageConfig, name: str) -> str:
    """The ARN of a function's role built from its physical name."""
    return f"arn:aws:iam::{config.target.account}:role/{function_role_name(config, name)}"


def function_name(config: StageConfig, name: str) -> str:
    """The physical Lambda name, used by dashboards and alarms."""
    return config.resource_name(name.replace("_", "-"))


class KeelFunction(Construct):
    """A function from ``functions/<name>/`` (that folder only), with a role that starts empty."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        repo_root: Path,
        name: str,
        layer: lambda_.ILayerVersion,
        log_key: kms.IKey,
        description: str,
        environment: Mapping[str, str] | None = None,
        timeout: cdk.Duration | None = None,
        memory_mb: int = 512,
        network: FunctionNetwork | None = None,
    ) -> None:
        """Create the role, log group and function; grant nothing beyond writing its own logs."""
        super().__init__(scope, construct_id)
        if name not in FUNCTION_NAMES:
            raise ValueError(f"function {name!r}: accepted names are {', '.join(FUNCTION_NAMES)}")
        self.name = name
        self.role = iam.Role(
            self,
            "Role",
            role_name=function_role_name(config, name),
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Least-privilege role of the {name} function ({config.name})",
        )
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"/aws/lambda/{function_name(config, name)}",
            retention=retention(config.log_retention_days),
            encryption_key=log_key,
            removal_policy=cdk.RemovalPolicy.RETAIN if config.retain_data else cdk.RemovalPolicy.DESTROY,
        )
        env = {
            "KEEL_ENVIRONMENT": config.name,
            "KEEL_REGION": config.target.region,
            "KEEL_LOG_LEVEL": config.log_level,
            "POWERTOOLS_SERVICE_NAME": f"keel-{name}",
            "POWERTOOLS_LOG_LEVEL": config.log_level,
            "POWERTOOLS_METRICS_NAMESPACE": "Keel",
        }
        env.update(environment or {})
        self.function = lambda_.Function(
            self,
            "Function",
            function_name=function_name(config, name),
            description=description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler="handler.lambda_handler",
            code=lambda_.Code.from_asset(
                str(repo_root / "functions" / name), exclude=["**/__pycache__", "*.pyc", "tests"]
            ),
            layers=[layer],
            role=self.role,
            log_group=self.log_group,
            environment=env,
            timeout=timeout or cdk.Duration.seconds(29),
            memory_size=memory_mb,
            tracing=lambda_.Tracing.ACTIVE,
            vpc=network.vpc if network else None,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS) if network else None,
            security_groups=list(network.security_groups) if network else None,
        )
        self.function.node.add_dependency(self.role)
        self.log_group.grant_write(self.role)
        acknowledge(
            self.function,
            "AwsSolutions-L1",
            "keel is pinned to Python 3.11 (requires-python <3.12) and its layer wheels are built for cp311",
        )
        # X-Ray segments have no resource ARN (AWS documents Resource "*" for these two actions).
        acknowledge(self.role, "AwsSolutions-IAM5[Resource::*]", "X-Ray trace upload and ENI actions take no ARN")
        if network:
            self.allow(
                [
                    "ec2:CreateNetworkInterface",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DeleteNetworkInterface",
                    "ec2:AssignPrivateIpAddresses",
                    "ec2:UnassignPrivateIpAddresses",
                ],
                ["*"],
                wildcard_reason="Lambda VPC networking: these EC2 actions do not support resource-level scoping",
            )

    def allow_key(self, key: kms.IKey, *, encrypt: bool = False) -> None:
        """Use the stage key: decrypt always, encrypt and make data keys only when ``encrypt``."""
        actions = ["kms:Decrypt", "kms:DescribeKey"]
        if encrypt:
            actions += ["kms:Encrypt", "kms:GenerateDataKey"]
        self.allow(actions, [key.key_arn])

    def allow(
        self,
        actions: Sequence[str],
        resources: Sequence[str],
        *,
        wildcard_reason: str | None = None,
        conditions: Mapping[str, Mapping[str, object]] | None = None,
    ) -> None:
        """Grant exactly these actions on these resources; any wildcard resource needs a reason."""
        for action in actions:
            service, _, verb = action.partition(":")
            if "*" in verb and service in DATA_SERVICES:
                raise ValueError(f"{self.name}: wildcard action {action!r} on a data service is not allowed")
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=list(actions),
                resources=list(resources),
                conditions={k: dict(v) for k, v in conditions.items()} if conditions else None,
            )
        )
        stack = cdk.Stack.of(self)
        wild = [r for r in resources if "*" in str(stack.resolve(r))]
        if wild:
            if wildcard_reason is None:
                raise ValueError(f"{self.name}: resources {wild} contain '*'; pass wildcard_reason")
            acknowledge_wildcards(self.role, [], wild, wildcard_reason)
