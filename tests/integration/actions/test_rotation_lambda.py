"""The deployed rotation handler (functions/secret_rotation) on moto Secrets Manager against the CRM and HR stand-ins.

moto has no Lambda runtime here, so its RotateSecret does what AWS does before the first step (turns rotation
on and labels a new version AWSPENDING) and then reports that it cannot invoke the function; the tests then
call the handler for each step, as Secrets Manager would, over real HTTP on 127.0.0.1.
"""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError

from keel.integrations.rotation import RotationFailed
from keel.local.api import load_handler
from keel.local.integrations import RunningService, demo_leave, start_crm, start_hr
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.integration

STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")
UNINVOKABLE = "arn:aws:lambda:us-east-1:123456789012:function:keel-test-secret-rotation"


@dataclass(frozen=True)
class Provider:
    """A stand-in and how the deployed stack describes it to the rotation function."""

    auth: str
    field: str
    data_path: str
    headers: Callable[[str], dict[str, str]]
    start: Callable[[str], RunningService]


PROVIDERS = {
    "crm": Provider(
        "bearer",
        "access_token",
        "/crm/v3/objects/contacts/101",
        lambda key: {"Authorization": f"Bearer {key}"},
        lambda key: start_crm(key=key),
    ),
    "hr": Provider(
        "api-key-header",
        "api_key",
        "/api/v1/employees/emma.engineer/leave-balance",
        lambda key: {"X-Api-Key": key},
        lambda key: start_hr(key=key, employees=demo_leave(["emma.engineer"])),
    ),
}


@pytest.fixture
def handler(aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Callable[[dict[str, Any], Any], Any]:
    """functions/secret_rotation/handler.py as Lambda loads it; its own boto3 client reaches moto by endpoint."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", aws["secretsmanager"].meta.endpoint_url)
    return load_handler(REPO_ROOT / "functions", "secret_rotation")


@pytest.fixture(params=sorted(PROVIDERS))
def provider(request: pytest.FixtureRequest) -> Iterator[tuple[Provider, RunningService, str]]:
    """(provider, running stand-in, its only key)."""
    chosen = PROVIDERS[request.param]
    key = secrets.token_urlsafe(24)
    server = chosen.start(key)
    yield chosen, server, key
    server.stop()


def rotating_secret(aws: dict[str, Any], value: dict[str, str], tags: dict[str, str]) -> tuple[str, str]:
    """A secret with value and tags, in the state Secrets Manager leaves it in before createSecret."""
    client, token = aws["secretsmanager"], str(uuid.uuid4())
    arn = client.create_secret(
        Name=f"keel/test/{uuid.uuid4().hex[:8]}",
        SecretString=json.dumps(value),
        Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
    )["ARN"]
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        client.rotate_secret(
            SecretId=arn,
            ClientRequestToken=token,
            RotationLambdaARN=UNINVOKABLE,
            RotationRules={"AutomaticallyAfterDays": 30},
        )
    described = client.describe_secret(SecretId=arn)
    assert described["RotationEnabled"] and described["VersionIdsToStages"][token] == ["AWSPENDING"]
    return arn, token


def current(aws: dict[str, Any], arn: str) -> dict[str, str]:
    # Read by label as the adapters do (moto's unstaged read lags behind label moves).
    value = aws["secretsmanager"].get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"]
    return dict(json.loads(value))


def status_with(url: str, headers: dict[str, str]) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def rest_key_tags(chosen: Provider, url: str) -> dict[str, str]:
    return {
        "keel:rotation": "rest-key",
        "keel:rotation-url": url,
        "keel:rotation-auth": chosen.auth,
        "keel:rotation-field": chosen.field,
    }


def test_the_handler_rotates_the_key_at_the_provider_and_only_the_new_key_works_afterwards(
    aws: dict[str, Any], handler: Callable[[dict[str, Any], Any], Any], provider: tuple[Provider, RunningService, str]
) -> None:
    chosen, server, old = provider
    arn, token = rotating_secret(
        aws, {chosen.field: old, "rotate_field": chosen.field}, rest_key_tags(chosen, server.url)
    )

    for step in STEPS:
        handler({"SecretId": arn, "ClientRequestToken": token, "Step": step}, None)

    new = current(aws, arn)[chosen.field]
    assert new != old and current(aws, arn)["rotate_field"] == chosen.field
    assert status_with(server.url + chosen.data_path, chosen.headers(old)) == 401
    assert status_with(server.url + chosen.data_path, chosen.headers(new)) == 200
    assert len(server.state.keys.fingerprints()) == 1
    versions = aws["secretsmanager"].list_secret_version_ids(SecretId=arn)["Versions"]
    stages = {v["VersionId"]: v.get("VersionStages", []) for v in versions}
    assert stages[token] == ["AWSCURRENT"]


def test_a_key_the_provider_does_not_know_fails_set_secret_and_the_current_value_stays(
    aws: dict[str, Any], handler: Callable[[dict[str, Any], Any], Any], provider: tuple[Provider, RunningService, str]
) -> None:
    # Given the placeholder CDK generates, which the provider never issued (put-secret-value not yet run),
    chosen, server, key = provider
    placeholder = secrets.token_urlsafe(36)
    arn, token = rotating_secret(aws, {chosen.field: placeholder}, rest_key_tags(chosen, server.url))
    handler({"SecretId": arn, "ClientRequestToken": token, "Step": "createSecret"}, None)

    # When setSecret registers the new key with it, Then the provider's refusal is the error and nothing moved.
    with pytest.raises(RotationFailed, match=r"did not take the pending key .*401.*AWSCURRENT is unchanged"):
        handler({"SecretId": arn, "ClientRequestToken": token, "Step": "setSecret"}, None)
    assert current(aws, arn)[chosen.field] == placeholder
    assert status_with(server.url + chosen.data_path, chosen.headers(key)) == 200
    assert len(server.state.keys.fingerprints()) == 1


def test_a_secret_without_a_rotation_tag_is_refused_with_the_accepted_schemes(
    aws: dict[str, Any], handler: Callable[[dict[str, Any], Any], Any]
) -> None:
    arn, token = rotating_secret(aws, {"bot_token": "xoxb-placeholder", "rotate_field": "bot_token"}, {})

    with pytest.raises(RotationFailed, match="no keel:rotation tag; accepted: self-issued, rest-key"):
        handler({"SecretId": arn, "ClientRequestToken": token, "Step": "createSecret"}, None)

    assert current(aws, arn)["bot_token"] == "xoxb-placeholder"
    versions = aws["secretsmanager"].list_secret_version_ids(SecretId=arn)["Versions"]
    assert [v["VersionStages"] for v in versions if v["VersionId"] == token] == [["AWSPENDING"]]


def test_the_daily_age_check_reads_real_secrets_and_counts_a_missing_one_overdue(
    aws: dict[str, Any], handler: Callable[[dict[str, Any], Any], Any], capsys: pytest.CaptureFixture[str]
) -> None:
    # Given two provider-rotated secrets just stored, and the ARN of one that no longer exists,
    client = aws["secretsmanager"]
    arns = [
        client.create_secret(
            Name=f"keel/test/{suffix}-{uuid.uuid4().hex[:8]}",
            Description=f"Keel test: {suffix}",
            SecretString=json.dumps({"value": "issued-by-the-provider"}),
            Tags=[{"Key": "keel:rotation", "Value": "provider"}],
        )["ARN"]
        for suffix in ("slack-bot-token", "helpdesk")
    ]
    gone = arns[0].rsplit("-", 1)[0] + "-gone00"

    # When EventBridge's daily event reaches the deployed handler,
    answer = handler({"check": "secret-age", "secret_ids": [*arns, gone], "max_age_days": 1}, None)

    # Then the fresh ones are listed with their age, the missing one is overdue with its reason, and the
    # SecretsOverdue metric the alarm reads is on stdout as EMF.
    assert answer["checked"] == 3 and answer["overdue_count"] == 1
    assert [s["age_days"] for s in answer["fresh"]] == [0.0, 0.0]
    assert answer["overdue"][0]["secret"] == gone and "ResourceNotFoundException" in answer["overdue"][0]["error"]
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert [line["SecretsOverdue"] for line in emf if "SecretsOverdue" in line] == [1]
    assert len([line for line in emf if "SecretAgeDays" in line]) == 2


def test_a_rotation_event_for_a_provider_secret_is_refused_and_nothing_changes(
    aws: dict[str, Any], handler: Callable[[dict[str, Any], Any], Any]
) -> None:
    arn, token = rotating_secret(
        aws, {"bot_token": "xoxb-issued", "rotate_field": "bot_token"}, {"keel:rotation": "provider"}
    )

    with pytest.raises(RotationFailed, match=r"keel:rotation=provider: it has no automatic rotation.*put-secret-value"):
        handler({"SecretId": arn, "ClientRequestToken": token, "Step": "createSecret"}, None)

    assert current(aws, arn)["bot_token"] == "xoxb-issued"
