"""A complete, valid set of KEEL_* variables for tests that build Settings (override what a test needs)."""

from __future__ import annotations

VALID_ENVIRONMENT: dict[str, str] = {
    "KEEL_ENVIRONMENT": "dev",
    "KEEL_USER_POOL_ID": "us-east-1_abc",
    "KEEL_APP_CLIENT_IDS": "client-a, client-b",
    "KEEL_CONVERSATIONS_TABLE": "keel-dev-conversations",
    "KEEL_OPENSEARCH_URL": "https://search.example.internal",
    "KEEL_MODEL_PRIMARY": "anthropic.claude-3-haiku-20240307-v1:0",
    "KEEL_MODEL_SECONDARY": "amazon.nova-lite-v1:0",
    "KEEL_MODEL_SMALL": "amazon.nova-micro-v1:0",
    "KEEL_REVOCATIONS_TABLE": "keel-dev-revocations",
    "KEEL_SESSIONS_TABLE": "keel-dev-sessions",
    "KEEL_VAULT_KMS_KEY_ID": "alias/keel-dev-vault",
    "KEEL_AUDIT_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/keel-dev-audit",
    "KEEL_AUDIT_BUCKET": "keel-dev-audit",
    "KEEL_AUDIT_TABLE": "keel-dev-audit-chain",
    "KEEL_ESCALATION_STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:keel-dev-escalation",
    "KEEL_ESCALATIONS_TABLE": "keel-dev-agents",
    "KEEL_BUDGETS_TABLE": "keel-dev-budgets",
    "KEEL_BEDROCK_GUARDRAIL_ID": "gr-keel-dev",
}


def environment(**overrides: str) -> dict[str, str]:
    """The valid variables with overrides (keys without the KEEL_ prefix, lower case)."""
    return {**VALID_ENVIRONMENT, **{f"KEEL_{k.upper()}": v for k, v in overrides.items()}}
