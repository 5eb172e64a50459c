"""The composition root: the only module that names concrete adapters and makes AWS clients."""

from __future__ import annotations

import threading
from functools import cached_property, lru_cache
from typing import Any
from urllib.parse import urlsplit

from keel.integrations.http import LOOPBACK_HOSTS
from keel.settings import Settings, load_settings
from keel.turn import ChatService, TurnDependencies


class AwsClients:
    """boto3 clients made on first use (never at import), pointed at moto locally."""

    def __init__(
        self,
        *,
        region: str,
        endpoint_url: str | None = None,
        bedrock_endpoint_url: str | None = None,
        model_timeout: float = 20.0,
    ) -> None:
        self._region = region
        self._endpoint_url = endpoint_url
        self._bedrock_endpoint_url = bedrock_endpoint_url
        self._model_timeout = model_timeout
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> AwsClients:
        """Clients for the environment the settings describe."""
        return cls(
            region=settings.region,
            endpoint_url=str(settings.aws_endpoint_url).rstrip("/") if settings.aws_endpoint_url else None,
            bedrock_endpoint_url=(
                str(settings.bedrock_endpoint_url).rstrip("/") if settings.bedrock_endpoint_url else None
            ),
            model_timeout=settings.model_timeout_seconds,
        )

    def client(self, service: str, **config: Any) -> Any:
        """A boto3 client for one service with bounded timeouts and standard retries."""
        import boto3
        from botocore.config import Config

        defaults: dict[str, Any] = {
            "connect_timeout": 3,
            "read_timeout": 10,
            "retries": {"mode": "standard", "max_attempts": 3},
        }
        defaults.update(config)
        endpoint = self._bedrock_endpoint_url if service == "bedrock-runtime" else self._endpoint_url
        credentials: dict[str, str] = {}
        if endpoint and urlsplit(endpoint).hostname in LOOPBACK_HOSTS:
            # The local stand-ins accept any credentials; a laptop with none configured must still work.
            credentials = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}
        with self._lock:  # boto3's default session is not thread-safe while it creates clients
            session: Any = boto3.session.Session()
            return session.client(
                service, region_name=self._region, endpoint_url=endpoint, config=Config(**defaults), **credentials
            )

    @cached_property
    def dynamodb(self) -> Any:
        """DynamoDB."""
        return self.client("dynamodb")

    @cached_property
    def s3(self) -> Any:
        """S3."""
        return self.client("s3")

    @cached_property
    def sqs(self) -> Any:
        """SQS."""
        return self.client("sqs")

    @cached_property
    def cognito(self) -> Any:
        """Cognito user pools."""
        return self.client("cognito-idp")

    @cached_property
    def kms(self) -> Any:
        """KMS."""
        return self.client("kms")

    @cached_property
    def bedrock(self) -> Any:
        """Bedrock Runtime; the router does its own retries, so botocore makes one attempt.

        total_max_attempts counts the first attempt; max_attempts 1 meant one retry, so a stalled model
        held a call for twice the model timeout.
        """
        return self.client(
            "bedrock-runtime",
            read_timeout=self._model_timeout,
            retries={"mode": "standard", "total_max_attempts": 1},
        )


def build_chat_service(settings: Settings | None = None, clients: AwsClients | None = None) -> ChatService:
    """The chat turn wired to the real adapters for this environment."""
    settings = settings or load_settings()
    clients = clients or AwsClients.from_settings(settings)
    return ChatService(turn_dependencies(settings, clients))


def build_authenticator(settings: Settings, clients: AwsClients) -> Any:
    """Token verification per trusted issuer, the per-request revocation check (R5), live-session proofs.

    Each pool is trusted for what it can vouch for: the workforce pool's groups come from administrators and
    the corporate IdP; the customer pool allows self sign-up, so its tokens give an external principal and
    nothing else (R6). The tenant always comes from settings.
    """
    from keel.identity.authenticator import TokenAuthenticator
    from keel.identity.cognito import CognitoSessionCheck
    from keel.identity.groups import MappedGroups
    from keel.identity.revocation import DynamoDBRevocationStore, RevocationCheck
    from keel.identity.tokens import (
        COGNITO_CLAIMS,
        CUSTOMER_CLAIMS,
        ClaimMapping,
        HttpJwks,
        TokenVerifier,
        TrustedIssuers,
    )

    def verifier(
        issuer: str, pool_id: str, audiences: frozenset[str], claims: ClaimMapping, jwks_url: str | None
    ) -> TokenVerifier:
        if jwks_url is None and settings.aws_endpoint_url:
            # moto serves each pool's keys under the pool's path on its own endpoint.
            jwks_url = f"{str(settings.aws_endpoint_url).rstrip('/')}/{pool_id}/.well-known/jwks.json"
        elif jwks_url is None:
            jwks_url = f"{issuer}/.well-known/jwks.json"
        return TokenVerifier(
            HttpJwks(jwks_url),
            issuers=frozenset({issuer}),
            audiences=audiences,
            tenant=settings.tenant,
            leeway_seconds=settings.token_leeway_seconds,
            claims=claims,
        )

    pools = {
        settings.issuer: (
            settings.user_pool_id,
            frozenset(settings.app_client_ids),
            COGNITO_CLAIMS,
            str(settings.jwks_url) if settings.jwks_url else None,
        )
    }
    if settings.customer_issuer and settings.customer_user_pool_id and settings.customer_app_client_id:
        # Website visitors sign in to their own pool; their tokens are verified against its keys only.
        pools[settings.customer_issuer] = (
            settings.customer_user_pool_id,
            frozenset({settings.customer_app_client_id}),
            CUSTOMER_CLAIMS,
            None,
        )
    verifiers = {issuer: verifier(issuer, pool, aud, claims, url) for issuer, (pool, aud, claims, url) in pools.items()}
    revocations = RevocationCheck(
        DynamoDBRevocationStore(clients.dynamodb, settings.revocations_table),
        max_age_seconds=settings.revocation_max_age_seconds,
    )
    sessions = {issuer: CognitoSessionCheck(clients.cognito, pool) for issuer, (pool, *_rest) in pools.items()}
    tenants = build_tenant_source(settings)
    # The tenant's IdP group mapping applies to workforce principals after their token is verified.
    return MappedGroups(
        TokenAuthenticator(TrustedIssuers(verifiers), revocations, sessions=sessions), lambda: tenants().map_groups
    )


def build_access(settings: Settings) -> Any:
    """The Cedar policy decision point over the tenant's bots, grants and policies (R6, R7)."""
    from keel.access.pdp import TenantPolicies
    from keel.access.scope import Indexes
    from keel.access.service import PolicyAccessControl

    return PolicyAccessControl(
        TenantPolicies(build_tenant_source(settings)), Indexes(settings.index_internal, settings.index_external)
    )


def build_tenant(settings: Settings) -> Any:
    """The organisation this deployment serves now, validated (a broken tenant never starts)."""
    return build_tenant_source(settings)()


def build_tenant_source(settings: Settings) -> Any:
    """A callable returning the current tenant: AppConfig in AWS (cached, refreshed), else the folder."""
    return _tenant_source(settings.tenant_dir, settings.tenant_appconfig, settings.tenant_cache_seconds)


@lru_cache(maxsize=4)
def _tenant_source(tenant_dir: str | None, appconfig: str | None, max_age: int) -> Any:
    # Access, ingestion and actions each ask for the tenant; one source per process.
    if appconfig:
        from keel.tenant.appconfig import AppConfigTenant

        return AppConfigTenant.from_identifier(appconfig, max_age=max_age).current
    from keel.tenant.loader import load_tenant

    tenant = load_tenant(tenant_dir)
    return lambda: tenant


def build_retriever(settings: Settings, clients: AwsClients) -> Any:
    """Hybrid retrieval in OpenSearch, scoped inside the query (R7)."""
    from keel.knowledge.wiring import build_embedder, build_retriever, build_search_client

    embedder = build_embedder(settings, None if settings.environment == "local" else clients.bedrock)
    return build_retriever(settings, build_search_client(settings), embedder)


def chat_model(settings: Settings, clients: AwsClients) -> Any:
    """Bedrock's Converse API, or (local only, by settings) a developer's OpenAI-compatible server."""
    if settings.model_provider == "openai-compatible" and settings.openai_base_url and settings.openai_model:
        from keel.models.openai_compatible import OpenAICompatibleChatModel

        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
        return OpenAICompatibleChatModel(
            str(settings.openai_base_url), settings.openai_model, api_key=key, timeout=settings.model_timeout_seconds
        )
    from keel.models.bedrock import BedrockConverseModel

    return BedrockConverseModel(clients.bedrock)


def build_router(settings: Settings, clients: AwsClients) -> Any:
    """The model router with the fallback chain, breakers, budgets and the maintenance switch (R2, R3)."""
    from keel.models.budget import BudgetLimits, DynamoDBBudget
    from keel.models.maintenance import SsmMaintenanceSwitch
    from keel.models.metrics import EmfMetrics
    from keel.models.registry import ModelRegistry
    from keel.models.router import ModelRouter

    return ModelRouter(
        chat_model(settings, clients),
        ModelRegistry.from_settings(settings),
        budget=DynamoDBBudget(
            clients.dynamodb,
            settings.budgets_table,
            BudgetLimits(settings.budget_user_daily_tokens, settings.budget_tenant_daily_tokens),
        ),
        maintenance=SsmMaintenanceSwitch(clients.client("ssm"), settings.maintenance_parameter),
        metrics=EmfMetrics(),
        max_tokens=settings.max_answer_tokens,
    )


def build_escalation(settings: Settings, clients: AwsClients, conversations: Any) -> Any:
    """The escalation decision and the Step Functions handoff (R17, R18)."""
    from keel.escalation.config import tenant_bot_escalation
    from keel.escalation.outage import DynamoDBClaims, OutageHandoffs
    from keel.escalation.records import DynamoDBEscalationStore
    from keel.escalation.service import EscalationService
    from keel.tenant.derived import PerBot
    from keel.turn_adapters import EscalationBridge

    bots = PerBot(build_tenant_source(settings), tenant_bot_escalation)
    bots.current()  # settings that do not derive stop the cold start, not the first message
    service = EscalationService(
        clients.client("stepfunctions"),
        settings.escalation_state_machine_arn,
        DynamoDBEscalationStore(clients.dynamodb, settings.escalations_table),
        conversations,
    )
    return EscalationBridge(
        service,
        bots,
        second_opinion=build_escalation_second_opinion(settings, clients),
        outage=OutageHandoffs(DynamoDBClaims(clients.dynamodb, settings.escalations_table)),
    )


def build_escalation_second_opinion(settings: Settings, clients: AwsClients) -> Any:
    """The Bedrock second stage for uncertain escalation decisions, or None while it is off (R17)."""
    if not settings.escalation_second_stage:
        return None
    from keel.escalation.second_stage import BedrockSecondOpinion
    from keel.models.registry import ModelRegistry

    timeout = settings.escalation_second_stage_timeout_ms / 1000
    client = _bedrock_within(clients, timeout)
    return BedrockSecondOpinion(client, ModelRegistry.from_settings(settings).small, timeout_seconds=timeout)


def _bedrock_within(clients: AwsClients, timeout: float) -> Any:
    """A Bedrock Runtime client for a second opinion: one attempt, connect and read bounded by its deadline."""
    return clients.client(
        "bedrock-runtime",
        connect_timeout=timeout,
        read_timeout=timeout,
        retries={"mode": "standard", "total_max_attempts": 1},  # max_attempts 1 is one retry: twice the deadline
    )


def build_guard_second_opinion(settings: Settings, clients: AwsClients) -> Any:
    """The Bedrock second opinion for input-screen scores in the uncertainty band, or None while it is off or
    local (R10): the registry's small model, one attempt, a hard deadline after which the local verdict stands."""
    if not settings.guard_second_opinion or settings.environment == "local":
        return None
    from keel.guardrails.second_opinion import BedrockSecondOpinion
    from keel.models.bedrock import BedrockConverseModel
    from keel.models.registry import ModelRegistry

    timeout = settings.guard_second_opinion_timeout_ms / 1000
    client = _bedrock_within(clients, timeout)
    small = ModelRegistry.from_settings(settings).small
    return BedrockSecondOpinion(BedrockConverseModel(client), small, timeout_seconds=timeout)


def build_guardrails(settings: Settings, clients: AwsClients) -> Any:
    """Input, context and output screens; in AWS the toxicity score comes from the Bedrock guardrail (R10, R11)."""
    from keel.guardrails import Guardrails, build_default
    from keel.guardrails.output import OutputCheck
    from keel.guardrails.verdict import tenant_bot_policies
    from keel.tenant.derived import PerBot

    defaults = build_default()
    defaults.input.second_opinion = build_guard_second_opinion(settings, clients)
    policies = PerBot(build_tenant_source(settings), tenant_bot_policies)
    policies.current()  # settings that do not derive stop the cold start, as before, not the first message
    defaults.input.bot_policies = policies
    if settings.environment == "local" or not settings.bedrock_guardrail_id:
        return defaults
    from keel.guardrails.bedrock import BedrockGuardrail

    guardrail = BedrockGuardrail(
        clients.client("bedrock-runtime"), settings.bedrock_guardrail_id, settings.bedrock_guardrail_version
    )
    return Guardrails(defaults.input, defaults.context, OutputCheck(toxicity=guardrail.toxicity))


def build_masker(settings: Settings, clients: AwsClients) -> Any:
    """PII masking: checksum-validated recognizers everywhere; names by spaCy locally and Comprehend in AWS (R9)."""
    from keel.privacy.masker import PiiMasker

    places = settings.pii_mask_places
    if settings.environment == "local" or settings.pii_mode == "fast":
        return PiiMasker(settings.pii_mode, places=places)  # type: ignore[arg-type]
    from keel.privacy.comprehend import ComprehendNameFinder

    return PiiMasker("full", ner=ComprehendNameFinder(clients.client("comprehend")), places=places)


def warm_models(settings: Settings, clients: AwsClients) -> float:
    """Load the in-process models a turn uses (names, injection classifier, toxicity) once; seconds taken.

    The local stack calls it at start so the first question does not wait several seconds for spaCy. In
    Lambda the same models load on the first request instead, to keep the cold-start import small.
    """
    import time

    started = time.perf_counter()
    guardrails = build_guardrails(settings, clients)
    guardrails.input.screen("How many days of annual leave do I get?")
    guardrails.output.check("Annual leave is 25 days.", [], "", "How many days of leave?", [])
    build_masker(settings, clients).detect("Please ask Alice Martin in Ghent.")
    from keel.escalation.decision import Turn, decide

    decide([Turn(role="user", text="How many days of annual leave do I get?")])  # heads, encoder, language id
    return time.perf_counter() - started


def build_audit_trail(settings: Settings, clients: AwsClients) -> Any:
    """The audit trail every turn and action writes to before it replies (R13, R14)."""
    from keel.audit.wiring import AuditConfig, build_trail

    sqs = clients.client("sqs", connect_timeout=1, read_timeout=2)
    return build_trail(AuditConfig.from_settings(settings), sqs)


def build_actions(settings: Settings, clients: AwsClients, access: Any, router: Any, trail: Any) -> Any:
    """The action planner (authorise, confirm, execute, audit), or None while actions are off (R6, R19)."""
    from keel.access.pdp import RESOURCE_ACTIONS
    from keel.actions.wiring import ActionsConfig, build_action_planner
    from keel.tenant.derived import Derived

    offered = Derived(build_tenant_source(settings), lambda tenant: tenant.spec.actions, "offered actions")
    offered.current()  # a tenant that does not answer stops the cold start, not the first message
    return build_action_planner(
        ActionsConfig.from_settings(settings),
        clients,
        authorizer=access,
        audit=trail,
        proposer=router,
        offered=offered.current,
        known_actions=RESOURCE_ACTIONS,
    )


def turn_dependencies(settings: Settings, clients: AwsClients) -> TurnDependencies:
    """Every collaborator of the turn, concrete."""
    from keel.analytics.telemetry import build_telemetry
    from keel.conversations.dynamodb import DynamoDBConversationStore
    from keel.conversations.vaults import KmsSealedVaultStore
    from keel.guardrails import new_canary, wrap_passages
    from keel.models.prompt_library import PromptLibrary
    from keel.turn_adapters import AuditTurnSink, PromptComposer

    conversations = DynamoDBConversationStore(clients.dynamodb, settings.conversations_table)
    guardrails = build_guardrails(settings, clients)
    access = build_access(settings)
    router = build_router(settings, clients)
    trail = build_audit_trail(settings, clients)
    return TurnDependencies(
        authenticator=build_authenticator(settings, clients),
        access=access,
        retriever=build_retriever(settings, clients),
        generator=router,
        prompts=PromptComposer(PromptLibrary(tenant=build_tenant(settings).prompts_dir())),
        conversations=conversations,
        vaults=KmsSealedVaultStore(
            clients.dynamodb, settings.conversations_table, clients.kms, settings.vault_kms_key_id
        ),
        input_screen=guardrails.input,
        context_screen=guardrails.context,
        output_check=guardrails.output,
        masker=build_masker(settings, clients),
        escalation=build_escalation(settings, clients, conversations),
        audit=AuditTurnSink(trail, _new_id),
        actions=build_actions(settings, clients, access, router, trail),
        wrap_passages=wrap_passages,
        new_canary=new_canary,
        model_deadline_seconds=settings.model_turn_deadline_seconds or settings.model_timeout_seconds,
        telemetry=build_telemetry(settings.environment, settings.log_level),
    )


def _new_id() -> str:
    import uuid

    return str(uuid.uuid4())


def build_ingestor(settings: Settings, clients: AwsClients) -> Any:
    """The ingest use case over the internal and external indices (R7, R22)."""
    from keel.knowledge.wiring import build_embedder, build_ingestor, build_search_client

    embedder = build_embedder(settings, None if settings.environment == "local" else clients.bedrock)
    from keel.tenant.loader import CurrentTenant

    return build_ingestor(
        settings, build_search_client(settings), embedder, CurrentTenant(build_tenant_source(settings))
    )


def seed_demo_knowledge(environment: dict[str, str]) -> dict[str, Any]:
    """Index the tenant folder's docs/ into the local stack; returns the ingest report's summary."""
    from keel.knowledge.service import ingest_folder

    settings = load_settings(environment)
    docs = build_tenant(settings).docs_dir()
    if docs is None:
        return {"origin": settings.tenant, "changes": "the tenant folder has no docs/ to seed"}
    report = ingest_folder(build_ingestor(settings, AwsClients.from_settings(settings)), docs, origin=settings.tenant)
    summary: dict[str, Any] = report.to_dict()
    return {k: summary[k] for k in ("changes", "origin") if k in summary}
