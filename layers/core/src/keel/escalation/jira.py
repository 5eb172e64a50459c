"""Jira Service Management adapter: POST /rest/servicedeskapi/request, idempotent through a label."""

from __future__ import annotations

import urllib.parse

from keel.escalation.helpdesk import JsonClient, SecretCredentials, Transport, basic_auth, urllib_transport
from keel.escalation.ports import CreatedTicket, TicketRequest


class JiraServiceManagementHelpdesk:
    """Customer requests in JSM; the secret holds {"email", "api_token"}; desk and request type are config."""

    name = "jira-service-management"

    def __init__(
        self,
        base_url: str,
        credentials: SecretCredentials,
        *,
        service_desk_id: str,
        request_type_id: str,
        transport: Transport | None = None,
    ) -> None:
        self._http = JsonClient(
            base_url, credentials, lambda s: basic_auth(s["email"], s["api_token"]), transport or urllib_transport()
        )
        self._desk = service_desk_id
        self._type = request_type_id

    def find(self, external_id: str) -> CreatedTicket | None:
        """The request labelled with this escalation (JSM has no external id field)."""
        jql = urllib.parse.urlencode({"jql": f'labels = "{_label(external_id)}"', "maxResults": "1", "fields": "key"})
        issues = self._http.call("GET", f"/rest/api/2/search?{jql}").get("issues") or []
        return CreatedTicket(str(issues[0]["key"]), self.name) if issues else None

    def create(self, request: TicketRequest) -> CreatedTicket:
        """Raise a customer request with the transcript in the description."""
        payload = {
            "serviceDeskId": self._desk,
            "requestTypeId": self._type,
            "requestFieldValues": {
                "summary": request.subject,
                "description": request.body,
                "labels": [_label(request.external_id), *request.tags],
            },
        }
        result = self._http.call("POST", "/rest/servicedeskapi/request", payload)
        return CreatedTicket(str(result["issueKey"]), self.name)


def _label(external_id: str) -> str:
    # Jira labels cannot contain spaces; escalation ids are uuids, so this is safe and unique.
    return f"keel-{external_id}"
