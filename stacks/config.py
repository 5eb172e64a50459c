"""Per-stage settings for the CDK app: the one place where dev, staging and prod differ (R1).

Nothing here reads the environment; ``app.py`` reads the CDK context and hands the values to
``build_stage_configs``, which returns one validated, frozen ``StageConfig`` per stage.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from keel.models.catalogue import Catalogue, region_geography
from stacks.tenant import TenantBundle

STAGE_NAMES: tuple[str, ...] = ("dev", "staging", "prod")
CHANNELS: tuple[str, ...] = ("web", "widget", "slack", "api")
# Functions the app deploys; each is the folder functions/<name>/ with a handler.py (a test checks
# that this is every folder there).
FUNCTION_NAMES: tuple[str, ...] = (
    "chat",
    "feedback",
    "guest_session",
    "agent_api",
    "ops_api",
    "slack",
    "slack_worker",
    "websocket",
    "ingest",
    "audit_writer",
    "escalation_worker",
    "authorizer",
    "revocation",
    "secret_rotation",
)
# Functions that read the tenant (they authenticate users, whose IdP groups the tenant maps, run the
# turn or ingest documents); each role may read the tenant's AppConfig profile and nothing else of it.
TENANT_READERS: tuple[str, ...] = (
    "chat",
    "feedback",
    "guest_session",
    "agent_api",
    "ops_api",
    "slack",
    "slack_worker",
    "websocket",
    "ingest",
    "authorizer",
)
HELPDESK_KINDS: tuple[str, ...] = ("zendesk", "servicenow", "jira-service-management")
# The CRM and HR base URLs are also tags of their secrets (keel:rotation-url), so they keep to what a
# Secrets Manager tag value accepts: at most 256 of letters, digits and _ . : / = + - @.
_INTEGRATION_URL = re.compile(r"^https://[A-Za-z0-9_.:/=+\-@]{1,248}$")
# Log retention periods CloudWatch accepts (days).
_LOG_RETENTION_DAYS = frozenset({1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1827, 3653})


class ConfigError(ValueError):
    """A stage configuration value is wrong; the message names it and what is accepted."""


class EngineerAccessMode(StrEnum):
    """How much engineers may do in a stage outside break-glass."""

    READ_ONLY = "read-only"
    OPERATOR = "operator"


@dataclass(frozen=True)
class AccountTarget:
    """Where a stage deploys: account id and region (placeholders come from cdk.json context)."""

    account: str
    region: str

    def __post_init__(self) -> None:
        if not (len(self.account) == 12 and self.account.isdigit()):
            raise ConfigError(f"account {self.account!r}: accepted is a 12-digit AWS account id")
        parts = self.region.split("-")
        if len(parts) < 3 or not parts[-1].isdigit():
            raise ConfigError(f"region {self.region!r}: accepted is an AWS region such as eu-west-1")


@dataclass(frozen=True)
class ModelChoice:
    """Bedrock ids per role (R2): a large model, a fallback, a small task model and the embedding model.

    Text models are cross-Region inference profile ids (``eu.<model id>``) of active catalogue models;
    ``StageConfig`` refuses anything the catalogue says would fail from the stage's Region.
    """

    primary: str
    secondary: str
    small: str
    embedding: str

    def all_ids(self) -> tuple[str, ...]:
        """Every distinct model id, in a stable order (IAM resources are built from it)."""
        return tuple(dict.fromkeys((self.primary, self.secondary, self.small, self.embedding)))


@dataclass(frozen=True)
class Federation:
    """The corporate identity provider(s) Cognito brokers (R4): SAML metadata and/or OIDC."""

    saml_provider_name: str | None = None
    saml_metadata_url: str | None = None
    oidc_provider_name: str | None = None
    oidc_issuer_url: str | None = None
    oidc_client_id: str | None = None
    # IdP claim names carrying group membership and department.
    groups_claim: str = "groups"
    department_claim: str = "department"
    saml_email_claim: str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"

    def __post_init__(self) -> None:
        has_saml = self.saml_metadata_url is not None
        has_oidc = self.oidc_issuer_url is not None
        if not (has_saml or has_oidc):
            raise ConfigError("federation: accepted is a SAML metadata URL, an OIDC issuer, or both")
        if has_saml and not self.saml_provider_name:
            raise ConfigError("federation.saml_provider_name is required with a SAML metadata URL")
        if has_oidc and not (self.oidc_provider_name and self.oidc_client_id):
            raise ConfigError("federation: an OIDC issuer needs oidc_provider_name and oidc_client_id")
        for name in ("saml_metadata_url", "oidc_issuer_url"):
            value = getattr(self, name)
            if value is not None and not value.startswith("https://"):
                raise ConfigError(f"federation.{name} {value!r}: accepted is an https:// URL")


@dataclass(frozen=True)
class Quotas:
    """Usage limits and spend (R3): API throttling and per-user/daily model budgets."""

    api_rate_limit_rps: int
    api_burst_limit: int
    tokens_per_user_per_day: int
    daily_budget_usd: float


@dataclass(frozen=True)
class AlarmThresholds:
    """Where CloudWatch alarms fire (R12, R15, R16)."""

    error_rate_percent: float
    p95_latency_ms: float
    blocked_anomaly_std_devs: float
    fallback_active_minutes: int
    daily_cost_usd: float


@dataclass(frozen=True)
class EngineerAccess:
    """Engineers' standing access and the break-glass role used when standing access is not enough."""

    mode: EngineerAccessMode
    break_glass_max_session_hours: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.break_glass_max_session_hours <= 12:
            raise ConfigError("engineers.break_glass_max_session_hours: accepted is 1 to 12")


@dataclass(frozen=True)
class SearchCapacity:
    """OpenSearch sizing; prod gets dedicated masters and three zones."""

    data_node_type: str
    data_nodes: int
    master_node_type: str | None
    master_nodes: int
    volume_gib: int

    @property
    def zone_aware(self) -> bool:
        """Zone awareness needs at least two data nodes."""
        return self.data_nodes >= 2


@dataclass(frozen=True)
class Helpdesk:
    """Where escalation tickets go (R18); credentials live in the stage's helpdesk secret."""

    kind: str
    url: str

    def __post_init__(self) -> None:
        if self.kind not in HELPDESK_KINDS:
            raise ConfigError(f"helpdesk.kind {self.kind!r}: accepted is one of {', '.join(HELPDESK_KINDS)}")
        if not self.url.startswith("https://"):
            raise ConfigError(f"helpdesk.url {self.url!r}: accepted is an https:// URL")


@dataclass(frozen=True)
class Integrations:
    """Systems the bot may act on when actions are enabled (R6, R19); credentials live in stage secrets."""

    crm_url: str
    hr_url: str

    def __post_init__(self) -> None:
        for name in ("crm_url", "hr_url"):
            value = getattr(self, name)
            if not _INTEGRATION_URL.match(value):
                raise ConfigError(
                    f"integrations.{name} {value!r}: accepted is an https:// base URL of at most 256 letters, "
                    "digits and _ . : / = + - @ (no query; it is also the rotation tag of the secret)"
                )


@dataclass(frozen=True)
class StageConfig:
    """Everything that differs between dev, staging and prod, validated once."""

    name: str
    target: AccountTarget
    availability_zones: tuple[str, ...]
    # NAT devices: managed NAT gateways, or (nat_instance_type set) that many NAT instances of that type.
    nat_gateways: int
    models: ModelChoice
    quotas: Quotas
    log_level: str
    log_retention_days: int
    audit_retention_days: int
    federation: Federation
    callback_urls: tuple[str, ...]
    auth_domain_prefix: str
    access_token_minutes: int
    refresh_token_hours: int
    alarms: AlarmThresholds
    engineers: EngineerAccess
    search: SearchCapacity
    secret_rotation_days: int
    retain_data: bool
    helpdesk: Helpdesk
    integrations: Integrations
    # The organisation (tenant.yaml and its policies), deployed through AppConfig.
    tenant: TenantBundle
    # Actions (stop or terminate tagged instances, CRM/HR/helpdesk calls) are off unless enabled.
    actions_enabled: bool = False
    channels: tuple[str, ...] = CHANNELS
    tags: Mapping[str, str] = field(default_factory=dict)
    # Cheaper choices for a stage nobody depends on (stacks/README.md, "Dev's idle cost"): a NAT instance
    # instead of a managed NAT gateway (None: NAT gateways), and one dashboard for every bot instead of one each.
    nat_instance_type: str | None = None
    one_dashboard: bool = False

    @property
    def bots(self) -> tuple[str, ...]:
        """The tenant's bots (a dashboard and alarms each)."""
        return self.tenant.bot_ids

    def __post_init__(self) -> None:
        if self.name not in STAGE_NAMES:
            raise ConfigError(f"stage {self.name!r}: accepted is one of {', '.join(STAGE_NAMES)}")
        if self.log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ConfigError(f"{self.name}.log_level {self.log_level!r}: accepted DEBUG, INFO, WARNING, ERROR")
        if self.log_retention_days not in _LOG_RETENTION_DAYS:
            accepted = ", ".join(str(d) for d in sorted(_LOG_RETENTION_DAYS))
            raise ConfigError(f"{self.name}.log_retention_days {self.log_retention_days}: accepted {accepted}")
        if not 1 <= self.audit_retention_days <= 36500:
            raise ConfigError(f"{self.name}.audit_retention_days: accepted is 1 to 36500 days")
        # Short-lived tokens keep a revoked user's window small (R5); Cognito allows 5 min to 1 day.
        if not 5 <= self.access_token_minutes <= 60:
            raise ConfigError(f"{self.name}.access_token_minutes: accepted is 5 to 60")
        if not 1 <= self.refresh_token_hours <= 24:
            raise ConfigError(f"{self.name}.refresh_token_hours: accepted is 1 to 24")
        if not 1 <= self.secret_rotation_days <= 365:
            raise ConfigError(f"{self.name}.secret_rotation_days: accepted is 1 to 365")
        if len(self.availability_zones) < 2:
            raise ConfigError(f"{self.name}.availability_zones: accepted is at least two zones")
        if not all(az.startswith(self.target.region) for az in self.availability_zones):
            raise ConfigError(f"{self.name}.availability_zones must be zones of {self.target.region}")
        if self.search.data_nodes > len(self.availability_zones) and self.search.zone_aware:
            raise ConfigError(f"{self.name}.search.data_nodes: more nodes than zones is not supported here")
        if not self.bots:
            raise ConfigError(f"{self.name}: the tenant defines no bots; accepted is at least one bot")
        self._check_network()
        self._check_models()

    def _check_network(self) -> None:
        if self.nat_instance_type is not None and self.nat_instance_type not in NAT_INSTANCE_TYPES:
            raise ConfigError(
                f"{self.name}.nat_instance_type {self.nat_instance_type!r}: accepted is None (NAT gateways) or one "
                f"of {', '.join(NAT_INSTANCE_TYPES)} (Graviton, matching the arm64 NAT image)"
            )
        if self.nat_gateways < 1:
            raise ConfigError(f"{self.name}.nat_gateways: accepted is at least 1 (functions reach Slack and Cognito)")

    def _check_models(self) -> None:
        """Refuse a model that would fail on its first call from this Region (the dated catalogue decides)."""
        catalogue = Catalogue()
        for role in ("primary", "secondary", "small", "embedding"):
            found = catalogue.problems(getattr(self.models, role), self.target.region, environment=self.name)
            if found:
                raise ConfigError(f"{self.name}.models.{role}: {'; '.join(found)}")

    def dashboard_name(self, bot: str) -> str:
        """The dashboard that shows ``bot``: its own, or the stage's one shared dashboard."""
        return self.resource_name("bots" if self.one_dashboard else f"bot-{bot}")

    def resource_name(self, suffix: str) -> str:
        """A physical name unique to this stage, e.g. ``keel-prod-audit``."""
        return f"keel-{self.name}-{suffix}"

    def model_resources(self, model_ids: tuple[str, ...]) -> list[str]:
        """IAM resources for invoking these ids from the stage's Region: profiles and their foundation models."""
        catalogue = Catalogue()
        region, account = self.target.region, self.target.account
        return list(dict.fromkeys(arn for m in model_ids for arn in catalogue.invoke_resources(m, region, account)))

    @property
    def is_production(self) -> bool:
        """Prod keeps data on stack deletion and gives engineers read-only access."""
        return self.name == "prod"


# Current-generation models (keel/models/registry.json, dated), invoked through the profile of the
# stage Region's geography so requests stay in that geography (eu-west-1 -> eu.); global where a
# Region has no geography of its own.
_MODELS = {
    # Dev runs the cheapest models that exercise the same code paths (tool use included).
    "dev": ("anthropic.claude-haiku-4-5-20251001-v1:0", "amazon.nova-lite-v1:0", "amazon.nova-micro-v1:0"),
    "staging": (
        "anthropic.claude-sonnet-4-5-20250929-v1:0",
        "anthropic.claude-haiku-4-5-20251001-v1:0",
        "amazon.nova-micro-v1:0",
    ),
    "prod": (
        "anthropic.claude-sonnet-4-5-20250929-v1:0",
        "anthropic.claude-haiku-4-5-20251001-v1:0",
        "amazon.nova-micro-v1:0",
    ),
}
EMBEDDING_MODEL = "amazon.titan-embed-text-v2:0"


def _models(stage: str, region: str) -> ModelChoice:
    geography = region_geography(region) or "global"
    primary, secondary, small = (f"{geography}.{model}" for model in _MODELS[stage])
    return ModelChoice(primary=primary, secondary=secondary, small=small, embedding=EMBEDDING_MODEL)


def _federation(stage: str, overrides: Mapping[str, Any]) -> Federation:
    values: dict[str, Any] = {
        "saml_provider_name": "CorporateSAML",
        "saml_metadata_url": f"https://idp.example.com/app/keel-{stage}/sso/saml/metadata",
        "oidc_provider_name": "CorporateOIDC",
        "oidc_issuer_url": f"https://login.example.com/keel-{stage}/v2.0",
        "oidc_client_id": f"keel-{stage}-client",
    }
    values.update(overrides)
    try:
        return Federation(**values)
    except TypeError as exc:
        raise ConfigError(f"{stage}.federation: {exc}") from None


def _helpdesk(stage: str, overrides: Mapping[str, Any]) -> Helpdesk:
    values: dict[str, Any] = {"kind": "zendesk", "url": f"https://keel-{stage}.zendesk.example.com"}
    values.update(overrides)
    try:
        return Helpdesk(**values)
    except TypeError as exc:
        raise ConfigError(f"{stage}.helpdesk: {exc}; accepted keys: kind, url") from None


def _integrations(stage: str, overrides: Mapping[str, Any]) -> Integrations:
    values: dict[str, Any] = {
        "crm_url": f"https://keel-{stage}.crm.example.com",
        "hr_url": f"https://keel-{stage}.hr.example.com",
    }
    values.update(overrides)
    try:
        return Integrations(**values)
    except TypeError as exc:
        raise ConfigError(f"{stage}.integrations: {exc}; accepted keys: crm_url, hr_url") from None


def _actions_enabled(stage: str, overrides: Mapping[str, Any]) -> bool:
    # Dev and staging exercise actions; prod turns them on only by an explicit override.
    value = overrides.get("actions_enabled", stage != "prod")
    if not isinstance(value, bool):
        raise ConfigError(f"{stage}.actions_enabled {value!r}: accepted is true or false")
    return value


_OVERRIDES = ("federation", "callback_urls", "auth_domain_prefix", "helpdesk", "integrations", "actions_enabled")

# NAT instance types accepted (arm64, to match the Amazon Linux 2023 arm64 image the NAT instance runs).
NAT_INSTANCE_TYPES = ("t4g.nano", "t4g.micro", "t4g.small")

_SEARCH = {
    "dev": SearchCapacity("t3.small.search", 1, None, 0, 10),
    "staging": SearchCapacity("m7g.large.search", 2, None, 0, 50),
    "prod": SearchCapacity("r7g.large.search", 3, "m7g.large.search", 3, 200),
}


def build_stage_config(
    stage: str, target: AccountTarget, overrides: Mapping[str, Any] | None = None, *, tenant: TenantBundle
) -> StageConfig:
    """The validated configuration of one stage; ``overrides`` come from CDK context (keys in _OVERRIDES)."""
    if stage not in STAGE_NAMES:
        raise ConfigError(f"stage {stage!r}: accepted is one of {', '.join(STAGE_NAMES)}")
    extra = dict(overrides or {})
    unknown = sorted(set(extra) - set(_OVERRIDES))
    if unknown:
        raise ConfigError(f"{stage}: unknown override(s) {', '.join(unknown)}; accepted: {', '.join(_OVERRIDES)}")
    prod = stage == "prod"
    zones = (
        tuple(f"{target.region}{z}" for z in ("a", "b", "c"))
        if stage != "dev"
        else (
            f"{target.region}a",
            f"{target.region}b",
        )
    )
    return StageConfig(
        name=stage,
        target=target,
        availability_zones=zones,
        nat_gateways={"dev": 1, "staging": 1, "prod": 3}[stage],
        models=_models(stage, target.region),
        quotas={
            "dev": Quotas(20, 40, 50_000, 20.0),
            "staging": Quotas(50, 100, 100_000, 50.0),
            "prod": Quotas(500, 1000, 200_000, 500.0),
        }[stage],
        log_level="DEBUG" if stage == "dev" else "INFO",
        log_retention_days={"dev": 14, "staging": 30, "prod": 365}[stage],
        audit_retention_days={"dev": 1, "staging": 30, "prod": 2557}[stage],
        federation=_federation(stage, extra.get("federation", {})),
        # The consoles are their own redirect (and sign-out) URIs: code + PKCE returns to the page that asked.
        callback_urls=tuple(
            extra.get(
                "callback_urls", tuple(f"https://keel-{stage}.example.com{page}" for page in ("/agent/", "/ops/"))
            )
        ),
        auth_domain_prefix=str(extra.get("auth_domain_prefix", f"keel-{stage}-{target.account}")),
        access_token_minutes=15 if prod else 30,
        refresh_token_hours=8 if prod else 12,
        alarms={
            "dev": AlarmThresholds(20.0, 15_000, 4.0, 30, 20.0),
            "staging": AlarmThresholds(5.0, 8_000, 3.0, 15, 50.0),
            "prod": AlarmThresholds(2.0, 6_000, 2.0, 5, 500.0),
        }[stage],
        engineers=EngineerAccess(
            mode=EngineerAccessMode.READ_ONLY if stage != "dev" else EngineerAccessMode.OPERATOR,
            break_glass_max_session_hours=1,
        ),
        search=_SEARCH[stage],
        secret_rotation_days=30 if prod else 90,
        retain_data=stage != "dev",
        helpdesk=_helpdesk(stage, extra.get("helpdesk", {})),
        integrations=_integrations(stage, extra.get("integrations", {})),
        actions_enabled=_actions_enabled(stage, extra),
        tenant=tenant,
        tags={"project": "keel", "stage": stage},
        # Dev only: staging and prod keep managed NAT gateways and a dashboard per bot (stacks/README.md).
        nat_instance_type="t4g.nano" if stage == "dev" else None,
        one_dashboard=stage == "dev",
    )


def build_stage_configs(
    targets: Mapping[str, AccountTarget],
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    tenant: TenantBundle,
) -> dict[str, StageConfig]:
    """One StageConfig per stage in STAGE_NAMES; every stage needs a target."""
    missing = [s for s in STAGE_NAMES if s not in targets]
    if missing:
        raise ConfigError(f"no account/region for stage(s) {', '.join(missing)}; set context keel:targets")
    extra = overrides or {}
    return {s: build_stage_config(s, targets[s], extra.get(s), tenant=tenant) for s in STAGE_NAMES}
