"""Wiring of the action planner for the composition root (bootstrap.py calls build_action_planner)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from keel.actions.catalog import cloud_actions, crm_actions, helpdesk_actions, hr_actions
from keel.actions.dynamodb import DynamoDBPendingActions
from keel.actions.ports import ActionAuthorizer, AuditTrail, ToolProposer
from keel.actions.registry import ActionRegistry, ActionSpec
from keel.actions.service import ActionService
from keel.actions.turn_port import ActionPlanner
from keel.errors import ConfigurationError

_log = logging.getLogger("keel.actions")


class ActionsConfig(BaseModel):
    """The action settings; the same names (KEEL_ACTIONS_*, KEEL_CRM_*, ...) belong on keel.settings.Settings."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    conversations_table: str = Field(min_length=3)
    actions_enabled: bool = False
    action_confirm_seconds: int = Field(default=300, ge=30, le=3600)
    integration_secret_ttl_seconds: float = Field(default=60.0, ge=0, le=3600)
    cloud_actions_bots: tuple[str, ...] = ()
    crm_url: str | None = None
    crm_secret_id: str | None = None
    crm_actions_bots: tuple[str, ...] = ()
    hr_url: str | None = None
    hr_secret_id: str | None = None
    hr_actions_bots: tuple[str, ...] = ()
    helpdesk_url: str | None = None
    helpdesk_secret_id: str | None = None
    helpdesk_actions_bots: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: BaseModel) -> ActionsConfig:
        """The action part of the settings, or ConfigurationError naming each bad KEEL_* variable."""
        try:
            return cls.model_validate(settings.model_dump())
        except ValidationError as exc:
            names = ", ".join(f"KEEL_{str(e['loc'][0]).upper()} ({e['msg']})" for e in exc.errors())
            raise ConfigurationError(f"action settings are invalid: {names}") from None


# The tenant's current `actions` (keel.tenant.model.Actions): per family of actions, the bots that offer it.
Offered = Callable[[], Any]


def build_registry(
    config: ActionsConfig, clients: Any, *, known_actions: Collection[str], offered: Offered | None = None
) -> ActionRegistry:
    """The actions per bot for the configured integrations; actions the policy point cannot decide are left out.

    The bots of a family are the KEEL_<FAMILY>_ACTIONS_BOTS setting when it is set (fixed for the process), else
    the family's entry of `offered()` asked at each lookup, so a tenant change takes effect without a cold start."""
    from keel.escalation.helpdesk import SecretCredentials
    from keel.integrations.cloud import Ec2Instances
    from keel.integrations.crm import HubSpotCrm
    from keel.integrations.helpdesk import ZendeskTickets
    from keel.integrations.hr import HrLeaveApi
    from keel.integrations.secrets import SecretsManagerCredentials

    registry = ActionRegistry()
    ttl = config.integration_secret_ttl_seconds

    def bots(
        fixed: tuple[str, ...], family: Callable[[Any], Collection[str]]
    ) -> Collection[str] | Callable[[], Collection[str]]:
        if fixed or offered is None:
            return fixed
        return lambda: family(offered())

    groups: list[tuple[list[ActionSpec], Collection[str] | Callable[[], Collection[str]]]] = [
        (cloud_actions(Ec2Instances(clients.client("ec2"))), bots(config.cloud_actions_bots, lambda a: a.cloud))
    ]
    secrets_client = clients.client("secretsmanager") if _any_secret(config) else None
    if config.crm_url and config.crm_secret_id:
        creds = SecretsManagerCredentials(secrets_client, config.crm_secret_id, ttl_seconds=ttl)
        groups.append((crm_actions(HubSpotCrm(config.crm_url, creds)), bots(config.crm_actions_bots, lambda a: a.crm)))
    if config.hr_url and config.hr_secret_id:
        creds = SecretsManagerCredentials(secrets_client, config.hr_secret_id, ttl_seconds=ttl)
        groups.append((hr_actions(HrLeaveApi(config.hr_url, creds)), bots(config.hr_actions_bots, lambda a: a.hr)))
    if config.helpdesk_url and config.helpdesk_secret_id:
        helpdesk_creds = SecretCredentials(secrets_client, config.helpdesk_secret_id, ttl_seconds=ttl)
        groups.append(
            (
                helpdesk_actions(ZendeskTickets(config.helpdesk_url, helpdesk_creds)),
                bots(config.helpdesk_actions_bots, lambda a: a.helpdesk),
            )
        )
    for specs, offered_by in groups:
        for spec in specs:
            if spec.cedar_action not in known_actions:
                # Offering a tool that every request would be refused for only confuses users.
                _log.info("action %s left out: the policy point has no Cedar action %s", spec.name, spec.cedar_action)
                continue
            registry.register(spec, offered_by)
    return registry


def build_action_planner(
    config: ActionsConfig,
    clients: Any,
    *,
    authorizer: ActionAuthorizer,
    audit: AuditTrail,
    proposer: ToolProposer,
    known_actions: Collection[str],
    offered: Offered | None = None,
) -> ActionPlanner | None:
    """The turn's action port, or None when actions are switched off."""
    if not config.actions_enabled:
        return None
    service = ActionService(
        build_registry(config, clients, known_actions=known_actions, offered=offered),
        authorizer,
        DynamoDBPendingActions(clients.dynamodb, config.conversations_table),
        audit,
        confirm_seconds=config.action_confirm_seconds,
    )
    return ActionPlanner(service, proposer)


def _any_secret(config: ActionsConfig) -> bool:
    return bool(config.crm_secret_id or config.hr_secret_id or config.helpdesk_secret_id)
