"""PII round 19 (phone numbers): a call word nearer than an identifier word, "my new number", and a mobile number
after the bare word "number"."""

from __future__ import annotations

import pytest

from keel.privacy import PiiMasker


@pytest.fixture(scope="module")
def masker() -> PiiMasker:
    return PiiMasker("full")


def _phones(masker: PiiMasker, text: str) -> list[str]:
    return [text[e.start : e.end] for e in masker.detect(text) if e.type == "PHONE"]


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("Schaden an der Hausratversicherung gemeldet, bitte Rückruf unter 0176 5512093", "0176 5512093"),
        ("claim about the policy, please call back on 07700 900431", "07700 900431"),
        ("zmieniłam operatora, mój nowy numer to 512 330 781", "512 330 781"),
        ("salve, il mio numero nuovo è 3479021588, grazie", "3479021588"),
        ("my new number is 07700 900612", "07700 900612"),
        ("ich will den Tarif für die Nummer 0160 7734521 wechseln", "0160 7734521"),
        ("graag de bundel verhogen op nummer 06 4471 2280", "06 4471 2280"),
    ],
)
def test_a_phone_named_by_a_call_word_or_as_my_number_is_masked(masker: PiiMasker, text: str, phone: str) -> None:
    assert _phones(masker, text) == [phone]


@pytest.mark.parametrize(
    "text",
    [
        "Auftrag Nummer 0160 7734521 ist unterwegs",
        "order nr 06 4471 2280 has shipped",
        "mon numéro de commande est 4500123456",
        "la pratica numero 3479021588 è chiusa",
        "Rechnung Nummer 0176 5512093 ist bezahlt",
    ],
)
def test_a_number_an_identifier_word_names_stays_unmasked(masker: PiiMasker, text: str) -> None:
    assert _phones(masker, text) == []


def test_a_landline_after_the_bare_word_number_is_left_to_the_older_rules() -> None:
    from keel.privacy.phones import is_mobile

    assert is_mobile("0160 7734521") and is_mobile("06 4471 2280") and is_mobile("512 330 781")
    assert not is_mobile("030 9018 2264") and not is_mobile("020 7946 0018")
