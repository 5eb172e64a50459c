"""The loop after launch (R22): unresolved and negatively rated queries, exported per bot for its owner."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from keel.analytics.kpis import ABANDON_AFTER, is_positive, summarise
from keel.analytics.ports import ConversationRecord
from keel.analytics.timeutil import parse_instant


@dataclass(frozen=True)
class ReviewItem:
    """One query the knowledge-base owner should look at, and why."""

    bot: str
    owner: str
    conversation_id: str
    created_at: str
    reason: str
    query: str
    answer: str
    outcome: str
    confidence: float | None
    cited: tuple[str, ...]


def export_items(
    records: Iterable[ConversationRecord],
    owners: Mapping[str, str],
    since: datetime,
    until: datetime,
    *,
    abandon_after: timedelta = ABANDON_AFTER,
) -> list[ReviewItem]:
    """Answers rated down (or CSAT 1-2), and conversations that ended escalated, abandoned or with no answer."""
    items: list[ReviewItem] = []
    for record in records:
        created = parse_instant(record.conversation.created_at)
        if not since <= created < until:
            continue
        bot = record.conversation.bot
        owner = owners.get(bot, "(no owner named in tenant.yaml)")
        summary = summarise(record, until, abandon_after)
        negative = {f.message_id for f in record.feedback if not is_positive(f) and _negative(f.rating, f.csat)}
        query = ""
        flagged = False
        for message in record.messages:
            if message.role == "user":
                query = message.text
            elif message.role == "assistant":
                outcome = str(message.meta.get("outcome", ""))
                reason = ""
                if message.message_id in negative:
                    reason = "rated negatively"
                elif outcome == "no_answer":
                    # Guardrail refusals are attacks or out-of-scope asks, not gaps in the knowledge base.
                    reason = "unresolved: no answer from the knowledge base"
                if reason and query:
                    flagged = True
                    items.append(_item(bot, owner, record, reason, query, message.text, outcome, message.meta))
        # A conversation whose every answer was a guardrail refusal is an attack, not a knowledge gap.
        refused_only = all(t.outcome == "refused" for t in summary.turns) and bool(summary.turns)
        if not flagged and not refused_only and summary.outcome in ("escalated", "abandoned") and summary.first_query:
            items.append(
                ReviewItem(
                    bot,
                    owner,
                    record.conversation.conversation_id,
                    record.conversation.created_at,
                    f"unresolved: conversation {summary.outcome}",
                    summary.first_query,
                    "",
                    summary.outcome,
                    None,
                    (),
                )
            )
    return sorted(items, key=lambda i: (i.bot, i.created_at))


def _negative(rating: str | None, csat: int | None) -> bool:
    return rating == "down" or (csat is not None and csat <= 2)


def _item(
    bot: str, owner: str, record: ConversationRecord, reason: str, query: str, answer: str, outcome: str, meta: Mapping
) -> ReviewItem:
    confidence = meta.get("confidence")
    return ReviewItem(
        bot=bot,
        owner=owner,
        conversation_id=record.conversation.conversation_id,
        created_at=record.conversation.created_at,
        reason=reason,
        query=query,
        answer=answer[:500],
        outcome=outcome,
        confidence=float(confidence) if isinstance(confidence, int | float) else None,
        cited=tuple(str(c.get("doc_id")) for c in meta.get("citations", []) if isinstance(c, dict)),
    )


def to_jsonl(items: Iterable[ReviewItem]) -> str:
    """One JSON object per line."""
    return "".join(json.dumps({**asdict(i), "cited": list(i.cited)}) + "\n" for i in items)


def to_csv(items: Iterable[ReviewItem]) -> str:
    """A spreadsheet for the owner."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        ["bot", "owner", "created_at", "reason", "query", "answer", "outcome", "confidence", "cited", "conversation_id"]
    )
    for i in items:
        writer.writerow(
            [
                i.bot,
                i.owner,
                i.created_at,
                i.reason,
                i.query,
                i.answer,
                i.outcome,
                i.confidence,
                " ".join(i.cited),
                i.conversation_id,
            ]
        )
    return buffer.getvalue()
