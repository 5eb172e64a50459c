"""The ops view in real headless Chromium (Debian's, driven by Playwright): KPIs from GET /v1/ops/kpis over a
week of conversations in the local stack's DynamoDB, drawn as non-empty charts. Saves test-results/ops.png."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from keel.bootstrap import AwsClients
from keel.channels.feedback import DynamoDBFeedbackStore, Feedback
from keel.conversations.dynamodb import DynamoDBConversationStore
from keel.conversations.ports import Conversation, StoredMessage
from keel.local import provision
from keel.local.api import LocalApi, Route
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.integration
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOT = REPO_ROOT / "test-results" / "ops.png"
CHARTS = 8
QUERIES = {
    "hr": "How many days of annual leave do I get?",
    "it": "How do I reset my VPN token?",
    "finance": "When is the expense report deadline?",
}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.skip("Debian chromium is not installed; `make e2e` installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield instance
        instance.close()


@pytest.fixture(scope="module")
def ops_api(local_stack: Any) -> Iterator[LocalApi]:
    """The ops route served the way the local stack serves every route: the Lambda handler behind LocalApi."""
    api = LocalApi(
        [Route("/v1/ops", "ops_api", ("GET",))], REPO_ROOT / "functions", REPO_ROOT / "web", lambda: {"status": "up"}
    ).start()
    yield api
    api.stop()


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


def _operator_token(stack: Any) -> str:
    aws = AwsClients(region="us-east-1", endpoint_url=stack.moto.url)
    password = provision.ensure_user(aws.cognito, stack.pool, "ops-viewer", groups=["all-staff", "it-admins"])
    return str(provision.sign_in(aws.cognito, stack.pool, "ops-viewer", password)["IdToken"])


def test_ops_view_draws_the_kpis_as_non_empty_charts(browser: Any, local_stack: Any, ops_api: LocalApi) -> None:
    # Given a week of conversations in the conversations table and an operator's token
    seeded = _seed_week(local_stack)
    token = _operator_token(local_stack)

    # When the operator opens the ops view
    page = browser.new_page(viewport={"width": 1180, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{ops_api.url}/ops/index.html#token={token}")
    page.wait_for_selector("body[data-loaded=true]", timeout=20_000)

    # Then every chart is drawn with data in it, and the totals count the seeded conversations
    charts = page.locator("svg.chart")
    assert charts.count() == CHARTS
    for i in range(CHARTS):
        chart = charts.nth(i)
        title = chart.get_attribute("aria-label")
        assert int(chart.get_attribute("data-points") or 0) > 0, f"chart {title!r} is empty"
        assert chart.locator("circle, rect.bar").count() > 0, f"chart {title!r} has no marks"
    tiles = page.locator(".tile b").all_inner_texts()
    assert int(tiles[0].replace(",", "")) >= seeded
    assert page.locator("#unresolved li").count() >= 1
    assert "token" not in page.url  # the token is taken out of the address bar
    assert not errors, errors
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    page.close()


def test_ops_view_without_a_token_asks_for_one(browser: Any, ops_api: LocalApi) -> None:
    page = browser.new_page()
    page.goto(f"{ops_api.url}/ops/index.html")
    assert "token" in page.locator("#status").inner_text()
    assert page.locator("#status").get_attribute("class") == "error"
    page.close()
