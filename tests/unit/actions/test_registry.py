"""Declared actions: names, tool specifications, input validation and the catalog over the adapters."""

from __future__ import annotations

import pytest

from keel.actions.catalog import cloud_actions, crm_actions, helpdesk_actions, hr_actions
from keel.actions.registry import ActionRegistry, ActionSpec
from keel.errors import ConfigurationError, InvalidRequest
from keel.integrations.crm import Contact
from keel.integrations.helpdesk import TicketStatus
from keel.integrations.hr import LeaveBalance, LeaveBalances
from tests.fakes.actions import FakeEc2
from tests.unit.actions.conftest import ENGINEER


class Crm:
    def __init__(self) -> None:
        self.notes: list[tuple[str, str]] = []

    def contact(self, contact_id: str) -> Contact:
        return Contact(contact_id, "Ada", "Lind", "ada@example.test", "Northwind", "customer")

    def log_interaction(self, contact_id: str, body: str) -> str:
        self.notes.append((contact_id, body))
        return "9001"


class Hr:
    def __init__(self) -> None:
        self.asked: list[str] = []

    def leave_balance(self, employee_id: str) -> LeaveBalances:
        self.asked.append(employee_id)
        return LeaveBalances(employee_id, "2026-11-24", (LeaveBalance("annual", 12.5, 12.5, "days"),))


class Tickets:
    def status(self, ticket_id: str) -> TicketStatus:
        return TicketStatus(ticket_id, "open", "high", "VPN", "2026-11-24")

    def update(self, ticket_id: str, *, status: str | None = None, comment: str | None = None) -> TicketStatus:
        return TicketStatus(ticket_id, status or "open", "high", "VPN", "2026-11-24")


def test_every_shipped_action_has_a_valid_tool_schema_and_a_side_effect() -> None:
    specs = cloud_actions(FakeEc2()) + crm_actions(Crm()) + hr_actions(Hr()) + helpdesk_actions(Tickets())
    names = [s.name for s in specs]
    assert len(names) == len(set(names))
    for spec in specs:
        tool = spec.tool()
        assert tool.input_schema["type"] == "object" and "side effect" in tool.description
    levels = {s.name: s.side_effect for s in specs}
    assert levels["delete_instance"] == "destructive" and levels["describe_instance"] == "read"


def test_the_leave_balance_is_always_the_asking_users_own() -> None:
    hr = Hr()
    [spec] = hr_actions(hr)

    result = spec.run(ENGINEER, spec.parse({}))

    assert hr.asked == [ENGINEER.username] and "12.5 days of annual leave" in result.message
    assert spec.resource(ENGINEER, spec.parse({})) == f"employee/{ENGINEER.username}"
    with pytest.raises(InvalidRequest, match="employee_id"):
        spec.parse({"employee_id": "someone-else"})


def test_crm_and_helpdesk_actions_call_their_adapters() -> None:
    crm = Crm()
    lookup, log = crm_actions(crm)
    assert "Northwind" in lookup.run(ENGINEER, lookup.parse({"contact_id": "101"})).message
    log.run(ENGINEER, log.parse({"contact_id": "101", "summary": "asked about renewal"}))
    assert crm.notes == [("101", "asked about renewal")]
    status, update = helpdesk_actions(Tickets())
    assert "open" in status.run(ENGINEER, status.parse({"ticket_id": 7})).message
    assert "solved" in update.run(ENGINEER, update.parse({"ticket_id": 7, "status": "solved"})).message


def test_bad_names_and_levels_are_refused_at_declaration() -> None:
    [describe, *_] = cloud_actions(FakeEc2())
    with pytest.raises(ConfigurationError, match="must match"):
        ActionSpec(**{**describe.__dict__, "name": "Delete Everything"})
    with pytest.raises(ConfigurationError, match="accepted"):
        ActionSpec(**{**describe.__dict__, "side_effect": "harmless"})


def test_a_registry_offers_an_action_only_through_its_bots_and_refuses_a_conflicting_twin() -> None:
    registry = ActionRegistry()
    specs = cloud_actions(FakeEc2())
    registry.register(specs[0], ["it"])
    assert registry.get("it", "describe_instance") is specs[0]
    assert registry.get("hr", "describe_instance") is None and registry.tools("hr") == []
    with pytest.raises(ConfigurationError, match="twice"):
        registry.register(cloud_actions(FakeEc2())[0], ["hr"])


def test_invalid_inputs_name_the_field_and_what_it_accepts() -> None:
    [describe, *_] = cloud_actions(FakeEc2())
    with pytest.raises(InvalidRequest, match=r"instance_id \(an EC2 instance id such as i-0123456789abcdef0\)"):
        describe.parse({"instance_id": "prod-db"})
