"""The audit record schema and the guard that refuses raw PII, tokens and secrets."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from keel.audit.guard import SensitiveDataInRecord, ensure_clean, scan_text
from keel.audit.records import ActionDetail, AuditRecord, action_record
from keel.identity.principal import Principal
from tests.fakes.audit import sample_record


def _luhn_complete(prefix: str) -> str:
    """Append the check digit that makes prefix a valid card number."""
    for check in "0123456789":
        digits = prefix + check
        total = 0
        for i, ch in enumerate(reversed(digits)):
            v = int(ch)
            if i % 2 == 1:
                v = v * 2 - 9 if v > 4 else v * 2
            total += v
        if total % 10 == 0:
            return digits
    raise AssertionError("unreachable")


def test_turn_record_keeps_subject_and_groups_but_never_email_or_username() -> None:
    record = sample_record(7)
    dumped = record.model_dump_json()
    assert record.actor.subject == "sub-0007"
    assert record.actor.groups == ("all-staff", "hr")
    assert "user7@example.com" not in dumped
    assert '"user7"' not in dumped
    assert record.turn is not None and record.turn.documents[0].version == 3
    assert record.turn.documents[0].cited is True
    assert record.usage.input_tokens == 412
    assert record.chain_id == "demo/2026-11-24"


def test_action_record_carries_the_decision_path() -> None:
    principal = Principal(subject="s1", username="u", groups=frozenset({"it"}), tenant="demo")
    record = action_record(
        record_id="act-1",
        principal=principal,
        occurred_at=datetime.fromisoformat("2026-11-24T10:00:00+00:00"),
        correlation_id="c1",
        channel="slack",
        bot="it",
        conversation_id="conv-1",
        message_id=None,
        detail=ActionDetail(
            action="ec2:StopInstances",
            resource="i-0abc",
            policy="actions",
            decision="allow",
            policy_ids=("it-ops-stop",),
            confirmation="confirmed",
            result="succeeded",
        ),
        latency_ms=812.0,
    )
    assert record.kind == "action" and record.action is not None
    assert record.action.confirmation == "confirmed"
    ensure_clean(record)


def test_a_turn_record_without_its_turn_detail_is_rejected() -> None:
    data = sample_record().model_dump()
    data["turn"] = None
    with pytest.raises(ValidationError, match="turn record carries"):
        AuditRecord.model_validate(data)


def test_a_naive_timestamp_is_rejected() -> None:
    data = sample_record().model_dump()
    data["occurred_at"] = datetime(2026, 11, 24, 10, 0, 0)
    with pytest.raises(ValidationError, match="time zone"):
        AuditRecord.model_validate(data)


def test_an_unknown_schema_version_is_rejected() -> None:
    data = sample_record().model_dump()
    data["schema_version"] = 2
    with pytest.raises(ValidationError):
        AuditRecord.model_validate(data)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("write to jane.doe@example.co.uk please", "email"),
        ("card 4111 1111 1111 1111 expires soon", "card_number"),
        ("card 4111-1111-1111-1111.", "card_number"),
        ("pay to GB82 WEST 1234 5698 7654 32 today", "iban"),
        ("iban DE89370400440532013000", "iban"),
        ("ssn 123-45-6789", "us_ssn"),
        ("token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl", "jwt"),
        ("key AKIAIOSFODNN7EXAMPLE here", "aws_access_key_id"),
        ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws_secret_access_key"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIE", "private_key"),
        ("slack xoxb-1234567890-abcdefghij", "slack_token"),
        ("Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345", "bearer_token"),
    ],
)
def test_the_guard_finds_each_kind_of_sensitive_data(text: str, kind: str) -> None:
    assert kind in scan_text(text)


@pytest.mark.parametrize(
    "text",
    [
        "Please email <EMAIL_1> about card <CARD_NUMBER_1> and IBAN <IBAN_1>",
        "card 4111 1111 1111 1112 fails its checksum",
        "GB82 WEST 1234 5698 7654 33 fails mod 97",
        "ssn 000-12-3456 is not a valid number",
        "record 0b8e3c1c-66e1-4a52-9d36-0f5d3e7f1a2b",
        "hash 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "You get 25 days of annual leave [hr-annual-leave], from 2026-01-01.",
        "call 555-0100 for the helpdesk",
    ],
)
def test_the_guard_lets_masked_text_ids_and_hashes_pass(text: str) -> None:
    assert scan_text(text) == []


@given(st.uuids(version=4))
def test_no_uuid_is_ever_taken_for_sensitive_data(value: uuid.UUID) -> None:
    assert scan_text(f"id {value} and {value.hex}") == []


@given(
    prefix=st.sampled_from(["4", "51", "37", "6011"]),
    body=st.text("0123456789", min_size=11, max_size=12),
    sep=st.sampled_from(["", " ", "-"]),
    before=st.sampled_from(["my card is ", "", "(", "number: "]),
    after=st.sampled_from(["", ".", " thanks", ")"]),
)
def test_every_luhn_valid_card_in_text_is_found(prefix: str, body: str, sep: str, before: str, after: str) -> None:
    digits = _luhn_complete((prefix + body)[:15])
    grouped = sep.join(digits[i : i + 4] for i in range(0, len(digits), 4))
    assert "card_number" in scan_text(f"{before}{grouped}{after}")


def test_ensure_clean_names_the_field_and_kind_but_not_the_value() -> None:
    record = sample_record(1, input_masked="I am jane.doe@example.com, card 4111 1111 1111 1111")
    with pytest.raises(SensitiveDataInRecord) as caught:
        ensure_clean(record)
    message = caught.value.message
    assert "email in turn.input_masked" in message and "card_number in turn.input_masked" in message
    assert "jane.doe" not in message and "4111" not in message
    assert caught.value.details["kinds"] == ["card_number", "email"]


def test_ensure_clean_checks_every_string_field_not_only_the_text() -> None:
    record = sample_record(2)
    data = record.model_dump(mode="json")
    data["turn"]["guardrails"][0]["categories"] = ["leaked AKIAIOSFODNN7EXAMPLE"]
    with pytest.raises(SensitiveDataInRecord, match=r"guardrails\[0\]\.categories\[0\]"):
        ensure_clean(data)


@given(
    pii=st.sampled_from(
        ["bob@corp.example", "4111111111111111", "DE89370400440532013000", "078-05-1120", "AKIAIOSFODNN7EXAMPLE"]
    ),
    field=st.sampled_from(["input_masked", "output_masked"]),
    position=st.integers(min_value=0, max_value=40),
)
def test_a_record_built_from_pii_laden_text_is_always_refused(pii: str, field: str, position: int) -> None:
    base = "Hello, here is some context for the assistant to work with today."
    text = f"{base[:position]} {pii} {base[position:]}"
    record = sample_record(3, **{field: text})
    with pytest.raises(SensitiveDataInRecord):
        ensure_clean(record)
