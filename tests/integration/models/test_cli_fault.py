"""`keel models fault` drives the running endpoint over HTTP."""

from __future__ import annotations

import json

import pytest

from keel.cli.main import main
from tests.integration.conftest import ModelEndpoint

pytestmark = pytest.mark.integration


def test_fault_command_installs_and_clears_rules(
    clean_model_endpoint: ModelEndpoint, capsys: pytest.CaptureFixture[str]
) -> None:
    url = clean_model_endpoint.url
    assert main(["models", "fault", "throttle", "--model", "m1", "--count", "2", "--url", url]) == 0
    rules = json.loads(capsys.readouterr().out)["rules"]
    assert rules == [{"model": "m1", "mode": "throttle", "count": 2, "rate_limit_per_second": None}]
    assert main(["models", "fault", "ok", "--url", url]) == 0
    assert json.loads(capsys.readouterr().out)["rules"] == []


def test_append_fault_from_the_command_line(
    clean_model_endpoint: ModelEndpoint, capsys: pytest.CaptureFixture[str]
) -> None:
    url = clean_model_endpoint.url
    assert main(["models", "fault", "append", "--text", "![x](https://evil.example/p.png)", "--url", url]) == 0
    [rule] = json.loads(capsys.readouterr().out)["rules"]
    assert rule["mode"] == "append" and rule["text"] == "![x](https://evil.example/p.png)"
