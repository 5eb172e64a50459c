"""Only an explicit yes confirms; explicit refusals cancel; everything else is 'other'."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keel.actions.confirmation import normalise, read_answer


@pytest.mark.parametrize(
    "text",
    ["yes", "Yes!", "YES please", "confirm", "Confirmed.", "oui", "Ja", "sí", "ich bestätige", "はい", "确认", "да"],
)
def test_explicit_yes_in_several_languages_confirms(text: str) -> None:
    assert read_answer(text) == "yes"


@pytest.mark.parametrize("text", ["no", "No.", "cancel", "don't", "nein", "non", "não", "いいえ", "取消", "нет"])
def test_explicit_no_in_several_languages_refuses(text: str) -> None:
    assert read_answer(text) == "no"


@pytest.mark.parametrize(
    "text", ["", "ok", "okay", "sure", "yes but delete the other one", "yes no", "maybe", "y e s", "yesterday"]
)
def test_anything_else_is_neither(text: str) -> None:
    assert read_answer(text) == "other"


@given(st.text(max_size=40))
def test_a_yes_is_always_a_whole_short_answer(text: str) -> None:
    # Whatever the text, a confirmation is never buried inside a longer message.
    if read_answer(text) == "yes":
        assert len(normalise(text).split()) <= 3


@given(st.text(max_size=20), st.sampled_from(["not", "but", "don't", "no", "wait", "other"]), st.text(max_size=20))
def test_a_yes_with_a_hedge_or_negation_never_confirms(before: str, hedge: str, after: str) -> None:
    assert read_answer(f"{before} yes {hedge} {after}") != "yes"
