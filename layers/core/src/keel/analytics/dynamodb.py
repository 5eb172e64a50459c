"""Analytics source over the conversations table in DynamoDB.

A window is read day by day through the sparse ``by-day`` index over conversation headers (keys only),
then each conversation's items with one Query on its partition: the cost follows the window, not the
table. Headers written before the index existed carry no ``day`` and are not found.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from keel.analytics.ports import ConversationRecord, FeedbackItem
from keel.analytics.timeutil import parse_instant
from keel.contract import BY_DAY_INDEX, CREATED_ATTRIBUTE, DAY_ATTRIBUTE
from keel.conversations.ports import Conversation, StoredMessage
from keel.errors import StoreUnavailable

# Only the attributes analytics needs: never the sealed vault, never anything else a neighbour stores there.
_PROJECTION = (
    "pk, sk, #owner, bot, channel, created_at, #status, message_id, #role, #text, meta, rating, csat, recorded_at, "
    "expires_at"
)
_NAMES = {"#owner": "owner", "#status": "status", "#role": "role", "#text": "text"}


class DynamoDBAnalyticsSource:
    """Reads conversation headers (sk META), messages (sk MSG#seq) and feedback (sk FEEDBACK#message id)."""

    def __init__(self, client: Any, table: str, *, page_size: int = 1000) -> None:
        self._client = client
        self._table = table
        self._page_size = page_size

    def conversations(self, since: datetime, until: datetime) -> Iterator[ConversationRecord]:
        """Every conversation created in [since, until), with its messages and feedback."""
        since_text = since.astimezone(UTC).isoformat()
        for day in _days(since, until):
            for conversation_pk in self._created_on(day, since_text):
                items = [item for item in self._conversation_items(conversation_pk) if not _expired(item)]
                record = _record(items)
                if record is not None and since <= parse_instant(record.conversation.created_at) < until:
                    yield record

    def _created_on(self, day: str, since_text: str) -> Iterator[str]:
        """Partition keys of the conversations created on one UTC day, not before `since`."""
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": BY_DAY_INDEX,
            "KeyConditionExpression": "#day = :day AND #created >= :since",
            "ExpressionAttributeNames": {"#day": DAY_ATTRIBUTE, "#created": CREATED_ATTRIBUTE},
            "ExpressionAttributeValues": {":day": {"S": day}, ":since": {"S": since_text}},
            "Limit": self._page_size,
        }
        for item in self._pages(kwargs):
            yield item["pk"]["S"]

    def _conversation_items(self, conversation_pk: str) -> Iterator[dict[str, Any]]:
        """The header, messages and feedback of one conversation (never its sealed vault)."""
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "FilterExpression": "sk = :meta OR begins_with(sk, :msg) OR begins_with(sk, :feedback)",
            "ProjectionExpression": _PROJECTION,
            "ExpressionAttributeNames": _NAMES,
            "ExpressionAttributeValues": {
                ":pk": {"S": conversation_pk},
                ":meta": {"S": "META"},
                ":msg": {"S": "MSG#"},
                ":feedback": {"S": "FEEDBACK#"},
            },
            "Limit": self._page_size,
        }
        yield from self._pages(kwargs)

    def _pages(self, kwargs: dict[str, Any]) -> Iterator[dict[str, Any]]:
        while True:
            try:
                page = self._client.query(**kwargs)
            except (ClientError, BotoCoreError) as exc:
                raise StoreUnavailable("the conversation store cannot be read for analytics right now") from exc
            yield from page.get("Items", [])
            last = page.get("LastEvaluatedKey")
            if not last:
                return
            kwargs["ExclusiveStartKey"] = last


def _days(since: datetime, until: datetime) -> Iterator[str]:
    """The UTC days that [since, until) touches, oldest first."""
    day = since.astimezone(UTC).date()
    last = (until.astimezone(UTC) - timedelta(microseconds=1)).date()
    while day <= last:
        yield day.isoformat()
        day += timedelta(days=1)


def _record(items: list[dict[str, Any]]) -> ConversationRecord | None:
    header = next((i for i in items if i["sk"]["S"] == "META"), None)
    if header is None:
        return None
    conversation_id = header["pk"]["S"].removeprefix("CONV#")
    conversation = Conversation(
        conversation_id=conversation_id,
        owner=_s(header, "owner"),
        bot=_s(header, "bot"),
        channel=_s(header, "channel"),
        created_at=_s(header, "created_at"),
        status=_s(header, "status") or "open",
    )
    messages = sorted(
        (_message(conversation_id, i) for i in items if i["sk"]["S"].startswith("MSG#")), key=lambda m: m.seq
    )
    feedback = tuple(
        FeedbackItem(
            conversation_id=conversation_id,
            message_id=i["sk"]["S"].removeprefix("FEEDBACK#"),
            rating=_s(i, "rating") or None,
            csat=int(i["csat"]["N"]) if "csat" in i else None,
            recorded_at=_s(i, "recorded_at"),
        )
        for i in items
        if i["sk"]["S"].startswith("FEEDBACK#")
    )
    return ConversationRecord(conversation, tuple(messages), feedback)


def _message(conversation_id: str, item: dict[str, Any]) -> StoredMessage:
    try:
        meta = json.loads(_s(item, "meta") or "{}")
    except ValueError:
        meta = {}
    return StoredMessage(
        conversation_id=conversation_id,
        message_id=_s(item, "message_id"),
        seq=int(item["sk"]["S"].removeprefix("MSG#")),
        role=_s(item, "role"),  # type: ignore[arg-type]
        text=_s(item, "text"),
        created_at=_s(item, "created_at"),
        meta=meta if isinstance(meta, dict) else {},
    )


def _s(item: dict[str, Any], name: str) -> str:
    return str(item.get(name, {}).get("S", ""))


def _expired(item: dict[str, Any]) -> bool:
    # moto never enforces TTL, and DynamoDB deletes expired items up to days late: filter in code.
    expires = item.get("expires_at", {}).get("N")
    return expires is not None and int(expires) < time.time()
