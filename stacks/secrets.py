"""Secrets stack: integration credentials in Secrets Manager, encrypted, rotated or watched for age (R19).

Secrets with a key API (``rest-key``) or issued by Keel (``self-issued``) rotate on a Secrets Manager schedule.
Secrets their provider issues without a key API (``provider``) get no schedule, which could never succeed: a
person rotates them at the provider and stores them with put-secret-value, and a daily rule runs the rotation
function's age check on them (``keel.integrations.secret_age``), whose ``SecretsOverdue`` metric the
observability stack alarms on.
"""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from keel.contract import AUTH_TAG, FIELD_TAG, SCHEME_TAG, URL_TAG, KeyAuth, Scheme
from keel.contract import SECRET_AGE_CHECK as CHECK
from stacks.config import StageConfig
from stacks.constructs.function import KeelFunction
from stacks.constructs.layer import core_layer
from stacks.constructs.nag import acknowledge
from stacks.constructs.settings_env import secret_name

__all__ = [
    "AGE_CHECK_SCHEDULE",
    "REST_KEY_AUTH",
    "SECRETS",
    "SecretsStack",
    "rotation_scheme",
    "rotation_tags",
    "secret_name",
]

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
# revokes keys there. The others are keel:rotation=provider: Slack, the helpdesk and the IdP issue those
# values, so a person rotates them there and the daily age check says when one is overdue.
REST_KEY_AUTH: dict[str, KeyAuth] = {"crm": KeyAuth.BEARER, "hr": KeyAuth.API_KEY_HEADER}
# 06:00 UTC: an overdue secret is reported at the start of the working day in Europe.
AGE_CHECK_SCHEDULE = "cron(0 6 * * ? *)"


def rotation_scheme(suffix: str) -> Scheme:
    """How a secret rotates: through its provider's key API, or by a person at its provider."""
    return Scheme.REST_KEY if suffix in REST_KEY_AUTH else Scheme.PROVIDER


def rotation_tags(config: StageConfig, suffix: str) -> dict[str, str]:
    """The keel:rotation* tags of a secret (keel.integrations.rotation_schemes reads them)."""
    if rotation_scheme(suffix) is Scheme.PROVIDER:
        return {SCHEME_TAG: Scheme.PROVIDER.value}
    urls = {"crm": config.integrations.crm_url, "hr": config.integrations.hr_url}
    return {
        SCHEME_TAG: Scheme.REST_KEY.value,
        URL_TAG: urls[suffix],
        AUTH_TAG: REST_KEY_AUTH[suffix].value,
        FIELD_TAG: SECRETS[suffix][1],
    }


class SecretsStack(cdk.Stack):
    """Integration secrets, the function that rotates them and the daily age check of the others."""

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
        """Create one secret per integration: a rotation schedule where one can succeed, else the age check."""
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
            if rotation_scheme(suffix) is Scheme.PROVIDER:
                acknowledge(
                    self.secrets[suffix],
                    "AwsSolutions-SMG4",
                    "issued by its provider, which has no key API: a person rotates it there (put-secret-value) "
                    "and the daily secret-age check alarms when it is older than secret_rotation_days",
                )
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
        rotating = {s: secret for s, secret in self.secrets.items() if rotation_scheme(s) is not Scheme.PROVIDER}
        watched = {s: secret for s, secret in self.secrets.items() if rotation_scheme(s) is Scheme.PROVIDER}
        # DescribeSecret on every secret (rotation steps and the age check); the rest only where rotation runs.
        self.rotation.allow(["secretsmanager:DescribeSecret"], [secret.secret_arn for secret in self.secrets.values()])
        self.rotation.allow(
            [
                "secretsmanager:GetSecretValue",
                "secretsmanager:PutSecretValue",
                "secretsmanager:UpdateSecretVersionStage",
            ],
            [secret.secret_arn for secret in rotating.values()],
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
        for suffix, secret in rotating.items():
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
        self.age_check: events.Rule | None = None
        if not watched:
            return
        # The ARNs travel in the event, so the function needs no ListSecrets (which takes no resource).
        self.age_check = events.Rule(
            self,
            "SecretAgeCheck",
            rule_name=config.resource_name("secret-age-check"),
            description=f"Daily: report provider-rotated secrets older than {config.secret_rotation_days} days",
            schedule=events.Schedule.expression(AGE_CHECK_SCHEDULE),
            targets=[
                targets.LambdaFunction(
                    self.rotation.function,
                    event=events.RuleTargetInput.from_object(
                        {
                            "check": CHECK,
                            "secret_ids": [secret.secret_arn for secret in watched.values()],
                            "max_age_days": config.secret_rotation_days,
                        }
                    ),
                    retry_attempts=2,
                )
            ],
        )
