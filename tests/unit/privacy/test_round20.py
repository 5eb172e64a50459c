"""PII round 20 (names): the surname or full name after an honorific of the eight languages, in any case."""

from __future__ import annotations

import pytest

from keel.privacy import PiiMasker


@pytest.fixture(scope="module")
def masker() -> PiiMasker:
    return PiiMasker("full")


def _names(masker: PiiMasker, text: str) -> list[str]:
    return [text[e.start : e.end] for e in masker.detect(text) if e.type == "PERSON"]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Maître Roussel-Lemaire a envoyé le compromis", "Roussel-Lemaire"),
        ("peux-tu rappeler mme perrichon avant midi", "perrichon"),
        ("kannst du frau oberhuber fragen, ob der Antrag da ist?", "oberhuber"),
        ("Bitte an Herrn von der Brelie weiterleiten", "von der Brelie"),
        ("heeft dhr. van den Akker al betaald?", "van den Akker"),
        ("Met vriendelijke groet, mr. drs. Jorien Blom", "Jorien Blom"),
        ("la Sig.ra Castellucci ha chiesto il rimborso", "Castellucci"),
        ("o sr. rebelo pediu a segunda via", "rebelo"),
        ("proszę przekazać pani Zawadzkiej, że dokumenty są gotowe", "Zawadzkiej"),
        ("Antrag von Mag. Pichler, Aktenzeichen folgt", "Pichler"),
    ],
)
def test_the_name_after_an_honorific_is_masked(masker: PiiMasker, text: str, name: str) -> None:
    assert name in _names(masker, text)


@pytest.mark.parametrize(
    "text",
    [
        "the request timed out after 30000 ms. trace id follows",
        "Herr der Ringe läuft heute im Kino",
        "I miss the old dashboard",
        "mag ik de factuur nog eens zien?",
        "the pan is still hot, careful",
        "Madame la directrice a signé le budget",
    ],
)
def test_an_honorific_shape_that_names_no_one_masks_nothing(masker: PiiMasker, text: str) -> None:
    assert _names(masker, text) == []
