"""The one shape of every Keel queue: KMS-encrypted with the stage key, TLS only, and a dead-letter queue.

Functions, not a construct class, so each queue keeps the logical id its stack always gave it.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.config import StageConfig

# How long failed messages wait in a dead-letter queue for a redrive (the SQS maximum).
DEAD_LETTER_RETENTION = cdk.Duration.days(14)


def encrypted_queue(
    scope: Construct,
    construct_id: str,
    config: StageConfig,
    name: str,
    key: kms.IKey,
    *,
    visibility_timeout: cdk.Duration | None = None,
    retention_period: cdk.Duration | None = None,
    dead_letters: sqs.IQueue | None = None,
    max_receive_count: int = 3,
) -> sqs.Queue:
    """``keel-<stage>-<name>``, encrypted with ``key``, TLS only; redriven to ``dead_letters`` if given."""
    return sqs.Queue(
        scope,
        construct_id,
        queue_name=config.resource_name(name),
        encryption=sqs.QueueEncryption.KMS,
        encryption_master_key=key,
        enforce_ssl=True,
        visibility_timeout=visibility_timeout,
        retention_period=retention_period,
        dead_letter_queue=(
            sqs.DeadLetterQueue(queue=dead_letters, max_receive_count=max_receive_count) if dead_letters else None
        ),
    )


def dead_letter_queue(scope: Construct, construct_id: str, config: StageConfig, name: str, key: kms.IKey) -> sqs.Queue:
    """A dead-letter queue: same encryption, kept for the longest retention so operators can redrive."""
    return encrypted_queue(scope, construct_id, config, name, key, retention_period=DEAD_LETTER_RETENTION)
