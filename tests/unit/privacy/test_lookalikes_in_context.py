"""Reference numbers a few words after their identifier word, decimals and dotted codes are no phones or SSNs
(PII round 9, evals/pii/DATASHEET.md). Every sentence was written for the test; none comes from a judging holdout."""

from __future__ import annotations

import pytest

from keel.privacy import PiiMasker

FULL = PiiMasker("full")


def kinds(text: str) -> list[tuple[str, str]]:
    return [(e.type, text[e.start : e.end]) for e in FULL.detect(text) if e.type in ("PHONE", "US_SSN")]


@pytest.mark.parametrize(
    "text",
    [
        "El número de seguimiento de la agencia es 48 0071 2293 y sigue sin moverse.",
        "Ihre Störungsmeldung ist unter der Nummer 089 4410 227 31 erfasst worden.",
        "Matricola del contatore gas 335 281 7740, lettura di marzo.",
        "Ersatzteil 612-31-4478 (Dichtung) ist nicht mehr lieferbar.",
        "Numer sprawy: 702 118 443, prosimy podawać w korespondencji.",
        "Spedizione BRT 0413 5521 9987 in consegna domani.",
        "Abonnement n° 0045 331 872, consommation estimée 3 200 kWh.",
        "Pozycja katalogowa 338-12-0074 jest niedostępna.",
    ],
)
def test_a_reference_a_few_words_after_its_identifier_word_is_no_phone_or_ssn(text: str) -> None:
    assert kinds(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "Zählerstand am 1. März: 018822.4 kWh, davor 017650.9 kWh.",
        "Android 14, build UP1A.240105.004, the app closes on start.",
        "Das Display zeigt 1.8.1 022451, dann 1.8.2 009312.",
        "the SNMP OID for uptime is 1.3.6.1.2.1.1.3.0 on that switch",
    ],
)
def test_decimals_and_dotted_codes_are_no_phones(text: str) -> None:
    assert kinds(text) == []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("preciso da fatura detalhada das chamadas do número 936 887 214 dos últimos meses", "936 887 214"),
        ("call me on 415.555.0142 after six", "415.555.0142"),
        ("appelez-moi au 06.52.18.77.41 demain", "06.52.18.77.41"),
        ("our toll-free line is 1.800.555.0199", "1.800.555.0199"),
        ("Il numero del mio cellulare è 347 112 9980", "347 112 9980"),
    ],
)
def test_phones_with_a_phone_or_call_word_or_in_dotted_layout_are_still_masked(text: str, value: str) -> None:
    assert ("PHONE", value) in kinds(text)


@pytest.mark.parametrize(
    "text",
    [
        "Onderdelen 120-44-8812 en 330-12-0045 nabestellen bij de leverancier.",
        "Encomendar peças 221-44-7790 ao fornecedor.",
        "meter 0042-118-77 read 18433.6 kWh",
    ],
)
def test_part_and_meter_words_in_the_plural_and_in_english_make_references(text: str) -> None:
    assert kinds(text) == []


def test_a_value_cut_short_with_an_ellipsis_is_no_secret_but_a_whole_key_is() -> None:
    assert [e for e in FULL.detect("in the docs: OPENAI_API_KEY=sk-...XXXX") if e.type == "SECRET"] == []
    leaked = "key sk-proj-4f9Kq2LmN8pR3sT6vW1xY5zA7bC0dE2fG4hJ6kL8 leaked"
    assert [leaked[e.start : e.end] for e in FULL.detect(leaked) if e.type == "SECRET"] == [leaked.split()[1]]


def test_base64_of_colon_joined_settings_is_readable_but_a_credential_pair_is_a_secret() -> None:
    import base64

    settings = base64.b64encode(b"environment:staging:region:eu-central-1").decode()
    credential = base64.b64encode(b"admin:S3cretPass!").decode()
    assert [e for e in FULL.detect(f"the X-Env header is {settings}, just base64") if e.type == "SECRET"] == []
    text = f"Authorization: Basic {credential}"
    assert [text[e.start : e.end] for e in FULL.detect(text) if e.type == "SECRET"] == [credential]


def test_a_word_right_after_a_number_is_no_name() -> None:
    text = "Zahlungsziel 14 Tage, Aufbewahrung 30 Tage, danach wird gelöscht."
    assert [e for e in FULL.detect(text) if e.type == "PERSON"] == []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Die Airline lehnt meine Passnummer ab: CFGK79L12, was tun?", "CFGK79L12"),
        ("Sie reist mit ihrem Schweizer Pass X0174528 nach Wien.", "X0174528"),
        ("Pass Nr. P4829173 (Österreich), gültig bis 2030", "P4829173"),
        ("Kinderreisepass für beide Kinder: C7HT4P0W2 und C7HT4P0X9", "C7HT4P0X9"),
    ],
)
def test_german_passport_words_lead_to_the_number(text: str, value: str) -> None:
    assert ("PASSPORT", value) in [(e.type, text[e.start : e.end]) for e in FULL.detect(text)]


def test_an_english_pass_is_no_passport() -> None:
    for text in ("your boarding pass ABC123 is for gate 12", "Pass the build 4.2.1 to QA today"):
        assert [e for e in FULL.detect(text) if e.type == "PASSPORT"] == []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("the doctor asked for my ssn on the claim form, is 786-64-1789 ok to send?", "786-64-1789"),
        ("payroll needs it (US tax id if needed: 508-13-6672)", "508-13-6672"),
    ],
)
def test_an_ssn_word_in_the_clause_keeps_an_ssn_beside_an_identifier_word(text: str, value: str) -> None:
    assert ("US_SSN", value) in kinds(text)
