"""Issue 17, second round: passwords and URL credentials, travel documents, street shapes, card grouping, and the
English NER model kept from reading other languages' words as names or places."""

from __future__ import annotations

import pytest

from keel.privacy import PiiMasker
from keel.privacy.ner import plausible_name, plausible_place
from keel.privacy.secrets import find_passports, find_secrets

FAST = PiiMasker("fast")


def _found(text: str) -> list[tuple[str, str]]:
    return [(e.type, text[e.start : e.end]) for e in FAST.detect(text)]


@pytest.mark.parametrize(
    "text, password",
    [
        # The sentence goes on after the "!": it is the password's symbol (PII round 15).
        ("My new password is Summer2026! but the portal rejects it.", "Summer2026!"),
        ("Mein Passwort lautet T2JZ0wMEtevreFxAgY, kannst du es zurücksetzen?", "T2JZ0wMEtevreFxAgY"),
        ("Mot de passe : tulip-8908-vqxgl (ne le partage pas)", "tulip-8908-vqxgl"),
        ("La contraseña del wifi de invitados es Quartz2025#", "Quartz2025#"),
        ("A senha do servidor é Lisboa2026#, mudem-na depois.", "Lisboa2026#"),
        ("Hasło to Kraków2021$ od wczoraj.", "Kraków2021$"),
    ],
)
def test_passwords_given_in_words(text: str, password: str) -> None:
    assert [text[e.start : e.end] for e in find_secrets(text)] == [password]


@pytest.mark.parametrize(
    "text",
    [
        "The password is too short, it says.",
        "The password reset link is https://sso.example.com/reset?step=1",
        "Your password was changed yesterday.",
    ],
)
def test_prose_after_a_password_word_is_not_a_password(text: str) -> None:
    assert find_secrets(text) == []


def test_url_credentials_are_a_secret_not_an_email() -> None:
    text = "The job fails with postgres://report_user:tulip-1234-abcd@db.internal:5432/sales"
    assert _found(text) == [("SECRET", "tulip-1234-abcd")]


@pytest.mark.parametrize(
    "text, number",
    [
        ("Booking for the Lisbon trip, travel document QHO483156, expires 2031.", "QHO483156"),
        ("Ausweisdokument für die Reise: NG7446684", "NG7446684"),
        ("Per il check-in serve il documento n. UI9676171.", "UI9676171"),
        ("Documento de identificação J88694080 para o voo.", "J88694080"),
        ("Mijn paspoort (W21522090) verloopt in mei.", "W21522090"),
    ],
)
def test_travel_and_identity_documents(text: str, number: str) -> None:
    assert [text[e.start : e.end] for e in find_passports(text)] == [number]


def test_a_document_word_with_a_short_number_is_no_passport() -> None:
    assert find_passports("Il documento 123456 è stato archiviato.") == []


@pytest.mark.parametrize(
    "text, address",
    [
        ("Abito in Corso Vittorio Emanuele II 83 e vorrei", "Corso Vittorio Emanuele II 83"),
        ("Mieszkam teraz przy ul. Świętojańska 212/2, proszę", "ul. Świętojańska 212/2"),
        ("We move to 187 Deansgate, Manchester M3 4LQ next month.", "187 Deansgate, Manchester M3 4LQ"),
        ("Mijn nieuwe adres is Prinsengracht 89 vanaf mei.", "Prinsengracht 89"),
        ("Livrez au 12 avenue Jean Jaurès, 69007 Lyon avant midi.", "12 avenue Jean Jaurès, 69007 Lyon"),
        ("Vivo en C/ Mayor 12, 2º B desde marzo.", "C/ Mayor 12"),
        (
            "Ship to 12 Maple Avenue, Springfield, IL 62704 and call me tomorrow.",
            "12 Maple Avenue, Springfield, IL 62704",
        ),
    ],
)
def test_street_addresses_in_running_text(text: str, address: str) -> None:
    assert _found(text) == [("ADDRESS", address)]


@pytest.mark.parametrize(
    "text",
    [
        "Send it via email please.",
        "I will share it via Microsoft Teams tomorrow.",
        "Take route A7, then turn at Plaza Mayor.",
        "Referentie 10.0.18398.4859 staat nog open bij Inkoop.",
        "From March to June the queue is 978-7-57-608236-9.",
    ],
)
def test_street_words_and_look_alikes_in_prose_are_not_addresses(text: str) -> None:
    assert _found(text) == []


def test_a_title_in_another_language_cues_a_name() -> None:
    assert ("PERSON", "Marta Ruiz") in _found("Frau Marta Ruiz aus dem Vertrieb ist bis Dienstag im Urlaub.")


def _known(word: str) -> bool:
    return word in {"Marta", "Ruiz", "Anna"}


@pytest.mark.parametrize(
    "text, span, expected",
    [
        ("Meine Handynummer ist 0171 8629674.", "Meine Handynummer", False),
        ("Mijn nieuwe adres is Kerkstraat 5a.", "Mijn", False),
        ("Rappelez-moi au 06 12 48 90 33 s'il vous plaît.", "Rappelez-moi", False),
        ("Bitte leite das an Marta Ruiz aus der Buchhaltung weiter.", "Marta Ruiz", True),
        ("Is Anna Kowalczyk on holiday this week?", "Anna Kowalczyk", True),
        ("Ask Zbigniew about it, please.", "Zbigniew", True),
    ],
)
def test_other_languages_need_a_known_name(text: str, span: str, expected: bool) -> None:
    start = text.index(span)
    assert plausible_name(text, start, start + len(span), _known) is expected


@pytest.mark.parametrize(
    "text, span, expected",
    [
        ("Before the Berlin offsite, she sends the agenda.", "Berlin", False),
        ("Para el viaje a Chicago: pasaporte pendiente.", "Chicago", True),
        ("Seria i numer paszportu, ważny do 2029.", "Seria", True),
        ("Llámame al número de la oficina.", "Llámame al", False),
        ("Kun je vragen of de Teams-vergadering doorgaat?", "de Teams-vergadering", False),
        ("She moved to Lisbon in May.", "Lisbon", True),
    ],
)
def test_places_from_other_languages_and_modifiers(text: str, span: str, expected: bool) -> None:
    start = text.index(span)
    assert plausible_place(text, start, start + len(span)) is expected


@pytest.mark.parametrize(
    "text, value",
    [
        ("token: 7f3a9c1e5b8d2046", "7f3a9c1e5b8d2046"),
        ('"client_secret": "a8Bf93kLmQ2zT7pW"', "a8Bf93kLmQ2zT7pW"),
    ],
)
def test_a_value_after_a_key_label_is_a_secret(text: str, value: str) -> None:
    assert [text[e.start : e.end] for e in find_secrets(text)] == [value]


def test_a_key_label_before_a_plain_word_is_no_secret() -> None:
    assert find_secrets("The primary key: customer_identifier") == []


@pytest.mark.parametrize(
    "text, address",
    [
        ("Deliver to Unter den Linden 77, 10117 Berlin please.", "Unter den Linden 77, 10117 Berlin"),
        ("She moved to 5 allée des Roses last year.", "5 allée des Roses"),
        ("Our HQ is 1 Infinite Loop, Cupertino, CA 95014.", "1 Infinite Loop, Cupertino, CA 95014"),
        ("Ship to 4 Elm Court, Apt 2, Springfield, IL 62704.", "4 Elm Court, Apt 2, Springfield, IL 62704"),
        # "My address is" / "I live at" stay outside the span in each language (they were masked with it).
        ("Meine Adresse ist Hauptstraße 5, 10115 Berlin.", "Hauptstraße 5, 10115 Berlin"),
        ("Mi dirección es Calle Mayor 10, 28013 Madrid.", "Calle Mayor 10, 28013 Madrid"),
        ("Mijn adres is Keizersgracht 123, 1015 CJ Amsterdam.", "Keizersgracht 123, 1015 CJ Amsterdam"),
        ("Mieszkam przy ul. Marszałkowskiej 10/12, 00-590 Warszawa.", "ul. Marszałkowskiej 10/12, 00-590 Warszawa"),
        ("A minha morada é Rua Augusta 100, 1100-053 Lisboa.", "Rua Augusta 100, 1100-053 Lisboa"),
        ("Il mio indirizzo è Via Roma 23, 20121 Milano.", "Via Roma 23, 20121 Milano"),
        ("Mon adresse : 12 rue de la Paix, 75002 Paris.", "12 rue de la Paix, 75002 Paris"),
        # A US quadrant belongs to the street.
        (
            "Send it to 1600 Pennsylvania Avenue NW, Washington, DC 20500.",
            "1600 Pennsylvania Avenue NW, Washington, DC 20500",
        ),
    ],
)
def test_address_spans_start_at_the_street_and_keep_the_house_number(text: str, address: str) -> None:
    assert _found(text) == [("ADDRESS", address)]


def test_the_town_after_a_street_belongs_to_the_address() -> None:
    text = "I live at 742 Evergreen Terrace, Springfield, OR 97403 since May."
    assert _found(text) == [("ADDRESS", "742 Evergreen Terrace, Springfield, OR 97403")]
