"""Issue 20 acceptance in real headless Chromium on the local stack: people sign in to the agent console through
the OpenID Connect code + PKCE flow (the local managed login, the user pool's own tokens), an agent answers a
widget user who sees the reply, a person without the group is refused with an explanation, and an admin's
disable ends the console's session on its next call. axe-core runs on the console and the widget.
Saves test-results/agent-console.png (1280x900)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

from keel.bootstrap import AwsClients
from keel.channels.wiring import ChannelConfig, Channels
from keel.errors import KeelError
from keel.escalation import messages
from keel.escalation.records import Agent, DynamoDBEscalationStore
from keel.identity.admin import Revoker
from keel.identity.cognito import CognitoDirectory
from keel.identity.revocation import DynamoDBRevocationStore
from keel.identity.sessions import DynamoDBSessionRegistry
from keel.local import provision
from keel.settings import load_settings
from tests.conftest import REPO_ROOT
from tests.e2e.conftest import axe_violations, sign_in

pytestmark = pytest.mark.integration
SCREENSHOT = REPO_ROOT / "test-results" / "agent-console.png"
VIEWPORT = {"width": 1280, "height": 900}
USERS = {u["username"]: u for u in provision.demo_users()}
AGENT = "sofia.support"
EMPLOYEE = "emma.engineer"
HUMAN = "I would like to talk to a person about my invoice, please"
REPLY = "Hello, this is Sofia from support. I can see your invoice and I am on it."


def login(user: str) -> tuple[str, str]:
    return user, USERS[user]["password"]


@pytest.fixture
def agent_presence(local_stack: Any) -> Iterator[DynamoDBEscalationStore]:
    """Leaves every agent this test used offline, so later tests (the widget's ticket path) find nobody on duty."""
    clients = AwsClients(region="us-east-1", endpoint_url=local_stack.moto.url)
    store = DynamoDBEscalationStore(clients.dynamodb, local_stack.names.tables["agents"].name)
    yield store
    for agent in store.agents():
        store.set_presence(Agent(agent.agent_id, agent.name, "offline"))


def open_console(chromium: Any, url: str, username: str, password: str) -> tuple[Any, Any, list[str]]:
    context = chromium.new_context(viewport=VIEWPORT)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # A Content Security Policy violation is reported on the console: the pages must cause none.
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(url)
    sign_in(page, username, password)
    return context, page, errors


def test_no_page_has_a_field_for_pasting_a_token() -> None:
    pages = sorted((REPO_ROOT / "web").rglob("*.html"))
    assert len(pages) >= 3
    for page in pages:
        html = page.read_text()
        for field in re.findall(r"<(?:input|textarea)\b[^>]*>", html):
            assert "token" not in field.lower(), f"{page.name}: {field}"
        assert "paste" not in html.lower(), page.name


def test_both_consoles_keep_a_strict_content_security_policy() -> None:
    for name in ("agent", "ops"):
        html = (REPO_ROOT / "web" / name / "index.html").read_text()
        policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html)
        assert policy, name
        directives = dict(d.strip().split(" ", 1) for d in policy.group(1).split(";"))
        assert directives["default-src"] == "'self'" and directives["connect-src"] == "'self'", name
        assert directives["object-src"] == "'none'" and directives["base-uri"] == "'none'", name
        assert "unsafe" not in policy.group(1) and "http" not in policy.group(1), name
        assert "<script>" not in html and "style=" not in html and "<style" not in html, name


def test_agent_signs_in_takes_a_widget_escalation_and_the_user_sees_the_reply(
    chromium: Any, local_stack: Any, agent_presence: DynamoDBEscalationStore
) -> None:
    api = local_stack.api.url
    # Given the agent opens the console: the browser goes to the managed login with a PKCE challenge
    context, agent, errors = open_console(chromium, f"{api}/agent/", *login(AGENT))
    token_calls: list[dict[str, str]] = []
    agent.on(
        "request",
        lambda r: (
            token_calls.append(dict(re.findall(r"([a-z_]+)=([^&]*)", r.post_data or "")))
            if r.url.endswith("/oauth2/token")
            else None
        ),
    )
    agent.get_by_text(f"Signed in as {AGENT}").wait_for(timeout=15_000)
    assert "code=" not in agent.url and "token" not in agent.url  # the code is taken out of the address bar
    stored = agent.evaluate("JSON.stringify([Object.entries(sessionStorage), Object.entries(localStorage)])")
    assert "eyJ" not in stored and "eyJ" not in agent.content()  # no JWT in web storage or in the page
    # When the agent goes online (keyboard: Tab to the button, Enter)
    agent.get_by_role("button", name="Go online").focus()
    agent.keyboard.press("Enter")
    agent.locator("#presence", has_text="Online").wait_for(timeout=10_000)

    # And a website visitor asks for a person in the widget
    visitor_context = chromium.new_context(viewport={"width": 1100, "height": 900})
    visitor = visitor_context.new_page()
    frames: list[dict[str, Any]] = []
    visitor.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(json.loads(payload))))
    visitor.goto(f"{api}/")  # the widget takes its WebSocket URL from /keel-config.js
    visitor.get_by_label("Your message").fill(HUMAN)
    visitor.keyboard.press("Enter")
    visitor.locator("[data-keel=outcome]").last.wait_for(timeout=60_000)
    done = next(f for f in frames if f["type"] == "done")
    assert done["outcome"] == "escalated", done
    conversation = done["conversation_id"]

    # Then the escalation appears in the queue without a reload, with its reason, language and summary
    item = agent.locator(f'#queue li[data-id="{conversation}"]')
    item.wait_for(timeout=15_000)
    assert "Asked for a person" in item.inner_text()
    assert "English" in item.inner_text() and "invoice" in item.inner_text()
    # When the agent opens it from the keyboard, takes it if the workflow has not assigned it yet, and replies
    item.locator("button").focus()
    agent.keyboard.press("Enter")
    agent.locator("#transcript li", has_text="invoice").first.wait_for(timeout=10_000)
    if agent.locator("#take").is_enabled():
        agent.keyboard.press("Alt+T")
    agent.wait_for_function("!document.getElementById('text').disabled", timeout=10_000)
    agent.keyboard.press("Alt+R")
    agent.keyboard.type(REPLY)
    agent.keyboard.press("Enter")
    agent.locator("#transcript li.agent", has_text=REPLY).wait_for(timeout=10_000)

    # Then the visitor sees the reply in the widget, pushed over their open WebSocket
    visitor.locator("[data-keel=agent_message]", has_text=REPLY).wait_for(timeout=10_000)

    # And at 1280x900 the queue and the open conversation (with its reply box) fit without scrolling
    layout = agent.evaluate(
        """() => {
          const box = (s) => document.querySelector(s).getBoundingClientRect().toJSON();
          return {scroll: document.documentElement.scrollHeight, queue: box('.queue-pane'),
                  item: box('#queue li.selected'), transcript: box('#transcript'), reply: box('#reply')};
        }"""
    )
    assert layout["scroll"] <= VIEWPORT["height"], layout
    assert layout["queue"]["top"] < 80 and layout["transcript"]["height"] > 400, layout
    for part in ("item", "transcript", "reply"):
        assert layout[part]["top"] >= 0 and layout[part]["bottom"] <= VIEWPORT["height"], (part, layout)
    assert layout["transcript"]["left"] >= layout["queue"]["right"] - 1, layout  # queue left, conversation right
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    agent.screenshot(path=str(SCREENSHOT))
    assert axe_violations(agent) == []
    assert axe_violations(visitor) == []

    # The session renews before it expires (a refresh-token grant), and the console keeps working
    agent.evaluate("KeelAuth.refresh()")
    assert any(call.get("grant_type") == "refresh_token" for call in token_calls), token_calls
    # When the agent hands the conversation back (Alt+H), the visitor is told
    agent.keyboard.press("Alt+H")
    agent.locator("#announcer", has_text="Handed back").wait_for(timeout=10_000)
    visitor.locator("[data-keel=status]", has_text=messages.HANDED_BACK).last.wait_for(timeout=10_000)
    assert agent.locator("#status").inner_text() == ""
    agent.get_by_role("button", name="Go offline").click()
    agent.locator("#presence", has_text="Offline").wait_for(timeout=10_000)

    # Sign-out drops the tokens and ends the login session: the console asks for a password again
    agent.get_by_role("button", name="Sign out").click()
    agent.get_by_role("heading", name="You are signed out").wait_for(timeout=10_000)
    agent.get_by_role("button", name="Sign in").click()
    agent.get_by_label("Password").wait_for(timeout=10_000)
    assert errors == []
    visitor_context.close()
    context.close()


def test_a_person_without_the_group_is_refused_with_an_explanation(chromium: Any, local_stack: Any) -> None:
    context, page, errors = open_console(chromium, f"{local_stack.api.url}/agent/", *login(EMPLOYEE))
    gate = page.locator("#gate")
    page.get_by_role("heading", name="This console is for support agents").wait_for(timeout=15_000)
    text = gate.inner_text()
    assert EMPLOYEE in text and "support queue" in text and "administrator" in text
    assert page.locator("#console").is_hidden()
    assert page.get_by_role("button", name="Sign in as someone else").is_visible()
    assert axe_violations(page) == []
    assert errors == []
    context.close()


def test_after_an_admin_disables_the_agent_the_next_call_fails_and_the_page_says_so(
    chromium: Any, local_stack: Any, agent_presence: DynamoDBEscalationStore
) -> None:
    settings = load_settings(local_stack.environment)
    clients = AwsClients.from_settings(settings)
    username = f"leaving-agent-{int(time.time())}"
    password = provision.ensure_user(
        clients.cognito, local_stack.pool, username, groups=["all-staff", "support-agents"]
    )
    context, page, errors = open_console(chromium, f"{local_stack.api.url}/agent/", username, password)
    page.get_by_text(f"Signed in as {username}").wait_for(timeout=15_000)
    page.locator("#queue-count", has_text="(").wait_for(timeout=10_000)

    # When an administrator disables the account (the revocation path the admin API and the IdP events drive)
    def no_turn() -> object:
        raise KeelError("the revocation path never runs a turn")

    channels = Channels(ChannelConfig.from_settings(settings), clients, no_turn)  # type: ignore[arg-type]
    Revoker(
        DynamoDBRevocationStore(clients.dynamodb, settings.revocations_table),
        DynamoDBSessionRegistry(clients.dynamodb, settings.sessions_table),
        channels.websocket_closer(),
        CognitoDirectory(clients.cognito, local_stack.pool.pool_id),
    ).revoke(username, "left the support team", disable=True)

    # Then the console's next call (its queue refresh) is refused and the page says why
    page.get_by_role("heading", name="You are signed out").wait_for(timeout=15_000)
    assert "disabled" in page.locator("#gate-text").inner_text()
    assert page.locator("#console").is_hidden()
    # And signing in again is refused at the login too
    page.get_by_role("button", name="Sign in").click()
    sign_in(page, username, password)
    page.get_by_role("alert").filter(has_text="disabled").wait_for(timeout=10_000)
    assert errors == []
    context.close()
