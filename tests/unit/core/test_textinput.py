"""Undecodable operator input: FILE:line and what is accepted, exit 2, never a traceback (issue 22)."""

from __future__ import annotations

from pathlib import Path

import pytest

from keel.cli.main import main
from keel.errors import InvalidRequest
from keel.textinput import utf8_lines

LATIN1 = '{"id": "r1", "text": "caf\xe9 au lait"}\n'.encode("latin-1")


def test_lines_are_numbered_and_a_bom_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_bytes("\ufeffone\ntwo\n".encode())
    assert list(utf8_lines(path)) == [(1, "one\n"), (2, "two\n")]


def test_a_line_that_is_not_utf8_names_file_line_column_and_what_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_bytes(b'{"id": "ok"}\n' + LATIN1)
    with pytest.raises(InvalidRequest) as caught:
        list(utf8_lines(path, accepted="a UTF-8 JSONL file"))
    assert caught.value.message.startswith(f"{path}:2: not UTF-8 (byte 0xe9 at column 26)")
    assert "a UTF-8 JSONL file" in caught.value.message


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequest, match="cannot read"):
        list(utf8_lines(tmp_path / "absent.jsonl"))


@pytest.mark.parametrize(
    ("command", "row"),
    [
        (["guard", "scan"], LATIN1),
        (["pii", "scan"], LATIN1),
        (
            ["escalation", "classify"],
            '{"id": "r1", "turns": [{"role": "user", "text": "caf\xe9"}]}\n'.encode("latin-1"),
        ),
    ],
)
def test_clis_refuse_undecodable_input_with_file_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str], row: bytes
) -> None:
    path = tmp_path / "input.jsonl"
    path.write_bytes(row)
    assert main([*command, str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:1: not UTF-8" in err
    assert "Traceback" not in err
