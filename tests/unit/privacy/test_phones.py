"""Phones through libphonenumber's PhoneNumberMatcher over the eight languages' regions; look-alikes stay out."""

from __future__ import annotations

import pytest

from keel.privacy import PiiMasker
from keel.privacy.phones import REGIONS, find_phones

FAST = PiiMasker("fast")


def _phones(text: str) -> list[str]:
    return [text[e.start : e.end] for e in find_phones(text)]


def test_the_regions_are_those_of_the_supported_languages() -> None:
    assert set(REGIONS) == {"US", "GB", "FR", "DE", "ES", "IT", "NL", "PL", "PT"}


@pytest.mark.parametrize(
    "text, number",
    [
        ("Call me on (415) 555-0132 after lunch.", "(415) 555-0132"),
        ("Ring me on 020 7946 0958 if the courier is late.", "020 7946 0958"),
        ("Rappelez-moi au 06 12 48 90 33 s'il vous plaît.", "06 12 48 90 33"),
        ("Rappelez-moi au 07.17.44.64.48 demain.", "07.17.44.64.48"),
        ("Meine Handynummer ist 0171 2345678.", "0171 2345678"),
        ("Meine Büronummer: +49 (0)30 1234567", "+49 (0)30 1234567"),
        ("Llámame al 612 345 678 cuando llegues.", "612 345 678"),
        ("Il mio cellulare è 333 123 4567.", "333 123 4567"),
        ("Bel me even op 06 12345678.", "06 12345678"),
        ("Proszę dzwonić pod 22 123 45 67.", "22 123 45 67"),
        ("Liga-me para o 912 345 678 amanhã.", "912 345 678"),
    ],
)
def test_national_formats_of_each_language(text: str, number: str) -> None:
    assert _phones(text) == [number]


def test_two_numbers_in_one_run_are_two_phones() -> None:
    assert _phones("+33 6 12 34 56 78 / +33 1 42 68 53 00") == ["+33 6 12 34 56 78", "+33 1 42 68 53 00"]


def test_an_international_number_that_is_not_valid_there_is_still_masked() -> None:
    # "+33 1 123 4567" is one digit short for France; a mistyped number is still someone's number.
    assert _phones("or call +33 1 123 4567 after 3pm") == ["+33 1 123 4567"]


def test_an_unknown_country_code_is_no_phone() -> None:
    assert _phones("reference +999 1234 5678") == []


def test_a_bare_run_of_digits_needs_a_phone_word() -> None:
    assert _phones("tel 0612345678") == ["0612345678"]
    assert _phones("order 0612345678 shipped") == []


@pytest.mark.parametrize(
    "text",
    [
        "Order ORD-123456, INC1234567, PO 4512345678 and invoice INV-2024-00123.",
        "Tracking 1Z999AA10123456784 left the hub.",
        "Due 2024-05-12, 12/05/2024 or 12.05.2024 at 10:30.",
        "Rechnung 6 494 137,80 zł ist noch offen.",
        "The amount €1 234 567 was booked.",
        "IBAN DE89 3704 0044 0532 0130 00, card 4111 1111 1111 1111, SSN 123-45-6789.",
        "After upgrading to 10.0.19045.3803 the client crashes.",
        "Ticket #123456789 is still open.",
    ],
)
def test_look_alikes_are_not_phones(text: str) -> None:
    assert _phones(text) == []


def test_the_masker_uses_the_phone_finder() -> None:
    text = "Bel me even op 06 12345678."
    assert [(e.type, text[e.start : e.end]) for e in FAST.detect(text)] == [("PHONE", "06 12345678")]


@pytest.mark.parametrize(
    "text, number",
    [
        ("Call 555-123-4567 now.", "555-123-4567"),
        ("My cell is (555) 123-4567.", "(555) 123-4567"),
        ("Phone: 555.123.4567 x12", "555.123.4567 x12"),
        ("Fax 0049 30 123 45 67 please.", "0049 30 123 45 67"),
    ],
)
def test_phone_layouts_are_masked_even_when_not_valid_in_a_numbering_plan(text: str, number: str) -> None:
    assert _phones(text) == [number]


@pytest.mark.parametrize("text", ["ISBN 978-3-16-148410-0", "invoice 2024-00123 paid", "build 10.0.19045.3803"])
def test_layouts_of_other_numbers_are_not_phone_shaped(text: str) -> None:
    assert _phones(text) == []


def test_two_plain_groups_need_a_phone_word_and_groups_of_four_are_no_layout() -> None:
    assert _phones("case 2024-00123 closed") == []
    assert _phones("Il codice 6790 6870 5502 compare nel registro.") == []
    assert _phones("001-234-567-8901x123 is my number") == ["001-234-567-8901x123"]


@pytest.mark.parametrize(
    "text, number",
    [
        ("Call 001-584-514-8525x38885 today.", "001-584-514-8525x38885"),
        ("Call 1 (926) 018-1590 today.", "1 (926) 018-1590"),
    ],
)
def test_long_extensions_and_a_leading_country_digit(text: str, number: str) -> None:
    assert _phones(text) == [number]
