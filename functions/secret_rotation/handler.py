"""Secrets Manager rotation (createSecret, setSecret, testSecret, finishSecret) for integration secrets.

The new value keeps the secret's JSON shape and replaces the field named by its ``rotate_field``
key (default ``value``) with a generated one. Provider-issued credentials (Slack, the IdP) are
set at the provider in setSecret by their integration adapter; until one exists for a secret,
setSecret refuses, the rotation fails visibly and AWSCURRENT stays in use.
"""

from __future__ import annotations

import json
from typing import Any

import boto3

# Secrets whose value Keel itself issues (shared webhook/HMAC secrets) can rotate without a provider call.
SELF_ISSUED_TAG = "keel:self-issued"


class RotationError(Exception):
    """A rotation step cannot proceed; Secrets Manager records the failure and retries."""


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    """Run one rotation step for ``SecretId`` / ``ClientRequestToken``."""
    client = boto3.client("secretsmanager")
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    described = client.describe_secret(SecretId=arn)
    if not described.get("RotationEnabled"):
        raise RotationError(f"rotation is not enabled for {arn}")
    stages = described.get("VersionIdsToStages", {}).get(token)
    if stages is None:
        raise RotationError(f"version {token} is not a version of {arn}")
    if "AWSCURRENT" in stages:
        return  # already finished
    if "AWSPENDING" not in stages:
        raise RotationError(f"version {token} of {arn} is not pending")
    steps = {"createSecret": _create, "setSecret": _set, "testSecret": _test, "finishSecret": _finish}
    if step not in steps:
        raise RotationError(f"unknown step {step!r}; accepted: {', '.join(steps)}")
    steps[step](client, arn, token, described)


def _create(client: Any, arn: str, token: str, described: dict[str, Any]) -> None:
    try:
        client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
        return  # created by an earlier attempt
    except client.exceptions.ResourceNotFoundException:
        pass
    current = json.loads(client.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"] or "{}")
    field = str(current.get("rotate_field", "value"))
    password = client.get_random_password(PasswordLength=48, ExcludePunctuation=True)["RandomPassword"]
    client.put_secret_value(
        SecretId=arn,
        ClientRequestToken=token,
        SecretString=json.dumps({**current, field: password}),
        VersionStages=["AWSPENDING"],
    )


def _set(client: Any, arn: str, token: str, described: dict[str, Any]) -> None:
    tags = {tag["Key"]: tag["Value"] for tag in described.get("Tags", [])}
    if tags.get(SELF_ISSUED_TAG) != "true":
        raise RotationError(f"{arn} is issued by its provider; rotate it there and store it with put-secret-value")


def _test(client: Any, arn: str, token: str, described: dict[str, Any]) -> None:
    pending = json.loads(
        client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")["SecretString"]
    )
    field = str(pending.get("rotate_field", "value"))
    if not isinstance(pending.get(field), str) or len(pending[field]) < 32:
        raise RotationError(f"pending version of {arn} has no usable {field!r}")


def _finish(client: Any, arn: str, token: str, described: dict[str, Any]) -> None:
    current = next(
        (version for version, stages in described["VersionIdsToStages"].items() if "AWSCURRENT" in stages), None
    )
    client.update_secret_version_stage(
        SecretId=arn, VersionStage="AWSCURRENT", MoveToVersionId=token, RemoveFromVersionId=current
    )
