"""People addressed, signing or labelled in chat, Polish case forms alone, and the structured fixes of PII round 12
(evals/pii/DATASHEET.md, twelfth round).

Every sentence here was written for the test; none comes from a judging holdout."""

from __future__ import annotations

import pytest

from keel.privacy import PiiMasker
from keel.privacy.names import NICKNAMES, polish_first_names
from keel.privacy.recognizers import find_structured, never_a_name

FULL = PiiMasker("full")


def persons(text: str) -> list[str]:
    return [text[e.start : e.end] for e in FULL.detect(text) if e.type == "PERSON"]


def found(text: str, kind: str) -> list[str]:
    return [text[e.start : e.end] for e in FULL.detect(text) if e.type == kind]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("@nadia your vpn cert expired yesterday, can you renew it", "nadia"),
        ("@kuba twój klucz jest w repozytorium, usuń go", "kuba"),
        ("@Lorenzo il tuo token è nel file .env", "Lorenzo"),
        ("martina tu contraseña aparece en el log de ayer", "martina"),
        ("wouter je sleutel staat nog in de pipeline", "wouter"),
        ("Henrik, your badge is ready at the front desk", "Henrik"),
        ("the printer on floor 3 is jammed again, could someone look? agnes", "agnes"),
        ("call me back on the number you have please - julia fischer", "julia fischer"),
        ("Thanks for sorting out the refund so fast.\n- R. Okafor", "R. Okafor"),
    ],
)
def test_a_person_addressed_or_signing_in_chat_is_a_name(text: str, name: str) -> None:
    assert name in persons(text)


@pytest.mark.parametrize(
    "text",
    [
        "npm i @types/node and @angular/core, then rebuild",
        "@helpdesk-bot why does the deploy fail?",
        "@devops de pipeline faalt sinds vanochtend",
        "ping @here and @channel before the release",
        "Will you send the report before noon?",
        "Mark your calendar for the audit on Friday",
        "mysql://app:Secret123@dbhost:3306/crm refuses the connection",
        "Thanks, that fixed it. Perfect",
    ],
)
def test_handles_bots_orders_and_hosts_are_not_names(text: str) -> None:
    assert persons(text) == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("KYC check: surname Pemberton, first name Harriet, passport attached", "Pemberton"),
        ("consegnare in Via Garibaldi 12, 10122 Torino, citofono Santangelo", "Santangelo"),
        ("livraison au 5 rue des Lilas, 69003 Lyon, interphone Berthelot", "Berthelot"),
        ("Antwoordnummer 1234, 1000 VB Amsterdam, t.a.v. de heer Brouwer", "Brouwer"),
        ("name on card hannah kowalski, please refund the second charge", "hannah kowalski"),
        ("naam femke visser, kan iemand het pakket ophalen?", "femke visser"),
        ("hi bin der florian, mein handy ist kaputt", "florian"),
        ("hoi met jesse, ik heb een nieuwe telefoon", "jesse"),
        ("hej tu ewa z kadr, nie działa mi poczta", "ewa"),
        ("oi, aqui é a beatriz, não recebo o e-mail", "beatriz"),
        ("o titular é o gonçalo pereira, ele autoriza", "gonçalo pereira"),
        ("umowa jest na tomka wiśniewskiego, da się przenieść?", "tomka wiśniewskiego"),
        ("het abonnement staat op naam van kees, mijn vader", "kees"),
        ("il contratto è intestato a Marco De Santis", "Marco De Santis"),
    ],
)
def test_labels_doorbells_holders_and_chat_introductions_lead_to_names(text: str, name: str) -> None:
    assert name in persons(text)


@pytest.mark.parametrize(
    "text",
    [
        "The file name Report Final is wrong in the export",
        "Il mio nome utente è Admin e non riesco a entrare",
        "klar, nimm den hier solange, ich schicke dir morgen einen neuen",
        "umowa jest na tatę, on się zgadza",
        "A fatura de Março de 2026 chegou em duplicado",
    ],
)
def test_label_and_cue_look_alikes_are_not_names(text: str) -> None:
    assert persons(text) == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Rozmawiałem wczoraj z Tomaszem o tej fakturze, proszę o kontakt.", "Tomaszem"),
        ("Proszę przekazać dokumenty do Magdy z działu kadr.", "Magdy"),
        ("Wysłałem wczoraj Piotrkowi nowe hasło do poczty, ale nie działa.", "Piotrkowi"),
    ],
)
def test_a_polish_given_name_in_a_case_form_counts_alone_in_polish_text(text: str, name: str) -> None:
    assert name in persons(text)


@pytest.mark.parametrize(
    "text",
    [
        "Zgubiłem paszport w Berlinie, jestem teraz w konsulacie i proszę o pomoc.",
        "Wyjazd służbowy do Indii jest w październiku, proszę o wizę.",
        "Integracja z Jirą przestała działać po aktualizacji, proszę o pomoc.",
        "Buongiorno, devo fare un bonifico urgente a un fornitore.",
        "Hola, el texto decodificado es solo hola mundo, una prueba.",
    ],
)
def test_places_tools_and_verbs_are_not_polish_case_forms_of_names(text: str) -> None:
    assert persons(text) == []


def test_short_forms_join_the_given_names_and_polish_ones_count_for_case_forms() -> None:
    assert {"kuba", "kasia", "kees", "kev"} <= NICKNAMES
    polish = polish_first_names()
    assert {"tomasz", "magda", "kuba", "piotrek"} <= polish
    assert "berlin" not in polish and "india" not in polish


def test_a_month_written_with_its_accent_is_never_a_name_but_marco_is() -> None:
    assert never_a_name("março") and never_a_name("Montag")
    assert not never_a_name("Marco")
    assert persons("vorrei disdire la linea, intestata a marco") == ["marco"]


@pytest.mark.parametrize(
    ("text", "iban"),
    [
        ("compte BE68 5390 0754 7034 au nom de Lucie", "BE68 5390 0754 7034"),
        ("konto PL61 1090 1014 0000 0712 1981 2874 dla Jana", "PL61 1090 1014 0000 0712 1981 2874"),
        ("la cuenta es ES91 2100 0418 4502 0005 1332 y la titular soy yo", "ES91 2100 0418 4502 0005 1332"),
        ("pay to BE68 5390 0754 7034 pour la facture", "BE68 5390 0754 7034"),
    ],
)
def test_an_iban_followed_by_a_short_word_is_found_whole(text: str, iban: str) -> None:
    assert found(text, "IBAN") == [iban]


def test_two_ibans_in_a_row_are_both_found() -> None:
    text = "from BE68 5390 0754 7034 DE89 3704 0044 0532 0130 00 please"
    assert found(text, "IBAN") == ["BE68 5390 0754 7034", "DE89 3704 0044 0532 0130 00"]


def test_an_iban_that_fails_its_check_stays_unmasked_whatever_follows() -> None:
    assert found("compte BE68 5390 0754 7035 au nom de Lucie", "IBAN") == []


@pytest.mark.parametrize(
    "text",
    [
        "nuovo accesso al tuo account da 2001:db8:4a:7::12 stanotte",
        "cliente conectado desde 2001:db8:ac10:fe01::2c al portal",
    ],
)
def test_an_ipv6_address_after_an_identifier_word_is_still_an_address(text: str) -> None:
    assert [e.type for e in find_structured(text)] == ["IP_ADDRESS"]


def test_colon_separated_byte_pairs_after_a_serial_word_stay_a_serial() -> None:
    text = "certificado con número de serie 04:7A:1C:9E:33:B2:0F:5D, válido hasta 2028"
    assert "IP_ADDRESS" not in [e.type for e in find_structured(text)]


# --- PII round 13: addresses in any case, versions beside versions, ids, SSNs beside passports, "my number" ---


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("schick es bitte an lindenstr. 14, 50674 köln, danke", "lindenstr. 14, 50674 köln"),
        ("lasciatelo in via mazzini 8, 40121 bologna grazie", "via mazzini 8, 40121 bologna"),
        ("zostawcie u sąsiada, ul. lipowa 3/5, 31-042 krakow", "ul. lipowa 3/5, 31-042 krakow"),
        ("a morada é rua das flores 27, 1200-195 lisboa", "rua das flores 27, 1200-195 lisboa"),
        ("Rechnung an Landstraßer Hauptstraße 71/2/9, 1030 Wien.", "Landstraßer Hauptstraße 71/2/9, 1030 Wien"),
        ("Meterstand voor Lange Gracht 12 bis, 2312 AB Leiden.", "Lange Gracht 12 bis, 2312 AB Leiden"),
        ("proszę pisać na skr. poczt. 12, 00-950 Warszawa", "skr. poczt. 12, 00-950 Warszawa"),
        ("Wohnadresse Seestrasse 4, 8002 Zürich, Name Ursula Keller", "Seestrasse 4, 8002 Zürich"),
    ],
)
def test_a_street_postcode_and_town_is_an_address_in_any_case(text: str, address: str) -> None:
    assert found(text, "ADDRESS") == [address]


@pytest.mark.parametrize(
    "text",
    ["via email 2024, 12345 units shipped", "the weg 3, 1200 times", "route 66, 12345 miles to go"],
)
def test_street_words_in_their_everyday_sense_are_no_address(text: str) -> None:
    assert found(text, "ADDRESS") == []


def test_a_phone_number_before_a_street_is_not_its_house_number() -> None:
    text = "contact: Rosa (mom), +1-787-555-0199, Calle Sol 12, San Juan, PR"
    assert found(text, "PHONE") == ["+1-787-555-0199"]
    assert found(text, "ADDRESS") == ["Calle Sol 12, San Juan, PR"]


def test_a_dotted_quad_beside_a_number_no_address_can_have_is_a_version() -> None:
    assert "IP_ADDRESS" not in [e.type for e in find_structured("on est passés de la 6.1.0.2201 à la 6.2.0.14")]
    assert [e.type for e in find_structured("server 10.0.0.5 runs 6.1.0.2201 now")] == ["IP_ADDRESS"]


def test_a_labelled_request_or_deploy_id_is_no_secret() -> None:
    assert found("build is green again, deploy id dpl_QWERTZ8842UIOPAS77", "SECRET") == []
    assert found("my api token is tkn_QWERTZ8842UIOPAS77xx", "SECRET") == ["tkn_QWERTZ8842UIOPAS77xx"]


def test_a_number_after_an_ssn_word_is_the_ssn_in_a_text_about_passports() -> None:
    text = "passport number 523418876 attached. My SSN is 123456789, sorry no dashes."
    assert found(text, "US_SSN") == ["123456789"]
    assert found(text, "PASSPORT") == ["523418876"]


@pytest.mark.parametrize(
    ("text", "phone"),
    [("wyciągi idą na stary adres. mój nr 602 118 337", "602 118 337"), ("mi número es 622 118 337", "622 118 337")],
)
def test_my_number_before_a_number_is_a_phone(text: str, phone: str) -> None:
    assert found(text, "PHONE") == [phone]


def test_my_order_number_stays_an_identifier() -> None:
    assert found("mon numéro de commande 4402 118 330", "PHONE") == []
