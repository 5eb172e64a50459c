"""Escalation records and agent presence in the agents table (pk ESCALATION / PRESENCE)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from keel.errors import Conflict, NotFound, StoreUnavailable

ESCALATION_PK = "ESCALATION"
PRESENCE_PK = "PRESENCE"
# Statuses an escalation moves through; the workflow writes assigned, helpdesk_unavailable, ticketed, failed.
OPEN_STATUSES = ("pending", "helpdesk_unavailable", "ticketed", "assigned", "failed")


@dataclass(frozen=True)
class EscalationRecord:
    """One conversation's current escalation: why, for whom, and where it stands."""

    conversation_id: str
    escalation_id: str
    bot: str
    reason: str
    detail: str
    intent: str
    summary: str
    user: dict[str, Any]
    created_at: str
    status: str = "pending"
    agent_id: str = ""
    agent_name: str = ""
    ticket_id: str = ""
    notify_user: bool = False
    attempts: int = 0
    error: str = ""
    urgency: str = "normal"
    language: str = "und"
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Agent:
    """An agent's presence: online (free), busy (with a conversation) or offline."""

    agent_id: str
    name: str
    status: str
    conversation_id: str = ""
    # The bots whose escalations this agent handles; the workflow offers an agent only their queues' work.
    bots: tuple[str, ...] = ()


class DynamoDBEscalationStore:
    """Escalation records and agent presence in one DynamoDB table with string pk/sk."""

    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def put(self, record: EscalationRecord) -> None:
        """Write (or replace) the conversation's escalation record."""
        item = {
            "pk": {"S": ESCALATION_PK},
            "sk": {"S": _conv(record.conversation_id)},
            "conversation_id": {"S": record.conversation_id},
            "escalation_id": {"S": record.escalation_id},
            "bot": {"S": record.bot},
            "reason": {"S": record.reason},
            "detail": {"S": record.detail},
            "intent": {"S": record.intent},
            "summary": {"S": record.summary},
            "user": {"S": json.dumps(record.user, sort_keys=True)},
            "created_at": {"S": record.created_at},
            "status": {"S": record.status},
            "urgency": {"S": record.urgency},
            "language": {"S": record.language},
        }
        self._call("put_item", TableName=self._table, Item=item)

    def get(self, conversation_id: str) -> EscalationRecord | None:
        """The record, or None."""
        item = self._call(
            "get_item",
            TableName=self._table,
            Key={"pk": {"S": ESCALATION_PK}, "sk": {"S": _conv(conversation_id)}},
            ConsistentRead=True,
        ).get("Item")
        return _record(item) if item else None

    def require(self, conversation_id: str) -> EscalationRecord:
        """The record, or NotFound."""
        record = self.get(conversation_id)
        if record is None:
            raise NotFound(f"conversation {conversation_id} has not been escalated")
        return record

    def records(self, statuses: tuple[str, ...] = OPEN_STATUSES) -> list[EscalationRecord]:
        """Records in these statuses, oldest first."""
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": ESCALATION_PK}},
            "ConsistentRead": True,
        }
        while True:
            page = self._call("query", **kwargs)
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        records = [_record(i) for i in items]
        return sorted((r for r in records if r.status in statuses), key=lambda r: r.created_at)

    def update(
        self, conversation_id: str, values: dict[str, Any], *, expect_status: tuple[str, ...] | None = None
    ) -> None:
        """Set attributes; with expect_status, Conflict unless the record is in one of those statuses."""
        names = {f"#{k}": k for k in values}
        attrs = {f":{k}": _attr(v) for k, v in values.items()}
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "Key": {"pk": {"S": ESCALATION_PK}, "sk": {"S": _conv(conversation_id)}},
            "UpdateExpression": "SET " + ", ".join(f"#{k} = :{k}" for k in values),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": attrs,
        }
        if expect_status:
            names["#cur"] = "status"
            attrs.update({f":expect{i}": {"S": s} for i, s in enumerate(expect_status)})
            kwargs["ConditionExpression"] = (
                "#cur IN (" + ", ".join(f":expect{i}" for i in range(len(expect_status))) + ")"
            )
        self._call("update_item", **kwargs)

    def set_presence(self, agent: Agent) -> None:
        """Record an agent's presence, with the queues (bots) they handle."""
        item: dict[str, Any] = {
            "pk": {"S": PRESENCE_PK},
            "sk": {"S": f"AGENT#{agent.agent_id}"},
            "agent_id": {"S": agent.agent_id},
            "name": {"S": agent.name},
            "status": {"S": agent.status},
            "conversation_id": {"S": agent.conversation_id},
        }
        if agent.bots:
            item["bots"] = {"SS": sorted(set(agent.bots))}  # a string set cannot be empty
        self._call("put_item", TableName=self._table, Item=item)

    def agents(self) -> list[Agent]:
        """Every agent's presence."""
        items = self._call(
            "query",
            TableName=self._table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": PRESENCE_PK}},
            ConsistentRead=True,
        ).get("Items", [])
        return [
            Agent(
                i["agent_id"]["S"],
                i["name"]["S"],
                i["status"]["S"],
                i.get("conversation_id", {}).get("S", ""),
                tuple(sorted(i.get("bots", {}).get("SS", []))),
            )
            for i in items
        ]

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        try:
            result: dict[str, Any] = getattr(self._client, operation)(**kwargs)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise Conflict("the escalation changed meanwhile; reload and try again") from exc
            raise StoreUnavailable("the escalation store cannot be reached right now") from exc
        except BotoCoreError as exc:
            raise StoreUnavailable("the escalation store cannot be reached right now") from exc
        return result


def with_status(record: EscalationRecord, status: str) -> EscalationRecord:
    """A copy with another status."""
    return replace(record, status=status)


def _conv(conversation_id: str) -> str:
    return f"CONV#{conversation_id}"


def _attr(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float):
        return {"N": str(value)}
    return {"S": str(value)}


def _record(item: dict[str, Any]) -> EscalationRecord:
    def text(key: str) -> str:
        return str(item.get(key, {}).get("S", ""))

    return EscalationRecord(
        conversation_id=text("conversation_id") or text("sk")[len("CONV#") :],
        escalation_id=text("escalation_id"),
        bot=text("bot"),
        reason=text("reason"),
        detail=text("detail"),
        intent=text("intent") or "general",
        summary=text("summary"),
        user=json.loads(text("user") or "{}"),
        created_at=text("created_at"),
        status=text("status") or "pending",
        agent_id=text("agent_id"),
        agent_name=text("agent_name"),
        ticket_id=text("ticket_id"),
        notify_user=bool(item.get("notify_user", {}).get("BOOL", False)),
        attempts=int(item.get("attempts", {}).get("N", "0")),
        error=text("error_name"),
        urgency=text("urgency") or "normal",
        language=text("language") or "und",
    )
