"""Secrets stack: integration credentials in Secrets Manager, encrypted and rotated on a schedule (R19)."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from keel.integrations.rotation_schemes import AUTH_TAG, FIELD_TAG, SCHEME_TAG, URL_TAG, KeyAuth, Scheme
from stacks.config import StageConfig
from stacks.constructs.function import KeelFunction
from stacks.constructs.layer import core_layer
from stacks.constructs.settings_env import secret_name

__all__ = ["REST_KEY_AUTH", "SECRETS", "SecretsStack", "rotation_tags", "secret_name"]

# Secret suffix -> (what it holds, the JSON field the code reads and rotation replaces, other fields).
# Names are physical so consumers can use dynamic references; the placeholder value has the shape the
# code expects until an operator stores the provider-issued one (put-secret-value).
SECRETS: dict[str, tuple[str, str, dict[str, str]]] = {
    "helpdesk": ("helpdesk API credentials used to open and update tickets", "api_token", {"email": ""}),
    # keel.integrations.crm sends access_token as a bearer token; keel.integrations.hr sends api_key.
    "crm": ("CRM API credentials (contact lookups and notes)", "access_token", {}),
    "hr": ("HR system API key (leave balances)", "api_key", {}),
    "slack-signing": ("Slack signing secret that authenticates inbound Slack requests", "signing_secret", {}),
    "slack-bot-token": ("Slack bot token used to post replies", "bot_token", {}),
    "idp-oidc-client": ("client secret of the corporate OIDC identity provider", "client_secret", {}),
}
# Secrets whose provider has a key API, and how it takes a key: the rotation function adds, tests and
# revokes keys there. The others have no keel:rotation tag, so their rotation fails saying to rotate them
# at the provider (Slack, the helpdesk and the IdP issue those values).
REST_KEY_AUTH: dict[str, KeyAuth] = {"crm": KeyAuth.BEARER, "hr": KeyAuth.API_KEY_HEADER}


def rotation_tags(config: StageConfig, suffix: str) -> dict[str, str]:
    """The keel:rotation* tags of a secret (keel.integrations.rotation_schemes reads them); none for the others."""
    if suffix not in REST_KEY_AUTH:
        return {}
    urls = {"crm": config.integrations.crm_url, "hr": config.integrations.hr_url}
    return {
        SCHEME_TAG: Scheme.REST_KEY.value,
        URL_TAG: urls[suffix],
        AUTH_TAG: REST_KEY_AUTH[suffix].value,
        FIELD_TAG: SECRETS[suffix][1],
    }


class SecretsStack(cdk.Stack):
    """Integration secrets and the function that rotates them."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        repo_root: Path,
        key: kms.IKey,
        **kwargs: object,
    ) -> None:
        """Create one secret per integration, each with a rotation schedule from the stage config."""
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        self.secrets: dict[str, secretsmanager.Secret] = {}
        for suffix, (description, field, others) in SECRETS.items():
            self.secrets[suffix] = secretsmanager.Secret(
                self,
                "".join(part.title() for part in suffix.split("-")) + "Secret",
                secret_name=secret_name(config, suffix),
                description=f"Keel {config.name}: {description}",
                generate_secret_string=secretsmanager.SecretStringGenerator(
                    secret_string_template=json.dumps({**others, "rotate_field": field}),
                    generate_string_key=field,
                    exclude_punctuation=True,
                    password_length=48,
                ),
                encryption_key=key,
                removal_policy=cdk.RemovalPolicy.RETAIN if config.retain_data else cdk.RemovalPolicy.DESTROY,
            )
            for tag, value in rotation_tags(config, suffix).items():
                cdk.Tags.of(self.secrets[suffix]).add(tag, value)
        # Outside any VPC: the function reaches Secrets Manager and the providers' public HTTPS APIs over
        # Lambda's own network, so it needs no ENI permissions and no NAT.
        self.rotation = KeelFunction(
            self,
            "SecretRotation",
            config=config,
            repo_root=repo_root,
            name="secret_rotation",
            layer=core_layer(self, repo_root, config.name),
            log_key=key,
            description="Rotates integration secrets through the four Secrets Manager rotation steps",
            timeout=cdk.Duration.minutes(2),
            memory_mb=256,
        )
        arns = [secret.secret_arn for secret in self.secrets.values()]
        self.rotation.allow(
            [
                "secretsmanager:DescribeSecret",
                "secretsmanager:GetSecretValue",
                "secretsmanager:PutSecretValue",
                "secretsmanager:UpdateSecretVersionStage",
            ],
            arns,
        )
        # GetRandomPassword is not tied to any secret; AWS documents Resource "*" for it.
        self.rotation.allow(
            ["secretsmanager:GetRandomPassword"],
            ["*"],
            wildcard_reason="secretsmanager:GetRandomPassword has no resource type",
        )
        self.rotation.allow_key(key, encrypt=True)
        self.rotation.function.add_permission(
            "SecretsManagerInvoke",
            principal=iam.ServicePrincipal("secretsmanager.amazonaws.com"),
            source_account=config.target.account,
        )
        for suffix, secret in self.secrets.items():
            # L1 schedule: the L2 helper grants wildcard KMS actions the role does not need.
            secretsmanager.CfnRotationSchedule(
                self,
                "".join(part.title() for part in suffix.split("-")) + "Rotation",
                secret_id=secret.secret_arn,
                rotation_lambda_arn=self.rotation.function.function_arn,
                rotation_rules=secretsmanager.CfnRotationSchedule.RotationRulesProperty(
                    automatically_after_days=config.secret_rotation_days
                ),
            ).node.add_dependency(self.rotation.function)
