"""The independent holdout sets stay byte-identical to what their authors froze.

Each holdout was written by an engineer who never read the training data and never ran a model on it;
its FROZEN file holds the sha256 taken at that moment. A change to a holdout is a new set, not an edit.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3] / "evals"
HOLDOUTS = ["guardrails", "pii", "escalation"]


@pytest.mark.parametrize("name", HOLDOUTS)
def test_a_holdout_is_byte_identical_to_its_frozen_hash(name: str) -> None:
    folder = ROOT / name / "holdout"
    frozen = (folder / "FROZEN").read_text(encoding="utf-8").strip()
    actual = hashlib.sha256((folder / "holdout.jsonl").read_bytes()).hexdigest()
    assert actual == frozen, f"{name} holdout changed since it was frozen"


@pytest.mark.parametrize("name", HOLDOUTS)
def test_a_holdout_has_a_data_sheet_naming_its_hash(name: str) -> None:
    folder = ROOT / name / "holdout"
    frozen = (folder / "FROZEN").read_text(encoding="utf-8").strip()
    assert frozen in (folder / "DATASHEET.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", HOLDOUTS)
def test_a_holdout_has_unique_ids(name: str) -> None:
    lines = (ROOT / name / "holdout" / "holdout.jsonl").read_text(encoding="utf-8").splitlines()
    ids = [json.loads(line)["id"] for line in lines if line.strip()]
    assert len(ids) == len(set(ids)) > 100
