"""Escalation stack: the Step Functions hand-off to a live agent, or a helpdesk ticket through a worker (R18).

Input: ``{"conversation_id", "bot", "channel", "reason", "user"}``. The agents table holds, per bot
(``queue``), a ``#next`` row whose ``agent`` attribute names the next available agent; the workflow
claims that agent with a conditional update, and if none is free (or the claim loses a race) it
puts a ticket request with a task token on the tickets queue; the escalation worker opens the
ticket and answers with ``SendTaskSuccess`` (``{"ticket_id": ...}``) or ``SendTaskFailure``
(``Helpdesk.Unavailable`` is retried with backoff).
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
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from stacks.config import StageConfig
from stacks.constructs.function import KeelFunction
from stacks.constructs.layer import core_layer
from stacks.constructs.nag import acknowledge
from stacks.constructs.retention import retention

NEXT_AGENT_ROW = "#next"
HELPDESK_RETRYABLE_ERROR = "Helpdesk.Unavailable"
_DYNAMO_TRANSIENT = ["DynamoDB.ProvisionedThroughputExceededException", "DynamoDB.InternalServerErrorException"]


class EscalationStack(cdk.Stack):
    """The escalation state machine, the tickets queue and the worker that talks to the helpdesk."""

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
        escalations_table: dynamodb.ITable,
        settings_env: dict[str, str],
        **kwargs: object,
    ) -> None:
        """Create the workflow of ``config``'s stage."""
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        removal = cdk.RemovalPolicy.RETAIN if config.retain_data else cdk.RemovalPolicy.DESTROY
        self.dead_letters = sqs.Queue(
            self,
            "TicketDeadLetters",
            queue_name=config.resource_name("tickets-dlq"),
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            retention_period=cdk.Duration.days(14),
        )
        self.tickets = sqs.Queue(
            self,
            "Tickets",
            queue_name=config.resource_name("tickets"),
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            visibility_timeout=cdk.Duration.seconds(180),
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dead_letters, max_receive_count=3),
        )
        log_group = logs.LogGroup(
            self,
            "WorkflowLogs",
            log_group_name=f"/aws/vendedlogs/states/{config.resource_name('escalation')}",
            retention=retention(config.log_retention_days),
            encryption_key=key,
            removal_policy=removal,
        )
        self.state_machine = sfn.StateMachine(
            self,
            "Escalation",
            state_machine_name=config.resource_name("escalation"),
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_chainable(self._definition(agents_table)),
            timeout=cdk.Duration.hours(2),
            tracing_enabled=True,
            # Execution data stays out of logs: the payload carries (masked) conversation history.
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
        )
        self.state_machine.add_to_role_policy(
            iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[self.tickets.queue_arn])
        )
        self.state_machine.add_to_role_policy(
            iam.PolicyStatement(actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[key.key_arn])
        )
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
            environment={
                **settings_env,
                # Read by keel.escalation.wiring.EscalationConfig (until these join Settings).
                "ESCALATION_AGENTS_TABLE": agents_table.table_name,
                "ESCALATION_QUEUE_URL": self.tickets.queue_url,
                "ESCALATION_STATE_MACHINE_ARN": settings_env["KEEL_ESCALATION_STATE_MACHINE_ARN"],
                "HELPDESK_SECRET_ID": helpdesk_secret.secret_arn,
            },
            timeout=cdk.Duration.seconds(60),
            memory_mb=256,
        )
        self.worker.function.add_event_source(
            events.SqsEventSource(self.tickets, batch_size=1, report_batch_item_failures=True)
        )
        self.worker.allow(
            ["states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"],
            [self.state_machine.state_machine_arn],
        )
        self.worker.allow(["dynamodb:Query"], [conversations_table.table_arn])
        self.worker.allow(
            ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"],
            [escalations_table.table_arn, agents_table.table_arn],
        )
        self.worker.allow(["secretsmanager:GetSecretValue"], [helpdesk_secret.secret_arn])
        self.worker.allow_key(key)

    def _definition(self, agents_table: dynamodb.ITable) -> sfn.IChainable:
        bot = sfn.JsonPath.string_at("$.bot")
        check = tasks.DynamoGetItem(
            self,
            "CheckAgentAvailability",
            table=agents_table,
            key={
                "queue": tasks.DynamoAttributeValue.from_string(bot),
                "agent_id": tasks.DynamoAttributeValue.from_string(NEXT_AGENT_ROW),
            },
            consistent_read=True,
            result_path="$.presence",
        )
        check.add_retry(
            errors=_DYNAMO_TRANSIENT,
            interval=cdk.Duration.seconds(1),
            max_attempts=3,
            backoff_rate=2,
            jitter_strategy=sfn.JitterType.FULL,
        )
        claim = tasks.DynamoUpdateItem(
            self,
            "AssignLiveAgent",
            table=agents_table,
            key={
                "queue": tasks.DynamoAttributeValue.from_string(bot),
                "agent_id": tasks.DynamoAttributeValue.from_string(sfn.JsonPath.string_at("$.presence.Item.agent.S")),
            },
            update_expression="SET #status = :busy, conversation_id = :conversation",
            condition_expression="#status = :available",
            expression_attribute_names={"#status": "status"},
            expression_attribute_values={
                ":busy": tasks.DynamoAttributeValue.from_string("busy"),
                ":available": tasks.DynamoAttributeValue.from_string("available"),
                ":conversation": tasks.DynamoAttributeValue.from_string(sfn.JsonPath.string_at("$.conversation_id")),
            },
            result_path=sfn.JsonPath.DISCARD,
        )
        claim.add_retry(
            errors=_DYNAMO_TRANSIENT,
            interval=cdk.Duration.seconds(1),
            max_attempts=3,
            backoff_rate=2,
            jitter_strategy=sfn.JitterType.FULL,
        )
        live = sfn.Pass(
            self,
            "LiveHandoff",
            parameters={
                "outcome": "live_agent",
                "conversation_id.$": "$.conversation_id",
                "agent_id.$": "$.presence.Item.agent.S",
            },
        ).next(sfn.Succeed(self, "HandedOff"))
        # Raw ASL so the role gets exactly sqs:SendMessage and the key actions it needs (the L2 task
        # grants kms:GenerateDataKey*).
        ticket = sfn.CustomState(
            self,
            "CreateTicket",
            state_json={
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {
                    "QueueUrl": self.tickets.queue_url,
                    "MessageBody": {
                        "task_token.$": "$$.Task.Token",
                        "conversation_id.$": "$.conversation_id",
                        "bot.$": "$.bot",
                        "channel.$": "$.channel",
                        "reason.$": "$.reason",
                        "user.$": "$.user",
                    },
                },
                "TimeoutSeconds": 900,
                "ResultPath": "$.ticket",
            },
        )
        ticket.add_retry(
            errors=[HELPDESK_RETRYABLE_ERROR, "States.Timeout"],
            interval=cdk.Duration.seconds(10),
            max_attempts=4,
            backoff_rate=2,
            max_delay=cdk.Duration.minutes(5),
            jitter_strategy=sfn.JitterType.FULL,
        )
        failed = sfn.Pass(
            self,
            "TicketNotCreated",
            parameters={"outcome": "failed", "conversation_id.$": "$.conversation_id", "error.$": "$.error"},
        ).next(sfn.Fail(self, "EscalationFailed", error="Escalation.TicketFailed", cause="helpdesk unreachable"))
        ticket.add_catch(failed, errors=["States.ALL"], result_path="$.error")
        created = sfn.Pass(
            self,
            "TicketCreated",
            parameters={
                "outcome": "ticket",
                "conversation_id.$": "$.conversation_id",
                "ticket_id.$": "$.ticket.ticket_id",
            },
        ).next(sfn.Succeed(self, "Ticketed"))
        ticket.next(created)
        claim.add_catch(ticket, errors=["DynamoDB.ConditionalCheckFailedException"], result_path="$.claim_error")
        claim.add_catch(ticket, errors=["States.ALL"], result_path="$.claim_error")
        claim.next(live)
        check.add_catch(ticket, errors=["States.ALL"], result_path="$.presence_error")
        available = sfn.Choice(self, "AgentAvailable?")
        available.when(sfn.Condition.is_present("$.presence.Item.agent.S"), claim).otherwise(ticket)
        return check.next(available)
