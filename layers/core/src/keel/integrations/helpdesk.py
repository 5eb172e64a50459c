"""Helpdesk tickets for actions: status, update and create, beside escalation's Zendesk adapter (R19)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from keel.errors import InvalidRequest
from keel.escalation.helpdesk import SecretCredentials, basic_auth
from keel.escalation.ports import CreatedTicket, TicketRequest
from keel.escalation.zendesk import ZendeskHelpdesk
from keel.integrations.http import JsonApi, Transport, urllib_transport

STATUSES = ("new", "open", "pending", "hold", "solved", "closed")


@dataclass(frozen=True)
class TicketStatus:
    """What the user may learn about a ticket."""

    ticket_id: str
    status: str
    priority: str
    subject: str
    updated_at: str


class ZendeskTickets:
    """Ticket status and updates over the Zendesk Tickets API; creation reuses escalation's ZendeskHelpdesk."""

    name = "helpdesk"

    def __init__(self, base_url: str, credentials: SecretCredentials, *, transport: Transport | None = None) -> None:
        send = transport or urllib_transport()
        self._api = JsonApi("the helpdesk", base_url, credentials, _zendesk_auth, send)
        self._creator = ZendeskHelpdesk(base_url, credentials, transport=send)

    def status(self, ticket_id: str) -> TicketStatus:
        """The ticket's status; NotFound for an unknown ticket."""
        return _status(self._api.call("GET", f"/api/v2/tickets/{_ticket_number(ticket_id)}.json")["ticket"])

    def update(self, ticket_id: str, *, status: str | None = None, comment: str | None = None) -> TicketStatus:
        """Change the status and/or add a public comment."""
        fields: dict[str, Any] = {}
        if status is not None:
            if status not in STATUSES:
                raise InvalidRequest(f"unknown ticket status {status!r}; accepted: {', '.join(STATUSES)}")
            fields["status"] = status
        if comment:
            fields["comment"] = {"body": comment, "public": True}
        if not fields:
            raise InvalidRequest("an update needs a status or a comment")
        data = self._api.call("PUT", f"/api/v2/tickets/{_ticket_number(ticket_id)}.json", {"ticket": fields})
        return _status(data["ticket"])

    def create(self, request: TicketRequest) -> CreatedTicket:
        """Open a ticket (escalation's adapter does the work)."""
        return self._creator.create(request)


def _zendesk_auth(secret: Mapping[str, str]) -> dict[str, str]:
    return {"Authorization": basic_auth(f"{secret['email']}/token", secret["api_token"])}


def _ticket_number(ticket_id: str) -> int:
    digits = ticket_id.strip().lstrip("#")
    if not digits.isdigit():
        raise InvalidRequest(f"{ticket_id!r} is not a ticket number; accepted: digits such as 1234")
    return int(digits)


def _status(ticket: Mapping[str, Any]) -> TicketStatus:
    return TicketStatus(
        ticket_id=str(ticket["id"]),
        status=str(ticket.get("status") or ""),
        priority=str(ticket.get("priority") or ""),
        subject=str(ticket.get("subject") or ""),
        updated_at=str(ticket.get("updated_at") or ""),
    )
