"""PersonFinder: lexicon, cues and suppression, on a small hand-made lexicon (no spaCy, no faker)."""

from __future__ import annotations

import sys

import pytest

from keel.errors import ConfigurationError
from keel.privacy import PiiMasker
from keel.privacy.names import Lexicon, PersonFinder, faker_names, faker_names_from_package, fold
from keel.privacy.recognizers import Entity

LEX = Lexicon(
    first=frozenset({"anna", "miklos", "will", "rose", "logan", "ben", "my", "florence", "mary"}),
    last=frozenset({"kowalski", "hajdu", "smith"}),
    common=frozenset(
        {"will", "rose", "logan", "florence", "mary", "my", "you", "the", "report", "garden", "discipline",
         "pleasure", "salesperson", "is", "send", "ask", "maybe", "it", "under", "name", "phone", "date",
         "say", "office", "we", "moved", "here"}
    ),
)  # fmt: skip
FINDER = PersonFinder(LEX)


def _names(text: str, ner: list[tuple[int, int]] | None = None) -> list[str]:
    persons = [Entity("PERSON", s, e, 0.85) for s, e in ner or []]
    return [text[e.start : e.end] for e in FINDER.find(text, persons)]


def _span(text: str, value: str) -> tuple[int, int]:
    start = text.index(value)
    return start, start + len(value)


def test_fold_removes_accents_and_case() -> None:
    assert fold("Miklós") == "miklos"


def test_a_known_first_name_takes_the_following_name_words() -> None:
    assert _names("Maybe it's under Miklós Hajdu") == ["Miklós Hajdu"]
    assert _names("Yesterday Anna P. Kowalski sent it") == ["Anna P. Kowalski"]


def test_a_first_name_that_is_also_a_word_needs_a_surname() -> None:
    assert _names("Will you send the report?") == []
    assert _names("Will Smith sent the report") == ["Will Smith"]


def test_lower_case_text_accepts_unambiguous_first_names_only() -> None:
    assert _names("maybe it is under anna kowalski") == ["anna kowalski"]
    assert _names("will you send the report") == []


def test_titles_are_not_part_of_the_name() -> None:
    text = "Hello, this is Dr. Kyle Kuefer."
    assert _names(text, [_span(text, "Dr. Kyle Kuefer")]) == ["Kyle Kuefer"]


def test_company_lists_are_not_people_unless_a_people_noun_introduces_them() -> None:
    company = "The address of Glover, Ruiz and Armstrong is downtown"
    assert _names(company, [_span(company, "Armstrong")]) == []
    founders = "It is the brainchild of our 3 founders: Eklund, Tamsin and Hodge."
    assert _names(founders) == ["Eklund", "Tamsin", "Hodge"]


def test_organisation_and_place_words_suppress_ner_spans() -> None:
    text = "Compendia Bioscience Life Technologies opened at Victoria Station"
    ner = [_span(text, "Compendia Bioscience Life Technologies"), _span(text, "Victoria Station")]
    assert _names(text, ner) == []


def test_an_unknown_single_word_after_a_locative_is_a_place() -> None:
    text = "we returned to Deanwell by helicopter"
    assert _names(text, [_span(text, "Deanwell")]) == []


def test_spans_of_common_words_or_acronyms_are_dropped() -> None:
    text = "Awarded Salesperson of the month. My IBAN is GB00."
    assert _names(text, [_span(text, "Salesperson"), _span(text, "My IBAN")]) == []


def test_ner_span_loses_a_trailing_lower_case_word() -> None:
    text = "Ferko Takats bridge is falling down."
    assert _names(text, [_span(text, "Ferko Takats bridge")]) == ["Ferko Takats"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Shovda lives on 90 Mill Road.", ["Shovda"]),
        ("I'm so jealous! said Gladys to Logan", ["Gladys", "Logan"]),
        ("I want to remove my kid Florence from the will.", ["Florence"]),
        ("It was a done thing between him and Asya's kid.", ["Asya"]),
        ("Nothing happened, Mary?", ["Mary"]),
    ],
)
def test_grammatical_cues(text: str, expected: list[str]) -> None:
    assert _names(text) == expected


def test_dialogue_speaker_labels_but_not_form_fields() -> None:
    assert _names('Ubul: "Who are you?"\nTzigane: "A friend".') == ["Ubul", "Tzigane"]
    assert _names("Name: x\nPhone: y\nDate: z") == []


def test_contact_card_first_line_and_its_recurrences() -> None:
    text = "> Benedek Varga\n> Locavore\n> Benedek Varga\n> 040 Snellmaninkatu 55"
    assert _names(text) == ["Benedek Varga", "Benedek Varga"]


def test_merged_overlaps_are_one_span() -> None:
    text = "Anna Kowalski called"
    assert _names(text, [_span(text, "Anna"), _span(text, "Anna Kowalski")]) == ["Anna Kowalski"]


def test_common_word_check_covers_plurals_and_possessives() -> None:
    assert LEX.is_common("Pleasures")
    assert LEX.is_common("salesperson's")
    assert not LEX.is_common("Hodge")


def test_faker_lists_load_offline() -> None:
    first, last = faker_names()
    assert {"anna", "john", "miklos"} <= first
    assert {"smith", "garcia"} <= last


def test_missing_faker_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # Reading the names from the package (what happens when the checked-in tables do not fit the installed faker).
    monkeypatch.setitem(sys.modules, "faker.providers.person", None)
    with pytest.raises(ConfigurationError, match="faker"):
        faker_names_from_package()


@pytest.mark.parametrize(
    "text", ["Can someone call me on 0494 92 82 32?", "Please call me when you're here.", "call me at noon"]
)
def test_call_me_cue_takes_no_preposition_or_time_word(text: str) -> None:
    assert "PERSON" not in [e.type for e in PiiMasker("fast").detect(text)]


def test_title_after_a_cue_is_skipped() -> None:
    text = "Hello, this is Dr. Kyle Kuefer."
    spans = [text[e.start : e.end] for e in PiiMasker("fast").detect(text) if e.type == "PERSON"]
    assert spans == ["Kyle Kuefer"]


@pytest.mark.parametrize(
    ("text", "name"), [("Hi Marta Lopez, ok", "Marta Lopez"), ("Regards, Ruth R Montez.", "Ruth R Montez")]
)
def test_cue_names_are_not_cut_at_the_next_capital(text: str, name: str) -> None:
    spans = [text[e.start : e.end] for e in PiiMasker("fast").detect(text) if e.type == "PERSON"]
    assert spans == [name]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Yesterday Anna van den Berg sent it", "Anna van den Berg"),
        ("Maybe it's under Miklós da Silva", "Miklós da Silva"),
        ("Ben von der Heide called", "Ben von der Heide"),
    ],
)
def test_a_surname_led_by_particles_belongs_to_the_name(text: str, name: str) -> None:
    assert _names(text) == [name]


def test_a_particle_without_a_capitalised_surname_stays_out() -> None:
    assert _names("Yesterday Anna Kowalski de facto sent it") == ["Anna Kowalski"]


def test_a_subject_pronoun_before_a_name_is_not_part_of_it() -> None:
    text = "Je m'appelle Miklós Hajdu et j'ai une question."
    assert _names(text, [_span(text, "Je m'appelle Miklós Hajdu")]) == ["Miklós Hajdu"]


def test_an_accented_function_word_is_no_given_name() -> None:
    finder = PersonFinder(Lexicon(first=frozenset({"esta", "anna"}), last=frozenset(), common=frozenset()))
    assert [e for e in finder.find("Está disponible el plan Familia?", [])] == []
    text = "Esta Kowalski called"  # without the accent it is still a name
    assert [text[e.start : e.end] for e in finder.find(text, [])] == ["Esta Kowalski"]
