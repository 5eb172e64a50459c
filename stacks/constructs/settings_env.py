"""The ``KEEL_*`` environment every function that loads ``keel.settings.Settings`` receives.

Settings refuses unknown ``KEEL_*`` names and requires its fields, so functions get exactly this
set (physical names wherever possible, so no stack needs another stack's tokens for them).
"""

from __future__ import annotations

from stacks.config import StageConfig


def audit_bucket_name(config: StageConfig) -> str:
    """Physical name of the audit bucket (bucket names are global, so the account is part of it)."""
    return config.resource_name(f"audit-{config.target.account}")


def escalation_state_machine_arn(config: StageConfig) -> str:
    """ARN of the escalation workflow, from its physical name."""
    name = config.resource_name("escalation")
    return f"arn:aws:states:{config.target.region}:{config.target.account}:stateMachine:{name}"


def maintenance_parameter(config: StageConfig) -> str:
    """The SSM parameter that switches the stage's bots to the maintenance message."""
    return f"/keel/{config.name}/maintenance"


def settings_environment(
    config: StageConfig, *, user_pool_id: str, app_client_ids: list[str], opensearch_url: str, key_arn: str
) -> dict[str, str]:
    """Every Settings field the stage sets, as ``KEEL_*`` variables."""
    region, account = config.target.region, config.target.account
    return {
        "KEEL_ENVIRONMENT": config.name,
        "KEEL_REGION": region,
        "KEEL_LOG_LEVEL": config.log_level,
        "KEEL_USER_POOL_ID": user_pool_id,
        "KEEL_APP_CLIENT_IDS": ",".join(app_client_ids),
        "KEEL_CONVERSATIONS_TABLE": config.resource_name("conversations"),
        "KEEL_OPENSEARCH_URL": opensearch_url,
        "KEEL_OPENSEARCH_KNN": "true",
        "KEEL_REVOCATIONS_TABLE": config.resource_name("revocations"),
        "KEEL_SESSIONS_TABLE": config.resource_name("sessions"),
        "KEEL_VAULT_KMS_KEY_ID": key_arn,
        "KEEL_AUDIT_QUEUE_URL": f"https://sqs.{region}.amazonaws.com/{account}/{config.resource_name('audit')}",
        "KEEL_AUDIT_BUCKET": audit_bucket_name(config),
        "KEEL_AUDIT_TABLE": config.resource_name("audit-chain-head"),
        "KEEL_AUDIT_KMS_KEY_ID": key_arn,
        "KEEL_AUDIT_RETENTION_DAYS": str(config.audit_retention_days),
        "KEEL_ESCALATION_STATE_MACHINE_ARN": escalation_state_machine_arn(config),
        "KEEL_ESCALATIONS_TABLE": config.resource_name("escalations"),
        "KEEL_MODEL_PRIMARY": config.models.primary,
        "KEEL_MODEL_SECONDARY": config.models.secondary,
        "KEEL_MODEL_SMALL": config.models.small,
        "KEEL_BUDGETS_TABLE": config.resource_name("budgets"),
        "KEEL_BUDGET_USER_DAILY_TOKENS": str(config.quotas.tokens_per_user_per_day),
        "KEEL_MAINTENANCE_PARAMETER": maintenance_parameter(config),
    }
