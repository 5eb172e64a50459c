"""The hosted page learns where to chat from the server's /keel-config.js, never from its address bar."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator

import pytest

from keel.local.api import PAGE_CONFIG_PATH, LocalApi, page_config_script, page_config_service
from tests.conftest import REPO_ROOT


@pytest.fixture
def api() -> Iterator[LocalApi]:
    server = LocalApi([], REPO_ROOT / "functions", REPO_ROOT / "web", lambda: {"status": "up"}).start()
    yield server
    server.stop()


def get(url: str) -> tuple[int, str, str]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.headers["Content-Type"], response.read().decode()


def test_the_config_script_carries_the_stack_values_and_lets_the_page_add_its_own(api: LocalApi) -> None:
    api.mount((PAGE_CONFIG_PATH,), page_config_service({"wsUrl": "ws://127.0.0.1:9999", "title": "Ask Lakeside"}))
    status, kind, body = get(f"{api.url}/keel-config.js")
    assert status == 200 and kind == "text/javascript"
    assert body.startswith('window.KeelConfig = Object.assign({"title": "Ask Lakeside", "wsUrl": ')
    assert body.rstrip().endswith("window.KeelConfig || {});")


def test_the_config_script_answers_get_only() -> None:
    serve = page_config_service({"wsUrl": "ws://127.0.0.1:9999"})
    assert serve("POST", PAGE_CONFIG_PATH, {}, b"{}")[0] == 405
    assert serve("GET", PAGE_CONFIG_PATH, {}, b"")[0] == 200


def test_a_value_cannot_close_the_script_element() -> None:
    body = page_config_script({"title": "</script><script>alert(1)</script>"}).decode()
    assert "</script>" not in body and "\\u003c/script>" in body
    assert json.loads(body.split("Object.assign(", 1)[1].rsplit(", window.KeelConfig", 1)[0])["title"].startswith("<")


def test_the_page_reads_no_query_parameter(api: LocalApi) -> None:
    # The page and the widget name no location.search: a crafted ?ws= link cannot redirect the chat.
    _, _, page = get(f"{api.url}/?ws=ws://attacker.example")
    _, _, widget = get(f"{api.url}/widget/keel-widget.js")
    assert '<script src="/keel-config.js"></script>' in page
    assert "location.search" not in page and "URLSearchParams" not in page
    assert "location.search" not in widget and "URLSearchParams" not in widget
