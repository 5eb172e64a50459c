"""Webhooks: HMAC signatures, bounded retries with jitter, and the dead-letter queue when the receiver is down."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keel.errors import ConfigurationError, InvalidRequest
from keel.integrations.http import IntegrationUnavailable
from keel.integrations.secrets import StaticCredentials
from keel.integrations.webhooks import (
    SIGNATURE_HEADER,
    RetryPolicy,
    WebhookEvent,
    WebhookSender,
    sign,
    verify_signature,
)

NOW = 1_800_000_000
EVENT = WebhookEvent("evt-1", "action.executed", {"action": "delete_instance"}, "2026-11-24T10:00:00+00:00")


@given(st.binary(max_size=200), st.text(min_size=1, max_size=40), st.integers(0, 2**31))
def test_a_signature_verifies_with_its_secret_only(body: bytes, secret: str, timestamp: int) -> None:
    header = sign(secret, body, timestamp)
    assert verify_signature(header, body, [secret], now=timestamp)
    assert not verify_signature(header, body + b"x", [secret], now=timestamp)
    assert not verify_signature(header, body, [secret + "x"], now=timestamp)


def test_a_stale_or_malformed_signature_is_refused() -> None:
    header = sign("s3cret", b"{}", NOW)
    assert not verify_signature(header, b"{}", ["s3cret"], now=NOW + 301)
    assert verify_signature(header, b"{}", ["old", "s3cret"], now=NOW + 299)
    for bad in (None, "", "t=abc,v1=00", f"t={NOW}", "v1=deadbeef"):
        assert not verify_signature(bad, b"{}", ["s3cret"], now=NOW)


class Receiver:
    """A transport scripted with statuses or exceptions; records what it was sent."""

    def __init__(self, *outcomes: int | Exception) -> None:
        self.outcomes = list(outcomes)
        self.sent: list[dict[str, str]] = []

    def __call__(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> tuple[int, Any]:
        self.sent.append(headers)
        outcome = self.outcomes.pop(0) if len(self.outcomes) > 1 else self.outcomes[0]
        if isinstance(outcome, Exception):
            raise outcome
        assert body is not None and verify_signature(headers[SIGNATURE_HEADER], body, ["whsec"], now=NOW)
        return outcome, {}


class Letters:
    def __init__(self, down: bool = False) -> None:
        self.sent: list[dict[str, Any]] = []
        self.down = down

    def send(self, message: dict[str, Any]) -> None:
        if self.down:
            raise IntegrationUnavailable("dlq down")
        self.sent.append(message)


class Creds(StaticCredentials):
    def __init__(self) -> None:
        super().__init__({"signing_secret": "whsec"})
        self.invalidated = 0

    def invalidate(self) -> None:
        self.invalidated += 1


def sender(receiver: Receiver, letters: Letters, retry: RetryPolicy | None = None, creds: Creds | None = None):
    slept: list[float] = []
    made = WebhookSender(
        "http://127.0.0.1:1/hooks",
        creds or Creds(),
        letters,
        transport=receiver,
        retry=retry or RetryPolicy(attempts=4, base_seconds=0.5, cap_seconds=2.0, budget_seconds=10),
        sleep=slept.append,
        rng=random.Random(7),
        clock=lambda: NOW,
    )
    return made, slept


def test_a_receiver_that_is_down_gets_bounded_retries_then_the_event_is_dead_lettered() -> None:
    receiver, letters = Receiver(IntegrationUnavailable("connection refused")), Letters()
    made, slept = sender(receiver, letters)

    delivery = made.deliver(EVENT)

    assert not delivery.delivered and delivery.dead_lettered and delivery.attempts == 4
    assert len(receiver.sent) == 4 and len(slept) == 3
    assert all(0 <= d <= min(2.0, 0.5 * 2**i) for i, d in enumerate(slept))
    [letter] = letters.sent
    assert letter["event"]["event_id"] == "evt-1" and letter["attempts"] == 4
    assert WebhookEvent.from_json(letter["event"]) == EVENT


def test_a_receiver_that_recovers_gets_the_event_once() -> None:
    receiver, letters = Receiver(503, 500, 200), Letters()
    made, slept = sender(receiver, letters)

    delivery = made.deliver(EVENT)

    assert delivery.delivered and delivery.attempts == 3 and letters.sent == [] and len(slept) == 2
    assert {h["X-Keel-Event-Id"] for h in receiver.sent} == {"evt-1"}


def test_a_final_client_error_is_not_retried_and_goes_to_the_dead_letters() -> None:
    receiver, letters = Receiver(400), Letters()
    made, slept = sender(receiver, letters)

    delivery = made.deliver(EVENT)

    assert delivery.attempts == 1 and slept == [] and letters.sent[0]["last_status"] == 400


def test_a_refused_signature_rereads_the_secret_once() -> None:
    creds = Creds()
    receiver, letters = Receiver(401, 200), Letters()
    made, _ = sender(receiver, letters, creds=creds)

    assert made.deliver(EVENT).delivered and creds.invalidated == 1


def test_the_sleep_budget_bounds_the_retries() -> None:
    receiver, letters = Receiver(IntegrationUnavailable("down")), Letters()
    made, slept = sender(receiver, letters, RetryPolicy(attempts=50, base_seconds=1, cap_seconds=8, budget_seconds=5))

    delivery = made.deliver(EVENT)

    assert sum(slept) <= 5 and delivery.dead_lettered and delivery.attempts < 50


def test_when_the_dead_letter_queue_is_down_the_caller_is_told() -> None:
    made, _ = sender(Receiver(IntegrationUnavailable("down")), Letters(down=True))

    with pytest.raises(IntegrationUnavailable):
        made.deliver(EVENT)


def test_a_secret_without_the_signing_field_is_a_configuration_error() -> None:
    made = WebhookSender("http://127.0.0.1:1", StaticCredentials({"other": "x"}), Letters(), transport=Receiver(200))
    with pytest.raises(ConfigurationError, match="signing_secret"):
        made.deliver(EVENT)


def test_bad_retry_policies_and_events_are_refused() -> None:
    with pytest.raises(ConfigurationError):
        RetryPolicy(attempts=0)
    with pytest.raises(InvalidRequest, match="event_id"):
        WebhookEvent.from_json({"event_type": "x"})
