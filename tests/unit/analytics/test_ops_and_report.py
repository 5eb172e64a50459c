"""The ops API (GET /v1/ops/kpis), the terminal table and the HTML report with SVG charts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from keel.analytics.kpis import build_report
from keel.analytics.memory import InMemoryAnalyticsSource
from keel.analytics.ops import OpsDependencies
from keel.analytics.ports import ConversationRecord, FeedbackItem
from keel.analytics.render import html_report, svg_line_chart, svg_stacked_bars, text_table
from keel.analytics.timeutil import parse_duration
from keel.analytics.topics import group_by_topic, terms
from keel.channels.ops import OpsEndpoint
from keel.conversations.ports import Conversation, StoredMessage
from keel.errors import InvalidRequest
from keel.identity.principal import Principal
from keel.tenant.loader import load_tenant
from tests.fakes.turn import TokenTable

NOW = datetime(2026, 11, 8, 12, tzinfo=UTC)
OPERATOR = Principal("sub-op", "ivan", frozenset({"it-admins"}), "demo")
STAFF = Principal("sub-st", "ana", frozenset({"all-staff"}), "demo")


def _records() -> list[ConversationRecord]:
    records = []
    for day in range(3):
        created = NOW - timedelta(days=day, hours=2)
        cid = f"conv-{day}"
        at = created.isoformat()
        meta = {"outcome": "answered", "confidence": 0.9, "latency_ms": 100 + day, "cost_usd": 0.001}
        records.append(
            ConversationRecord(
                Conversation(cid, "u", "hr", "api", at),
                (
                    StoredMessage(cid, "u1", 0, "user", "vacation days <PERSON_1>", at),
                    StoredMessage(cid, "a1", 1, "assistant", "answer", at, meta),
                ),
                (FeedbackItem(cid, "a1", "up", 5, at),),
            )
        )
    return records


def _endpoint(source: Any = None) -> OpsEndpoint:
    deps = OpsDependencies(
        authenticator=TokenTable({"op": OPERATOR, "staff": STAFF}),
        source=source or InMemoryAnalyticsSource(_records()),
        operators=frozenset(load_tenant().spec.operators),
        clock=lambda: NOW,
    )
    return OpsEndpoint(lambda: deps)


def _event(query: dict[str, str] | None = None, token: str = "op", path: str = "/v1/ops/kpis") -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return {"httpMethod": "GET", "path": path, "headers": headers, "queryStringParameters": query}


def test_operator_gets_the_kpis_as_json() -> None:
    response = _endpoint().handle(_event({"since": "7d"}))
    assert response["statusCode"] == 200
    body = json.loads(response["body"])
    assert body["totals"]["conversations"] == 3
    assert body["totals"]["resolution_rate"] == 1.0
    # 7 days ending at noon touch 8 calendar days (the first and last partly)
    assert [d["date"] for d in body["daily"]][::7] == ["2026-11-01", "2026-11-08"]
    assert body["window"] == "7d"


def test_default_window_is_seven_days() -> None:
    body = json.loads(_endpoint().handle(_event())["body"])
    assert body["window"] == "7d" and len(body["daily"]) == 8


@pytest.mark.parametrize(
    ("event", "status", "code"),
    [
        (_event(token=""), 401, "unauthenticated"),
        (_event(token="nope"), 401, "unauthenticated"),
        (_event(token="staff"), 403, "forbidden"),
        (_event({"since": "forever"}), 400, "invalid_request"),
        (_event({"since": "0d"}), 400, "invalid_request"),
        (_event({"since": "400d"}), 400, "invalid_request"),
        (_event({"sinse": "7d"}), 400, "invalid_request"),
        (_event(path="/v1/ops/other"), 404, "not_found"),
    ],
)
def test_bad_requests_get_clear_errors(event: dict[str, Any], status: int, code: str) -> None:
    response = _endpoint().handle(event)
    assert response["statusCode"] == status
    error = json.loads(response["body"])["error"]
    assert error["code"] == code and error["message"]


def test_a_failing_source_is_a_500_without_internals() -> None:
    class Broken:
        def conversations(self, since: datetime, until: datetime) -> Any:
            raise RuntimeError("table secret-name exploded")

    response = _endpoint(Broken()).handle(_event())
    assert response["statusCode"] == 500
    assert "secret-name" not in response["body"]


def test_durations() -> None:
    assert parse_duration("30m") == timedelta(minutes=30)
    assert parse_duration(" 12H ") == timedelta(hours=12)
    assert parse_duration("2w") == timedelta(weeks=2)
    with pytest.raises(InvalidRequest, match="expected a positive number"):
        parse_duration("7 days")


def test_text_table_lists_totals_and_each_bot() -> None:
    report = build_report(_records(), NOW - timedelta(days=7), NOW)
    table = text_table(report)
    assert "Resolution rate" in table and "100.0%" in table
    assert table.splitlines()[1].split()[-1] == "hr"
    assert "Low-confidence queries by topic: none" in table


def test_html_report_has_non_empty_svg_charts() -> None:
    page = html_report(build_report(_records(), NOW - timedelta(days=7), NOW))
    assert page.startswith("<!doctype html>")
    assert page.count("<svg") == 8
    assert page.count("<circle") >= 3 and page.count("<rect") >= 3
    assert "<script" not in page


def test_line_chart_leaves_a_gap_for_missing_days() -> None:
    svg = svg_line_chart("x", ["a", "b", "c", "d"], [("s", [1.0, None, 2.0, 3.0])])
    assert svg.count("<circle") == 3
    assert svg.count("<polyline") == 1  # only c-d is a run of two points


def test_bar_chart_escapes_labels() -> None:
    svg = svg_stacked_bars("<t>", ["2026-11-01"], [("a&b", [2.0])])
    assert "<t>" not in svg and "&lt;t&gt;" in svg and "a&amp;b" in svg


def test_topic_terms_drop_placeholders_and_stop_words() -> None:
    assert terms("How do I reset the VPN token for <EMAIL_1>?") == ["reset", "vpn", "token"]


def test_topics_do_not_depend_on_input_order() -> None:
    queries = [("it", "reset vpn token"), ("it", "vpn token expired"), ("hr", "leave policy")]
    assert group_by_topic(queries) == group_by_topic(list(reversed(queries)))
    assert group_by_topic([("it", "?? !!")])[0].label == "it: (other)"
