"""Knowledge stack: the source bucket and the ingest function that indexes it (R7, R22).

S3 sends object events to EventBridge (set on the bucket itself, so no notification custom resource
is needed); one rule sends Object Created/Deleted events of this bucket to ingest, another runs the
scheduled refresh, which re-reads the bucket and removes what left it.
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.config import StageConfig
from stacks.constructs.function import FunctionNetwork, KeelFunction
from stacks.constructs.layer import ingest_layer
from stacks.search import domain_arn

SEARCH_WRITE = ["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost", "es:ESHttpPut", "es:ESHttpDelete"]
REFRESH_EVERY = cdk.Duration.hours(6)


def knowledge_bucket_name(config: StageConfig) -> str:
    """Physical name of the knowledge source bucket."""
    return config.resource_name(f"knowledge-{config.target.account}")


def access_logs_bucket_name(config: StageConfig) -> str:
    """Physical name of the stage's S3 server access-log bucket (in the audit stack)."""
    return config.resource_name(f"access-logs-{config.target.account}")


class KnowledgeStack(cdk.Stack):
    """The knowledge bucket, the ingest function and the two rules that drive it."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        repo_root: Path,
        key: kms.IKey,
        network: FunctionNetwork,
        settings_env: dict[str, str],
        **kwargs: object,
    ) -> None:
        """Create the knowledge source of ``config``'s stage."""
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        removal = cdk.RemovalPolicy.RETAIN if config.retain_data else cdk.RemovalPolicy.DESTROY
        self.bucket = s3.Bucket(
            self,
            "KnowledgeBucket",
            bucket_name=knowledge_bucket_name(config),
            encryption=s3.BucketEncryption.KMS,
            encryption_key=key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            # By name: the audit stack's access-log bucket policy admits this bucket's deliveries.
            server_access_logs_bucket=s3.Bucket.from_bucket_name(self, "AccessLogs", access_logs_bucket_name(config)),
            server_access_logs_prefix="KnowledgeBucket/",
            removal_policy=removal,
        )
        cfn_bucket = self.bucket.node.default_child
        assert isinstance(cfn_bucket, s3.CfnBucket)
        cfn_bucket.add_property_override("NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled", True)
        self.ingest = KeelFunction(
            self,
            "Ingest",
            config=config,
            repo_root=repo_root,
            name="ingest",
            layer=ingest_layer(self, repo_root, config.name),
            log_key=key,
            description="Indexes knowledge documents into the permission-scoped search indices",
            environment=settings_env,
            timeout=cdk.Duration.minutes(10),
            memory_mb=1024,
            network=network,
        )
        fn = self.ingest
        fn.allow(
            SEARCH_WRITE,
            [f"{domain_arn(config)}/*"],
            wildcard_reason="Ingest creates and writes the internal and external indices of the Keel domain",
        )
        fn.allow(
            ["bedrock:InvokeModel"],
            config.model_resources((config.models.embedding,)),
        )
        bucket_arn = f"arn:aws:s3:::{knowledge_bucket_name(config)}"
        fn.allow(
            ["s3:GetObject", "s3:GetObjectTagging"],
            [f"{bucket_arn}/*"],
            wildcard_reason="Documents and their .meta.json sidecars are any key of the knowledge bucket",
        )
        fn.allow(["s3:ListBucket"], [bucket_arn])
        fn.allow_key(key)
        events.Rule(
            self,
            "ObjectChanges",
            rule_name=config.resource_name("knowledge-changes"),
            description="Knowledge documents created or deleted: index or remove them",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created", "Object Deleted"],
                detail={"bucket": {"name": [knowledge_bucket_name(config)]}},
            ),
            targets=[targets.LambdaFunction(fn.function, retry_attempts=4)],
        )
        events.Rule(
            self,
            "Refresh",
            rule_name=config.resource_name("knowledge-refresh"),
            description="Re-reads the knowledge bucket: updates changed documents, removes those that left",
            schedule=events.Schedule.rate(REFRESH_EVERY),
            targets=[
                targets.LambdaFunction(
                    fn.function,
                    event=events.RuleTargetInput.from_object({"refresh": {"bucket": knowledge_bucket_name(config)}}),
                    retry_attempts=2,
                )
            ],
        )
