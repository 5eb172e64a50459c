"""ServiceNow Table API adapter: POST /api/now/table/incident, idempotent through correlation_id."""

from __future__ import annotations

import urllib.parse

from keel.escalation.helpdesk import JsonClient, SecretCredentials, Transport, basic_auth, urllib_transport
from keel.escalation.ports import CreatedTicket, TicketRequest

_URGENCY = {"urgent": "1", "high": "1", "normal": "3"}


class ServiceNowHelpdesk:
    """Incidents in ServiceNow; the secret holds {"username", "password"}."""

    name = "servicenow"

    def __init__(self, base_url: str, credentials: SecretCredentials, *, transport: Transport | None = None) -> None:
        self._http = JsonClient(
            base_url, credentials, lambda s: basic_auth(s["username"], s["password"]), transport or urllib_transport()
        )

    def find(self, external_id: str) -> CreatedTicket | None:
        """The incident whose correlation_id is this escalation."""
        query = urllib.parse.urlencode(
            {"sysparm_query": f"correlation_id={external_id}", "sysparm_limit": "1", "sysparm_fields": "number"}
        )
        results = self._http.call("GET", f"/api/now/table/incident?{query}").get("result") or []
        return CreatedTicket(str(results[0]["number"]), self.name) if results else None

    def create(self, request: TicketRequest) -> CreatedTicket:
        """Open an incident with the transcript in the description."""
        payload = {
            "short_description": request.subject,
            "description": request.body,
            "correlation_id": request.external_id,
            "correlation_display": "keel",
            "urgency": _URGENCY.get(request.priority, "3"),
            "category": "inquiry",
        }
        result = self._http.call("POST", "/api/now/table/incident", payload)["result"]
        return CreatedTicket(str(result["number"]), self.name)
