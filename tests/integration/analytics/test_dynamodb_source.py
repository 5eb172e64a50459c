"""The DynamoDB analytics source and `keel report` against DynamoDB in moto server (loopback)."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from keel.analytics.dynamodb import DynamoDBAnalyticsSource
from keel.bootstrap import AwsClients
from keel.channels.feedback import DynamoDBFeedbackStore, Feedback
from keel.cli.main import main
from keel.conversations.dynamodb import DynamoDBConversationStore
from keel.conversations.ports import Conversation, StoredMessage
from keel.errors import StoreUnavailable
from keel.local.provision import LocalResources, TableSpec, ensure_table

pytestmark = pytest.mark.integration
NOW = datetime.now(UTC)


@pytest.fixture
def table(moto_stack: Any) -> tuple[Any, str]:
    """A fresh conversations table (pk, sk) with a week of conversations, a vault item and an expired item."""
    client = AwsClients(region="us-east-1", endpoint_url=moto_stack.url).client(
        "dynamodb", retries={"mode": "standard", "max_attempts": 1}
    )
    name = f"conversations-{uuid.uuid4().hex[:8]}"
    # The table as the stacks and the local stack create it: pk/sk plus the by-day index over headers.
    ensure_table(client, TableSpec(name, indexes=LocalResources().tables["conversations"].indexes))
    store = DynamoDBConversationStore(client, name)
    feedback = DynamoDBFeedbackStore(client, name)
    for n in range(12):
        created = NOW - timedelta(days=n % 6, hours=1)
        cid = f"src-{n:03d}"
        at = created.isoformat()
        store.create(Conversation(cid, "u", "hr" if n % 2 else "it", "api", at))
        store.append(StoredMessage(cid, f"{cid}-u", 0, "user", "reset my vpn token", at))
        meta = {"outcome": "answered", "confidence": 0.9, "latency_ms": 100 + n, "input_tokens": 10, "cost_usd": 0.5}
        store.append(StoredMessage(cid, f"{cid}-a", 1, "assistant", "answer", at, meta))
        if n < 4:
            feedback.record(Feedback(cid, f"{cid}-a", "u", "api", "hr", "up", 5, at))
    old = (NOW - timedelta(days=30)).isoformat()
    store.create(Conversation("src-old", "u", "hr", "api", old))
    # The vault lives in the same table: analytics must neither need nor read it.
    client.put_item(TableName=name, Item={"pk": {"S": "CONV#src-000"}, "sk": {"S": "VAULT"}, "sealed": {"B": b"x"}})
    client.put_item(
        TableName=name,
        Item={
            "pk": {"S": "CONV#src-expired"},
            "sk": {"S": "META"},
            "owner": {"S": "u"},
            "bot": {"S": "hr"},
            "channel": {"S": "api"},
            "created_at": {"S": NOW.isoformat()},
            "day": {"S": NOW.date().isoformat()},
            "expires_at": {"N": str(int(time.time()) - 10)},
        },
    )
    return client, name


def test_source_reads_conversations_messages_and_feedback_in_the_window(table: tuple[Any, str]) -> None:
    client, name = table
    # page_size 5 forces several pages of the index and of the conversations
    source = DynamoDBAnalyticsSource(client, name, page_size=5)
    records = {r.conversation.conversation_id: r for r in source.conversations(NOW - timedelta(days=7), NOW)}
    assert sorted(records) == [f"src-{n:03d}" for n in range(12)]
    first = records["src-000"]
    assert [m.role for m in first.messages] == ["user", "assistant"]
    assert first.messages[1].meta["latency_ms"] == 100
    assert [(f.rating, f.csat) for f in first.feedback] == [("up", 5)]
    assert not records["src-005"].feedback


def test_keel_report_prints_a_table_and_writes_html(
    table: tuple[Any, str], moto_stack: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, name = table
    html = tmp_path / "out" / "report.html"
    code = main(["report", "--since", "7d", "--table", name, "--endpoint-url", moto_stack.url, "--html", str(html)])
    out = capsys.readouterr().out
    assert code == 0
    assert "Conversations" in out and " 12 " in out
    assert "Resolution rate" in out
    assert html.read_text().count("<svg") == 8


def test_keel_report_json(table: tuple[Any, str], moto_stack: Any, capsys: pytest.CaptureFixture[str]) -> None:
    _, name = table
    code = main(["report", "--since", "3d", "--json", "--no-html", "--table", name, "--endpoint-url", moto_stack.url])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert data["totals"]["conversations"] == 6  # days 0, 1 and 2 of the n % 6 spread
    assert data["totals"]["cost_usd"] == 3.0


def test_keel_report_rejects_a_bad_window(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--since", "a week"]) == 2
    assert "expected a positive number followed by m, h, d or w" in capsys.readouterr().err


def test_an_unreachable_table_is_a_clear_error(moto_stack: Any) -> None:
    client = AwsClients(region="us-east-1", endpoint_url=moto_stack.url).client(
        "dynamodb", retries={"mode": "standard", "max_attempts": 1}
    )
    source = DynamoDBAnalyticsSource(client, "no-such-table")
    with pytest.raises(StoreUnavailable, match="cannot be read for analytics"):
        list(source.conversations(NOW - timedelta(days=1), NOW))


class NoScan:
    """The DynamoDB client, except that a Scan fails the test; counts the Queries."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.queries: list[str] = []

    def scan(self, **kwargs: Any) -> dict[str, Any]:
        raise AssertionError("analytics must not scan the conversations table")

    def query(self, **kwargs: Any) -> dict[str, Any]:
        self.queries.append(kwargs.get("IndexName", "table"))
        result: dict[str, Any] = self._client.query(**kwargs)
        return result


def test_the_window_is_read_through_the_day_index_not_a_scan(table: tuple[Any, str]) -> None:
    client, name = table
    recording = NoScan(client)
    records = list(DynamoDBAnalyticsSource(recording, name).conversations(NOW - timedelta(days=2), NOW))
    # Three UTC days touched (today, yesterday, the day before): one index query each, then one per conversation
    # the index returned: the records, plus the expired header (read, then dropped).
    assert recording.queries.count("by-day") == 3
    assert recording.queries.count("table") == len(records) + 1
    assert "src-expired" not in {r.conversation.conversation_id for r in records}
