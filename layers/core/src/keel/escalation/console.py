"""The agent console's core: the queue of escalated conversations, take, reply, hand back, close (R18)."""

from __future__ import annotations

from typing import Any

from keel.errors import Conflict, Forbidden, InvalidRequest
from keel.escalation import messages
from keel.escalation.ports import StatusStore, UserNotifier
from keel.escalation.queues import AgentQueues
from keel.escalation.records import OPEN_STATUSES, Agent, DynamoDBEscalationStore, EscalationRecord
from keel.escalation.triage import ordered, triage
from keel.identity.principal import Principal

TAKEABLE = ("pending", "helpdesk_unavailable", "ticketed", "failed")


class AgentConsole:
    """What an agent can do with the escalated conversations of the queues they are assigned to."""

    def __init__(
        self,
        escalations: DynamoDBEscalationStore,
        conversations: StatusStore,
        queues: AgentQueues,
        notifier: UserNotifier | None = None,
    ) -> None:
        self._escalations = escalations
        self._conversations = conversations
        self._queues = queues
        self._notifier = notifier

    def queue(self, agent: Principal) -> list[dict[str, Any]]:
        """Open escalations of the agent's queues, most urgent then longest waiting first, with reason, language,
        summary and status."""
        bots = self._queues.require_agent(agent)
        records = [r for r in self._escalations.records(OPEN_STATUSES) if r.bot in bots]
        return [{**_summary(r), **t.fields()} for r, t in ordered(records)]

    def conversation(self, agent: Principal, conversation_id: str) -> dict[str, Any]:
        """One escalation with its transcript (masked, as stored)."""
        record = self._record(agent, conversation_id)
        transcript = self._conversations.messages(conversation_id, limit=200)
        return {
            **_summary(record),
            **triage(record).fields(),
            "mine": record.status == "assigned" and record.agent_id == agent.subject,
            "messages": [{"role": m.role, "text": m.text, "at": m.created_at} for m in transcript],
        }

    def set_presence(self, agent: Principal, status: str) -> dict[str, Any]:
        """Go online (free for new handoffs of the agent's queues) or offline."""
        bots = self._queues.require_agent(agent)
        if status not in ("online", "offline"):
            raise InvalidRequest(f"status must be 'online' or 'offline', not {status!r}")
        self._escalations.set_presence(self._presence(agent, status))
        return {"agent_id": agent.subject, "status": status, "queues": sorted(bots)}

    def take(self, agent: Principal, conversation_id: str) -> dict[str, Any]:
        """Assign the conversation to this agent and tell the user who they are talking to."""
        record = self._record(agent, conversation_id)
        if record.status == "assigned" and record.agent_id == agent.subject:
            return _summary(record)
        try:
            self._escalations.update(
                conversation_id,
                {"status": "assigned", "agent_id": agent.subject, "agent_name": _name(agent)},
                expect_status=TAKEABLE,
            )
        except Conflict as exc:
            raise Conflict(f"conversation {conversation_id} is already taken or closed") from exc
        self._escalations.set_presence(self._presence(agent, "busy", conversation_id))
        self._conversations.set_status(conversation_id, "with_agent")
        joined = messages.agent_joined(_name(agent))
        messages.post(
            self._conversations, conversation_id, "agent", joined, {"agent": _name(agent), "agent_id": agent.subject}
        )
        taken = self._escalations.require(conversation_id)
        self._notify(taken, "status", joined)
        return _summary(taken)

    def reply(self, agent: Principal, conversation_id: str, text: str) -> dict[str, Any]:
        """Post the agent's message into the conversation; the user's open chat receives it at once."""
        record = self._assigned(agent, conversation_id)
        message = messages.post(
            self._conversations, conversation_id, "agent", text, {"agent": _name(agent), "agent_id": agent.subject}
        )
        self._notify(record, "agent_message", text, agent=_name(agent))
        return {"conversation_id": conversation_id, "seq": message.seq}

    def handback(self, agent: Principal, conversation_id: str) -> dict[str, Any]:
        """Return the conversation to the bot; the agent is free again."""
        self._assigned(agent, conversation_id)
        return self._release(agent, conversation_id, "handed_back", "open", messages.HANDED_BACK)

    def close(self, agent: Principal, conversation_id: str) -> dict[str, Any]:
        """Close the conversation; the agent is free again."""
        record = self._record(agent, conversation_id)
        if record.status == "assigned" and record.agent_id != agent.subject:
            raise Forbidden(f"conversation {conversation_id} is assigned to {record.agent_name}")
        return self._release(agent, conversation_id, "closed", "closed", messages.CLOSED)

    def _release(
        self, agent: Principal, conversation_id: str, status: str, conversation_status: str, text: str
    ) -> dict[str, Any]:
        self._escalations.update(conversation_id, {"status": status})
        self._conversations.set_status(conversation_id, conversation_status)
        messages.post(self._conversations, conversation_id, "assistant", text, {"escalation": {"kind": status}})
        self._escalations.set_presence(self._presence(agent, "online"))
        self._notify(self._escalations.require(conversation_id), "status", text)
        return {"conversation_id": conversation_id, "status": status}

    def _notify(self, record: EscalationRecord, kind: str, text: str, **extra: str) -> None:
        subject = record.user.get("subject")
        if self._notifier is None or not isinstance(subject, str) or not subject:
            return
        frame = {"type": kind, "conversation_id": record.conversation_id, "text": text, **extra}
        self._notifier.notify(subject, frame)

    def _record(self, agent: Principal, conversation_id: str) -> EscalationRecord:
        # Refused before anything of the escalation is returned or changed.
        record = self._escalations.require(conversation_id)
        self._queues.require(agent, record.bot)
        return record

    def _presence(self, agent: Principal, status: str, conversation_id: str = "") -> Agent:
        bots = tuple(sorted(self._queues.bots_for(agent)))
        return Agent(agent.subject, _name(agent), status, conversation_id, bots)

    def _assigned(self, agent: Principal, conversation_id: str) -> EscalationRecord:
        record = self._record(agent, conversation_id)
        if record.status != "assigned" or record.agent_id != agent.subject:
            raise Forbidden(f"take conversation {conversation_id} before replying or handing it back")
        return record


def _name(agent: Principal) -> str:
    return agent.attributes.get("name") or agent.username


def _summary(record: EscalationRecord) -> dict[str, Any]:
    return {
        "conversation_id": record.conversation_id,
        "escalation_id": record.escalation_id,
        "bot": record.bot,
        "reason": record.reason,
        "detail": record.detail,
        "intent": record.intent,
        "summary": record.summary,
        "status": record.status,
        "agent_name": record.agent_name,
        "ticket_id": record.ticket_id,
        "created_at": record.created_at,
        "department": record.user.get("department"),
    }
