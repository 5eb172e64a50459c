"""Reading labelled JSONL files and computing detection and false-positive rates per category."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from keel.errors import InvalidRequest
from keel.textinput import utf8_lines


def read_jsonl(path: Path, required: tuple[str, ...] = ("id",)) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, row) for every non-blank line; a bad line raises InvalidRequest naming it."""
    for number, line in utf8_lines(path, accepted="a UTF-8 JSONL file, one JSON object a line"):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidRequest(f"{path}:{number}: not valid JSON ({exc.msg})") from exc
        if not isinstance(row, dict):
            raise InvalidRequest(f"{path}:{number}: each line must be a JSON object")
        missing = [k for k in required if k not in row]
        if missing:
            raise InvalidRequest(f"{path}:{number}: missing field(s) {', '.join(missing)}")
        yield number, row


def row_text(path: Path, number: int, row: dict[str, Any]) -> tuple[str, list[str]]:
    """(text, earlier turns) of a row holding `text` (its earlier user turns, if any, in `turns`) or `turns` alone
    (the last one is the message)."""
    turns = row.get("turns")
    listed: list[str] = turns if isinstance(turns, list) and all(isinstance(t, str) for t in turns) else []
    if isinstance(row.get("text"), str):
        return row["text"], list(listed)
    if listed:
        return listed[-1], listed[:-1]
    raise InvalidRequest(f"{path}:{number}: a row needs `text` or `turns` (`text` a string, `turns` a list of strings)")


@dataclass
class CategoryRates:
    """Counts per category of how many rows were caught (blocked or flagged)."""

    total: Counter[str]
    caught: Counter[str]
    attack: dict[str, bool]

    def rate(self, category: str) -> float:
        """Share caught in one category."""
        return self.caught[category] / self.total[category] if self.total[category] else 0.0

    def summary(self) -> dict[str, dict[str, float | int | str]]:
        """Per category: rows, the metric name (detection or false_positive) and its value."""
        return {
            cat: {
                "rows": self.total[cat],
                "metric": "detection" if self.attack[cat] else "false_positive",
                "rate": round(self.rate(cat), 4),
            }
            for cat in sorted(self.total)
        }


def tally(results: list[tuple[str, bool, bool]], *, by_subcategory: bool = False) -> CategoryRates:
    """From (category, is_attack, caught) triples to rates per (top-level) category."""
    total: Counter[str] = Counter()
    caught: Counter[str] = Counter()
    attack: dict[str, bool] = {}
    for category, is_attack, hit in results:
        key = category if by_subcategory else category.split(":", 1)[0]
        total[key] += 1
        caught[key] += int(hit)
        attack[key] = is_attack
    return CategoryRates(total, caught, attack)
