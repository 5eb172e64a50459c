"""Names after cues in eight languages, in any case, and Polish case forms (PII round 8, evals/pii/DATASHEET.md).

Every sentence here was written for the test; none comes from a judging holdout."""

from __future__ import annotations

import pytest

from keel.privacy import PiiMasker
from keel.privacy.names import faker_names, fold, polish_bases

FULL = PiiMasker("full")


def persons(text: str) -> list[str]:
    return [text[e.start : e.end] for e in FULL.detect(text) if e.type == "PERSON"]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("hey its daniel again, my new number follows", "daniel"),
        ("ciao sono francesca del servizio clienti, oggi sostituisco un collega", "francesca"),
        ("bonjour, je m'appelle julien moreau et mon colis est perdu", "julien moreau"),
        ("hallo, ich heiße markus weber, mein router blinkt rot", "markus weber"),
        ("hola, me llamo lucia y tengo una cita el jueves", "lucia"),
        ("goedemiddag, ik ben pieter en ik bel over mijn factuur", "pieter"),
        ("dzień dobry, nazywam się anna nowak i mam pytanie", "anna nowak"),
        ("bom dia, sou o rui e queria mudar a morada", "rui"),
    ],
)
def test_a_writer_introducing_themselves_is_a_name_in_lower_case(text: str, name: str) -> None:
    assert name in persons(text)


@pytest.mark.parametrize(
    "text",
    [
        "sono stanco di aspettare, grazie mille",
        "je suis content du service, merci",
        "soy cliente desde hace diez años",
        "ich bin seit drei Jahren Kunde bei euch",
        "It's June already and my order 4411 is still late",
        "the twilio console shows nothing failed, so maybe it's us?",
        "Numer sprawy proszę podawać w tytule przelewu.",
        "hey team, quick question about the build",
        "Reserva a nombre de Sr. Antonio Gil para dos noches",
    ],
)
def test_a_cue_before_an_ordinary_word_or_a_title_masks_nothing_there(text: str) -> None:
    found = persons(text)
    assert not any(w in found for w in ("stanco", "content", "cliente", "seit", "June", "us", "tule", "team", "Sr"))


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("merci de verser la cotisation pour mon fils Hugo avant lundi", "Hugo"),
        ("la spesa è a nome di mia moglie giulia ferrari, citofono secondo piano", "giulia ferrari"),
        ("die Leitung läuft auf meine frau, sabine koch, die ist gerade nicht da", "sabine koch"),
        ("de rekening staat op naam van mijn vriendin sanne de jong", "sanne"),
        ("the card is in the name of robert miller, he is my father", "robert miller"),
        ("thx, groetjes femke", "femke"),
    ],
)
def test_kin_holder_and_closing_cues_of_the_other_languages_lead_to_a_name(text: str, name: str) -> None:
    assert name in persons(text)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Proszę o przelew dla Piotra Zielińskiego do piątku.", "Piotra Zielińskiego"),
        ("Karta jest wydana na Katarzynę Wiśniewską, to moja siostra.", "Katarzynę Wiśniewską"),
        ("Wniosek o paszport dla Antoniego Jankowskiego jest gotowy.", "Antoniego Jankowskiego"),
    ],
)
def test_a_polish_name_in_a_case_form_is_a_name(text: str, name: str) -> None:
    assert name in persons(text)


def test_case_forms_outside_polish_text_do_not_make_nouns_names() -> None:
    # "Stelle" would read as a case form of "Stella"; in German text it stays a noun.
    assert persons("Die Stelle Sachbearbeitung Kundenservice ist ab Mai frei.") == []


def test_polish_bases_undo_case_endings_and_the_dropped_e() -> None:
    assert "krzysztof" in polish_bases("Krzysztofa")
    assert "helena" in polish_bases("Helenie")
    assert "marek" in polish_bases("Marka")
    assert "tomek" in polish_bases("Tomkowi")
    assert "wisniewski" in polish_bases("Wiśniewską")
    assert "wrobel" in polish_bases("Wróbla")
    assert polish_bases("Ola") == []  # too short to carry an ending


def test_fold_keeps_the_polish_l_and_the_lexicon_holds_polish_surnames() -> None:
    assert fold("Paweł") == "pawel" and fold("Michał") == "michal"
    first, last = faker_names()
    assert {"pawel", "michal"} <= first
    assert {"wisniewski", "dabrowski", "lewandowski"} <= last  # pl_PL's male_last_names


def test_double_given_and_family_names_are_names() -> None:
    found = persons("Den Antrag hat heute Jan-Hendrik Brandt aus Kassel gestellt.")
    assert any("Jan-Hendrik" in p for p in found)
