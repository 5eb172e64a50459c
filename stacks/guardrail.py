"""Guardrail stack: the stage's Amazon Bedrock guardrail, which screens answers for toxic content (R10, R11).

In AWS the turn's toxicity score comes from ApplyGuardrail on the answer (keel.guardrails.bedrock,
source OUTPUT): spaCy and the local toxicity classifier do not fit a Lambda package. Prompt attacks
are filtered on input for callers that screen input with it too; Keel's own input screen stays first.
Sensitive-information filters are a second layer behind Keel's PII masking and output leak check.

The guardrail's numbered version is published in the API stack, next to the functions that use it,
so a new version number never becomes a cross-stack export (CloudFormation refuses to change an
export that another stack imports).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_bedrock as bedrock
from aws_cdk import aws_kms as kms
from constructs import Construct

from stacks.config import StageConfig

# Harmful-content categories screened on answers; HIGH blocks even low-confidence detections.
OUTPUT_CONTENT_FILTERS: tuple[str, ...] = ("HATE", "INSULTS", "SEXUAL", "VIOLENCE", "MISCONDUCT")
# Values that must never appear in an answer at all; keel.guardrails.output withholds the same kinds.
# Names, addresses, e-mails and phone numbers are left to Keel's masker: policy documents legitimately
# name contacts and offices. Bare-digit types (PIN, bank account, passport) would withhold room numbers.
BLOCKED_PII_TYPES: tuple[str, ...] = (
    "CREDIT_DEBIT_CARD_NUMBER",
    "CREDIT_DEBIT_CARD_CVV",
    "INTERNATIONAL_BANK_ACCOUNT_NUMBER",
    "US_SOCIAL_SECURITY_NUMBER",
    "UK_NATIONAL_INSURANCE_NUMBER",
    "AWS_ACCESS_KEY",
    "AWS_SECRET_KEY",
    "PASSWORD",
)
BLOCKED_INPUT_MESSAGE = "Sorry, I can't help with that request."
BLOCKED_OUTPUT_MESSAGE = "Sorry, I can't share that answer. Please rephrase your question or ask for a person."


def guardrail_policies() -> dict[str, Any]:
    """The guardrail's policy properties (CloudFormation shape), shared by the stack and its fingerprint."""
    filters: list[dict[str, Any]] = [
        {"type": kind, "inputStrength": "NONE", "outputStrength": "HIGH"} for kind in OUTPUT_CONTENT_FILTERS
    ]
    # AWS requires NONE on output for the prompt-attack filter: it judges what users send.
    filters.append({"type": "PROMPT_ATTACK", "inputStrength": "HIGH", "outputStrength": "NONE"})
    return {
        "contentPolicyConfig": {"filtersConfig": filters},
        "sensitiveInformationPolicyConfig": {
            "piiEntitiesConfig": [
                # Input is masked by Keel before any model call, so only answers are screened here.
                {"type": kind, "action": "BLOCK", "inputAction": "NONE", "outputAction": "BLOCK"}
                for kind in BLOCKED_PII_TYPES
            ]
        },
        "blockedInputMessaging": BLOCKED_INPUT_MESSAGE,
        "blockedOutputsMessaging": BLOCKED_OUTPUT_MESSAGE,
    }


def guardrail_fingerprint() -> str:
    """A short hash of the policies: a new one replaces the published version (versions are immutable)."""
    canonical = json.dumps(guardrail_policies(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12]


class GuardrailStack(cdk.Stack):
    """The Bedrock guardrail of one stage, encrypted with the stage key."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: StageConfig, key: kms.IKey, **kwargs: object
    ) -> None:
        """Create the guardrail (its working draft); the API stack publishes the version it uses."""
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        policies = guardrail_policies()
        content = policies["contentPolicyConfig"]["filtersConfig"]
        pii = policies["sensitiveInformationPolicyConfig"]["piiEntitiesConfig"]
        self.guardrail = bedrock.CfnGuardrail(
            self,
            "Guardrail",
            name=config.resource_name("guardrail"),
            description=f"Keel {config.name}: toxic answers, prompt attacks, secrets in answers",
            blocked_input_messaging=policies["blockedInputMessaging"],
            blocked_outputs_messaging=policies["blockedOutputsMessaging"],
            content_policy_config=bedrock.CfnGuardrail.ContentPolicyConfigProperty(
                filters_config=[
                    bedrock.CfnGuardrail.ContentFilterConfigProperty(
                        type=f["type"], input_strength=f["inputStrength"], output_strength=f["outputStrength"]
                    )
                    for f in content
                ]
            ),
            sensitive_information_policy_config=bedrock.CfnGuardrail.SensitiveInformationPolicyConfigProperty(
                pii_entities_config=[
                    bedrock.CfnGuardrail.PiiEntityConfigProperty(
                        type=p["type"],
                        action=p["action"],
                        input_action=p["inputAction"],
                        output_action=p["outputAction"],
                    )
                    for p in pii
                ]
            ),
            kms_key_arn=key.key_arn,
        )
        removal = cdk.RemovalPolicy.RETAIN if config.retain_data else cdk.RemovalPolicy.DESTROY
        self.guardrail.apply_removal_policy(removal)

    @property
    def guardrail_id(self) -> str:
        """The guardrail id (KEEL_BEDROCK_GUARDRAIL_ID); stable for the guardrail's life."""
        return self.guardrail.attr_guardrail_id

    @property
    def guardrail_arn(self) -> str:
        """The ARN that ApplyGuardrail is granted on."""
        return self.guardrail.attr_guardrail_arn


def publish_version(scope: Construct, construct_id: str, guardrail_id: str) -> bedrock.CfnGuardrailVersion:
    """A numbered version of the guardrail's current policies, replaced whenever they change."""
    return bedrock.CfnGuardrailVersion(
        scope,
        construct_id,
        guardrail_identifier=guardrail_id,
        # Every property of a version forces replacement, so the fingerprint publishes a new one on change.
        description=f"Keel guardrail policies {guardrail_fingerprint()}",
    )
