"""EscalationService: start the handoff workflow for a conversation and tell the user what happens next."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict, Field

from keel.conversations.ports import Conversation
from keel.errors import Conflict, ServiceUnavailable
from keel.escalation import messages
from keel.escalation.decision import Decision
from keel.escalation.ports import StatusStore
from keel.escalation.records import OPEN_STATUSES, DynamoDBEscalationStore, EscalationRecord
from keel.escalation.triage import URGENCY_RANK
from keel.identity.principal import Principal

HandoffKind = Literal["agent", "ticket", "pending"]


class Backoff(BaseModel):
    """Retry schedule of the ticket task: wait `seconds`, doubling up to `max_seconds`, `max_attempts` times."""

    model_config = ConfigDict(frozen=True)

    seconds: int = Field(default=5, ge=1, le=3600)
    max_seconds: int = Field(default=600, ge=1, le=86_400)
    max_attempts: int = Field(default=40, ge=1, le=10_000)


@dataclass(frozen=True)
class Handoff:
    """The outcome the user is told about: an agent by name, a ticket number, or an honest 'pending'."""

    kind: HandoffKind
    message: str
    escalation_id: str
    agent_name: str = ""
    ticket_id: str = ""

    def meta(self) -> dict[str, Any]:
        """What the turn stores on its assistant message (the worker reads 'pending' to post the ticket later)."""
        return {
            "escalation": {
                "escalation_id": self.escalation_id,
                "kind": self.kind,
                "agent_name": self.agent_name,
                "ticket_id": self.ticket_id,
                "pending": self.kind == "pending",
            }
        }


class EscalationService:
    """Records the escalation, starts the Step Functions workflow (always by name), waits briefly for its outcome."""

    def __init__(
        self,
        sfn: Any,
        state_machine_arn: str,
        escalations: DynamoDBEscalationStore,
        conversations: StatusStore,
        *,
        backoff: Backoff | None = None,
        wait_seconds: float = 4.0,
        poll_seconds: float = 0.2,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._sfn = sfn
        self._arn = state_machine_arn
        self._escalations = escalations
        self._conversations = conversations
        self._backoff = backoff or Backoff()
        self._wait = wait_seconds
        self._poll = poll_seconds
        self._new_id = new_id
        self._sleep = sleep

    def escalate(
        self, conversation: Conversation, principal: Principal, decision: Decision, *, summary: str = ""
    ) -> Handoff:
        """Hand the conversation over; returns what to tell the user (the turn stores it with Handoff.meta()).

        A conversation has one escalation record: while one is open, a new request in the same conversation is
        told where the open one stands instead of opening a second ticket (and overwriting the first record),
        unless it is more urgent (a sign of self-harm after a billing question), which is handed over anew.
        """
        open_one = self._escalations.get(conversation.conversation_id)
        if open_one is not None and open_one.status in OPEN_STATUSES and not _more_urgent(decision, open_one):
            return self._already_open(open_one)
        escalation_id = self._new_id()
        record = EscalationRecord(
            conversation_id=conversation.conversation_id,
            escalation_id=escalation_id,
            bot=conversation.bot,
            reason=decision.reason,
            detail=decision.detail,
            intent=decision.intent,
            summary=summary[:300],
            # Metadata only: the subject, groups and department, never the name or e-mail address.
            user={
                "subject": principal.subject,
                "groups": sorted(principal.groups),
                "department": principal.department,
                "tenant": principal.tenant,
                "kind": principal.kind,
            },
            created_at=datetime.now(UTC).isoformat(),
            urgency=decision.urgency,
            language=decision.language,
        )
        self._escalations.put(record)
        self._conversations.set_status(conversation.conversation_id, "escalated")
        execution_arn = self.start(record)
        return self._await(record, execution_arn)

    def _already_open(self, record: EscalationRecord) -> Handoff:
        if record.status == "ticketed" and record.ticket_id:
            return Handoff(
                "ticket", messages.already_ticketed(record.ticket_id), record.escalation_id, ticket_id=record.ticket_id
            )
        if record.status == "assigned" and record.agent_name:
            return Handoff(
                "agent", messages.agent_joined(record.agent_name), record.escalation_id, agent_name=record.agent_name
            )
        return Handoff("pending", messages.ALREADY_PENDING, record.escalation_id)

    def start(self, record: EscalationRecord, *, attempt: int = 0) -> str:
        """Start the workflow for a record; the execution name makes a repeated start of the same attempt a no-op."""
        payload = {
            "escalation_id": record.escalation_id,
            "conversation_id": record.conversation_id,
            # The workflow offers the conversation only to agents of this bot's queue.
            "bot": record.bot,
            "backoff": {**self._backoff.model_dump(), "attempt": 0},
        }
        name = f"esc-{record.escalation_id}" + (f"-r{attempt}" if attempt else "")
        try:
            response = self._sfn.start_execution(stateMachineArn=self._arn, name=name[:80], input=json.dumps(payload))
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ExecutionAlreadyExists":
                return f"{self._arn.replace(':stateMachine:', ':execution:')}:{name[:80]}"
            raise ServiceUnavailable("the handoff workflow cannot be started right now") from exc
        except BotoCoreError as exc:
            raise ServiceUnavailable("the handoff workflow cannot be started right now") from exc
        return str(response["executionArn"])

    def resume_failed(self) -> int:
        """Start a new attempt for escalations whose workflow gave up (helpdesk down too long); returns how many."""
        resumed = 0
        for record in self._escalations.records(("failed",)):
            try:
                self._escalations.update(
                    record.conversation_id,
                    {"status": "pending", "attempts": record.attempts + 1},
                    expect_status=("failed",),
                )
            except Conflict:
                continue
            self.start(record, attempt=record.attempts + 1)
            resumed += 1
        return resumed

    def _await(self, record: EscalationRecord, execution_arn: str) -> Handoff:
        deadline = time.monotonic() + self._wait
        while True:
            status, output = self._describe(execution_arn)
            if status == "SUCCEEDED" and output.get("outcome") == "agent":
                self._conversations.set_status(record.conversation_id, "with_agent")
                name = str(output["agent_name"])
                return Handoff("agent", messages.agent_joined(name), record.escalation_id, agent_name=name)
            if status == "SUCCEEDED" and output.get("outcome") == "ticket":
                ticket = str(output["ticket_id"])
                return Handoff("ticket", messages.ticket_opened(ticket), record.escalation_id, ticket_id=ticket)
            current = self._escalations.get(record.conversation_id)
            unavailable = status not in ("RUNNING", "") or (current and current.status == "helpdesk_unavailable")
            if unavailable or time.monotonic() >= deadline:
                return self._pending(record, execution_arn, helpdesk_down=bool(unavailable))
            self._sleep(self._poll)

    def _pending(self, record: EscalationRecord, execution_arn: str, *, helpdesk_down: bool) -> Handoff:
        """Ask the worker to post the outcome later; if it landed meanwhile, report it now."""
        try:
            self._escalations.update(
                record.conversation_id,
                {"notify_user": True},
                expect_status=("pending", "helpdesk_unavailable", "failed"),
            )
        except Conflict:
            current = self._escalations.require(record.conversation_id)
            if current.status == "ticketed":
                ticket = current.ticket_id
                return Handoff("ticket", messages.ticket_opened(ticket), record.escalation_id, ticket_id=ticket)
            if current.status == "assigned":
                self._conversations.set_status(record.conversation_id, "with_agent")
                name = current.agent_name
                return Handoff("agent", messages.agent_joined(name), record.escalation_id, agent_name=name)
        text = messages.HELPDESK_DOWN if helpdesk_down else messages.STILL_WORKING
        return Handoff("pending", text, record.escalation_id)

    def _describe(self, execution_arn: str) -> tuple[str, dict[str, Any]]:
        try:
            described = self._sfn.describe_execution(executionArn=execution_arn)
        except (ClientError, BotoCoreError):
            return "", {}
        return str(described["status"]), json.loads(described.get("output") or "{}")


def _more_urgent(decision: Decision, record: EscalationRecord) -> bool:
    """Whether a new decision outranks the open escalation of its conversation (it then gets its own handoff)."""
    normal = URGENCY_RANK["normal"]
    return URGENCY_RANK.get(decision.urgency, normal) < URGENCY_RANK.get(record.urgency, normal)
