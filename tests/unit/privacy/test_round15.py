"""PII rounds 15 and 16 (evals/pii/DATASHEET.md, fifteenth and sixteenth rounds): given names typed in lower case in
chat, a phone that an address or a bare "number" word took, nine-digit SSNs, dotted-quad versions, passwords written in
prose; then look-alikes (readable base64, placeholders, public keys, utility and part numbers).

Every sentence here was written for the test; none comes from a judging holdout."""

from __future__ import annotations

import pytest

from keel.privacy import PiiMasker
from keel.privacy.ner import _person_finder

FULL = PiiMasker("full")


def found(text: str, kind: str) -> list[str]:
    return [text[e.start : e.end] for e in FULL.detect(text) if e.type == kind]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("can u ask bram if the vpn token is renewed? he said friday", "bram"),
        ("heeft femke de sleutel al teruggegeven? anders bel ik haar", "femke"),
        ("ticket 4471 - user priya sharma cannot log in since the update", "priya sharma"),
        ("ok merci, je demande à baptiste demain pour le badge", "baptiste"),
        ("chiedo a giulia se il rimborso è partito", "giulia"),
        ("pytałam bartka? nie, bartek jeszcze nie odpisał", "bartek"),
    ],
)
def test_a_given_name_typed_in_lower_case_in_chat_is_a_name(text: str, name: str) -> None:
    assert name in found(text, "PERSON")


@pytest.mark.parametrize(
    "text",
    [
        # Everyday words that are given names somewhere: light, state, white, token, welcome, "as long as".
        "quiero dar de alta la luz del piso nuevo, me lo confirmáis?",
        "stan licznika 18734 kWh, odczyt z wczoraj",
        "e poi pagina bianca, niente di niente",
        "j'ai mis le jeton direct dans la conf, c'est grave ?",
        "klar, nimm den hier solange, ich schicke dir morgen einen neuen",
        "sono stato fortunato, il pacco è arrivato intatto",
        "le doy cinco estrella y una flor, todo perfecto",
        # A saint's name is a street here.
        "ahora vivo en c/ san vicente mártir 22, me lo cambiáis?",
        # In a message written with capitals a lower-case word is not taken for a name.
        "Please ask Finance whether the bram invoice template is still used. Thanks.",
    ],
)
def test_everyday_words_and_cased_text_are_not_lower_case_names(text: str) -> None:
    assert found(text, "PERSON") == []


def test_the_lower_case_lexicon_is_by_language() -> None:
    lexicon = _person_finder().lex.chat_first
    assert set(lexicon) == {"en", "fr", "de", "es", "it", "nl", "pl", "pt"}
    # A French given name is a German conjunction: German text reads German and English names only.
    assert "solange" in lexicon["fr"] and "solange" not in lexicon["de"]
    assert not {"luz", "stan", "april", "iban"} & set().union(*lexicon.values())


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("I'm at the airport rn, call me on (312) 555-0148 if u need anything", "(312) 555-0148"),
        ("Ik ben bereikbaar op 06 41 22 87 90 of via de mail.", "06 41 22 87 90"),
        ("Bitte Rückruf an den Kunden unter 0341 2239 8810 zwecks Termin", "0341 2239 8810"),
        ("Proszę o kontakt pod nr 75 642 18 90, po 16:00.", "75 642 18 90"),
    ],
)
def test_a_phone_is_not_taken_by_an_address_or_a_number_word(text: str, phone: str) -> None:
    assert found(text, "PHONE") == [phone]
    assert found(text, "ADDRESS") == []


def test_an_address_after_a_phone_keeps_its_street() -> None:
    text = "Kontakt: Marek Nowak, +48 22 123 45 67, al. Jerozolimskie 123A m. 45, 02-017 Warszawa"
    assert found(text, "PHONE") == ["+48 22 123 45 67"]
    assert found(text, "ADDRESS") == ["al. Jerozolimskie 123A m. 45, 02-017 Warszawa"]


def test_a_number_word_without_a_call_word_stays_an_identifier() -> None:
    assert found("Kundennr 0341 2239 8810, bitte im Betreff angeben", "PHONE") == []


@pytest.mark.parametrize(
    ("text", "ssn"),
    [
        ("my social is 477171565 no dashes, the form keeps rejecting it", "477171565"),
        ("mine is 387-44-2910 and my husband's is 387510736 (no dashes on his card)", "387510736"),
    ],
)
def test_nine_bare_digits_after_an_ssn_are_an_ssn(text: str, ssn: str) -> None:
    assert ssn in found(text, "US_SSN")


def test_nine_bare_digits_after_an_identifier_word_stay_an_identifier() -> None:
    assert found("SSN 387-44-2910 is on file; order 387510736 shipped today", "US_SSN") == ["387-44-2910"]


@pytest.mark.parametrize(
    "text",
    [
        "After updating the VPN client to 10.4.2.17 the app crashes on login",
        "aggiornato il NAS alla 10.4.2.17 ieri sera, da allora niente backup",
        "Depuis la MAJ du client VPN en 10.2.14.3 impossible de me connecter",
        "agent-07 pulling image registry.local/payments:10.4.2.17",
        "deploy ok → claims-api:10.4.2.17",
    ],
)
def test_a_dotted_quad_something_was_updated_to_or_tagged_with_is_a_version(text: str) -> None:
    assert found(text, "IP_ADDRESS") == []


@pytest.mark.parametrize(
    "text",
    [
        "I updated the gateway to 10.0.0.254 and now nothing resolves",
        "db-host:10.0.0.5 refuses connections",
        "ssh to 10.0.0.5 failed again",
    ],
)
def test_a_network_setting_or_host_keeps_its_address(text: str) -> None:
    assert found(text, "IP_ADDRESS") != []


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("j'ai essayé mon mdp Fraisier2024! et ça bloque toujours", "Fraisier2024!"),
        ("la pw del gestionale è Ciao2024!!Torino, me l'ha data ieri", "Ciao2024!!Torino"),
        (
            "El signing secret de la app de Slack: 5e0c2a9b77d14f3e8a61c0d2b9f4e7a1. Lo necesito",
            "5e0c2a9b77d14f3e8a61c0d2b9f4e7a1",
        ),
        (
            "credenciais do SMS: SKd0b6680f8b7e2984f93c2ba095773c3b / b9958c45f70115af860c75198f1944d1",
            "b9958c45f70115af860c75198f1944d1",
        ),
    ],
)
def test_a_password_or_secret_written_in_prose_is_a_secret(text: str, secret: str) -> None:
    assert secret in found(text, "SECRET")


def test_a_sentence_ending_in_an_exclamation_after_the_password_word_is_prose() -> None:
    assert found("I forgot my password! Can you reset it?", "SECRET") == []


# PII round 16: look-alikes (evals/pii/DATASHEET.md, sixteenth round).


@pytest.mark.parametrize(
    "text",
    [
        "Dans les logs on voit X-Trace: ZW52PXJlY2V0dGU6bm9kZT13ZWItMDQ= (env=recette:node=web-04), normal ?",
        "the debug header was aGVsbG8tZnJvbS1zdGFnaW5nOmJ1aWxkLTc3ODE= which is just hello-from-staging:build-7781",
        "in der Doku steht sk_test_1234567890abcdef als Beispiel",
        "W dokumentacji jest przykład: password=TWOJE_HASLO",
        "public key: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGm3q8Zx2Lw0Vb7KpYt5RcNe4HdJs6FaUo1TiXy9Qr2B anna@laptop",
        "Autolettura gas: 3.417 Smc al 30 novembre",
        "Relevé gaz : index 12 884 m³. Numéro PCE 21 4567 8901 2345",
        "Część 601-44-2290 jest niedostępna, zamiennik?",
        "Police n° 4012-778-991, sinistre 2024/118",
        "Depuis la mise à jour vers la 10.2.0.44 l'appli plante",
        "Réf. de votre demande : 01 45 77 0932",
    ],
)
def test_look_alikes_stay_unmasked(text: str) -> None:
    assert FULL.detect(text) == []


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: Basic YWxpY2U6UzNjcmV0UGFzcyE=", "YWxpY2U6UzNjcmV0UGFzcyE="),
        ("STRIPE_SECRET_KEY=sk_live_51Hq7ZtK2mXw9LpZ4vN8cYb3HsJ6dFg1Ae", "sk_live_51Hq7ZtK2mXw9LpZ4vN8cYb3HsJ6dFg1Ae"),
    ],
)
def test_credentials_in_base64_and_real_keys_stay_secrets(text: str, secret: str) -> None:
    assert secret in found(text, "SECRET")
