"""Zendesk Tickets API adapter: POST /api/v2/tickets.json, idempotent through external_id."""

from __future__ import annotations

import urllib.parse

from keel.escalation.helpdesk import JsonClient, SecretCredentials, Transport, basic_auth, urllib_transport
from keel.escalation.ports import CreatedTicket, TicketRequest


class ZendeskHelpdesk:
    """Tickets in Zendesk; the secret holds {"email", "api_token"} (API token auth: "email/token")."""

    name = "zendesk"

    def __init__(self, base_url: str, credentials: SecretCredentials, *, transport: Transport | None = None) -> None:
        self._http = JsonClient(
            base_url,
            credentials,
            lambda s: basic_auth(f"{s['email']}/token", s["api_token"]),
            transport or urllib_transport(),
        )
        self._base = base_url.rstrip("/")

    def find(self, external_id: str) -> CreatedTicket | None:
        """The ticket with this external_id (Zendesk does not enforce uniqueness, so Keel checks first)."""
        query = urllib.parse.urlencode({"external_id": external_id})
        tickets = self._http.call("GET", f"/api/v2/tickets.json?{query}").get("tickets") or []
        if not tickets:
            return None
        return self._ticket(min(tickets, key=lambda t: int(t["id"])))

    def create(self, request: TicketRequest) -> CreatedTicket:
        """Create the ticket with the transcript as a private comment."""
        payload = {
            "ticket": {
                "subject": request.subject,
                "comment": {"body": request.body, "public": False},
                "external_id": request.external_id,
                "tags": list(request.tags),
                "priority": request.priority,
                "metadata": request.metadata,
            }
        }
        return self._ticket(self._http.call("POST", "/api/v2/tickets.json", payload)["ticket"])

    def _ticket(self, ticket: dict[str, object]) -> CreatedTicket:
        return CreatedTicket(str(ticket["id"]), self.name, f"{self._base}/api/v2/tickets/{ticket['id']}.json")
