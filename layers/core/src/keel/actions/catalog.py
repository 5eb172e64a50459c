"""The actions Keel ships, over the integration adapters: cloud, CRM, HR and helpdesk (R6, R19)."""

from __future__ import annotations

from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from keel.actions.ports import ActionResult
from keel.actions.registry import ActionSpec
from keel.identity.principal import Principal
from keel.integrations.cloud import INSTANCE_ID_PATTERN, Instance
from keel.integrations.crm import Contact
from keel.integrations.helpdesk import TicketStatus
from keel.integrations.hr import LeaveBalances


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InstanceInput(_Input):
    """Which EC2 instance."""

    instance_id: str = Field(pattern=INSTANCE_ID_PATTERN, description="an EC2 instance id such as i-0123456789abcdef0")


class ContactInput(_Input):
    """Which CRM contact."""

    contact_id: str = Field(pattern=r"^[A-Za-z0-9-]{1,64}$", description="the CRM contact id")


class InteractionInput(ContactInput):
    """A note on a CRM contact."""

    summary: str = Field(min_length=3, max_length=2000, description="what to record about the interaction")


class NoInput(_Input):
    """No inputs: the action works on the asking user's own record."""


class TicketInput(_Input):
    """Which helpdesk ticket."""

    ticket_id: int = Field(ge=1, description="the ticket number, such as 1234")


class TicketUpdateInput(TicketInput):
    """A status change and/or a comment."""

    status: Literal["open", "pending", "hold", "solved"] | None = Field(default=None, description="the new status")
    comment: str | None = Field(default=None, max_length=2000, description="a comment to add")


class Instances(Protocol):
    """keel.integrations.cloud.Ec2Instances."""

    def describe(self, instance_id: str) -> Instance:
        """The instance."""
        ...

    def stop(self, instance_id: str) -> str:
        """Its new state."""
        ...

    def terminate(self, instance_id: str) -> str:
        """Its new state."""
        ...


class Crm(Protocol):
    """keel.integrations.crm.HubSpotCrm."""

    def contact(self, contact_id: str) -> Contact:
        """One contact."""
        ...

    def log_interaction(self, contact_id: str, body: str) -> str:
        """The note id."""
        ...


class LeaveApi(Protocol):
    """keel.integrations.hr.HrLeaveApi."""

    def leave_balance(self, employee_id: str) -> LeaveBalances:
        """The balances."""
        ...


class Tickets(Protocol):
    """keel.integrations.helpdesk.ZendeskTickets."""

    def status(self, ticket_id: str) -> TicketStatus:
        """The status."""
        ...

    def update(self, ticket_id: str, *, status: str | None = None, comment: str | None = None) -> TicketStatus:
        """The status after the update."""
        ...


# What a message asking about a cloud instance names (the English words, or an instance id in any language).
_INSTANCE = r"instances?|ec2|servers?|vms?|virtual machines?|i-[0-9a-f]{8,17}"


def cloud_actions(ec2: Instances) -> list[ActionSpec]:
    """Describe (view), stop and delete an EC2 instance."""

    def describe(_: Principal, i: InstanceInput) -> ActionResult:
        found = ec2.describe(i.instance_id)
        named = f" ({found.name})" if found.name else ""
        return ActionResult(
            f"Instance {found.instance_id}{named} is {found.state}; type {found.instance_type}.",
            {"instance_id": found.instance_id, "state": found.state},
        )

    def stop(_: Principal, i: InstanceInput) -> ActionResult:
        state = ec2.stop(i.instance_id)
        return ActionResult(f"Instance {i.instance_id} is now {state}.", {"instance_id": i.instance_id, "state": state})

    def delete(_: Principal, i: InstanceInput) -> ActionResult:
        state = ec2.terminate(i.instance_id)
        return ActionResult(
            f"Instance {i.instance_id} is being deleted (state: {state}).",
            {"instance_id": i.instance_id, "state": state},
        )

    def resource(_: Principal, i: Any) -> str:
        return str(i.instance_id)

    return [
        ActionSpec(
            name="describe_instance",
            description="Show the state and type of one EC2 cloud instance",
            input_model=InstanceInput,
            side_effect="read",
            cedar_action="viewResource",
            resource=resource,
            run=describe,
            summary=lambda i: f"show instance {i.instance_id}",
            intents=(_INSTANCE,),
        ),
        ActionSpec(
            name="stop_instance",
            description="Stop (shut down, not delete) one EC2 cloud instance",
            input_model=InstanceInput,
            side_effect="write",
            cedar_action="stopResource",
            resource=resource,
            run=stop,
            summary=lambda i: f"stop instance {i.instance_id}",
            intents=(_INSTANCE, r"stop|shut\s*down|halt"),
        ),
        ActionSpec(
            name="delete_instance",
            description="Delete (terminate) one EC2 cloud instance permanently",
            input_model=InstanceInput,
            side_effect="destructive",
            cedar_action="deleteResource",
            resource=resource,
            run=delete,
            summary=lambda i: f"delete instance {i.instance_id}",
            intents=(_INSTANCE, r"delete|terminate|destroy|remove"),
        ),
    ]


def crm_actions(crm: Crm) -> list[ActionSpec]:
    """Look up a customer for personalisation and log an interaction."""

    def lookup(_: Principal, i: ContactInput) -> ActionResult:
        c = crm.contact(i.contact_id)
        company = f" at {c.company}" if c.company else ""
        return ActionResult(
            f"Contact {c.contact_id}: {c.first_name} {c.last_name}{company}, stage {c.lifecycle_stage or 'unknown'}.",
            {"contact_id": c.contact_id, "lifecycle_stage": c.lifecycle_stage},
        )

    def log(_: Principal, i: InteractionInput) -> ActionResult:
        note = crm.log_interaction(i.contact_id, i.summary)
        return ActionResult(f"Logged the interaction on contact {i.contact_id} (note {note}).", {"note_id": note})

    return [
        ActionSpec(
            name="lookup_customer",
            description="Look up a customer contact in the CRM",
            input_model=ContactInput,
            side_effect="read",
            cedar_action="readCustomer",
            resource=lambda _, i: f"contact/{i.contact_id}",
            run=lookup,
            summary=lambda i: f"look up contact {i.contact_id}",
            intents=(r"contacts?|customers?|clients?|crm|accounts?",),
        ),
        ActionSpec(
            name="log_customer_interaction",
            description="Log an interaction with a customer contact in the CRM",
            input_model=InteractionInput,
            side_effect="write",
            cedar_action="logInteraction",
            resource=lambda _, i: f"contact/{i.contact_id}",
            run=log,
            summary=lambda i: f"log an interaction on contact {i.contact_id}",
            intents=(r"contacts?|customers?|clients?|crm", r"log|record|note|interaction"),
        ),
    ]


def hr_actions(hr: LeaveApi) -> list[ActionSpec]:
    """The asking employee's own leave balance (never someone else's: the input has no employee field)."""

    def balance(principal: Principal, _: NoInput) -> ActionResult:
        found = hr.leave_balance(principal.username)
        return ActionResult(
            found.describe(), {"balances": {b.leave_type: b.available for b in found.balances}, "as_of": found.as_of}
        )

    return [
        ActionSpec(
            name="leave_balance",
            description="Show my own remaining leave balance from the HR system",
            input_model=NoInput,
            side_effect="read",
            cedar_action="readLeaveBalance",
            resource=lambda principal, _: f"employee/{principal.username}",
            run=balance,
            summary=lambda _: "show your leave balance",
            intents=(r"leave|holidays?|vacation|pto|time\s+off|days?\s+off|annual\s+leave|allowance|balance",),
        )
    ]


def helpdesk_actions(tickets: Tickets) -> list[ActionSpec]:
    """Ticket status and updates."""

    def status(_: Principal, i: TicketInput) -> ActionResult:
        t = tickets.status(str(i.ticket_id))
        return ActionResult(
            f"Ticket {t.ticket_id} is {t.status} (priority {t.priority or 'normal'}), last updated {t.updated_at}.",
            {"ticket_id": t.ticket_id, "status": t.status},
        )

    def update(_: Principal, i: TicketUpdateInput) -> ActionResult:
        t = tickets.update(str(i.ticket_id), status=i.status, comment=i.comment)
        return ActionResult(f"Ticket {t.ticket_id} updated; it is now {t.status}.", {"ticket_id": t.ticket_id})

    return [
        ActionSpec(
            name="ticket_status",
            description="Show the status of a helpdesk ticket",
            input_model=TicketInput,
            side_effect="read",
            cedar_action="readTicket",
            resource=lambda _, i: f"ticket/{i.ticket_id}",
            run=status,
            summary=lambda i: f"show ticket {i.ticket_id}",
            intents=(r"tickets?|cases?|incidents?|requests?|#\s*\d+",),
        ),
        ActionSpec(
            name="update_ticket",
            description="Update a helpdesk ticket: change its status or add a comment",
            input_model=TicketUpdateInput,
            side_effect="write",
            cedar_action="updateTicket",
            resource=lambda _, i: f"ticket/{i.ticket_id}",
            run=update,
            summary=lambda i: f"update ticket {i.ticket_id}",
            intents=(r"tickets?|cases?|incidents?|requests?|#\s*\d+",),
        ),
    ]
