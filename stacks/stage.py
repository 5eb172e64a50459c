"""One deployable Keel environment: every stack of a stage, wired from its StageConfig, and the nag gate."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks
from constructs import Construct

from stacks.access import AccessStack
from stacks.api import ApiDependencies, ApiStack
from stacks.audit import AuditStack
from stacks.config import TENANT_READERS, StageConfig
from stacks.constructs.function import FunctionNetwork, KeelFunction
from stacks.constructs.settings_env import StageIdentity, settings_environment
from stacks.data import DataStack
from stacks.escalation import EscalationStack
from stacks.guardrail import GuardrailStack
from stacks.identity import IdentityStack
from stacks.knowledge import KnowledgeStack
from stacks.observability import ObservabilityStack
from stacks.search import SearchStack
from stacks.secrets import SecretsStack
from stacks.tenant_config import TenantConfigStack


class KeelStage(cdk.Stage):
    """dev, staging or prod: the same stacks, differing only by configuration (R1)."""

    def __init__(self, scope: Construct, config: StageConfig, repo_root: Path) -> None:
        """Create every stack of ``config``'s stage."""
        env = cdk.Environment(account=config.target.account, region=config.target.region)
        super().__init__(scope, config.name, env=env)
        self.config = config

        def name(concern: str) -> dict[str, object]:
            return {"stack_name": f"keel-{config.name}-{concern}", "env": env}

        self.data = DataStack(self, "Data", config=config, **name("data"))
        key = self.data.key
        tables = self.data.tables
        self.secrets = SecretsStack(self, "Secrets", config=config, repo_root=repo_root, key=key, **name("secrets"))
        self.identity = IdentityStack(self, "Identity", config=config, **name("identity"))
        # The OIDC provider reads its client secret by name at deploy time.
        self.identity.add_stack_dependency(self.secrets)
        self.search = SearchStack(self, "Search", config=config, key=key, **name("search"))
        self.guardrail = GuardrailStack(self, "Guardrail", config=config, key=key, **name("guardrail"))
        self.tenant_config = TenantConfigStack(
            self, "TenantConfig", config=config, repo_root=repo_root, **name("tenant-config")
        )
        identity = self.identity
        settings_env = settings_environment(
            config,
            StageIdentity(
                user_pool_id=identity.workforce_pool.user_pool_id,
                # The customer widget client too: guest tokens carry it as their audience.
                app_client_ids=[
                    c.user_pool_client_id
                    for c in (
                        identity.web_client,
                        identity.widget_client,
                        identity.slack_client,
                        identity.customer_widget_client,
                    )
                ],
                customer_user_pool_id=identity.customer_pool.user_pool_id,
                customer_app_client_id=identity.customer_widget_client.user_pool_client_id,
                opensearch_url=f"https://{self.search.domain.attr_domain_endpoint}",
                data_key_arn=key.key_arn,
                vault_key_arn=self.data.vault_key.key_arn,
                audit_signing_key_arn=self.data.audit_signing_key.key_arn,
                guardrail_id=self.guardrail.guardrail_id,
                tenant_appconfig=self.tenant_config.identifier,
            ),
        )
        search_network = FunctionNetwork(vpc=self.search.vpc, security_groups=[self.search.clients_sg])
        self.audit = AuditStack(
            self,
            "Audit",
            config=config,
            repo_root=repo_root,
            key=key,
            chain_table=tables["audit-chain"],
            signing_key=self.data.audit_signing_key,
            settings_env=settings_env,
            **name("audit"),
        )
        self.escalation = EscalationStack(
            self,
            "Escalation",
            config=config,
            repo_root=repo_root,
            key=key,
            agents_table=tables["agents"],
            conversations_table=tables["conversations"],
            helpdesk_secret=self.secrets.secrets["helpdesk"],
            settings_env=settings_env,
            **name("escalation"),
        )
        self.knowledge = KnowledgeStack(
            self,
            "Knowledge",
            config=config,
            repo_root=repo_root,
            key=key,
            network=search_network,
            settings_env=settings_env,
            **name("knowledge"),
        )
        # The domain's master user is the ingest role, named before it exists.
        self.knowledge.add_stack_dependency(self.search)
        self.knowledge.add_stack_dependency(self.audit)
        self.api = ApiStack(
            self,
            "Api",
            config=config,
            repo_root=repo_root,
            deps=ApiDependencies(
                key=key,
                vault_key=self.data.vault_key,
                tables=dict(tables),
                workforce_pool=identity.workforce_pool,
                customer_pool=identity.customer_pool,
                network=search_network,
                audit_queue=self.audit.queue,
                slack_signing_secret=self.secrets.secrets["slack-signing"],
                slack_bot_token_secret=self.secrets.secrets["slack-bot-token"],
                guardrail_id=self.guardrail.guardrail_id,
                guardrail_arn=self.guardrail.guardrail_arn,
                integration_secrets=[self.secrets.secrets[s] for s in ("crm", "hr", "helpdesk")],
            ),
            settings_env=settings_env,
            **name("api"),
        )
        # The workflow the turn starts and the search domain it queries are named, not referenced.
        self.api.add_stack_dependency(self.search)
        self.api.add_stack_dependency(self.escalation)
        self.access = AccessStack(self, "Access", config=config, **name("access"))
        self.observability = ObservabilityStack(self, "Observability", config=config, key=key, **name("observability"))
        self.observability.add_stack_dependency(self.access)
        # The functions that read the tenant may read its profile, and only that profile.
        for construct in self.node.find_all():
            if isinstance(construct, KeelFunction) and construct.name in TENANT_READERS:
                self.tenant_config.grant_read(construct.role)
        for key_, value in config.tags.items():
            cdk.Tags.of(self).add(key_, value)


def add_nag_gate(app: cdk.App) -> None:
    """Run the AwsSolutions pack at synthesis; any unacknowledged finding fails synthesis."""
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
