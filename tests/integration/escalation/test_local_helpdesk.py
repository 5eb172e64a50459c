"""The local helpdesk speaks Zendesk's Tickets API: auth, create, show, list by external_id, update, search, faults."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from keel.local import helpdesk

pytestmark = pytest.mark.integration


@pytest.fixture
def server() -> Iterator[helpdesk.RunningHelpdesk]:
    running = helpdesk.start(email="ops@example.test", token="secret-1")
    yield running
    running.stop()


def call(
    server: helpdesk.RunningHelpdesk, method: str, path: str, body: Any = None, token: str = "secret-1"
) -> tuple[int, Any]:
    auth = base64.b64encode(f"ops@example.test/token:{token}".encode()).decode()
    request = urllib.request.Request(
        server.url + path,
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Authorization": f"Basic {auth}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_tickets_round_trip(server: helpdesk.RunningHelpdesk) -> None:
    status, created = call(
        server,
        "POST",
        "/api/v2/tickets.json",
        {"ticket": {"subject": "s", "comment": {"body": "b"}, "external_id": "e1"}},
    )
    assert status == 201
    ticket_id = created["ticket"]["id"]
    assert call(server, "GET", f"/api/v2/tickets/{ticket_id}.json")[1]["ticket"]["external_id"] == "e1"
    assert call(server, "GET", "/api/v2/tickets.json?external_id=e1")[1]["count"] == 1
    assert call(server, "GET", "/api/v2/tickets.json?external_id=other")[1]["count"] == 0
    assert (
        call(server, "PUT", f"/api/v2/tickets/{ticket_id}.json", {"ticket": {"status": "solved"}})[1]["ticket"][
            "status"
        ]
        == "solved"
    )
    assert call(server, "GET", "/api/v2/search.json?query=type:ticket%20external_id:e1")[1]["count"] == 1
    assert call(server, "GET", "/api/v2/tickets/999.json")[0] == 404


def test_wrong_credentials_and_invalid_tickets_are_refused(server: helpdesk.RunningHelpdesk) -> None:
    assert call(server, "GET", "/api/v2/tickets.json", token="wrong")[0] == 401
    assert call(server, "POST", "/api/v2/tickets.json", {"ticket": {"subject": "no body"}})[0] == 422


def test_fault_modes(server: helpdesk.RunningHelpdesk) -> None:
    server.fault("error")
    assert call(server, "GET", "/api/v2/tickets.json")[0] == 500
    server.fault("down")
    with pytest.raises((urllib.error.URLError, ConnectionError)):
        call(server, "GET", "/api/v2/tickets.json")
    with pytest.raises(ValueError, match="accepted"):
        server.fault("sideways")
