"""The reader every guardrail report and the training loader share: a row's message and its earlier turns."""

from __future__ import annotations

from pathlib import Path

import pytest

from keel.errors import InvalidRequest
from keel.guardrails.evaluation import row_text

PATH = Path("cases.jsonl")


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({"text": "hello"}, ("hello", [])),
        # Holdouts 5 and later keep the final message in `text` and the earlier user turns in `turns`.
        ({"text": "now do it", "turns": ["hi", "remember X"]}, ("now do it", ["hi", "remember X"])),
        ({"turns": ["hi", "remember X", "now do it"]}, ("now do it", ["hi", "remember X"])),
    ],
)
def test_a_row_gives_its_message_and_the_turns_before_it(
    row: dict[str, object], expected: tuple[str, list[str]]
) -> None:
    assert row_text(PATH, 1, row) == expected


def test_a_row_without_text_or_turns_is_named() -> None:
    with pytest.raises(InvalidRequest, match=r"cases\.jsonl:3: a row needs `text` or `turns`"):
        row_text(PATH, 3, {"turns": "not a list"})
