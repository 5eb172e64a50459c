"""Pending confirmations in the conversations table: pk CONV#<conversation>, sk ACTION#<id>, with a TTL."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from keel.actions.ports import PendingAction
from keel.errors import StoreUnavailable

_PREFIX = "ACTION#"
# DynamoDB deletes expired items within days, not seconds: the service checks expires_at itself.
_TTL_GRACE_SECONDS = 3600


class DynamoDBPendingActions:
    """PendingActions on the conversations table (the item dies with the conversation's partition)."""

    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def put(self, pending: PendingAction) -> None:
        """Write the pending action; a retried write of the same id is harmless."""
        item = {
            "pk": {"S": _pk(pending.conversation_id)},
            "sk": {"S": f"{_PREFIX}{pending.asked_at:017.6f}#{pending.action_id}"},
            "action_id": {"S": pending.action_id},
            "subject": {"S": pending.subject},
            "bot": {"S": pending.bot},
            "name": {"S": pending.name},
            "arguments": {"S": json.dumps(pending.arguments, sort_keys=True)},
            "resource": {"S": pending.resource},
            "user_turn": {"N": str(pending.user_turn)},
            "asked_at": {"N": repr(pending.asked_at)},
            "confirm_by": {"N": repr(pending.expires_at)},
            "policy_ids": {"S": json.dumps(list(pending.policy_ids))},
            "expires_at": {"N": str(int(pending.expires_at) + _TTL_GRACE_SECONDS)},
        }
        try:
            self._client.put_item(TableName=self._table, Item=item)
        except (ClientError, BotoCoreError) as exc:
            raise StoreUnavailable("the pending action could not be saved; nothing was done") from exc

    def latest(self, conversation_id: str) -> PendingAction | None:
        """The newest pending action of the conversation (sk sorts by the time it was asked)."""
        try:
            answer = self._client.query(
                TableName=self._table,
                KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
                ExpressionAttributeValues={":pk": {"S": _pk(conversation_id)}, ":prefix": {"S": _PREFIX}},
                ScanIndexForward=False,
                Limit=1,
                ConsistentRead=True,
            )
        except (ClientError, BotoCoreError) as exc:
            raise StoreUnavailable("pending actions cannot be read right now") from exc
        items = answer.get("Items") or []
        return _pending(conversation_id, items[0]) if items else None

    def take(self, conversation_id: str, action_id: str) -> bool:
        """Delete the item if it is still there; True only for the caller whose delete removed it."""
        found = self.latest(conversation_id)
        if found is None or found.action_id != action_id:
            return False
        try:
            self._client.delete_item(
                TableName=self._table,
                Key={"pk": {"S": _pk(conversation_id)}, "sk": {"S": f"{_PREFIX}{found.asked_at:017.6f}#{action_id}"}},
                ConditionExpression="attribute_exists(sk)",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise StoreUnavailable("the pending action could not be cleared") from exc
        except BotoCoreError as exc:
            raise StoreUnavailable("the pending action could not be cleared") from exc
        return True


def _pk(conversation_id: str) -> str:
    return f"CONV#{conversation_id}"


def _pending(conversation_id: str, item: dict[str, Any]) -> PendingAction:
    return PendingAction(
        action_id=item["action_id"]["S"],
        conversation_id=conversation_id,
        subject=item["subject"]["S"],
        bot=item["bot"]["S"],
        name=item["name"]["S"],
        arguments=json.loads(item["arguments"]["S"]),
        resource=item["resource"]["S"],
        user_turn=int(item["user_turn"]["N"]),
        asked_at=float(item["asked_at"]["N"]),
        expires_at=float(item["confirm_by"]["N"]),
        policy_ids=tuple(json.loads(item.get("policy_ids", {}).get("S", "[]"))),
    )
