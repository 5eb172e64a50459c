"""The contract between the runtime and the CDK stacks: names both sides must agree on, and nothing else.

Dependency-free on purpose: the stacks import this module and never a runtime module, so deploying
never loads the runtime's dependencies, and the runtime modules import the same names from here.
"""

from __future__ import annotations

from enum import StrEnum

# --- conversations table (keel.conversations.dynamodb, stacks/data.py, stacks/api.py)
# A sparse global secondary index over conversation headers by UTC day: only headers carry `day`, so the
# index holds one small entry per conversation. Analytics reads a window day by day through it.
BY_DAY_INDEX = "by-day"
DAY_ATTRIBUTE = "day"
CREATED_ATTRIBUTE = "created_at"

# --- CloudWatch metrics of the turn (keel.analytics.telemetry, stacks/observability.py, docs/kpis.md)
NAMESPACE = "Keel"
TURN_DIMENSIONS = ("bot", "channel")


class M:
    """Metric names (namespace Keel)."""

    TURNS = "Turns"  # dims bot, channel: 1 per turn, failed ones included
    ERRORS = "Errors"  # dims bot, channel: 1 per turn that failed or found no model (maintenance)
    TURN_LATENCY = "TurnLatency"  # dims bot, channel: ms, identify excluded
    STAGE_LATENCY = "StageLatency"  # dims bot, channel, stage: ms
    INPUT_TOKENS = "InputTokens"  # dims bot, channel
    OUTPUT_TOKENS = "OutputTokens"  # dims bot, channel
    TOKENS = "Tokens"  # dims bot, channel: input + output
    COST = "CostUSD"  # dims bot, channel: US dollars, unit None
    RETRIEVAL_TOP_SCORE = "RetrievalTopScore"  # dims bot, channel: best passage score, when any passage
    RETRIEVAL_PASSAGES = "RetrievalPassages"  # dims bot, channel: passages kept after context screening
    FALLBACKS = "Fallbacks"  # dims bot, channel: 1 when the answer came through any degradation
    DEGRADATIONS = "Degradations"  # dims bot, channel, degradation: 1 per degradation named on the completion
    ESCALATIONS = "Escalations"  # dims bot, channel
    LOW_CONFIDENCE = "LowConfidence"  # dims bot, channel: answering turns with confidence < 0.5
    UNGROUNDED = "Ungrounded"  # dims bot, channel: answers the output check flagged ungrounded
    OUTCOMES = "Outcomes"  # dims bot, channel, outcome
    GUARDRAIL_BLOCKED = "GuardrailBlocked"  # dims bot, channel, stage, category
    GUARDRAIL_FLAGGED = "GuardrailFlagged"  # dims bot, channel, stage, category


# --- secret age check (keel.integrations.secret_age, stacks/secrets.py, stacks/observability.py)
SECRET_AGE_CHECK = "secret-age"  # noqa: S105 - a check name, not a secret
SECRET_AGE_SERVICE = "secret-age"  # noqa: S105 - a service name, not a secret
SECRETS_OVERDUE_METRIC = "SecretsOverdue"

# --- secret rotation tags (keel.integrations.rotation_schemes, stacks/secrets.py)
SCHEME_TAG = "keel:rotation"
URL_TAG = "keel:rotation-url"
AUTH_TAG = "keel:rotation-auth"
FIELD_TAG = "keel:rotation-field"


class Scheme(StrEnum):
    """How a secret rotates."""

    SELF_ISSUED = "self-issued"
    REST_KEY = "rest-key"
    PROVIDER = "provider"


class KeyAuth(StrEnum):
    """How a provider takes an API key on its key API."""

    BEARER = "bearer"
    API_KEY_HEADER = "api-key-header"


# --- Cognito events that revoke or re-enable a user (keel.identity.events, stacks/api.py)
# eventName -> disables the account? A change of groups or attributes revokes too: the tokens issued
# before it still carry the old groups, so they are refused and the user signs in again with the new ones.
REVOKING_EVENTS: dict[str, bool] = {
    "AdminRemoveUserFromGroup": False,
    "AdminUpdateUserAttributes": False,
    "AdminDeleteUserAttributes": False,
    # The IdP deprovisioned the person: their federated identity no longer signs them in.
    "AdminDisableProviderForUser": True,
    "AdminUserGlobalSignOut": False,
    "GlobalSignOut": False,
    "RevokeToken": False,
    "AdminDisableUser": True,
    "AdminDeleteUser": True,
    "DeleteUser": True,
}
ENABLING_EVENTS = frozenset({"AdminEnableUser"})

# --- the escalation workflow (keel.escalation.workflow, stacks/escalation.py)
ASL_FILE = "workflow.asl.json"
# Placeholders in the ASL; CDK passes the same keys as definitionSubstitutions.
PLACEHOLDERS = ("AgentsTable", "EscalationQueueUrl")
