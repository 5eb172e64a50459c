"""The name lexicon read from the checked-in tables is the one read from faker, set for set; tables that are missing,
altered or written for another faker version fall back to faker with a warning; a cold start does not import faker."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from keel.privacy import name_tables, names
from keel.privacy.name_tables import TABLES, TABLES_SHA256, load_tables


def test_the_tables_hold_what_faker_holds() -> None:
    tables = load_tables()
    assert tables is not None
    assert (tables.first, tables.last) == names.faker_names_from_package()
    assert tables.polish_first == names.polish_names_from_package()
    assert names.faker_names() == (tables.first, tables.last)
    assert (tables.frequent, tables.chat_first) == names.chat_names_from_package()
    assert {"kuba", "magda"} <= names.polish_first_names() - tables.polish_first  # the short forms stay in code


def test_the_checked_in_tables_are_what_the_installed_faker_writes(tmp_path: Path) -> None:
    assert name_tables.write_tables(tmp_path / "names.npz") == TABLES_SHA256
    assert (tmp_path / "names.npz").read_bytes() == TABLES.read_bytes()


@pytest.mark.parametrize("damage", ["missing", "altered", "other version"])
def test_damaged_or_foreign_tables_are_not_used(
    damage: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    tables = tmp_path / "names.npz"
    if damage != "missing":
        shutil.copy(TABLES, tables)
    if damage == "altered":
        tables.write_bytes(tables.read_bytes()[:-10] + b"0123456789")
    if damage == "other version":
        monkeypatch.setattr(name_tables, "faker_version", lambda: "0.0.1")
    with caplog.at_level(logging.WARNING, logger=name_tables.__name__):
        assert load_tables(tables, TABLES_SHA256) is None
    assert "reading the names from faker instead" in caplog.text
    assert {"missing": "is missing", "altered": "does not match", "other version": "another faker"}[
        damage
    ] in caplog.text


def test_a_cold_start_masks_names_without_importing_faker() -> None:
    # The whole person finder, chat names included (a message typed in lower case reads them): an earlier version of
    # this test loaded only the first names and surnames, and the chat names still imported faker's locales.
    code = (
        "import sys; from keel.privacy.masker import PiiMasker; "
        "text = 'ok so talk to kevin about my w-2, thx'; found = PiiMasker('full').detect(text); "
        "print([text[e.start : e.end] for e in found] == ['kevin'], "
        "any(m == 'faker' or m.startswith('faker.') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["True", "False"]


def test_the_command_writes_the_tables_and_says_where(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert name_tables.main(["--out", str(tmp_path / "n.npz")]) == 0
    assert TABLES_SHA256 in capsys.readouterr().out
