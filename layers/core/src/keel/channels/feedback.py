"""Feedback on an answer: thumbs up or down and a 1-5 CSAT, stored beside the conversation (R16, R22)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict, Field, model_validator

from keel.conversations.ports import ConversationStore
from keel.errors import NotFound, StoreUnavailable
from keel.identity.principal import Principal

Rating = Literal["up", "down"]
_ID_PATTERN = r"^[A-Za-z0-9-]+$"
# Feedback usually follows the last answer; a deeper look-back covers long conversations.
MESSAGES_SEARCHED = 200


class FeedbackRequest(BaseModel):
    """A user's judgement of one answer: a thumb, a CSAT score, or both."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    conversation_id: str = Field(min_length=8, max_length=64, pattern=_ID_PATTERN)
    message_id: str = Field(min_length=8, max_length=64, pattern=_ID_PATTERN)
    rating: Rating | None = None
    csat: int | None = Field(default=None, ge=1, le=5)

    @model_validator(mode="after")
    def _something_to_record(self) -> FeedbackRequest:
        if self.rating is None and self.csat is None:
            raise ValueError("give rating ('up' or 'down') or csat (1 to 5), or both")
        return self


class FeedbackReceipt(BaseModel):
    """What was stored for the answer (a later thumb or score replaces the earlier one)."""

    conversation_id: str
    message_id: str
    rating: Rating | None
    csat: int | None = Field(ge=1, le=5)
    recorded_at: str


@dataclass(frozen=True)
class Feedback:
    """One stored judgement; a field left None keeps what was stored before."""

    conversation_id: str
    message_id: str
    subject: str
    channel: str
    bot: str
    rating: Rating | None
    csat: int | None
    recorded_at: str


class FeedbackStore(Protocol):
    """Keeps feedback per answer; the analytics pipeline reads it for CSAT and feedback trends."""

    def record(self, feedback: Feedback) -> Feedback:
        """Merge this feedback into what is stored for the answer; returns the merged record."""
        ...


class FeedbackService:
    """Checks that the answer exists and belongs to the caller, then stores the feedback."""

    def __init__(
        self,
        conversations: ConversationStore,
        store: FeedbackStore,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._conversations = conversations
        self._store = store
        self._clock = clock

    def give(self, principal: Principal, request: FeedbackRequest, *, channel: str) -> FeedbackReceipt:
        """Record feedback on an assistant message of one of the principal's conversations."""
        conversation = self._conversations.get(request.conversation_id)
        # Someone else's conversation is reported as missing, so ids cannot be probed.
        if conversation is None or conversation.owner != principal.subject:
            raise NotFound(f"conversation {request.conversation_id} does not exist")
        messages = self._conversations.messages(request.conversation_id, limit=MESSAGES_SEARCHED)
        if not any(m.message_id == request.message_id and m.role == "assistant" for m in messages):
            raise NotFound(
                f"answer {request.message_id} is not in conversation {request.conversation_id}; "
                "feedback is accepted on the bot's answers only"
            )
        stored = self._store.record(
            Feedback(
                conversation_id=request.conversation_id,
                message_id=request.message_id,
                subject=principal.subject,
                channel=channel,
                bot=conversation.bot,
                rating=request.rating,
                csat=request.csat,
                recorded_at=self._clock().isoformat(),
            )
        )
        return FeedbackReceipt(
            conversation_id=stored.conversation_id,
            message_id=stored.message_id,
            rating=stored.rating,
            csat=stored.csat,
            recorded_at=stored.recorded_at,
        )


class InMemoryFeedbackStore:
    """Feedback in a dict, for tests and the fakes of other capabilities."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], Feedback] = {}

    def record(self, feedback: Feedback) -> Feedback:
        """Merge and keep."""
        key = (feedback.conversation_id, feedback.message_id)
        before = self.items.get(key)
        merged = feedback
        if before is not None:
            merged = replace(
                feedback,
                rating=feedback.rating if feedback.rating is not None else before.rating,
                csat=feedback.csat if feedback.csat is not None else before.csat,
            )
        self.items[key] = merged
        return merged


class DynamoDBFeedbackStore:
    """Feedback items in the conversations table: pk CONV#<conversation id>, sk FEEDBACK#<message id>."""

    def __init__(self, client: Any, table: str, *, retention_days: int = 90) -> None:
        self._client = client
        self._table = table
        self._ttl_seconds = retention_days * 86400

    def record(self, feedback: Feedback) -> Feedback:
        """UpdateItem that sets only the fields given, so a thumb and a later CSAT end up on one item."""
        names = {
            "#subject": "subject",
            "#channel": "channel",
            "#bot": "bot",
            "#at": "recorded_at",
            "#exp": "expires_at",
        }
        values: dict[str, Any] = {
            ":subject": {"S": feedback.subject},
            ":channel": {"S": feedback.channel},
            ":bot": {"S": feedback.bot},
            ":at": {"S": feedback.recorded_at},
            ":exp": {"N": str(int(time.time()) + self._ttl_seconds)},
        }
        sets = ["#subject = :subject", "#channel = :channel", "#bot = :bot", "#at = :at", "#exp = :exp"]
        if feedback.rating is not None:
            names["#rating"] = "rating"
            values[":rating"] = {"S": feedback.rating}
            sets.append("#rating = :rating")
        if feedback.csat is not None:
            names["#csat"] = "csat"
            values[":csat"] = {"N": str(feedback.csat)}
            sets.append("#csat = :csat")
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key={"pk": {"S": f"CONV#{feedback.conversation_id}"}, "sk": {"S": f"FEEDBACK#{feedback.message_id}"}},
                UpdateExpression="SET " + ", ".join(sets),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except (ClientError, BotoCoreError) as exc:
            raise StoreUnavailable("feedback cannot be stored right now; try again shortly") from exc
        item = response.get("Attributes", {})
        rating = item.get("rating", {}).get("S")
        csat = item.get("csat", {}).get("N")
        return replace(
            feedback,
            rating=rating if rating in ("up", "down") else None,
            csat=int(csat) if csat is not None else None,
        )
