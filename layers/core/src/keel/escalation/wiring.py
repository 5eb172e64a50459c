"""Wiring of the escalation adapters for the Lambda handlers (settings in, ready objects out)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from keel.errors import ConfigurationError
from keel.escalation.helpdesk import SecretCredentials
from keel.escalation.ports import Helpdesk
from keel.escalation.records import DynamoDBEscalationStore
from keel.escalation.service import EscalationService
from keel.escalation.worker import EscalationWorker

ENV_NAMES = {
    "agents_table": "ESCALATION_AGENTS_TABLE",
    "queue_url": "ESCALATION_QUEUE_URL",
    "state_machine_arn": "ESCALATION_STATE_MACHINE_ARN",
    "helpdesk_kind": "HELPDESK_KIND",
    "helpdesk_url": "HELPDESK_URL",
    "helpdesk_secret_id": "HELPDESK_SECRET_ID",
    "service_desk_id": "HELPDESK_SERVICE_DESK_ID",
    "request_type_id": "HELPDESK_REQUEST_TYPE_ID",
}


class EscalationConfig(BaseModel):
    """The escalation settings (until they join keel.settings.Settings)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    agents_table: str = Field(min_length=3)
    queue_url: str = ""
    state_machine_arn: str = ""
    helpdesk_kind: Literal["zendesk", "servicenow", "jira-service-management"] = "zendesk"
    helpdesk_url: str = ""
    helpdesk_secret_id: str = ""
    service_desk_id: str = ""
    request_type_id: str = ""

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> EscalationConfig:
        """Read the variables in ENV_NAMES; a bad or missing one raises ConfigurationError naming it."""
        raw = {field: environ[name] for field, name in ENV_NAMES.items() if environ.get(name)}
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            problems = [f"{ENV_NAMES[str(e['loc'][0])]}: {e['msg']}" for e in exc.errors() if e["loc"]]
            raise ConfigurationError("invalid escalation settings: " + "; ".join(problems)) from None


def build_helpdesk(config: EscalationConfig, secrets_client: Any) -> Helpdesk:
    """The configured helpdesk adapter with credentials from Secrets Manager."""
    if not config.helpdesk_url or not config.helpdesk_secret_id:
        raise ConfigurationError("HELPDESK_URL and HELPDESK_SECRET_ID are required to open tickets")
    credentials = SecretCredentials(secrets_client, config.helpdesk_secret_id, ttl_seconds=60)
    if config.helpdesk_kind == "servicenow":
        from keel.escalation.servicenow import ServiceNowHelpdesk

        return ServiceNowHelpdesk(config.helpdesk_url, credentials)
    if config.helpdesk_kind == "jira-service-management":
        from keel.escalation.jira import JiraServiceManagementHelpdesk

        return JiraServiceManagementHelpdesk(
            config.helpdesk_url,
            credentials,
            service_desk_id=config.service_desk_id,
            request_type_id=config.request_type_id,
        )
    from keel.escalation.zendesk import ZendeskHelpdesk

    return ZendeskHelpdesk(config.helpdesk_url, credentials)


def stage_clients() -> tuple[Any, Any]:
    """The settings and AWS clients of this function's environment."""
    from keel.bootstrap import AwsClients
    from keel.settings import load_settings

    settings = load_settings()
    return settings, AwsClients.from_settings(settings)


def build_worker(config: EscalationConfig) -> EscalationWorker:
    """The ticket worker for the escalation queue's Lambda."""
    from keel.conversations.dynamodb import DynamoDBConversationStore

    settings, clients = stage_clients()
    return EscalationWorker(
        clients.client("stepfunctions"),
        build_helpdesk(config, clients.client("secretsmanager")),
        DynamoDBEscalationStore(clients.dynamodb, config.agents_table),
        DynamoDBConversationStore(clients.dynamodb, settings.conversations_table),
    )


def build_service(config: EscalationConfig) -> EscalationService:
    """The service the chat turn calls to hand a conversation over."""
    from keel.conversations.dynamodb import DynamoDBConversationStore

    if not config.state_machine_arn:
        raise ConfigurationError("ESCALATION_STATE_MACHINE_ARN is required to escalate")
    settings, clients = stage_clients()
    return EscalationService(
        clients.client("stepfunctions"),
        config.state_machine_arn,
        DynamoDBEscalationStore(clients.dynamodb, config.agents_table),
        DynamoDBConversationStore(clients.dynamodb, settings.conversations_table),
    )
