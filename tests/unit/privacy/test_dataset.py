"""The frozen PII split cannot move: development-side templates are separate and the test rows regenerate exactly."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import pytest

from keel.errors import ConfigurationError
from keel.privacy import dataset


def _split() -> dict:
    return json.loads(dataset.SPLIT_FILE.read_text(encoding="utf-8"))


def test_the_frozen_file_matches_its_recorded_hash() -> None:
    assert hashlib.sha256(dataset.TEST_FILE.read_bytes()).hexdigest() == _split()["test_sha256"]


def test_the_test_templates_are_still_chosen_from_the_frozen_templates_only() -> None:
    assert dataset.choose_test_templates() == sorted(_split()["test_templates"])
    dev_ids = {tid for tid, _, _ in dataset.DEV_TEMPLATES}
    assert not dev_ids & {tid for tid, _, _ in dataset.TEMPLATES}
    assert not dev_ids & set(dataset.choose_test_templates())


def test_the_test_rows_regenerate_byte_for_byte() -> None:
    # The generator is shared with the development templates: a change to it must not move the frozen rows.
    rows = dataset.build_rows(set(_split()["test_templates"]))
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()
    assert hashlib.sha256(data).hexdigest() == _split()["test_sha256"]


def test_dev_breadth_rows_are_labelled_and_lookalikes_unlabelled() -> None:
    rows = dataset.build_rows(templates=dataset.DEV_TEMPLATES)
    assert len(rows) == len(dataset.DEV_TEMPLATES) * dataset.ROWS_PER_TEMPLATE
    for row in rows:
        if row["family"].startswith("dev-look"):
            assert row["lookalike"] is True and row["entities"] == []
        else:
            assert "lookalike" not in row and row["entities"]
        for e in row["entities"]:
            assert e["type"] in {"SECRET", "ADDRESS", "PASSPORT", "PHONE", "PERSON"}
            assert 0 <= e["start"] < e["end"] <= len(row["text"])


def test_the_checked_in_dev_breadth_file_is_current() -> None:
    rows = dataset.build_rows(templates=dataset.DEV_TEMPLATES)
    expected = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    assert dataset.DEV_FILE_BREADTH.read_text(encoding="utf-8") == expected


def test_an_unknown_slot_kind_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="unknown slot kind 'NOPE'"):
        dataset.build_rows(templates=(("dev-bad", "en", "a {NOPE} b"),))
    with pytest.raises(ConfigurationError):
        dataset._dev_value("NOPE", "en", random.Random(1))


def test_dev_command_writes_only_the_development_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(dataset, "DATA_DIR", tmp_path)
    monkeypatch.setattr(dataset, "DEV_FILE_BREADTH", tmp_path / "dev_breadth.jsonl")
    monkeypatch.setattr(dataset, "DEV_FILE_LOOKALIKES", tmp_path / "dev_lookalikes.jsonl")
    assert dataset.main(["dev"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dev_breadth.jsonl", "dev_lookalikes.jsonl"]


def test_freeze_refuses_to_overwrite_the_split(capsys: pytest.CaptureFixture[str]) -> None:
    assert dataset.main(["freeze"]) == 2
    assert "is frozen" in capsys.readouterr().err
