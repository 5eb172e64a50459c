"""Helpdesk adapters on a recording transport: request shapes, idempotency lookups, errors, credential rotation."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from keel.escalation.helpdesk import HelpdeskRejected, SecretCredentials
from keel.escalation.jira import JiraServiceManagementHelpdesk
from keel.escalation.ports import HelpdeskUnavailable, TicketRequest
from keel.escalation.servicenow import ServiceNowHelpdesk
from keel.escalation.zendesk import ZendeskHelpdesk

REQUEST = TicketRequest("esc-1", "[Keel] VPN", "transcript", ("keel",), "high", {"intent": "fraud"})


class FakeSecrets:
    """Secrets Manager's get_secret_value over a value the test can rotate."""

    def __init__(self, value: dict[str, str]) -> None:
        self.value = value
        self.reads = 0

    def get_secret_value(self, SecretId: str, VersionStage: str) -> dict[str, str]:
        assert VersionStage == "AWSCURRENT"
        self.reads += 1
        return {"SecretString": json.dumps(self.value)}


class Recorder:
    """A transport that answers from a script and records every request."""

    def __init__(self, *answers: tuple[int, Any]) -> None:
        self.answers = list(answers)
        self.sent: list[dict[str, Any]] = []

    def __call__(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> tuple[int, Any]:
        self.sent.append({"method": method, "url": url, "headers": headers, "body": json.loads(body) if body else None})
        return self.answers.pop(0)


def creds(secrets: FakeSecrets, ttl: float = 60.0) -> SecretCredentials:
    return SecretCredentials(secrets, "helpdesk", ttl_seconds=ttl)


def test_zendesk_posts_a_ticket_with_external_id_and_api_token_auth() -> None:
    transport = Recorder((201, {"ticket": {"id": 7}}))
    helpdesk = ZendeskHelpdesk(
        "http://zd", creds(FakeSecrets({"email": "a@x", "api_token": "t1"})), transport=transport
    )
    ticket = helpdesk.create(REQUEST)
    assert ticket.ticket_id == "7"
    sent = transport.sent[0]
    assert (sent["method"], sent["url"]) == ("POST", "http://zd/api/v2/tickets.json")
    assert sent["body"]["ticket"]["external_id"] == "esc-1"
    assert sent["body"]["ticket"]["comment"] == {"body": "transcript", "public": False}
    assert base64.b64decode(sent["headers"]["Authorization"][6:]).decode() == "a@x/token:t1"


def test_zendesk_find_returns_the_oldest_ticket_with_the_external_id() -> None:
    transport = Recorder((200, {"tickets": [{"id": 9}, {"id": 4}]}), (200, {"tickets": []}))
    helpdesk = ZendeskHelpdesk("http://zd", creds(FakeSecrets({"email": "a", "api_token": "t"})), transport=transport)
    assert helpdesk.find("esc-1").ticket_id == "4"  # type: ignore[union-attr]
    assert transport.sent[0]["url"] == "http://zd/api/v2/tickets.json?external_id=esc-1"
    assert helpdesk.find("esc-2") is None


def test_a_rotated_secret_is_read_again_after_a_401() -> None:
    secrets = FakeSecrets({"email": "a", "api_token": "old"})
    transport = Recorder((401, {}), (201, {"ticket": {"id": 1}}))
    helpdesk = ZendeskHelpdesk("http://zd", creds(secrets), transport=transport)
    helpdesk._http.credentials.get()  # cached before the rotation
    secrets.value = {"email": "a", "api_token": "new"}
    helpdesk.create(REQUEST)
    assert secrets.reads == 2
    assert base64.b64decode(transport.sent[0]["headers"]["Authorization"][6:]).decode().endswith(":old")
    assert base64.b64decode(transport.sent[1]["headers"]["Authorization"][6:]).decode().endswith(":new")


def test_credentials_are_cached_for_the_ttl_only() -> None:
    now = [0.0]
    secrets = FakeSecrets({"email": "a", "api_token": "t"})
    cached = SecretCredentials(secrets, "id", ttl_seconds=30, clock=lambda: now[0])
    cached.get()
    cached.get()
    now[0] = 31
    cached.get()
    assert secrets.reads == 2


@pytest.mark.parametrize(
    ("status", "error"), [(500, HelpdeskUnavailable), (429, HelpdeskUnavailable), (422, HelpdeskRejected)]
)
def test_server_errors_are_retryable_and_client_errors_are_not(status: int, error: type[Exception]) -> None:
    transport = Recorder((status, {"error": "x"}))
    helpdesk = ZendeskHelpdesk("http://zd", creds(FakeSecrets({"email": "a", "api_token": "t"})), transport=transport)
    with pytest.raises(error):
        helpdesk.create(REQUEST)


def test_servicenow_opens_an_incident_with_correlation_id() -> None:
    transport = Recorder((201, {"result": {"number": "INC0010001"}}), (200, {"result": [{"number": "INC0010001"}]}))
    helpdesk = ServiceNowHelpdesk(
        "http://sn", creds(FakeSecrets({"username": "u", "password": "p"})), transport=transport
    )
    assert helpdesk.create(REQUEST).ticket_id == "INC0010001"
    sent = transport.sent[0]
    assert sent["url"] == "http://sn/api/now/table/incident"
    assert sent["body"]["correlation_id"] == "esc-1" and sent["body"]["urgency"] == "1"
    assert helpdesk.find("esc-1").ticket_id == "INC0010001"  # type: ignore[union-attr]
    assert "correlation_id%3Desc-1" in transport.sent[1]["url"]


def test_jira_service_management_raises_a_request_labelled_with_the_escalation() -> None:
    transport = Recorder((201, {"issueKey": "HELP-12"}), (200, {"issues": []}))
    helpdesk = JiraServiceManagementHelpdesk(
        "http://jira",
        creds(FakeSecrets({"email": "e", "api_token": "t"})),
        service_desk_id="1",
        request_type_id="10",
        transport=transport,
    )
    assert helpdesk.create(REQUEST).ticket_id == "HELP-12"
    sent = transport.sent[0]
    assert sent["url"] == "http://jira/rest/servicedeskapi/request"
    assert sent["body"]["serviceDeskId"] == "1" and sent["body"]["requestTypeId"] == "10"
    assert "keel-esc-1" in sent["body"]["requestFieldValues"]["labels"]
    assert helpdesk.find("esc-1") is None
