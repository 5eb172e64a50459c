"""`keel models list` and `keel models prompts` (no sockets)."""

from __future__ import annotations

import json

import pytest

from keel.cli.main import main


def test_list_json_shows_models_of_the_environment(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "list", "--environment", "dev", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    ids = [m["id"] for m in data["models"]]
    assert "amazon.nova-micro-v1:0" in ids and "anthropic.claude-3-5-sonnet-20240620-v1:0" not in ids
    assert data["routing"]["default"]["intent"] == "small"


def test_prompts_mark_the_served_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "prompts", "--bot", "hr"]) == 0
    assert capsys.readouterr().out.startswith("* hr/v1")


def test_unknown_bot_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "prompts", "--bot", "legal"]) == 2
    assert "accepted: customer, finance, hr, it, sales" in capsys.readouterr().err


def test_bad_count_is_refused_before_any_call(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "fault", "throttle", "--count", "0", "--url", "http://127.0.0.1:9"]) == 2
    assert "--count must be a positive integer" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv", [["append"], ["throttle", "--text", "extra"]], ids=["append-without-text", "text-without-append"]
)
def test_append_text_and_mode_go_together(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "fault", *argv, "--url", "http://127.0.0.1:9"]) == 2
    assert "--text goes with mode append, and mode append needs --text" in capsys.readouterr().err
