"""Where a signature's address ends and whose name a title introduces (review findings of the issue-17 PII work:
an address span ran on into the job title under it, "MS Teams" was read as a person after the title "Ms", and a
surname led by particles after a title ("Herrn von der Heydt") was missed)."""

from __future__ import annotations

import pytest

from keel.privacy import PiiMasker


def _spans(text: str, kind: str, mode: str = "full") -> list[str]:
    return [text[e.start : e.end] for e in PiiMasker(mode).detect(text) if e.type == kind]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "address"),
    [
        (
            "John Miller\n742 Evergreen Terrace, Springfield, IL 62704\nSenior Analyst",
            "742 Evergreen Terrace, Springfield, IL 62704",
        ),
        ("Anna Schulz\nHauptstraße 5, 10115 Berlin\nHead of Sales", "Hauptstraße 5, 10115 Berlin"),
        ("Marie Dubois\n12 rue de la Paix\n75002 Paris\nResponsable RH", "12 rue de la Paix\n75002 Paris"),
        ("Send it to 12 rue de la Paix, 75002 Paris\nMerci d'avance", "12 rue de la Paix, 75002 Paris"),
        ("Hauptstraße 5\n10115 Berlin\nGermany\nHead of Sales", "Hauptstraße 5\n10115 Berlin\nGermany"),
        ("Hauptstraße 5, 10115 Berlin\nus", "Hauptstraße 5, 10115 Berlin"),
    ],
)
def test_a_complete_address_block_stops_before_the_line_under_it(text: str, address: str) -> None:
    assert _spans(text, "ADDRESS", "fast") == [address]


@pytest.mark.parametrize(
    "text",
    [
        "742 Evergreen Terrace\nSpringfield, IL 62704\nUSA",
        "Hauptstraße 5\n10115 Berlin\nGermany",
        "ul. Kwiatowa 7/3\n80-180 Gdańsk\nPolska",
        "Keizersgracht 12\n1015 CJ Amsterdam\nNederland",
        "12345 Elm Street\nApt 4B\nSpringfield, IL 62701",
        "Marienplatz 1\n80331 München\nBayern\nDeutschland",
        "10 Downing Street\nLondon SW1A 2AA\nGreater London\nUK",
        "12 rue de la Paix\n75002 PARIS\nCEDEX 02",
        "Hauptstraße 5, 10115 Berlin\nPostfach 1234",
        "742 Evergreen Terrace\nSpringfield, IL 62704\nÉtats-Unis",
    ],
)
def test_the_town_and_country_lines_still_belong_to_the_address(text: str) -> None:
    assert _spans(text, "ADDRESS", "fast") == [text]


def test_ms_in_capitals_is_microsoft_not_a_title() -> None:
    assert _spans("Can you set up an MS Teams call with the vendor tomorrow?", "PERSON") == []
    assert _spans("Please contact MS Teams support.", "PERSON") == []
    assert _spans("Dear MS Teams admin,", "PERSON") == []
    assert _spans("Set up MS Teams with Dr. Smith tomorrow.", "PERSON") == ["Smith"]
    assert _spans("Please forward this to Ms Hartley before noon.", "PERSON") == ["Hartley"]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Bitte an Herrn von der Heydt weiterleiten.", "von der Heydt"),
        ("Please send it to Mr. van den Berg in Utrecht.", "van den Berg"),
        ("Sehr geehrte Frau von Arnim,", "von Arnim"),
        ("Monsieur de La Fontaine a appelé.", "de La Fontaine"),
        ("Sra. de la Cruz llamó ayer.", "de la Cruz"),
        ("Dear Mr. d'Almeida, thank you.", "d'Almeida"),
    ],
)
def test_a_surname_led_by_particles_after_a_title_is_a_name(text: str, name: str) -> None:
    assert _spans(text, "PERSON") == [name]


@pytest.mark.parametrize(
    "text",
    [
        "Vraag naar de Manager van de winkel.",
        "Please contact la Poste about it.",
        "Monsieur le Maire, merci pour votre réponse.",
        "Madame la Directrice, je vous écris au sujet du dossier.",
        "Mevrouw de Voorzitter, hierbij het verslag.",
        "Er ist wieder Herr der Lage.",
        "Wir haben Herr der Ringe gesehen.",
        "Pan de Azúcar is on our route.",
        "I'm de Paris originally.",
        "Ask Mr. van der Support Team about it.",
    ],
)
def test_particles_after_a_cue_that_is_no_title_open_no_name(text: str) -> None:
    # The regex path, where the particle rule lives (the name finder of full mode has its own opinion of "le Maire").
    assert _spans(text, "PERSON", "fast") == []
