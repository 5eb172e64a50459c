"""Secrets (detect-secrets' detectors plus entropy), passports and European addresses; look-alikes stay unmasked."""

from __future__ import annotations

import pytest

from keel.privacy import PiiMasker, Vault
from keel.privacy.ner import plausible_name
from keel.privacy.secrets import find_passports, find_secrets

FAST = PiiMasker("fast")


@pytest.mark.parametrize(
    "text, secret",
    [
        ("key AKIAQWERTYUIOPASDFGH please", "AKIAQWERTYUIOPASDFGH"),
        (
            "aws_secret_access_key = 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",
            "q3Hv8TzL0pWc5RnYb2KfJ9xD4sGm7AeU1iNoQ6tB",
        ),
        ("token ghp_R7tKq2mXw9LpZ4vN8cYb3HsJ6dFg1AeU0oTi broke", "ghp_R7tKq2mXw9LpZ4vN8cYb3HsJ6dFg1AeU0oTi"),
        (
            "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
            "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            "eyJhbGciOiJIUzI1NiJ9",
        ),
        ("stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc in prod", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
        ("Voici la clé : 9f86d081884c7d659a2feaa0c55ad015", "9f86d081884c7d659a2feaa0c55ad015"),
    ],
)
def test_secrets_are_found(text: str, secret: str) -> None:
    spans = [text[e.start : e.end] for e in find_secrets(text)]
    assert any(secret in s or s in secret for s in spans), spans


def test_a_private_key_block_is_one_span() -> None:
    pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx\nabc\n-----END RSA PRIVATE KEY-----"
    text = f"here:\n{pem}\nthanks"
    (entity,) = find_secrets(text)
    assert text[entity.start : entity.end] == pem


@pytest.mark.parametrize(
    "text",
    [
        "The regression came in with commit 3f2c1a9b8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a, revert it?",
        "The file checksum is sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "Request id 123e4567-e89b-42d3-a456-426614174000 failed",
        "After upgrading to v4.12.3 the client crashes",
        "Where is my order ORD-558120? Ticket INC4471203 is open, see JIRA-2231 and PO 4500012345.",
        "Ticket #631331462 is still open",
    ],
)
def test_look_alikes_stay_unmasked(text: str) -> None:
    assert FAST.detect(text) == []


@pytest.mark.parametrize(
    "text, number",
    [
        ("My passport number is C01X00T47 and it expires in June", "C01X00T47"),
        ("Meine Reisepassnummer lautet C4J7KL9P2, bitte eintragen.", "C4J7KL9P2"),
        ("Numéro de passeport : 12AB34567, à ajouter.", "12AB34567"),
        ("Numer paszportu: AB1234567, proszę dodać.", "AB1234567"),
    ],
)
def test_passport_numbers_need_a_cue(text: str, number: str) -> None:
    assert [text[e.start : e.end] for e in find_passports(text)] == [number]
    assert find_passports(f"Reference {number} for the shipment") == []


@pytest.mark.parametrize(
    "address",
    [
        "Am Markt 41, 50667 Köln",
        "Keizersgracht 123, 1015 CJ Amsterdam",
        "ul. Marszałkowska 10, 00-624 Warszawa",
        "Rua Augusta 100, 1100-053 Lisboa",
        "12 rue de la Paix, 75002 Paris",
        "1600 Maple Avenue, Springfield, IL 62704",
    ],
)
def test_street_addresses_in_european_and_us_formats(address: str) -> None:
    text = f"Please send it to {address} by Friday."
    masked = FAST.mask(text, Vault())
    assert "<ADDRESS_1>" in masked.text
    assert address.split(",", maxsplit=1)[0] not in masked.text


def test_capitalised_non_names_are_not_people() -> None:
    text = "Livrez le colis. Bitte leite das an der Buchhaltung weiter, frag Maria."
    assert not plausible_name(text, 0, 6)
    start = text.index("der Buchhaltung")
    assert not plausible_name(text, start, start + len("der Buchhaltung"))
    start = text.index("Buchhaltung")
    assert not plausible_name(text, start, start + len("Buchhaltung"))
    start = text.index("Maria")
    assert plausible_name(text, start, start + 5)
