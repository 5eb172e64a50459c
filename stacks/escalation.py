"""Escalation stack: the Step Functions hand-off to a live agent, or a helpdesk ticket through a worker (R18).

The workflow is ``keel/escalation/workflow.asl.json``, the same file the local stack runs, with
``${AgentsTable}`` and ``${EscalationQueueUrl}`` filled in by CloudFormation (definitionSubstitutions).
It finds an online agent in the agents table, else puts a ticket request with a task token on the
escalation queue; the escalation worker opens the ticket and answers SendTaskSuccess or SendTaskFailure.
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda_event_sources as events
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from keel.contract import ASL_FILE, PLACEHOLDERS
from stacks.config import StageConfig
from stacks.constructs.function import KeelFunction
from stacks.constructs.layer import core_layer
from stacks.constructs.nag import acknowledge
from stacks.constructs.queues import dead_letter_queue, encrypted_queue
from stacks.constructs.retention import retention
from stacks.constructs.settings_env import escalation_environment

ESCALATION_DIR = Path("layers") / "core" / "src" / "keel" / "escalation"
# Longest a conversation may wait for a ticket, the worker's retries included.
WORKFLOW_TIMEOUT = cdk.Duration.hours(2)


def workflow_file(repo_root: Path) -> Path:
    """The ASL the stack deploys (and the local stack loads through keel.escalation.workflow)."""
    return repo_root / ESCALATION_DIR / ASL_FILE


class EscalationStack(cdk.Stack):
    """The escalation state machine, its queue and the worker that talks to the helpdesk."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        repo_root: Path,
        key: kms.IKey,
        agents_table: dynamodb.ITable,
        conversations_table: dynamodb.ITable,
        helpdesk_secret: secretsmanager.ISecret,
        settings_env: dict[str, str],
        **kwargs: object,
    ) -> None:
        """Create the workflow of ``config``'s stage."""
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        removal = cdk.RemovalPolicy.RETAIN if config.retain_data else cdk.RemovalPolicy.DESTROY
        self.dead_letters = dead_letter_queue(self, "EscalationDeadLetters", config, "escalation-dlq", key)
        self.queue = encrypted_queue(
            self,
            "EscalationQueue",
            config,
            "escalation",
            key,
            visibility_timeout=cdk.Duration.seconds(180),
            dead_letters=self.dead_letters,
        )
        log_group = logs.LogGroup(
            self,
            "WorkflowLogs",
            log_group_name=f"/aws/vendedlogs/states/{config.resource_name('escalation')}",
            retention=retention(config.log_retention_days),
            encryption_key=key,
            removal_policy=removal,
        )
        substitutions = {"AgentsTable": agents_table.table_name, "EscalationQueueUrl": self.queue.queue_url}
        if set(substitutions) != set(PLACEHOLDERS):
            raise ValueError(f"the workflow's placeholders are {PLACEHOLDERS}; the stack fills {sorted(substitutions)}")
        self.state_machine = sfn.StateMachine(
            self,
            "Escalation",
            state_machine_name=config.resource_name("escalation"),
            state_machine_type=sfn.StateMachineType.STANDARD,
            # Inline (not an S3 asset), so the template shows exactly what runs.
            definition_body=sfn.DefinitionBody.from_string(workflow_file(repo_root).read_text(encoding="utf-8")),
            definition_substitutions=substitutions,
            timeout=WORKFLOW_TIMEOUT,
            tracing_enabled=True,
            # Execution data stays out of logs: the payload carries (masked) conversation history.
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
        )
        for statement in (
            iam.PolicyStatement(actions=["dynamodb:Query", "dynamodb:UpdateItem"], resources=[agents_table.table_arn]),
            iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[self.queue.queue_arn]),
            # The queue and the table are encrypted with the stage key.
            iam.PolicyStatement(
                actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                resources=[key.key_arn],
            ),
        ):
            self.state_machine.add_to_role_policy(statement)
        acknowledge(
            self.state_machine,
            "AwsSolutions-IAM5[Resource::*]",
            "Step Functions log delivery and X-Ray actions have no resource-level permissions",
        )
        self.worker = KeelFunction(
            self,
            "Worker",
            config=config,
            repo_root=repo_root,
            name="escalation_worker",
            layer=core_layer(self, repo_root, config.name),
            log_key=key,
            description="Opens helpdesk tickets for escalations and reports back with the task token",
            environment={**settings_env, **escalation_environment(config, helpdesk_secret.secret_arn)},
            timeout=cdk.Duration.seconds(60),
            memory_mb=256,
        )
        self.worker.function.add_event_source(
            events.SqsEventSource(self.queue, batch_size=1, report_batch_item_failures=True)
        )
        self.worker.allow(["states:SendTaskSuccess", "states:SendTaskFailure"], [self.state_machine.state_machine_arn])
        self.worker.allow(["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:Query"], [agents_table.table_arn])
        self.worker.allow(["dynamodb:Query"], [conversations_table.table_arn])
        self.worker.allow(["secretsmanager:GetSecretValue"], [helpdesk_secret.secret_arn])
        self.worker.allow_key(key, encrypt=True)
