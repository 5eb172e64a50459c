"""The Comprehend name finder maps offsets and types, drops weak hits and fails closed."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from keel.errors import ServiceUnavailable
from keel.privacy.comprehend import ComprehendNameFinder
from keel.privacy.masker import PiiMasker
from keel.privacy.vault import Vault


class Comprehend:
    """A small stand-in for the comprehend client: answers with fixed entities, or fails."""

    def __init__(self, entities: list[dict[str, Any]] | None = None, *, fail: bool = False) -> None:
        self.entities = entities or []
        self.fail = fail

    def detect_pii_entities(self, *, Text: str, LanguageCode: str) -> dict[str, Any]:
        if self.fail:
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "DetectPiiEntities")
        return {"Entities": self.entities}


def test_names_and_addresses_are_found_by_offsets_and_weak_hits_dropped() -> None:
    text = "I am Dana Whitfield, 12 Elm Street, Springfield."
    finder = ComprehendNameFinder(
        Comprehend(
            [
                {"Type": "NAME", "BeginOffset": 5, "EndOffset": 19, "Score": 0.99},
                {"Type": "ADDRESS", "BeginOffset": 21, "EndOffset": 47, "Score": 0.95},
                {"Type": "NAME", "BeginOffset": 0, "EndOffset": 1, "Score": 0.2},
                {"Type": "USERNAME", "BeginOffset": 0, "EndOffset": 4, "Score": 0.9},
            ]
        )
    )
    found = finder.find(text)
    assert [(e.type, text[e.start : e.end]) for e in found] == [
        ("PERSON", "Dana Whitfield"),
        ("ADDRESS", "12 Elm Street, Springfield"),
    ]


def test_the_masker_uses_it_in_full_mode() -> None:
    text = "Please call Dana Whitfield."
    finder = ComprehendNameFinder(Comprehend([{"Type": "NAME", "BeginOffset": 12, "EndOffset": 26, "Score": 0.9}]))
    masked = PiiMasker("full", ner=finder).mask(text, Vault())
    assert masked.text == "Please call <PERSON_1>."


def test_a_comprehend_failure_refuses_rather_than_leaks() -> None:
    with pytest.raises(ServiceUnavailable, match="cannot be screened"):
        ComprehendNameFinder(Comprehend(fail=True)).find("I am Dana Whitfield")
