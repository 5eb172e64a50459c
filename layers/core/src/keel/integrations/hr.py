"""HR adapter: leave balances from an internal REST service (GET /api/v1/employees/{id}/leave-balance)."""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass

from keel.errors import ServiceUnavailable
from keel.integrations.http import JsonApi, Transport, urllib_transport
from keel.integrations.secrets import CredentialProvider


@dataclass(frozen=True)
class LeaveBalance:
    """One kind of leave and what is left of it."""

    leave_type: str
    available: float
    taken: float
    unit: str


@dataclass(frozen=True)
class LeaveBalances:
    """An employee's balances on a date."""

    employee_id: str
    as_of: str
    balances: tuple[LeaveBalance, ...]

    def describe(self) -> str:
        """One sentence for the user."""
        if not self.balances:
            return f"No leave balances are recorded for you (as of {self.as_of})."
        parts = [f"{b.available:g} {b.unit} of {b.leave_type} leave" for b in self.balances]
        return f"As of {self.as_of} you have " + ", ".join(parts) + " available."


class HrLeaveApi:
    """The internal HR system; the secret holds {"api_key"} sent as X-Api-Key."""

    name = "hr"

    def __init__(self, base_url: str, credentials: CredentialProvider, *, transport: Transport | None = None) -> None:
        self._api = JsonApi("the HR system", base_url, credentials, _api_key, transport or urllib_transport())

    def leave_balance(self, employee_id: str) -> LeaveBalances:
        """The employee's leave balances; NotFound for an unknown employee."""
        quoted = urllib.parse.quote(employee_id, safe="")
        data = self._api.call("GET", f"/api/v1/employees/{quoted}/leave-balance")
        try:
            balances = tuple(
                LeaveBalance(str(b["type"]), float(b["available"]), float(b.get("taken", 0)), str(b["unit"]))
                for b in data.get("balances") or []
            )
            return LeaveBalances(str(data["employee_id"]), str(data["as_of"]), balances)
        except (KeyError, TypeError, ValueError) as exc:
            raise ServiceUnavailable("the HR system answered in a shape Keel does not understand") from exc


def _api_key(secret: Mapping[str, str]) -> dict[str, str]:
    return {"X-Api-Key": secret["api_key"]}
