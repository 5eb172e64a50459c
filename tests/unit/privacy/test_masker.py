"""Masking by offsets with a per-conversation vault; properties hold for every input (hypothesis)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keel.errors import InvalidRequest
from keel.privacy import PiiMasker, Vault
from keel.privacy.recognizers import Entity

PII = [
    "jane.doe@acme.com",
    "4111 1111 1111 1111",
    "DE89370400440532013000",
    "123-45-6789",
    "10.0.0.7",
    "+44 20 7946 0958",
    "AKIAIOSFODNN7EXAMPLE",
]
# Filler without '<' so no input already looks like a placeholder.
filler = st.text(alphabet=st.characters(blacklist_characters="<>", blacklist_categories=("Cs",)), max_size=40)


class FakeNames:
    """A NameFinder that tags every occurrence of 'Marta' (stands in for spaCy)."""

    def find(self, text: str) -> list[Entity]:
        out, start = [], text.find("Marta")
        while start != -1:
            out.append(Entity("PERSON", start, start + 5))
            start = text.find("Marta", start + 1)
        return out


@st.composite
def messages(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.one_of(filler, st.sampled_from(PII)), max_size=8))
    return " ".join(parts)


@settings(max_examples=200, deadline=None)
@given(messages())
def test_unmask_restores_the_original_exactly(text: str) -> None:
    vault = Vault()
    masked = PiiMasker("fast").mask(text, vault)
    assert vault.unmask(masked.text) == text


@settings(max_examples=200, deadline=None)
@given(messages())
def test_masking_never_changes_text_outside_detected_spans(text: str) -> None:
    masked = PiiMasker("fast").mask(text, Vault())
    # Rebuild the masked text from the original: outside the spans it must be the original, byte for byte.
    rebuilt, cursor = [], 0
    for entity in masked.entities:
        rebuilt.append(text[cursor : entity.start])
        rebuilt.append(entity.placeholder)
        cursor = entity.end
    rebuilt.append(text[cursor:])
    assert "".join(rebuilt) == masked.text
    assert all(0 <= a.start < a.end <= b.start for a, b in zip(masked.entities, masked.entities[1:], strict=False))


def test_placeholders_are_typed_and_consistent_within_a_conversation() -> None:
    vault = Vault()
    masker = PiiMasker("fast")
    first = masker.mask("mail jane.doe@acme.com or bob@acme.com", vault)
    second = masker.mask("again: jane.doe@acme.com", vault)
    assert first.text == "mail <EMAIL_1> or <EMAIL_2>"
    assert second.text == "again: <EMAIL_1>"


def test_vault_round_trips_through_json() -> None:
    vault = Vault()
    PiiMasker("fast").mask("card 4111 1111 1111 1111", vault)
    restored = Vault.from_dict(json.loads(json.dumps(vault.to_dict())))
    assert restored.unmask("<CREDIT_CARD_1>") == "4111 1111 1111 1111"
    assert restored.placeholder_for("CREDIT_CARD", "4111 1111 1111 1111") == "<CREDIT_CARD_1>"


def test_vault_refuses_malformed_data() -> None:
    with pytest.raises(InvalidRequest, match="malformed placeholder"):
        Vault.from_dict({"entries": [{"type": "EMAIL", "value": "a@b.c", "placeholder": "EMAIL"}]})
    with pytest.raises(InvalidRequest, match="vault data"):
        Vault.from_dict({"entries": [{"type": "EMAIL"}]})


def test_unmask_can_be_limited_to_the_users_own_values() -> None:
    vault = Vault()
    masker = PiiMasker("fast")
    masker.mask("me: jane.doe@acme.com", vault, origin="user")
    masker.mask("doc: bob@acme.com", vault, origin="document")
    assert vault.unmask("<EMAIL_1> <EMAIL_2>", origins=frozenset({"user"})) == "jane.doe@acme.com <EMAIL_2>"


def test_names_come_from_the_name_finder_in_full_mode() -> None:
    masked = PiiMasker("full", ner=FakeNames()).mask("Marta asked about leave", Vault())
    assert masked.text == "<PERSON_1> asked about leave"


def test_fast_mode_never_imports_spacy() -> None:
    # In a fresh interpreter: other tests in this process may load spaCy for full mode first.
    code = (
        "import sys\n"
        "from keel.privacy import PiiMasker, Vault\n"
        "PiiMasker('fast').mask('Marta Lopez wrote from jane@acme.com', Vault())\n"
        "sys.exit('spacy' in sys.modules)\n"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False, timeout=120).returncode == 0


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="mode"):
        PiiMasker("slow")  # type: ignore[arg-type]
