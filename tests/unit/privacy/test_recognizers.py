"""Checksum-validated recognizers: valid values are found, look-alikes that fail the checksum are not."""

from __future__ import annotations

import pytest

from keel.privacy import PiiMasker
from keel.privacy.recognizers import iban_ok, luhn_ok, ssn_ok


def _types(text: str) -> list[str]:
    return [e.type for e in PiiMasker("fast").detect(text)]


def test_luhn() -> None:
    assert luhn_ok("4111111111111111")
    assert not luhn_ok("4111111111111112")


def test_iban_mod97_and_length() -> None:
    assert iban_ok("GB82 WEST 1234 5698 7654 32")
    assert not iban_ok("GB82 WEST 1234 5698 7654 33")
    assert not iban_ok("GB82WEST123456987654")


@pytest.mark.parametrize("ssn", ["000-12-3456", "666-12-3456", "912-12-3456", "123-00-4567", "123-45-0000"])
def test_ssn_rules_reject_impossible_numbers(ssn: str) -> None:
    assert not ssn_ok(ssn)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("write to jane.doe@acme.co.uk today", "EMAIL"),
        ("card 4111 1111 1111 1111 expires", "CREDIT_CARD"),
        ("IBAN DE89370400440532013000 please", "IBAN"),
        ("my SSN is 123-45-6789", "US_SSN"),
        ("server at 10.20.30.40 is down", "IP_ADDRESS"),
        ("ipv6 2001:db8::8a2e:370:7334 route", "IP_ADDRESS"),
        ("call me on +44 20 7946 0958", "PHONE"),
        ("key AKIA4QZ7R2LMXN5TB8WE leaked", "AWS_ACCESS_KEY"),
        ("token ghp_R7tKq2mXw9LpZ4vN8cYb3HsJ6dFg1AeU0oTi here", "SECRET"),
        ("api_key=9f8e7d6c5b4a3210ffee", "SECRET"),
        ("I was born on 12/03/1985", "DATE_OF_BIRTH"),
        ("ship it to 221 Baker Street please", "ADDRESS"),
        ("Hi Marta, thanks for the call", "PERSON"),
    ],
)
def test_recognizer_finds(text: str, kind: str) -> None:
    assert kind in _types(text)


@pytest.mark.parametrize(
    "text",
    [
        "card 4111 1111 1111 1112 fails luhn",
        "order number 20231115 shipped",
        "IBAN DE89370400440532013001 has a bad checksum",
        "version 1.2.3.4 of the tool",
        "meeting on 2024-05-01 12:30 in room B",
    ],
)
def test_look_alikes_are_not_pii(text: str) -> None:
    found = _types(text)
    assert not {"CREDIT_CARD", "IBAN", "IP_ADDRESS", "PHONE"} & set(found)
