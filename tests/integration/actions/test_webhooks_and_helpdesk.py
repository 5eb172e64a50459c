"""Webhooks to a receiver that is down end in the SQS dead-letter queue and are redriven; helpdesk tickets."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from keel.escalation.helpdesk import SecretCredentials
from keel.escalation.ports import TicketRequest
from keel.integrations.helpdesk import ZendeskTickets
from keel.integrations.secrets import SecretsManagerCredentials
from keel.integrations.webhooks import RetryPolicy, SqsDeadLetters, WebhookEvent, WebhookSender
from keel.local import helpdesk as local_helpdesk
from keel.local.integrations import RunningReceiver, start_webhook_receiver

pytestmark = pytest.mark.integration

SIGNING_SECRET = "whsec-" + uuid.uuid4().hex  # a per-run value, not a real credential


@pytest.fixture
def receiver() -> Iterator[RunningReceiver]:
    server = start_webhook_receiver(secret=SIGNING_SECRET)
    yield server
    server.stop()


@pytest.fixture
def dlq(aws: dict[str, Any]) -> SqsDeadLetters:
    url = aws["sqs"].create_queue(QueueName=f"keel-test-webhooks-dlq-{uuid.uuid4().hex[:6]}")["QueueUrl"]
    return SqsDeadLetters(aws["sqs"], url)


def sender(aws: dict[str, Any], receiver: RunningReceiver, dlq: SqsDeadLetters) -> WebhookSender:
    secret_id = f"keel/test/webhook-{uuid.uuid4().hex[:6]}"
    aws["secretsmanager"].create_secret(Name=secret_id, SecretString=json.dumps({"signing_secret": SIGNING_SECRET}))
    return WebhookSender(
        f"{receiver.url}/hooks",
        SecretsManagerCredentials(aws["secretsmanager"], secret_id),
        dlq,
        retry=RetryPolicy(attempts=4, base_seconds=0.05, cap_seconds=0.2, budget_seconds=2),
    )


def test_a_receiver_that_is_down_gets_retries_then_the_event_lands_in_the_dlq_and_is_redriven(
    aws: dict[str, Any], receiver: RunningReceiver, dlq: SqsDeadLetters
) -> None:
    made = sender(aws, receiver, dlq)
    event = WebhookEvent(f"evt-{uuid.uuid4().hex[:8]}", "action.executed", {"action": "delete_instance"})
    receiver.switch("down")

    delivery = made.deliver(event)

    assert not delivery.delivered and delivery.dead_lettered and delivery.attempts == 4
    assert receiver.state.attempts == 4 and receiver.deliveries() == []
    assert len(delivery.delays) == 3 and all(0 <= d <= 0.2 for d in delivery.delays)

    # Nothing is lost: the dead letter holds the whole event, and a redrive delivers it once the receiver is back.
    receiver.switch("ok")
    [result] = made.redrive(dlq)
    assert result.delivered
    [received] = receiver.deliveries()
    assert received["event_id"] == event.event_id and received["payload"] == {"action": "delete_instance"}
    assert dlq.receive() == []


def test_a_receiver_in_error_also_ends_in_the_dlq(
    aws: dict[str, Any], receiver: RunningReceiver, dlq: SqsDeadLetters
) -> None:
    receiver.switch("error")
    made = sender(aws, receiver, dlq)

    delivery = made.deliver(WebhookEvent("evt-error", "action.failed", {}))

    assert delivery.dead_lettered and delivery.last_status == 500
    [(_, letter)] = dlq.receive()
    assert letter["event"]["event_id"] == "evt-error" and letter["attempts"] == 4


def test_a_healthy_receiver_verifies_the_signature_and_takes_the_event(
    aws: dict[str, Any], receiver: RunningReceiver, dlq: SqsDeadLetters
) -> None:
    delivery = sender(aws, receiver, dlq).deliver(WebhookEvent("evt-ok", "action.executed", {"n": 1}))

    assert delivery.delivered and delivery.attempts == 1 and receiver.state.rejected == 0
    assert dlq.receive() == []


def test_helpdesk_ticket_create_status_and_update_through_secrets_manager(aws: dict[str, Any]) -> None:
    desk = local_helpdesk.start(token=uuid.uuid4().hex)
    try:
        secret_id = f"keel/test/helpdesk-{uuid.uuid4().hex[:6]}"
        aws["secretsmanager"].create_secret(
            Name=secret_id, SecretString=json.dumps({"email": desk.state.email, "api_token": desk.state.token})
        )
        tickets = ZendeskTickets(desk.url, SecretCredentials(aws["secretsmanager"], secret_id))
        created = tickets.create(TicketRequest("esc-1", "VPN drops", "The VPN drops every hour.", ("keel",), "normal"))

        assert tickets.status(created.ticket_id).status == "new"
        updated = tickets.update(created.ticket_id, status="solved", comment="Fixed by the network team.")
        assert updated.status == "solved"
        assert desk.tickets()[0]["comments"][-1]["body"] == "Fixed by the network team."
    finally:
        desk.stop()
