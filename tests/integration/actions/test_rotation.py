"""Rotation on moto Secrets Manager against the local CRM and HR: new key used without a restart, old key dead."""

from __future__ import annotations

import json
import secrets
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from keel.integrations.crm import HubSpotCrm
from keel.integrations.hr import HrLeaveApi
from keel.integrations.rotation import ApiKeyRotator, RestKeyTarget, RotationFailed
from keel.integrations.secrets import SecretsManagerCredentials
from keel.local.integrations import RunningService, demo_leave, start_crm, start_hr

pytestmark = pytest.mark.integration


@pytest.fixture
def crm() -> Iterator[RunningService]:
    server = start_crm(key=secrets.token_urlsafe(24))
    yield server
    server.stop()


@pytest.fixture
def hr() -> Iterator[RunningService]:
    server = start_hr(key=secrets.token_urlsafe(24), employees=demo_leave(["emma.engineer"]))
    yield server
    server.stop()


def secret(aws: dict[str, Any], fields: dict[str, str]) -> str:
    name = f"keel/test/{uuid.uuid4().hex[:8]}"
    aws["secretsmanager"].create_secret(Name=name, SecretString=json.dumps(fields))
    return name


def only_key(server: RunningService) -> str:
    [key] = list(server.state.keys._keys)
    return str(key)


def status_with(url: str, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_after_rotating_the_crm_key_the_running_adapter_uses_the_new_one_and_the_old_one_fails(
    aws: dict[str, Any], crm: RunningService
) -> None:
    old = only_key(crm)
    secret_id = secret(aws, {"access_token": old})
    # A long TTL: only the 401 refetch can explain the switch.
    adapter = HubSpotCrm(crm.url, SecretsManagerCredentials(aws["secretsmanager"], secret_id, ttl_seconds=3600))
    assert adapter.contact("101").company == "Northwind"

    rotator = ApiKeyRotator(aws["secretsmanager"], RestKeyTarget.bearer("the CRM", crm.url), field="access_token")
    token = str(uuid.uuid4())
    rotator.create_secret(secret_id, token)
    rotator.set_secret(secret_id, token)
    rotator.test_secret(secret_id, token)
    assert len(crm.state.keys.fingerprints()) == 2  # both work until finishSecret
    rotator.finish_secret(secret_id, token)

    # Read as the adapters do (moto's unstaged read lags behind label moves).
    current = aws["secretsmanager"].get_secret_value(SecretId=secret_id, VersionStage="AWSCURRENT")
    new = json.loads(current["SecretString"])["access_token"]
    assert new != old and crm.state.keys.fingerprints() != []
    refused_before = crm.state.unauthorised
    assert adapter.contact("101").company == "Northwind"  # same object, no restart
    assert crm.state.unauthorised == refused_before + 1  # one 401 with the cached old key, then the new key
    url = f"{crm.url}/crm/v3/objects/contacts/101"
    assert status_with(url, {"Authorization": f"Bearer {old}"}) == 401
    assert status_with(url, {"Authorization": f"Bearer {new}"}) == 200
    versions = aws["secretsmanager"].list_secret_version_ids(SecretId=secret_id)["Versions"]
    stages = {v["VersionId"]: v.get("VersionStages", []) for v in versions}
    assert "AWSCURRENT" in stages[token] and "AWSPENDING" not in stages[token]


def test_after_rotating_the_hr_key_a_short_ttl_picks_it_up_and_the_old_key_fails(
    aws: dict[str, Any], hr: RunningService
) -> None:
    old = only_key(hr)
    secret_id = secret(aws, {"api_key": old})
    adapter = HrLeaveApi(hr.url, SecretsManagerCredentials(aws["secretsmanager"], secret_id, ttl_seconds=0))
    before = adapter.leave_balance("emma.engineer")

    ApiKeyRotator(aws["secretsmanager"], RestKeyTarget.api_key_header("the HR system", hr.url)).rotate(secret_id)

    refused_before = hr.state.unauthorised
    assert adapter.leave_balance("emma.engineer") == before
    assert hr.state.unauthorised == refused_before  # TTL 0: read AWSCURRENT each time, never refused
    url = f"{hr.url}/api/v1/employees/emma.engineer/leave-balance"
    assert status_with(url, {"X-Api-Key": old}) == 401


def test_a_failed_test_step_leaves_the_current_key_in_place(aws: dict[str, Any], hr: RunningService) -> None:
    old = only_key(hr)
    secret_id = secret(aws, {"api_key": old})
    rotator = ApiKeyRotator(aws["secretsmanager"], RestKeyTarget.api_key_header("the HR system", hr.url))
    token = str(uuid.uuid4())
    rotator.create_secret(secret_id, token)
    # setSecret skipped: the target never learnt the pending key.

    with pytest.raises(RotationFailed, match="refused the pending key"):
        rotator.test_secret(secret_id, token)

    current = json.loads(
        aws["secretsmanager"].get_secret_value(SecretId=secret_id, VersionStage="AWSCURRENT")["SecretString"]
    )
    assert current["api_key"] == old
    assert status_with(f"{hr.url}/api/keys/self", {"X-Api-Key": old}) == 200


def test_the_steps_are_idempotent_when_secrets_manager_retries_them(aws: dict[str, Any], hr: RunningService) -> None:
    secret_id = secret(aws, {"api_key": only_key(hr)})
    rotator = ApiKeyRotator(aws["secretsmanager"], RestKeyTarget.api_key_header("the HR system", hr.url))
    token = str(uuid.uuid4())
    for step in (rotator.create_secret, rotator.create_secret, rotator.set_secret, rotator.set_secret):
        step(secret_id, token)
    rotator.finish_secret(secret_id, token)
    rotator.finish_secret(secret_id, token)

    assert len(hr.state.keys.fingerprints()) == 1
