"""The Slack manifest points at the endpoints the ingress serves and asks for the scopes the worker uses."""

from __future__ import annotations

from pathlib import Path

import yaml

from keel.channels.openapi import ROUTES

MANIFEST = yaml.safe_load((Path(__file__).resolve().parents[3] / "slack" / "manifest.yaml").read_text())


def test_manifest_urls_are_documented_slack_routes() -> None:
    settings = MANIFEST["settings"]
    urls = [
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
        *(c["url"] for c in MANIFEST["features"]["slash_commands"]),
    ]
    documented = {op.path for op in ROUTES if op.security == "slack"}
    assert {"/" + u.split("/", 3)[3] for u in urls} == documented


def test_manifest_has_the_scopes_the_worker_needs_and_no_more() -> None:
    assert set(MANIFEST["oauth_config"]["scopes"]["bot"]) == {
        "app_mentions:read",
        "chat:write",
        "commands",
        "im:history",
        "users:read",
        "users:read.email",
    }
    assert MANIFEST["settings"]["socket_mode_enabled"] is False
