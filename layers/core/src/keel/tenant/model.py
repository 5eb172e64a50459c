"""The tenant: everything specific to one organisation, as a validated model (R6, R7, R16, R23).

A tenant folder holds ``tenant.yaml`` (this model), optional extra Cedar policies in ``policies/*.cedar``,
optional prompt templates in ``prompts/<bot>/v<N>.md`` and, for the local stack, ``users.json`` and
``docs/``. Keel's own guarantees stay in the base policies, which a tenant cannot override.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from keel.knowledge.ports import CLASSIFICATIONS

SLUG = r"^[a-z][a-z0-9-]{0,31}$"
# Group names reach Cedar policy text and search filters: no quotes, backslashes or whitespace.
GROUP = r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$"
Audience = Literal["internal", "external"]
Classification = Literal["public", "internal", "confidential", "restricted"]
ACTION_KINDS: tuple[str, ...] = ("cloud", "crm", "hr", "helpdesk")


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CollectionSpec(_Strict):
    """A named set of documents; its audience decides the index it lives in."""

    id: str = Field(pattern=SLUG)
    audience: Audience
    name: str | None = Field(default=None, max_length=80)
    # Other spellings of the id in exports (a `department` column saying "Human Resources").
    aliases: tuple[str, ...] = ()


class BotSpec(_Strict):
    """One assistant: who may use it, which collections bound what it may ever retrieve, who owns it."""

    id: str = Field(pattern=SLUG)
    name: str = Field(min_length=1, max_length=80)
    audience: Audience
    collections: tuple[str, ...] = Field(min_length=1)
    allowed_groups: tuple[str, ...] = ()
    owner: str = Field(min_length=3)
    description: str = ""
    greeting: str = ""
    languages: tuple[str, ...] = ()
    model_tier: Literal["primary", "secondary", "small"] | None = None
    # Per-bot escalation: support_resources, support_message, policy (keel.escalation.config.BotEscalation).
    escalation: dict[str, Any] = Field(default_factory=dict)
    # Per-bot input-screen policy: flag_threshold, block_threshold, actions, messages (keel.guardrails.BotPolicy).
    guardrails: dict[str, Any] = Field(default_factory=dict)


class Grant(_Strict):
    """Who may read one classification of one collection (beyond what everyone reads)."""

    collection: str
    classification: Classification
    groups: tuple[str, ...] = Field(min_length=1)


class GroupMapping(_Strict):
    """An identity-provider value (a SAML attribute or OIDC claim value) that means a Keel group."""

    idp: str = Field(min_length=1, max_length=512)
    group: str = Field(pattern=GROUP)


class AgentQueue(_Strict):
    """A group of support agents and the bots whose escalations they may see and take."""

    group: str = Field(pattern=GROUP)
    bots: tuple[str, ...] = Field(min_length=1)


class Escalation(_Strict):
    """Where conversations go when a person must take over (R17, R18)."""

    helpdesk: Literal["local", "zendesk", "servicenow", "jira"] | None = None
    queue: str | None = None
    hours: str | None = Field(default=None, pattern=r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")
    timezone: str = "UTC"
    agent_queues: tuple[AgentQueue, ...] = ()


class Actions(_Strict):
    """Which bots may offer each family of actions; the tenant's Cedar policies decide who may run them."""

    cloud: tuple[str, ...] = ()
    crm: tuple[str, ...] = ()
    hr: tuple[str, ...] = ()
    helpdesk: tuple[str, ...] = ()


class Privacy(_Strict):
    """PII handling: full masking (names included) or the fast pattern-only mode."""

    pii_mode: Literal["full", "fast"] = "full"


class Models(_Strict):
    """Model tier and token budgets of the organisation."""

    tier: Literal["primary", "secondary", "small"] = "primary"
    budget_user_daily_tokens: int | None = Field(default=None, ge=1)
    budget_tenant_daily_tokens: int | None = Field(default=None, ge=1)


class Retention(_Strict):
    """How long records are kept (days)."""

    audit_days: int = Field(default=2555, ge=1, le=36500)
    conversation_days: int = Field(default=90, ge=1, le=36500)


class TenantSpec(_Strict):
    """tenant.yaml: the single source of what is specific to one organisation."""

    name: str = Field(min_length=1, max_length=120)
    id: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    languages: tuple[str, ...] = ("en",)
    collections: tuple[CollectionSpec, ...] = Field(min_length=1)
    bots: tuple[BotSpec, ...] = Field(min_length=1)
    # Classifications every signed-in internal principal reads in internal collections (ACLs still narrow).
    everyone_reads: tuple[Classification, ...] = ("public", "internal")
    access: tuple[Grant, ...] = ()
    groups: tuple[GroupMapping, ...] = ()
    # Groups that may read the tenant-wide KPIs of the ops view.
    operators: tuple[str, ...] = ()
    escalation: Escalation = Escalation()
    actions: Actions = Actions()
    privacy: Privacy = Privacy()
    models: Models = Models()
    retention: Retention = Retention()


__all__ = ["ACTION_KINDS", "CLASSIFICATIONS", "GROUP", "SLUG", "TenantSpec"]
