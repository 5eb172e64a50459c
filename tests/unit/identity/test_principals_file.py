"""A tenant's local users file read as principals (offline evaluation and the launch checks)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from keel.errors import InvalidRequest
from keel.identity.principal import principals_from_file


def test_each_user_becomes_a_principal_of_the_tenant(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    rows = [
        {"username": "b", "groups": ["staff"], "department": "ops"},
        {"username": "a", "groups": ["patients"], "external": True},
    ]
    path.write_text(json.dumps(rows), encoding="utf-8")
    principals = principals_from_file(path, "t1")
    assert list(principals) == ["a", "b"]
    assert principals["a"].external and principals["a"].groups == frozenset({"patients"})
    assert principals["b"].tenant == "t1" and principals["b"].department == "ops" and not principals["b"].external
    assert principals["a"].email is None


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        json.dumps([{"groups": ["x"]}]),
        json.dumps({"username": "a"}),
        json.dumps([{"username": "a", "groups": "staff"}]),  # a string is not a list of groups (not {s, t, a, f})
    ],
)
def test_a_malformed_users_file_says_what_is_accepted(tmp_path: Path, text: str) -> None:
    path = tmp_path / "users.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(
        InvalidRequest, match=r"is not a users list of \{username, groups \(a list\), department, external\}"
    ):
        principals_from_file(path, "t1")


def test_a_missing_users_file_says_how_to_name_one(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequest, match=r"does not exist; pass --users users\.json"):
        principals_from_file(tmp_path / "nope.json", "t1")


def test_a_users_file_that_is_not_text_says_it_cannot_be_read(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    path.write_bytes(b"\xff\xfe\x00[")
    with pytest.raises(InvalidRequest, match=r"cannot be read \(UnicodeDecodeError\)"):
        principals_from_file(path, "t1")
