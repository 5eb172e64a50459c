"""One deployable Keel environment: every stack of a stage, wired from its StageConfig, and the nag gate."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks
from constructs import Construct

from stacks.access import AccessStack
from stacks.api import ApiDependencies, ApiStack
from stacks.audit import AuditStack
from stacks.config import StageConfig
from stacks.constructs.settings_env import settings_environment
from stacks.data import DataStack
from stacks.escalation import EscalationStack
from stacks.identity import IdentityStack
from stacks.observability import ObservabilityStack
from stacks.search import SearchStack
from stacks.secrets import SecretsStack


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
        identity = self.identity
        settings_env = settings_environment(
            config,
            user_pool_id=identity.workforce_pool.user_pool_id,
            app_client_ids=[
                c.user_pool_client_id for c in (identity.web_client, identity.widget_client, identity.slack_client)
            ],
            opensearch_url=f"https://{self.search.domain.attr_domain_endpoint}",
            key_arn=key.key_arn,
        )
        self.audit = AuditStack(
            self,
            "Audit",
            config=config,
            repo_root=repo_root,
            key=key,
            chain_head_table=tables["audit-chain-head"],
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
            escalations_table=tables["escalations"],
            settings_env=settings_env,
            **name("escalation"),
        )
        self.api = ApiStack(
            self,
            "Api",
            config=config,
            repo_root=repo_root,
            deps=ApiDependencies(
                key=key,
                tables=dict(tables),
                workforce_pool=identity.workforce_pool,
                customer_pool=identity.customer_pool,
                vpc=self.search.vpc,
                search_clients=self.search.clients_sg,
                audit_queue=self.audit.queue,
                escalation=self.escalation.state_machine,
                slack_secrets=[self.secrets.secrets["slack-signing"], self.secrets.secrets["slack-bot-token"]],
            ),
            settings_env=settings_env,
            **name("api"),
        )
        # The domain's master user and access policy name the function roles by their physical names.
        self.api.add_stack_dependency(self.search)
        self.access = AccessStack(self, "Access", config=config, **name("access"))
        self.observability = ObservabilityStack(self, "Observability", config=config, key=key, **name("observability"))
        self.observability.add_stack_dependency(self.access)
        for key_, value in config.tags.items():
            cdk.Tags.of(self).add(key_, value)


def add_nag_gate(app: cdk.App) -> None:
    """Run the AwsSolutions pack at synthesis; any unacknowledged finding fails synthesis."""
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
