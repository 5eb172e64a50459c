"""The chat widget in real headless Chromium (Debian's, driven by Playwright): guest sign-in, a streamed answer
with citations, thumbs and CSAT feedback, and a request for a person. Saves test-results/widget.png."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO_ROOT
from tests.integration.channels.conftest import ChannelStack, channel_env, channel_stack  # noqa: F401 - fixtures

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
SCREENSHOT = REPO_ROOT / "test-results" / "widget.png"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.skip("Debian chromium is not installed; `make e2e` installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield instance
        instance.close()


def test_customer_gets_a_streamed_cited_answer_gives_feedback_and_asks_for_a_person(
    browser: Any,
    channel_stack: ChannelStack,  # noqa: F811 - the imported fixture
) -> None:
    page = browser.new_page(viewport={"width": 1100, "height": 800})
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(str(payload))))
    page.goto(f"{channel_stack.api.url}/?ws={channel_stack.ws.url}")

    # When the visitor types a question and presses Enter (keyboard only)
    page.get_by_label("Your message").fill("Are refunds possible for my plan?")
    page.keyboard.press("Enter")

    # Then the answer streams in (several delta frames) and ends with its sources
    answer = page.locator("[data-keel=assistant]").last
    answer.locator("[data-keel=citations] li").first.wait_for(timeout=15_000)
    assert sum('"type": "delta"' in f for f in frames) >= 2
    assert "Refunds are possible" in answer.locator(".keel-text").inner_text()
    assert answer.locator("[data-keel=citations] li").first.inner_text() == "Refunds"
    assert page.locator("[data-keel=log]").get_attribute("aria-live") == "polite"
    assert answer.get_attribute("aria-busy") is None

    # When the visitor gives a thumb and a CSAT score, then both are stored
    answer.get_by_role("button", name="Helpful", exact=True).click()
    page.get_by_text("your feedback was recorded").wait_for(timeout=10_000)
    page.get_by_role("button", name="5 out of 5").click()
    message_id = answer.get_attribute("data-message-id")
    env = channel_stack.env

    def stored() -> dict[str, Any]:
        items = env.clients.dynamodb.scan(TableName=env.names.tables["conversations"].name)["Items"]
        return next((i for i in items if i["sk"]["S"] == f"FEEDBACK#{message_id}"), {})

    page.wait_for_function("() => true")
    for _ in range(100):
        if "csat" in stored():
            break
        page.wait_for_timeout(50)
    item = stored()
    assert item["rating"]["S"] == "up" and item["csat"]["N"] == "5"

    # When the visitor asks for a person, then the handoff is stated plainly
    page.get_by_role("button", name="Talk to a person").click()
    page.locator("[data-keel=outcome]").last.wait_for(timeout=10_000)
    assert "person" in page.locator("[data-keel=outcome]").last.inner_text()

    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    page.close()
