"""The ``KEEL_*`` environment every function that loads ``keel.settings.Settings`` receives.

Settings refuses unknown ``KEEL_*`` names and requires its fields, so functions get exactly this
set (physical names wherever possible, so no stack needs another stack's tokens for them).
"""

from __future__ import annotations

from dataclasses import dataclass

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


def queue_url(config: StageConfig, suffix: str) -> str:
    """The URL of a stage queue from its physical name."""
    region, account = config.target.region, config.target.account
    return f"https://sqs.{region}.amazonaws.com/{account}/{config.resource_name(suffix)}"


def secret_name(config: StageConfig, suffix: str) -> str:
    """The physical secret name, e.g. ``keel/prod/helpdesk``."""
    return f"keel/{config.name}/{suffix}"


@dataclass(frozen=True)
class StageIdentity:
    """What the settings need from the identity and data stacks (tokens resolved at deploy time)."""

    user_pool_id: str
    app_client_ids: list[str]
    customer_user_pool_id: str
    customer_app_client_id: str
    opensearch_url: str
    data_key_arn: str
    vault_key_arn: str
    audit_signing_key_arn: str
    guardrail_id: str
    tenant_appconfig: str


def settings_environment(config: StageConfig, ids: StageIdentity) -> dict[str, str]:
    """Every Settings field the stage sets, as ``KEEL_*`` variables."""
    return {
        "KEEL_ENVIRONMENT": config.name,
        "KEEL_REGION": config.target.region,
        "KEEL_LOG_LEVEL": config.log_level,
        "KEEL_USER_POOL_ID": ids.user_pool_id,
        "KEEL_APP_CLIENT_IDS": ",".join(ids.app_client_ids),
        "KEEL_CONVERSATIONS_TABLE": config.resource_name("conversations"),
        "KEEL_OPENSEARCH_URL": ids.opensearch_url,
        "KEEL_OPENSEARCH_KNN": "true",
        "KEEL_REVOCATIONS_TABLE": config.resource_name("revocations"),
        "KEEL_SESSIONS_TABLE": config.resource_name("sessions"),
        "KEEL_VAULT_KMS_KEY_ID": ids.vault_key_arn,
        "KEEL_AUDIT_QUEUE_URL": queue_url(config, "audit"),
        "KEEL_AUDIT_BUCKET": audit_bucket_name(config),
        "KEEL_AUDIT_TABLE": config.resource_name("audit-chain"),
        "KEEL_AUDIT_KMS_KEY_ID": ids.data_key_arn,
        "KEEL_AUDIT_SIGNING_KEY_ID": ids.audit_signing_key_arn,
        "KEEL_AUDIT_RETENTION_DAYS": str(config.audit_retention_days),
        "KEEL_ESCALATION_STATE_MACHINE_ARN": escalation_state_machine_arn(config),
        "KEEL_ESCALATIONS_TABLE": config.resource_name("agents"),
        "KEEL_CHANNEL_STATE_TABLE": config.resource_name("idempotency"),
        "KEEL_SLACK_SIGNING_SECRET_ID": secret_name(config, "slack-signing"),
        "KEEL_SLACK_BOT_TOKEN_SECRET_ID": secret_name(config, "slack-bot-token"),
        "KEEL_SLACK_EVENTS_QUEUE_URL": queue_url(config, "slack-events"),
        "KEEL_CUSTOMER_USER_POOL_ID": ids.customer_user_pool_id,
        "KEEL_CUSTOMER_APP_CLIENT_ID": ids.customer_app_client_id,
        "KEEL_MODEL_PRIMARY": config.models.primary,
        "KEEL_MODEL_SECONDARY": config.models.secondary,
        "KEEL_MODEL_SMALL": config.models.small,
        "KEEL_BUDGETS_TABLE": config.resource_name("budgets"),
        "KEEL_BUDGET_USER_DAILY_TOKENS": str(config.quotas.tokens_per_user_per_day),
        "KEEL_MAINTENANCE_PARAMETER": maintenance_parameter(config),
        # Settings refuses to load outside local without it, so every function that loads them gets it.
        "KEEL_BEDROCK_GUARDRAIL_ID": ids.guardrail_id,
        # The organisation: AppConfig application/environment/profile (the tenant config stack).
        "KEEL_TENANT_APPCONFIG": ids.tenant_appconfig,
    }


def turn_environment(config: StageConfig, guardrail_version: str) -> dict[str, str]:
    """What only the functions running the chat turn add: the guardrail version and, if enabled, actions."""
    env = {"KEEL_BEDROCK_GUARDRAIL_VERSION": guardrail_version}
    if not config.actions_enabled:
        return env
    env |= {
        "KEEL_ACTIONS_ENABLED": "true",
        "KEEL_CRM_URL": config.integrations.crm_url,
        "KEEL_CRM_SECRET_ID": secret_name(config, "crm"),
        "KEEL_HR_URL": config.integrations.hr_url,
        "KEEL_HR_SECRET_ID": secret_name(config, "hr"),
    }
    if config.helpdesk.kind == "zendesk":
        # The helpdesk actions speak the Zendesk API (keel.integrations.helpdesk.ZendeskTickets).
        env |= {"KEEL_HELPDESK_URL": config.helpdesk.url, "KEEL_HELPDESK_SECRET_ID": secret_name(config, "helpdesk")}
    return env


def escalation_environment(config: StageConfig, helpdesk_secret_arn: str | None = None) -> dict[str, str]:
    """The variables keel.escalation.wiring.EscalationConfig reads (not yet part of Settings)."""
    env = {
        "ESCALATION_AGENTS_TABLE": config.resource_name("agents"),
        "ESCALATION_QUEUE_URL": queue_url(config, "escalation"),
        "ESCALATION_STATE_MACHINE_ARN": escalation_state_machine_arn(config),
    }
    if helpdesk_secret_arn is not None:
        env |= {
            "HELPDESK_KIND": config.helpdesk.kind,
            "HELPDESK_URL": config.helpdesk.url,
            "HELPDESK_SECRET_ID": helpdesk_secret_arn,
        }
    return env
