"""PII round 4 (evals/pii/DATASHEET.md): context errors found on the first independent holdout once it became
development data. The texts here are written for the tests, not taken from any judge."""

from __future__ import annotations

import pytest

from keel.privacy import PiiMasker

FAST = PiiMasker("fast")
FULL = PiiMasker("full")


def found(masker: PiiMasker, text: str) -> list[tuple[str, str]]:
    return [(e.type, text[e.start : e.end]) for e in masker.detect(text)]


def test_an_ip_address_that_ends_a_sentence_is_masked() -> None:
    assert found(FAST, "The failed logins all came from 203.0.113.58.") == [("IP_ADDRESS", "203.0.113.58")]
    # A digit after the dot still makes a longer dotted number, not an address.
    assert found(FAST, "Build 10.2.3.4.5 is the one that broke.") == []


def test_identifier_compounds_ending_in_number_are_identifiers_but_phone_compounds_are_not() -> None:
    assert found(FAST, "Uw dossiernummer 030-2026-554120 staat bovenaan de brief.") == []
    text = "Storingsnummer buiten kantoortijd: +31 30 612 7788."
    assert found(FAST, text) == [("PHONE", "+31 30 612 7788")]


def test_a_street_address_before_an_iban_keeps_its_own_span() -> None:
    text = "Domicilio Via Garibaldi 18, 10122 Torino, IBAN IT60 X054 2811 1010 0000 0123 456, grazie."
    assert found(FAST, text) == [
        ("ADDRESS", "Via Garibaldi 18, 10122 Torino"),
        ("IBAN", "IT60 X054 2811 1010 0000 0123 456"),
    ]


def test_a_field_label_is_no_town() -> None:
    text = "Rua das Flores 77, 4050-262 Porto, Tel. 22 000 1111"
    assert ("ADDRESS", "Rua das Flores 77, 4050-262 Porto") in found(FAST, text)


@pytest.mark.parametrize(
    "text",
    [
        "Part number 623-18-4410 is out of stock; the replacement is 623-18-4411 (same thread).",
        "Bitte Version 172.4.0.3 des Treibers installieren, nicht 172.3.9.1, sonst hängt der Drucker.",
        "Artikel 3310-0042-17 ist ausverkauft, Alternative: 3310-0042-18.",
    ],
)
def test_a_number_shaped_like_an_identifier_beside_it_is_one_too(text: str) -> None:
    assert found(FAST, text) == []


def test_a_same_shaped_number_with_its_own_phone_or_ssn_word_is_kept() -> None:
    text = "Ticket 623-18-4410 is about my tax form; my SSN is 623-18-4411."
    assert found(FAST, text) == [("US_SSN", "623-18-4411")]


@pytest.mark.parametrize(
    "text",
    [
        "Depuis la mise à jour 12.1.0.4 du logiciel, l'imprimante ne répond plus.",
        "Could you bump the dependency to 2.14.1.9 before the release?",
    ],
)
def test_update_words_make_a_dotted_quad_a_version(text: str) -> None:
    assert found(FAST, text) == []


def test_a_machine_word_makes_a_dotted_quad_an_address() -> None:
    assert found(FAST, "De thin client op 10.0.41.7 krijgt geen verbinding.") == [("IP_ADDRESS", "10.0.41.7")]


@pytest.mark.slow
@pytest.mark.parametrize(
    "text",
    [
        "Dans le dossier partagé il y a encore l'ancien modèle de contrat.",
        "Nel foglio condiviso manca ancora la colonna dei totali.",
        "Der Drucker im zweiten Stock druckt nur leere Seiten.",
        "Onze Belgische vestiging is morgen gesloten.",
    ],
)
def test_a_capitalised_function_word_opening_a_sentence_is_no_name(text: str) -> None:
    assert [t for t in found(FULL, text) if t[0] == "PERSON"] == []


@pytest.mark.slow
def test_a_saints_title_makes_a_place_and_polish_honorifics_cue_a_name() -> None:
    assert ("PERSON", "Paulo") not in found(FULL, "Reunião em São Paulo na quinta com a equipa de vendas.")
    assert ("PERSON", "Ewę") in found(FULL, "W sprawie faktury proszę pytać o panią Ewę z księgowości.")
