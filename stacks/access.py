"""Access stack: engineers' standing role and the break-glass role (R1, R8).

Standing access: in prod and staging the engineer role only reads (metrics, logs, traces,
configuration, workflow history; never table items or secrets). In dev it may also operate:
invoke functions, start and stop executions, redrive dead letters, read items.

Break-glass (documented procedure): when production needs a change that standing access cannot
make (stop a runaway workflow, throttle a function to zero, redrive dead letters, revoke a
subject by hand), an on-call engineer assumes ``keel-<stage>-break-glass`` with MFA for at most
``engineers.break_glass_max_session_hours``. Every assumption is sent to the alarm topic (see the
observability stack) and recorded by CloudTrail; the incident ticket must cite the session.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks.config import EngineerAccessMode, StageConfig
from stacks.constructs.nag import acknowledge, acknowledge_wildcards

# Read-only: describe, list and read telemetry. Deliberately no dynamodb:GetItem/Scan or secrets.
READ_ONLY_ACTIONS: tuple[str, ...] = (
    "cloudwatch:DescribeAlarms",
    "cloudwatch:DescribeAlarmHistory",
    "cloudwatch:GetDashboard",
    "cloudwatch:ListDashboards",
    "cloudwatch:GetMetricData",
    "cloudwatch:GetMetricStatistics",
    "cloudwatch:ListMetrics",
    "logs:DescribeLogGroups",
    "logs:DescribeLogStreams",
    "logs:GetLogEvents",
    "logs:FilterLogEvents",
    "logs:StartQuery",
    "logs:GetQueryResults",
    "xray:GetTraceSummaries",
    "xray:BatchGetTraces",
    "xray:GetServiceGraph",
    "states:ListStateMachines",
    "states:DescribeStateMachine",
    "states:ListExecutions",
    "states:DescribeExecution",
    "states:GetExecutionHistory",
    "lambda:ListFunctions",
    "lambda:GetFunctionConfiguration",
    "apigateway:GET",
    "sqs:ListQueues",
    "sqs:GetQueueAttributes",
    "dynamodb:ListTables",
    "dynamodb:DescribeTable",
    "cloudformation:ListStacks",
    "cloudformation:DescribeStacks",
    "cloudformation:DescribeStackEvents",
    "cloudtrail:LookupEvents",
)
READ_ONLY_VERBS: tuple[str, ...] = ("Describe", "List", "Get", "BatchGet", "Filter", "StartQuery", "Lookup", "GET")


def break_glass_role_name(config: StageConfig) -> str:
    """Physical name of the break-glass role."""
    return config.resource_name("break-glass")


def break_glass_role_arn(config: StageConfig) -> str:
    """ARN of the break-glass role, for alerts that watch its use."""
    return f"arn:aws:iam::{config.target.account}:role/{break_glass_role_name(config)}"


class AccessStack(cdk.Stack):
    """The engineer role (read-only outside dev) and the MFA-only, alerting break-glass role."""

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig, **kwargs: object) -> None:
        """Create both roles for ``config``'s stage."""
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        self._config = config
        mfa = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
        self.engineer_role = iam.Role(
            self,
            "EngineerRole",
            role_name=config.resource_name("engineer"),
            description=f"Keel {config.name} engineers ({config.engineers.mode.value})",
            assumed_by=iam.AccountPrincipal(config.target.account).with_conditions(mfa),
            max_session_duration=cdk.Duration.hours(4),
        )
        self._grant(self.engineer_role, list(READ_ONLY_ACTIONS), ["*"], "read-only describe/list APIs take no ARN")
        if config.engineers.mode is EngineerAccessMode.OPERATOR:
            self._operate(self.engineer_role, with_items=True)

        self.break_glass_role = iam.Role(
            self,
            "BreakGlassRole",
            role_name=break_glass_role_name(config),
            description=f"Keel {config.name} break-glass: MFA, short sessions, every use alerted",
            assumed_by=iam.AccountPrincipal(config.target.account).with_conditions(
                {**mfa, "NumericLessThan": {"aws:MultiFactorAuthAge": "900"}}
            ),
            max_session_duration=cdk.Duration.hours(config.engineers.break_glass_max_session_hours),
        )
        self._grant(self.break_glass_role, list(READ_ONLY_ACTIONS), ["*"], "read-only describe/list APIs take no ARN")
        self._operate(self.break_glass_role, with_items=not config.is_production)
        arn = self._arn
        self._grant(
            self.break_glass_role,
            ["lambda:PutFunctionConcurrency", "lambda:DeleteFunctionConcurrency"],
            [arn("lambda", "function", "*")],
            "kill switch: throttle any Keel function of this stage to zero",
        )
        self._grant(
            self.break_glass_role,
            ["dynamodb:PutItem"],
            [arn("dynamodb", "table", "revocations")],
            "manual revocation of a subject during an incident",
        )

    def _arn(self, service: str, kind: str, suffix: str) -> str:
        config = self._config
        sep = ":" if service in ("lambda", "states") else "/"
        name = config.resource_name(suffix) if suffix != "*" else f"keel-{config.name}-*"
        return f"arn:aws:{service}:{config.target.region}:{config.target.account}:{kind}{sep}{name}"

    def _operate(self, role: iam.Role, *, with_items: bool) -> None:
        arn = self._arn
        self._grant(role, ["lambda:InvokeFunction"], [arn("lambda", "function", "*")], "any Keel function")
        self._grant(
            role,
            ["states:StartExecution", "states:StopExecution"],
            [arn("states", "stateMachine", "*"), arn("states", "execution", "*")],
            "Keel workflows and their executions",
        )
        self._grant(
            role,
            ["sqs:StartMessageMoveTask", "sqs:ListMessageMoveTasks"],
            [arn("sqs", "", "*").replace(":/", ":")],
            "redrive Keel dead-letter queues",
        )
        if with_items:
            self._grant(
                role,
                ["dynamodb:GetItem", "dynamodb:Query"],
                [arn("dynamodb", "table", "*")],
                "read items of Keel tables in a non-production stage",
            )

    def _grant(self, role: iam.Role, action_list: list[str], resources: list[str], why: str) -> None:
        role.add_to_principal_policy(iam.PolicyStatement(actions=action_list, resources=resources))
        if resources == ["*"]:
            acknowledge(role, "AwsSolutions-IAM5[Resource::*]", f"Engineer access: {why}")
        else:
            acknowledge_wildcards(role, [], resources, f"Scoped to this stage's keel-* names: {why}")
