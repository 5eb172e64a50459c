"""The surface edits that training adds to the escalation corpus (keel.escalation.augment)."""

from __future__ import annotations

import random

from keel.escalation import augment
from keel.escalation.heads import ConversationFeatures
from keel.escalation.training import BUILDER_OPENINGS, Example, with_copies


def test_each_edit_changes_the_surface_only() -> None:
    rng = random.Random(1)
    assert augment.casual("Can I speak to a PERSON, please?!", rng) == "can i speak to a person please"
    assert augment.without_accents("Je veux résilier; Kündigung sofort!", rng) == "Je veux resilier; Kundigung sofort!"
    swapped = augment.swap_letters("I want to close my account", rng)
    assert swapped != "I want to close my account" and sorted(swapped) == sorted("I want to close my account")
    for _ in range(20):
        with_reference = augment.reference("Please call me back", rng)
        assert any(c.isdigit() for c in with_reference) and "call me back" in with_reference
        with_amount = augment.amount("This charge is wrong", rng)
        assert any(c.isdigit() for c in with_amount) and {"This", "charge", "is", "wrong"} <= set(with_amount.split())


def test_an_edit_with_nothing_to_edit_keeps_the_text() -> None:
    assert augment.swap_letters("ok 123", random.Random(1)) == "ok 123"


def test_variants_are_reproducible_distinct_and_name_their_edits() -> None:
    text = "Ich möchte bitte mit einem Menschen sprechen."
    first, again = augment.variants(text, 3), augment.variants(text, 3)
    assert first == again and len(first) == 3
    assert len({edited for _, edited in first} | {text}) == 4
    for names, _ in first:
        assert set(names.split("+")) <= set(augment.EDITS)


def _example(text: str, reason: str = "explicit_request", intent: str = "general") -> Example:
    labels = {"explicit_request": reason == "explicit_request"}
    return Example(text, ConversationFeatures(hedges=1), labels, "", "en-family-a", reason, intent)


def test_copies_keep_labels_features_and_family_and_come_after_every_original() -> None:
    opening = next(iter(BUILDER_OPENINGS))
    data = [_example("Could a real person phone me back today?"), _example(opening, "none", "routine")]
    out = with_copies(data, 2)
    assert out[:2] == data
    copies = out[2:]
    assert len(copies) == 4  # the builder's opening too: every label gets the same edits
    assert [c.reason for c in copies] == ["explicit_request"] * 2 + ["none"] * 2
    for copy in copies[:2]:
        assert copy.edit and copy.text != data[0].text
        assert (copy.labels, copy.features, copy.family, copy.reason) == (
            data[0].labels,
            data[0].features,
            data[0].family,
            data[0].reason,
        )
