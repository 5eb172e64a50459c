"""Data stack: the stage's KMS keys, every DynamoDB table (encrypted, point-in-time recoverable) and the
maintenance switch.

Key shapes follow the code (and the local stack, keel.local.provision): single-table pk/sk with an
``expires_at`` TTL wherever items age out, ``subject``-keyed identity tables.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from keel.contract import BY_DAY_INDEX, CREATED_ATTRIBUTE, DAY_ATTRIBUTE
from stacks.config import StageConfig
from stacks.constructs.settings_env import maintenance_parameter

# Table name suffix -> (partition key, sort key or None, TTL attribute). Open WebSocket sessions live
# in "sessions" per subject so revocation can end them (R5); "agents" holds agent presence and escalation
# records (KEEL_ESCALATIONS_TABLE and the workflow's ${AgentsTable}); "idempotency" is the channels' state
# (claims, Slack thread links, WebSocket connections: KEEL_CHANNEL_STATE_TABLE).
TABLES: dict[str, tuple[str, str | None, str]] = {
    "conversations": ("pk", "sk", "expires_at"),
    "revocations": ("subject", None, "expires_at"),
    "sessions": ("subject", "session_key", "expires_at"),
    "budgets": ("pk", "sk", "expires_at"),
    "audit-chain": ("pk", "sk", "expires_at"),
    "agents": ("pk", "sk", "expires_at"),
    "idempotency": ("pk", "sk", "expires_at"),
}
# What the maintenance parameter holds when nobody has switched it (keel.models.maintenance reads it).
MAINTENANCE_OFF = "off"


class DataStack(cdk.Stack):
    """The key and the tables every other stack reads or writes."""

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig, **kwargs: object) -> None:
        """Create the customer-managed key and the tables of ``config``'s stage."""
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        removal = cdk.RemovalPolicy.RETAIN if config.retain_data else cdk.RemovalPolicy.DESTROY
        self.key = kms.Key(
            self,
            "Key",
            alias=f"alias/{config.resource_name('data')}",
            description=f"Keel {config.name}: encrypts tables, queues, logs, secrets, search and audit",
            enable_key_rotation=True,
            removal_policy=removal,
        )
        self._allow_services(config)
        # PII vaults are sealed with their own key, so only the turn's functions can ever read raw PII (R9).
        self.vault_key = kms.Key(
            self,
            "VaultKey",
            alias=f"alias/{config.resource_name('vault')}",
            description=f"Keel {config.name}: seals PII vaults (encryption context conversation_id)",
            enable_key_rotation=True,
            removal_policy=removal,
        )
        # Audit digests are signed with an asymmetric key anyone can verify with its public half (R14).
        self.audit_signing_key = kms.Key(
            self,
            "AuditSigningKey",
            alias=f"alias/{config.resource_name('audit-signing')}",
            description=f"Keel {config.name}: signs the hourly audit chain digests",
            key_spec=kms.KeySpec.RSA_2048,
            key_usage=kms.KeyUsage.SIGN_VERIFY,
            removal_policy=removal,
        )
        self.maintenance = ssm.StringParameter(
            self,
            "Maintenance",
            parameter_name=maintenance_parameter(config),
            string_value=MAINTENANCE_OFF,
            description="on/off, or JSON {enabled, message}: switches every bot to the maintenance message",
        )
        self.tables: dict[str, dynamodb.Table] = {}
        for suffix, (pk, sk, ttl) in TABLES.items():
            table = dynamodb.Table(
                self,
                "".join(part.title() for part in suffix.split("-")) + "Table",
                table_name=config.resource_name(suffix),
                partition_key=dynamodb.Attribute(name=pk, type=dynamodb.AttributeType.STRING),
                sort_key=dynamodb.Attribute(name=sk, type=dynamodb.AttributeType.STRING) if sk else None,
                time_to_live_attribute=ttl,
                billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
                encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
                encryption_key=self.key,
                point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                    point_in_time_recovery_enabled=True
                ),
                deletion_protection=config.is_production,
                removal_policy=removal,
            )
            self.tables[suffix] = table
        # Analytics reads conversations by UTC day through this sparse keys-only index (keel.analytics.dynamodb).
        self.tables["conversations"].add_global_secondary_index(
            index_name=BY_DAY_INDEX,
            partition_key=dynamodb.Attribute(name=DAY_ATTRIBUTE, type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=CREATED_ATTRIBUTE, type=dynamodb.AttributeType.STRING),
            projection_type=dynamodb.ProjectionType.KEYS_ONLY,
        )

    def _allow_services(self, config: StageConfig) -> None:
        """Key policy for AWS services that encrypt with the key on Keel's behalf (no cross-stack refs)."""
        region, account = config.target.region, config.target.account
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchLogs",
                principals=[iam.ServicePrincipal(f"logs.{region}.amazonaws.com")],
                actions=[
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:ReEncryptFrom",
                    "kms:ReEncryptTo",
                    "kms:GenerateDataKey",
                    "kms:DescribeKey",
                ],
                resources=["*"],
                conditions={
                    "ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{region}:{account}:log-group:*"}
                },
            )
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudTrail",
                principals=[iam.ServicePrincipal("cloudtrail.amazonaws.com")],
                actions=["kms:GenerateDataKey", "kms:DescribeKey"],
                resources=["*"],
                conditions={
                    "StringLike": {
                        "kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{account}:trail/*"
                    },
                    "StringEquals": {"aws:SourceAccount": account},
                },
            )
        )
        # Alarms and EventBridge publish to the encrypted SNS topic; search and Step Functions use it too.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AlarmAndEventPublishers",
                principals=[
                    iam.ServicePrincipal("cloudwatch.amazonaws.com"),
                    iam.ServicePrincipal("events.amazonaws.com"),
                ],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": account}},
            )
        )
