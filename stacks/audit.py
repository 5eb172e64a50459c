"""Audit stack: immutable audit records (S3 Object Lock, compliance mode) and the CloudTrail trail (R13, R14)."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as event_rules
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda_event_sources as events
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.config import StageConfig
from stacks.constructs.function import KeelFunction
from stacks.constructs.layer import core_layer
from stacks.constructs.nag import acknowledge
from stacks.constructs.queues import dead_letter_queue, encrypted_queue
from stacks.constructs.retention import retention
from stacks.constructs.settings_env import audit_bucket_name
from stacks.knowledge import access_logs_bucket_name, knowledge_bucket_name

WRITER_MAX_CONCURRENCY = 2


class AuditStack(cdk.Stack):
    """Locked buckets, the audit queue with its dead-letter queue, the writer and CloudTrail."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        repo_root: Path,
        key: kms.IKey,
        chain_table: dynamodb.ITable,
        signing_key: kms.IKey,
        settings_env: dict[str, str],
        **kwargs: object,
    ) -> None:
        """Create the audit storage of ``config``'s stage and the function that writes to it."""
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        retain = config.retain_data
        removal = cdk.RemovalPolicy.RETAIN if retain else cdk.RemovalPolicy.DESTROY
        # Server access logs may only land in an SSE-S3 bucket; it holds request metadata, not records.
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            bucket_name=access_logs_bucket_name(config),
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(expiration=cdk.Duration.days(max(config.log_retention_days, 90)))],
            removal_policy=removal,
        )
        acknowledge(self.access_logs, "AwsSolutions-S1", "This is the access-log target; logging it to itself loops")
        # The knowledge stack's bucket logs here too; named, so neither stack needs the other's tokens.
        self.access_logs.add_to_resource_policy(
            iam.PolicyStatement(
                sid="KnowledgeBucketAccessLogs",
                principals=[iam.ServicePrincipal("logging.s3.amazonaws.com")],
                actions=["s3:PutObject"],
                resources=[self.access_logs.arn_for_objects("KnowledgeBucket/*")],
                conditions={
                    "ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{knowledge_bucket_name(config)}"},
                    "StringEquals": {"aws:SourceAccount": config.target.account},
                },
            )
        )
        self.audit_bucket = self._locked_bucket("AuditBucket", audit_bucket_name(config), config, key, removal)
        self.trail_bucket = self._locked_bucket(
            "TrailBucket", config.resource_name(f"trail-{config.target.account}"), config, key, removal
        )

        self.dead_letters = dead_letter_queue(self, "AuditDeadLetters", config, "audit-dlq", key)
        self.queue = encrypted_queue(
            self,
            "AuditQueue",
            config,
            "audit",
            key,
            visibility_timeout=cdk.Duration.seconds(180),
            retention_period=cdk.Duration.days(14),
            dead_letters=self.dead_letters,
            max_receive_count=5,
        )
        self.writer = KeelFunction(
            self,
            "AuditWriter",
            config=config,
            repo_root=repo_root,
            name="audit_writer",
            layer=core_layer(self, repo_root, config.name),
            log_key=key,
            description="Appends audit records to the hash chain and writes them to the locked bucket",
            environment=settings_env,
            timeout=cdk.Duration.seconds(60),
            memory_mb=256,
        )
        # Each chain is sequential (a conditional head update); few concurrent writers keep retries rare.
        self.writer.function.add_event_source(
            events.SqsEventSource(
                self.queue, batch_size=10, report_batch_item_failures=True, max_concurrency=WRITER_MAX_CONCURRENCY
            )
        )
        # Hourly: sign the digests of today's and yesterday's chains (functions/audit_writer handle_schedule).
        event_rules.Rule(
            self,
            "HourlyDigest",
            rule_name=config.resource_name("audit-digest"),
            description="Signs audit chain digests every hour",
            schedule=event_rules.Schedule.rate(cdk.Duration.hours(1)),
            targets=[targets.LambdaFunction(self.writer.function, retry_attempts=2)],
        )
        # transact_write_items claims a record (Put) and advances the head (Update, or ConditionCheck).
        self.writer.allow(
            [
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:ConditionCheckItem",
                "dynamodb:Query",
            ],
            [chain_table.table_arn],
        )
        bucket_arn = f"arn:aws:s3:::{audit_bucket_name(config)}"
        # PutObject with per-object retention; HeadObject (GetObject) confirms idempotent rewrites; the
        # digester reads every version of a chain's records.
        self.writer.allow(
            ["s3:PutObject", "s3:PutObjectRetention", "s3:GetObject", "s3:GetObjectVersion"],
            [f"{bucket_arn}/*"],
            wildcard_reason="Each audit record and digest is a new object; keys are not known in advance",
        )
        self.writer.allow(["s3:ListBucket", "s3:ListBucketVersions"], [bucket_arn])
        self.writer.allow_key(key, encrypt=True)
        self.writer.allow(["kms:Sign"], [signing_key.key_arn])

        trail_logs = logs.LogGroup(
            self,
            "TrailLogs",
            retention=retention(config.log_retention_days),
            encryption_key=key,
            removal_policy=removal,
        )
        self.trail = cloudtrail.Trail(
            self,
            "Trail",
            trail_name=config.resource_name("trail"),
            bucket=self.trail_bucket,
            encryption_key=key,
            enable_file_validation=True,
            is_multi_region_trail=True,
            include_global_service_events=True,
            send_to_cloud_watch_logs=True,
            cloud_watch_log_group=trail_logs,
        )

    def _locked_bucket(
        self, construct_id: str, name: str, config: StageConfig, key: kms.IKey, removal: cdk.RemovalPolicy
    ) -> s3.Bucket:
        """A bucket whose objects nobody, root included, can delete or overwrite before retention ends."""
        return s3.Bucket(
            self,
            construct_id,
            bucket_name=name,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            object_lock_enabled=True,
            object_lock_default_retention=s3.ObjectLockRetention.compliance(
                cdk.Duration.days(config.audit_retention_days)
            ),
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix=f"{construct_id}/",
            removal_policy=removal,
        )
