"""The audit part of the composition root: bootstrap.py and the audit_writer handler build adapters here."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from keel.audit.dynamodb import DynamoDBChainLedger
from keel.audit.kms import KmsDigestSigner
from keel.audit.s3_object_lock import S3ObjectLockArchive
from keel.audit.sqs import SqsAuditQueue
from keel.audit.trail import AuditTrail
from keel.audit.writer import AuditDigester, AuditWriter
from keel.errors import ConfigurationError
from keel.settings import Environment


class AuditConfig(BaseModel):
    """The audit settings; the same names (KEEL_AUDIT_*) live on keel.settings.Settings."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    environment: Environment
    audit_queue_url: str = Field(min_length=1)
    audit_bucket: str = Field(min_length=3)
    audit_table: str = Field(min_length=3)
    audit_kms_key_id: str | None = None
    audit_signing_key_id: str | None = None
    audit_retention_days: int = Field(default=2555, ge=1, le=36500)
    audit_fail_open: bool = False

    @classmethod
    def from_settings(cls, settings: BaseModel) -> AuditConfig:
        """The audit part of the settings, or a ConfigurationError naming each missing KEEL_AUDIT_* variable."""
        try:
            return cls.model_validate(settings.model_dump())
        except ValidationError as exc:
            names = ", ".join(f"KEEL_{str(e['loc'][0]).upper()} ({e['msg']})" for e in exc.errors())
            raise ConfigurationError(f"audit settings are incomplete: {names}") from None


def build_trail(config: AuditConfig, sqs: Any) -> AuditTrail:
    """The trail the turn records to."""
    return AuditTrail(
        SqsAuditQueue(sqs, config.audit_queue_url), environment=config.environment, fail_open=config.audit_fail_open
    )


def build_ledger(config: AuditConfig, dynamodb: Any) -> DynamoDBChainLedger:
    """The chain ledger."""
    return DynamoDBChainLedger(dynamodb, config.audit_table)


def build_archive(config: AuditConfig, s3: Any) -> S3ObjectLockArchive:
    """The write-once archive."""
    return S3ObjectLockArchive(
        s3, config.audit_bucket, kms_key_id=config.audit_kms_key_id, retention_days=config.audit_retention_days
    )


def build_writer(config: AuditConfig, dynamodb: Any, s3: Any) -> AuditWriter:
    """The writer the audit_writer Lambda (and the local drain) runs."""
    return AuditWriter(build_ledger(config, dynamodb), build_archive(config, s3))


def build_digester(config: AuditConfig, dynamodb: Any, s3: Any, kms: Any) -> AuditDigester:
    """The digester the hourly schedule runs."""
    if not config.audit_signing_key_id:
        raise ConfigurationError("KEEL_AUDIT_SIGNING_KEY_ID is required to sign audit digests")
    return AuditDigester(
        build_ledger(config, dynamodb), build_archive(config, s3), KmsDigestSigner(kms, config.audit_signing_key_id)
    )
