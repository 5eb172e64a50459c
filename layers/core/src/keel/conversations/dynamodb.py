"""DynamoDB adapter of the conversation store: one table, a header item and one item per message."""

from __future__ import annotations

import json
import time
from datetime import UTC
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from keel.analytics.timeutil import parse_instant
from keel.contract import DAY_ATTRIBUTE
from keel.conversations.ports import Conversation, StoredMessage
from keel.errors import Conflict, StoreUnavailable

_HEADER = "META"
_MSG = "MSG#"


def utc_day(instant: str) -> str:
    """The UTC calendar day (YYYY-MM-DD) of an ISO-8601 instant; a naive instant is taken as UTC."""
    return parse_instant(instant).astimezone(UTC).date().isoformat()


class DynamoDBConversationStore:
    """Conversations in DynamoDB (pk CONV#id; sk META or MSG#seq), with a retention TTL."""

    def __init__(self, client: Any, table: str, *, retention_days: int = 90) -> None:
        self._client = client
        self._table = table
        self._ttl_seconds = retention_days * 86400

    def get(self, conversation_id: str) -> Conversation | None:
        """The conversation header, or None (expired items count as gone: moto never enforces TTL)."""
        item = self._call(
            "get_item",
            TableName=self._table,
            Key={"pk": {"S": _pk(conversation_id)}, "sk": {"S": _HEADER}},
            ConsistentRead=True,
        ).get("Item")
        if item is None or _expired(item):
            return None
        return Conversation(
            conversation_id=conversation_id,
            owner=item["owner"]["S"],
            bot=item["bot"]["S"],
            channel=item["channel"]["S"],
            created_at=item["created_at"]["S"],
            status=item.get("status", {"S": "open"})["S"],
        )

    def create(self, conversation: Conversation) -> None:
        """Create the header item; Conflict if the id is taken."""
        self._put(
            {
                "pk": {"S": _pk(conversation.conversation_id)},
                "sk": {"S": _HEADER},
                "owner": {"S": conversation.owner},
                "bot": {"S": conversation.bot},
                "channel": {"S": conversation.channel},
                "created_at": {"S": conversation.created_at},
                DAY_ATTRIBUTE: {"S": utc_day(conversation.created_at)},
                "status": {"S": conversation.status},
                "expires_at": {"N": str(self._expiry())},
            },
            f"conversation {conversation.conversation_id} already exists",
        )

    def append(self, message: StoredMessage) -> None:
        """Append one message; Conflict if another writer took the same sequence number."""
        self._put(
            {
                "pk": {"S": _pk(message.conversation_id)},
                "sk": {"S": f"{_MSG}{message.seq:08d}"},
                "message_id": {"S": message.message_id},
                "role": {"S": message.role},
                "text": {"S": message.text},
                "created_at": {"S": message.created_at},
                "meta": {"S": json.dumps(message.meta, sort_keys=True, default=str)},
                "expires_at": {"N": str(self._expiry())},
            },
            f"message {message.seq} of conversation {message.conversation_id} was written concurrently",
        )

    def set_status(self, conversation_id: str, status: str) -> None:
        """Change the conversation's status (open, escalated, closed)."""
        self._call(
            "update_item",
            TableName=self._table,
            Key={"pk": {"S": _pk(conversation_id)}, "sk": {"S": _HEADER}},
            UpdateExpression="SET #s = :s",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": {"S": status}},
        )

    def messages(self, conversation_id: str, *, limit: int = 50) -> list[StoredMessage]:
        """The last `limit` messages in order."""
        response = self._call(
            "query",
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :msg)",
            ExpressionAttributeValues={":pk": {"S": _pk(conversation_id)}, ":msg": {"S": _MSG}},
            ScanIndexForward=False,
            Limit=limit,
            ConsistentRead=True,
        )
        items = [i for i in response.get("Items", []) if not _expired(i)]
        return [
            StoredMessage(
                conversation_id=conversation_id,
                message_id=i["message_id"]["S"],
                seq=int(i["sk"]["S"][len(_MSG) :]),
                role=i["role"]["S"],
                text=i["text"]["S"],
                created_at=i["created_at"]["S"],
                meta=json.loads(i["meta"]["S"]),
            )
            for i in reversed(items)
        ]

    def _put(self, item: dict[str, Any], conflict_message: str) -> None:
        try:
            self._client.put_item(TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(sk)")
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise Conflict(conflict_message) from exc
            raise StoreUnavailable("the conversation store cannot be written right now") from exc
        except BotoCoreError as exc:
            raise StoreUnavailable("the conversation store cannot be reached right now") from exc

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        try:
            result: dict[str, Any] = getattr(self._client, operation)(**kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise StoreUnavailable("the conversation store cannot be reached right now") from exc
        return result

    def _expiry(self) -> int:
        return int(time.time()) + self._ttl_seconds


def _pk(conversation_id: str) -> str:
    return f"CONV#{conversation_id}"


def _expired(item: dict[str, Any]) -> bool:
    expires = item.get("expires_at", {}).get("N")
    return expires is not None and int(expires) < time.time()
