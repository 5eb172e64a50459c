"""Ports and value types of the actions capability: what an action needs from the policy point, store and model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from keel.identity.principal import Principal
from keel.knowledge.ports import Passage
from keel.models.ports import ChatMessage, Completion, ToolSpec

SideEffect = Literal["read", "write", "destructive", "money_moving"]
ActionStatus = Literal["done", "failed", "refused", "confirm", "cancelled", "expired", "invalid"]


class Decision(Protocol):
    """A policy decision: allowed, and the @id of every policy that decided."""

    @property
    def allowed(self) -> bool:
        """Whether the action is permitted."""
        ...

    @property
    def policy_ids(self) -> tuple[str, ...]:
        """The deciding policies (empty: no policy permits it)."""
        ...


class ActionAuthorizer(Protocol):
    """The Cedar policy decision point as actions use it (keel.access.PolicyDecisionPoint.may_act)."""

    def may_act(
        self, principal: Principal, action: str, resource_id: str, *, amount_cents: int | None = None
    ) -> Decision:
        """The decision for principal doing action on resource_id; InvalidRequest for an unknown action."""
        ...


class AuditTrail(Protocol):
    """keel.audit.trail.AuditTrail: guard and queue one record, or raise AuditUnavailable."""

    def record(self, record: Any) -> None:
        """Queue the record durably."""
        ...


class ToolProposer(Protocol):
    """The model router with tool use (keel.models.router.ModelRouter.generate)."""

    def generate(
        self,
        bot: str,
        system: str,
        messages: list[ChatMessage],
        passages: list[Passage],
        task: str = "answer",
        *,
        principal: Principal | None = None,
        tools: Sequence[ToolSpec] = (),
    ) -> Completion:
        """A completion whose tool_calls are the model's proposals."""
        ...


@dataclass(frozen=True)
class ActionResult:
    """What an executed action returns: a sentence for the user and structured data for channels."""

    message: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PendingAction:
    """An authorised destructive or money-moving action waiting for the user's explicit yes."""

    action_id: str
    conversation_id: str
    subject: str
    bot: str
    name: str
    arguments: dict[str, Any]
    resource: str
    user_turn: int
    asked_at: float
    expires_at: float
    policy_ids: tuple[str, ...] = ()


class PendingActions(Protocol):
    """Pending confirmations, one conversation at a time (DynamoDB in AWS)."""

    def put(self, pending: PendingAction) -> None:
        """Store a pending action."""
        ...

    def latest(self, conversation_id: str) -> PendingAction | None:
        """The newest pending action of the conversation (expired ones included; the caller decides)."""
        ...

    def take(self, conversation_id: str, action_id: str) -> bool:
        """Remove it; True only for the one caller that removed it (a double yes cannot run it twice)."""
        ...


@dataclass(frozen=True)
class ActionOutcome:
    """What the turn shows the user after an action request or a confirmation answer."""

    status: ActionStatus
    text: str
    action: str
    record_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def turn_outcome(self) -> Literal["answered", "refused"]:
        """The turn's outcome for the conversation and the audit record of the turn."""
        return "refused" if self.status == "refused" else "answered"
