"""Typed settings: the one object that holds everything that differs between environments.

Values come from ``KEEL_*`` environment variables (set by CDK in AWS and by ``keel dev`` locally).
A wrong or missing value fails at start-up with a message naming the variable and what it accepts.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from keel.errors import ConfigurationError

ENV_PREFIX = "KEEL_"
# Variables of the tooling around Keel (local stack, tests), not settings of the platform itself.
TOOLING_VARIABLES = frozenset({"KEEL_REPO_ROOT", "KEEL_STATE_DIR", "KEEL_PUBLIC_EVAL_DIR"})


class Environment(StrEnum):
    """Where Keel runs; local is the laptop stack, the others are CDK stages."""

    LOCAL = "local"
    DEV = "dev"
    STAGING = "staging"
    PROD = "prod"


class Settings(BaseModel):
    """Everything Keel's core reads from its environment, validated once."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    environment: Environment
    region: str = Field(default="us-east-1", pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
    tenant: str = Field(default="demo", pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    # The tenant folder (tenant.yaml, policies/, prompts/); None: the packaged example tenant.
    tenant_dir: str | None = None
    # In AWS: the tenant's AppConfig profile as application/environment/profile (wins over tenant_dir).
    tenant_appconfig: str | None = Field(default=None, pattern=r"^[^/\s]+/[^/\s]+/[^/\s]+$")
    tenant_cache_seconds: int = Field(default=60, ge=0, le=3600)
    log_level: str = Field(default="INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$")
    # Local stand-ins; None in AWS, where the SDK finds the real endpoints.
    aws_endpoint_url: HttpUrl | None = None
    bedrock_endpoint_url: HttpUrl | None = None

    # Identity (R4, R5).
    user_pool_id: str = Field(min_length=1)
    app_client_ids: list[str] = Field(min_length=1)
    jwks_url: HttpUrl | None = None
    token_leeway_seconds: int = Field(default=30, ge=0, le=300)

    # Data.
    conversations_table: str = Field(min_length=3)
    opensearch_url: HttpUrl
    index_internal: str = Field(default="keel-internal", min_length=1)
    index_external: str = Field(default="keel-external", min_length=1)
    opensearch_knn: bool = False

    # Identity state (R5): per-subject not-before records and open sessions.
    revocations_table: str = Field(min_length=3)
    sessions_table: str = Field(min_length=3)
    revocation_max_age_seconds: float = Field(default=0.0, ge=0.0, le=60.0)

    # Privacy (R9): vaults are sealed with this KMS key; "fast" masking skips the name model.
    vault_kms_key_id: str = Field(min_length=1)
    pii_mode: str = Field(default="full", pattern=r"^(full|fast)$")
    # Bare places (a city, an office location) are not among R9's kinds and stay readable; street addresses are
    # always masked. A deployment whose policy counts places as personal data turns this on.
    pii_mask_places: bool = False
    # In AWS: names through Comprehend and toxicity through a Bedrock guardrail, since spaCy and the
    # toxicity classifier do not fit a Lambda package; locally both run in-process.
    bedrock_guardrail_id: str | None = None
    bedrock_guardrail_version: str = Field(default="DRAFT", pattern=r"^(DRAFT|[0-9]+)$")

    # Audit (R13, R14): fail closed unless audit_fail_open (refused outside local and dev).
    audit_queue_url: str = Field(min_length=1)
    audit_bucket: str = Field(min_length=3)
    audit_table: str = Field(min_length=3)
    audit_kms_key_id: str | None = None
    audit_signing_key_id: str | None = None
    audit_retention_days: int = Field(default=2555, ge=1, le=36500)
    audit_fail_open: bool = False

    # Escalation (R17, R18).
    escalation_state_machine_arn: str = Field(min_length=1)
    escalations_table: str = Field(min_length=3)
    # Optional second stage for the heads' uncertainty band: the small model, under a strict deadline.
    escalation_second_stage: bool = False
    escalation_second_stage_timeout_ms: int = Field(default=1500, ge=100, le=10_000)

    # Guardrails (R10): the optional Bedrock second opinion on input-screen scores in the uncertainty band (AWS
    # only), asked of the registry's small model under a strict deadline; off by default.
    guard_second_opinion: bool = False
    guard_second_opinion_timeout_ms: int = Field(default=1200, ge=100, le=10_000)

    # Channels (R20): idempotency claims, Slack thread links and WebSocket connections share one table.
    channel_state_table: str | None = None
    slack_signing_secret_id: str | None = None
    slack_bot_token_secret_id: str | None = None
    slack_events_queue_url: str | None = None
    slack_api_url: str | None = Field(default=None, pattern=r"^https?://\S+$")
    slack_bot: str = Field(default="auto", pattern=r"^[a-z][a-z0-9-]*$")
    customer_user_pool_id: str | None = None
    customer_app_client_id: str | None = None

    # Actions and integrations (R6 action layer, R19): off unless enabled; credentials in Secrets Manager.
    # The *_actions_bots default to the tenant's `actions` (tenant.yaml); a setting here overrides it.
    actions_enabled: bool = False
    action_confirm_seconds: int = Field(default=300, ge=30, le=3600)
    integration_secret_ttl_seconds: float = Field(default=60.0, ge=0, le=3600)
    cloud_actions_bots: tuple[str, ...] = ()
    crm_url: str | None = Field(default=None, pattern=r"^https?://\S+$")
    crm_secret_id: str | None = None
    crm_actions_bots: tuple[str, ...] = ()
    hr_url: str | None = Field(default=None, pattern=r"^https?://\S+$")
    hr_secret_id: str | None = None
    hr_actions_bots: tuple[str, ...] = ()
    helpdesk_url: str | None = Field(default=None, pattern=r"^https?://\S+$")
    helpdesk_secret_id: str | None = None
    helpdesk_actions_bots: tuple[str, ...] = ()

    # Models (R2, R3).
    model_primary: str = Field(min_length=1)
    model_secondary: str = Field(min_length=1)
    model_small: str = Field(min_length=1)
    model_timeout_seconds: float = Field(default=20.0, gt=0, le=120)
    # No model call starts later than this after the turn's first one; the turn answers from its passages instead.
    # Unset, it is the model timeout: a stalled provider costs a turn one timeout (two at most), not one per call.
    model_turn_deadline_seconds: float | None = Field(default=None, gt=0, le=300)
    max_answer_tokens: int = Field(default=800, ge=16, le=8192)
    budgets_table: str = Field(min_length=3)
    budget_user_daily_tokens: int = Field(default=200_000, ge=1)
    budget_tenant_daily_tokens: int = Field(default=20_000_000, ge=1)
    maintenance_parameter: str = Field(default="/keel/maintenance", pattern=r"^/[A-Za-z0-9/_.-]+$")
    # Local stack only: "openai-compatible" sends every model call to a developer's own server (Ollama, vLLM,
    # llama.cpp) at openai_base_url, as openai_model; "bedrock" (the default) keeps the Converse endpoint.
    model_provider: Literal["bedrock", "openai-compatible"] = "bedrock"
    openai_base_url: HttpUrl | None = None
    openai_model: str | None = Field(default=None, min_length=1)
    openai_api_key: SecretStr | None = None

    @field_validator(
        "cloud_actions_bots", "crm_actions_bots", "hr_actions_bots", "helpdesk_actions_bots", mode="before"
    )
    @classmethod
    def _split_bots(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("app_client_ids", mode="before")
    @classmethod
    def _split_csv(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _openai_compatible_only_locally(self) -> Settings:
        if self.model_provider == "openai-compatible":
            if self.environment != Environment.LOCAL:
                raise ValueError("model_provider openai-compatible is accepted only in local; AWS stages use bedrock")
            if self.openai_base_url is None or not self.openai_model:
                raise ValueError(
                    "model_provider openai-compatible needs KEEL_OPENAI_BASE_URL (e.g. http://127.0.0.1:11434/v1) "
                    "and KEEL_OPENAI_MODEL (the server's model name)"
                )
        return self

    @model_validator(mode="after")
    def _fail_open_only_off_production(self) -> Settings:
        if self.audit_fail_open and self.environment not in (Environment.LOCAL, Environment.DEV):
            raise ValueError("audit_fail_open is accepted only in local and dev; staging and prod fail closed")
        return self

    @model_validator(mode="after")
    def _guardrail_outside_local(self) -> Settings:
        if self.environment != Environment.LOCAL and not self.bedrock_guardrail_id:
            raise ValueError(
                "bedrock_guardrail_id is required outside local: in AWS the toxicity check runs in a Bedrock guardrail"
            )
        return self

    @property
    def issuer(self) -> str:
        """The Cognito issuer every accepted token must carry."""
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"

    @property
    def customer_issuer(self) -> str | None:
        """The customer pool's issuer URL, when a customer pool is configured."""
        if not self.customer_user_pool_id:
            return None
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.customer_user_pool_id}"

    @property
    def is_production_like(self) -> bool:
        """Staging and prod refuse developer shortcuts such as ``keel ask``."""
        return self.environment in (Environment.STAGING, Environment.PROD)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read ``KEEL_*`` variables into Settings, or raise ConfigurationError naming each bad one."""
    source = os.environ if environ is None else environ
    raw = {
        key[len(ENV_PREFIX) :].lower(): value
        for key, value in source.items()
        if key.startswith(ENV_PREFIX) and key not in TOOLING_VARIABLES and value != ""
    }
    known = set(Settings.model_fields)
    unknown = sorted(f"{ENV_PREFIX}{k.upper()}" for k in raw if k not in known)
    if unknown:
        raise ConfigurationError(f"unknown setting(s) {', '.join(unknown)}; accepted: {_accepted()}")
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = f"{ENV_PREFIX}{str(error['loc'][0]).upper()}" if error["loc"] else "settings"
            problems.append(f"{name}: {_describe(error)}")
        raise ConfigurationError("invalid settings: " + "; ".join(problems)) from None


def _describe(error: Mapping[str, Any]) -> str:
    if error["type"] == "missing":
        return "is required"
    if error["type"] == "enum":
        return f"got {error.get('input')!r}, accepted: {', '.join(e.value for e in Environment)}"
    return f"got {error.get('input')!r}: {error['msg']}"


def _accepted() -> str:
    return ", ".join(f"{ENV_PREFIX}{name.upper()}" for name in Settings.model_fields)


def public_eval_dir(repo_root: Path) -> Path:
    """The public development sets: KEEL_PUBLIC_EVAL_DIR, else ../shared/eval/public beside the repository."""
    override = os.environ.get("KEEL_PUBLIC_EVAL_DIR", "")
    return Path(override) if override else repo_root.parent / "shared" / "eval" / "public"
