"""The ops view in real headless Chromium (Debian's, driven by Playwright): an operator signs in through the
local managed login (code + PKCE) and sees the KPIs from GET /v1/ops/kpis over a week of conversations in the
local stack's DynamoDB at once, as non-empty charts with text alternatives; the window can be changed; a person
without an operators' group is refused with an explanation; axe-core finds nothing serious.
Saves test-results/ops.png."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from keel.bootstrap import AwsClients
from keel.channels.feedback import DynamoDBFeedbackStore, Feedback
from keel.conversations.dynamodb import DynamoDBConversationStore
from keel.conversations.ports import Conversation, StoredMessage
from keel.local import provision
from tests.conftest import REPO_ROOT
from tests.e2e.conftest import axe_violations, sign_in

pytestmark = pytest.mark.integration
SCREENSHOT = REPO_ROOT / "test-results" / "ops.png"
CHARTS = 8
QUERIES = {
    "hr": "How many days of annual leave do I get?",
    "it": "How do I reset my VPN token?",
    "finance": "When is the expense report deadline?",
}


def _seed_week(stack: Any) -> int:
    """A week of conversations with varied outcomes, latencies, costs and feedback, as the turn stores them."""
    clients = AwsClients(region="us-east-1", endpoint_url=stack.moto.url)
    table = stack.names.tables["conversations"].name
    store = DynamoDBConversationStore(clients.dynamodb, table)
    feedback = DynamoDBFeedbackStore(clients.dynamodb, table)
    now = datetime.now(UTC)
    count = 0
    for day in range(7):
        for n in range(3 + day % 3):
            created = now - timedelta(days=day, hours=2, minutes=10 * n)
            bot = ("hr", "it", "finance")[(day + n) % 3]
            cid = f"ops-e2e-{day}-{n}-{int(now.timestamp())}"
            store.create(Conversation(cid, "seed-user", bot, "web", created.isoformat()))
            outcome = ("answered", "answered", "no_answer", "escalated", "degraded")[(day + n) % 5]
            at = created.isoformat()
            store.append(StoredMessage(cid, f"{cid}-u", 0, "user", QUERIES[bot], at))
            store.append(
                StoredMessage(
                    cid,
                    f"{cid}-a",
                    1,
                    "assistant",
                    "An answer [doc-1]",
                    at,
                    {
                        "outcome": outcome,
                        "confidence": 0.2 if outcome == "no_answer" else 0.85,
                        "grounded": (day + n) % 4 != 0,
                        "input_tokens": 300 + 40 * n,
                        "output_tokens": 60 + 5 * day,
                        "cost_usd": 0.0012 * (1 + n),
                        "latency_ms": 180 + 35 * day + 20 * n,
                        "model_id": "anthropic.claude-3-haiku-20240307-v1:0",
                    },
                )
            )
            if outcome in ("answered", "degraded") and n % 2 == 0:
                feedback.record(Feedback(cid, f"{cid}-a", "seed-user", "web", bot, "up", 4 + (day % 2), at))
            elif outcome == "no_answer":
                feedback.record(Feedback(cid, f"{cid}-a", "seed-user", "web", bot, "down", 2, at))
            count += 1
    return count


OPERATOR = "ivan.it"  # it-admins: an operators' group of the ops API
EMPLOYEE = "emma.engineer"
PASSWORDS = {u["username"]: u["password"] for u in provision.demo_users()}


def test_operator_signs_in_and_sees_the_kpis_at_once_as_non_empty_charts(chromium: Any, local_stack: Any) -> None:
    # Given a week of conversations in the conversations table
    seeded = _seed_week(local_stack)

    # When the operator opens the ops view and signs in through the managed login
    page = chromium.new_page(viewport={"width": 1180, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{local_stack.api.url}/ops/")
    sign_in(page, OPERATOR, PASSWORDS[OPERATOR])

    # Then the KPIs load at once (no button, no token): every chart is drawn with data in it
    page.wait_for_selector("body[data-loaded=true]", timeout=20_000)
    assert "code=" not in page.url and page.locator("input[type=password]").count() == 0
    charts = page.locator("svg.chart")
    assert charts.count() == CHARTS
    for i in range(CHARTS):
        chart = charts.nth(i)
        title = chart.get_attribute("aria-label")
        assert int(chart.get_attribute("data-points") or 0) > 0, f"chart {title!r} is empty"
        assert chart.locator("circle, rect.bar").count() > 0, f"chart {title!r} has no marks"
        # And each chart has a text alternative: a summary it points to and the numbers as a table
        summary = page.locator(f"#{chart.get_attribute('aria-describedby')}").inner_text()
        assert summary.startswith(str(title)) and any(ch.isdigit() for ch in summary), summary
    tables = page.locator(".chart-figure table")
    assert tables.count() == CHARTS and tables.first.locator("tbody tr").count() >= 7
    tiles = page.locator(".tile b").all_inner_texts()
    assert int(tiles[0].replace(",", "")) >= seeded
    assert page.locator("#unresolved li").count() >= 1
    assert axe_violations(page) == []

    # When the operator picks another window, the KPIs reload for it
    page.get_by_label("Window").select_option("1d")
    page.wait_for_selector("body[data-loaded=true]", timeout=20_000)
    assert len(page.locator(".chart-figure").first.locator("tbody tr").all()) <= 2
    assert "conversations from" in page.locator("#status").inner_text()
    assert not errors, errors
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    page.close()


def test_a_person_who_is_not_an_operator_is_refused_with_an_explanation(chromium: Any, local_stack: Any) -> None:
    page = chromium.new_page()
    page.goto(f"{local_stack.api.url}/ops/")
    sign_in(page, EMPLOYEE, PASSWORDS[EMPLOYEE])
    page.get_by_role("heading", name="The ops view is for operators").wait_for(timeout=15_000)
    assert EMPLOYEE in page.locator("#gate-text").inner_text()
    assert page.locator("#report").is_hidden() and page.locator("svg.chart").count() == 0
    assert axe_violations(page) == []
    page.close()


def test_the_session_renews_itself_a_minute_before_the_token_expires(chromium: Any, local_stack: Any) -> None:
    page = chromium.new_page()
    page.clock.install()
    grants: list[str] = []
    page.on(
        "requestfinished",
        lambda r: (
            grants.append(f"{(r.post_data or '').split('&')[0]} {r.response().status}")
            if r.url.endswith("/oauth2/token")
            else None
        ),
    )
    page.goto(f"{local_stack.api.url}/ops/")
    sign_in(page, OPERATOR, PASSWORDS[OPERATOR])
    page.wait_for_selector("body[data-loaded=true]", timeout=20_000)
    assert grants == ["grant_type=authorization_code 200"]
    # When 59 minutes pass (the pool's tokens last an hour), the page refreshes on its own
    page.clock.fast_forward("59:30")
    page.wait_for_function("document.body.dataset.loaded === 'true'")
    deadline = time.monotonic() + 10
    while len(grants) < 2 and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert grants[1:] == ["grant_type=refresh_token 200"], grants
    # And the renewed token works: the next load succeeds
    page.get_by_label("Window").select_option("14d")
    page.wait_for_selector("body[data-loaded=true]", timeout=20_000)
    assert "conversations from" in page.locator("#status").inner_text()
    page.close()
