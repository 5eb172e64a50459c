"""Credentials from Secrets Manager with a short TTL, and REST calls that refetch them once after a 401."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from keel.errors import ConfigurationError, NotFound
from keel.integrations.crm import HubSpotCrm
from keel.integrations.hr import HrLeaveApi
from keel.integrations.http import IntegrationRejected, IntegrationUnavailable
from keel.integrations.secrets import CredentialsUnavailable, SecretsManagerCredentials
from tests.fakes.models import FakeClock


class Secrets:
    """get_secret_value over a value that tests change (a rotation)."""

    def __init__(self, value: dict[str, str]) -> None:
        self.value: Any = json.dumps(value)
        self.calls = 0
        self.fail = False

    def get_secret_value(self, *, SecretId: str, VersionStage: str) -> dict[str, Any]:
        assert VersionStage == "AWSCURRENT"
        self.calls += 1
        if self.fail:
            raise ClientError({"Error": {"Code": "InternalServiceError"}}, "GetSecretValue")
        return {"SecretString": self.value}


def test_the_secret_is_cached_for_the_ttl_then_read_again() -> None:
    secrets, clock = Secrets({"api_key": "one"}), FakeClock()
    creds = SecretsManagerCredentials(secrets, "hr", ttl_seconds=30, clock=clock)

    assert creds.get() == {"api_key": "one"}
    secrets.value = json.dumps({"api_key": "two"})
    assert creds.get() == {"api_key": "one"} and secrets.calls == 1
    clock.advance(31)
    assert creds.get() == {"api_key": "two"} and secrets.calls == 2


def test_unreadable_or_malformed_secrets_are_clear_errors() -> None:
    secrets = Secrets({"api_key": "one"})
    secrets.fail = True
    with pytest.raises(CredentialsUnavailable):
        SecretsManagerCredentials(secrets, "hr").get()
    secrets.fail, secrets.value = False, "not json"
    with pytest.raises(ConfigurationError, match="JSON object"):
        SecretsManagerCredentials(secrets, "hr").get()
    with pytest.raises(ConfigurationError, match="ttl_seconds"):
        SecretsManagerCredentials(secrets, "hr", ttl_seconds=-1)


class KeyedServer:
    """A transport that accepts one key at a time, like a target after rotation."""

    def __init__(self, key: str, status: int = 200, body: Any = None) -> None:
        self.key = key
        self.status = status
        self.body = body if body is not None else {"employee_id": "emma", "as_of": "2026-11-24", "balances": []}
        self.seen: list[str] = []

    def __call__(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> tuple[int, Any]:
        self.seen.append(headers.get("X-Api-Key") or headers.get("Authorization", ""))
        if headers.get("X-Api-Key") != self.key and headers.get("Authorization") != f"Bearer {self.key}":
            return 401, {"error": "bad key"}
        return self.status, self.body


def test_after_a_401_the_new_credential_is_fetched_once_without_waiting_for_the_ttl() -> None:
    secrets = Secrets({"api_key": "old"})
    creds = SecretsManagerCredentials(secrets, "hr", ttl_seconds=3600, clock=FakeClock())
    server = KeyedServer("old")
    hr = HrLeaveApi("http://127.0.0.1:1", creds, transport=server)
    hr.leave_balance("emma")

    secrets.value, server.key = json.dumps({"api_key": "new"}), "new"  # rotated elsewhere

    assert hr.leave_balance("emma").employee_id == "emma"
    assert server.seen == ["old", "old", "new"] and secrets.calls == 2


def test_a_key_refused_twice_is_a_rejection_not_a_loop() -> None:
    creds = SecretsManagerCredentials(Secrets({"access_token": "wrong"}), "crm", clock=FakeClock())
    crm = HubSpotCrm("http://127.0.0.1:1", creds, transport=KeyedServer("right"))

    with pytest.raises(IntegrationRejected, match="twice"):
        crm.contact("101")


@pytest.mark.parametrize(
    ("status", "error"), [(404, NotFound), (503, IntegrationUnavailable), (422, IntegrationRejected)]
)
def test_status_codes_become_keel_errors(status: int, error: type[Exception]) -> None:
    creds = SecretsManagerCredentials(Secrets({"api_key": "k"}), "hr", clock=FakeClock())
    with pytest.raises(error):
        HrLeaveApi("http://127.0.0.1:1", creds, transport=KeyedServer("k", status)).leave_balance("emma")


def test_a_secret_missing_its_field_is_named() -> None:
    creds = SecretsManagerCredentials(Secrets({"token": "k"}), "hr", clock=FakeClock())
    with pytest.raises(Exception, match="api_key"):
        HrLeaveApi("http://127.0.0.1:1", creds, transport=KeyedServer("k")).leave_balance("emma")
