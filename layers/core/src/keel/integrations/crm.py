"""CRM adapter in the HubSpot CRM v3 REST shape: contact lookup for personalisation, interactions as notes."""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from keel.errors import InvalidRequest, NotFound
from keel.integrations.http import JsonApi, Transport, urllib_transport
from keel.integrations.secrets import CredentialProvider

CONTACT_PROPERTIES = ("firstname", "lastname", "email", "company", "lifecyclestage")
# HubSpot's default association type from a note to a contact.
NOTE_TO_CONTACT = 202


@dataclass(frozen=True)
class Contact:
    """A CRM contact as the bot may use it for personalisation."""

    contact_id: str
    first_name: str
    last_name: str
    email: str
    company: str
    lifecycle_stage: str


class HubSpotCrm:
    """Contacts and notes over the HubSpot CRM v3 API; the secret holds {"access_token"} (a private app token)."""

    name = "crm"

    def __init__(self, base_url: str, credentials: CredentialProvider, *, transport: Transport | None = None) -> None:
        self._api = JsonApi("the CRM", base_url, credentials, _bearer, transport or urllib_transport())

    def contact(self, contact_id: str) -> Contact:
        """One contact by id; NotFound if the CRM has none."""
        quoted = urllib.parse.quote(contact_id, safe="")
        data = self._api.call(
            "GET", f"/crm/v3/objects/contacts/{quoted}", query={"properties": ",".join(CONTACT_PROPERTIES)}
        )
        return _contact(data)

    def find_by_email(self, email: str) -> Contact:
        """The contact with this email; NotFound if none."""
        payload = {
            "filterGroups": [{"filters": [{"propertyName": "email", "operator": "EQ", "value": email}]}],
            "properties": list(CONTACT_PROPERTIES),
            "limit": 1,
        }
        results = self._api.call("POST", "/crm/v3/objects/contacts/search", payload).get("results") or []
        if not results:
            raise NotFound("the CRM has no contact with that email")
        return _contact(results[0])

    def log_interaction(self, contact_id: str, body: str, *, at: datetime | None = None) -> str:
        """Record an interaction as a note on the contact; returns the note id."""
        if not body.strip():
            raise InvalidRequest("an interaction note needs some text")
        payload = {
            "properties": {
                "hs_note_body": body[:65_000],
                "hs_timestamp": (at or datetime.now(UTC)).isoformat(timespec="milliseconds"),
            },
            "associations": [
                {
                    "to": {"id": contact_id},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": NOTE_TO_CONTACT}],
                }
            ],
        }
        return str(self._api.call("POST", "/crm/v3/objects/notes", payload)["id"])


def _bearer(secret: Mapping[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret['access_token']}"}


def _contact(data: Mapping[str, object]) -> Contact:
    props = data.get("properties")
    fields: Mapping[str, object] = props if isinstance(props, Mapping) else {}

    def text(key: str) -> str:
        value = fields.get(key)
        return str(value) if value is not None else ""

    return Contact(
        contact_id=str(data.get("id", "")),
        first_name=text("firstname"),
        last_name=text("lastname"),
        email=text("email"),
        company=text("company"),
        lifecycle_stage=text("lifecyclestage"),
    )
