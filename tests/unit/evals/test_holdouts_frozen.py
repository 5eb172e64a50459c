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
# Every holdout folder (evals/<capability>/holdout, holdout-2, ...): a later round is a new set beside the old one.
HOLDOUTS = sorted(str(p.parent.relative_to(ROOT)) for p in ROOT.glob("*/holdout*/FROZEN"))


def test_every_capability_has_its_first_holdout_and_the_second_round_is_there() -> None:
    assert {"guardrails/holdout", "pii/holdout", "escalation/holdout"} <= set(HOLDOUTS)
    assert {"guardrails/holdout-2", "escalation/holdout-2"} <= set(HOLDOUTS)


@pytest.mark.parametrize("name", HOLDOUTS)
def test_a_holdout_is_byte_identical_to_its_frozen_hash(name: str) -> None:
    folder = ROOT / name
    frozen = (folder / "FROZEN").read_text(encoding="utf-8").strip()
    actual = hashlib.sha256((folder / "holdout.jsonl").read_bytes()).hexdigest()
    assert actual == frozen, f"{name} holdout changed since it was frozen"


@pytest.mark.parametrize("name", HOLDOUTS)
def test_a_holdout_has_a_data_sheet_naming_its_hash(name: str) -> None:
    folder = ROOT / name
    frozen = (folder / "FROZEN").read_text(encoding="utf-8").strip()
    assert frozen in (folder / "DATASHEET.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", HOLDOUTS)
def test_a_holdout_has_unique_ids(name: str) -> None:
    lines = (ROOT / name / "holdout.jsonl").read_text(encoding="utf-8").splitlines()
    ids = [json.loads(line)["id"] for line in lines if line.strip()]
    assert len(ids) == len(set(ids)) > 100
