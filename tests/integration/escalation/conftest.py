"""Escalation on moto (Step Functions execution on, DynamoDB, SQS, Secrets Manager) plus the local helpdesk."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from keel.bootstrap import AwsClients
from keel.conversations.dynamodb import DynamoDBConversationStore
from keel.conversations.ports import Conversation, StoredMessage
from keel.escalation.records import Agent
from keel.escalation.service import Backoff
from keel.identity.principal import Principal
from keel.local import provision
from keel.local.escalation import LocalEscalation, start_local_escalation

logging.getLogger("werkzeug").setLevel(logging.ERROR)


@pytest.fixture(scope="module")
def aws(moto_stack: Any) -> AwsClients:
    """Clients on the session's moto server (no SDK retries: a failure shows at once)."""
    return AwsClients(region="us-east-1", endpoint_url=moto_stack.url)


@pytest.fixture(scope="module")
def names(aws: AwsClients) -> provision.LocalResources:
    """The local tables and queues, provisioned with a prefix of this module's own."""
    resources = provision.LocalResources(prefix=f"esc-{uuid.uuid4().hex[:6]}")
    provision.provision_aws(aws, resources)
    return resources


@pytest.fixture(scope="module")
def escalation(aws: AwsClients, names: provision.LocalResources) -> Iterator[LocalEscalation]:
    """Helpdesk, secret, state machine and worker thread, as the local stack runs them (short backoff)."""
    env = {
        "KEEL_REGION": "us-east-1",
        "KEEL_AWS_ENDPOINT_URL": aws._endpoint_url or "",
        "KEEL_CONVERSATIONS_TABLE": names.tables["conversations"].name,
    }
    running = start_local_escalation(
        env,
        agents_table=names.tables["agents"].name,
        queue_name=names.queues["escalation"],
        backoff=Backoff(seconds=1, max_seconds=2, max_attempts=30),
        wait_seconds=3.0,
        clients=aws,
    )
    yield running
    running.stop()


@pytest.fixture
def conversations(aws: AwsClients, names: provision.LocalResources) -> DynamoDBConversationStore:
    """The conversation store on moto."""
    return DynamoDBConversationStore(aws.dynamodb, names.tables["conversations"].name)


@pytest.fixture
def clean(escalation: LocalEscalation) -> Iterator[LocalEscalation]:
    """No agent online and a healthy helpdesk before and after the test."""
    for agent in escalation.escalations.agents():
        escalation.escalations.set_presence(Agent(agent.agent_id, agent.name, "offline"))
    escalation.helpdesk.fault("ok")
    yield escalation
    escalation.helpdesk.fault("ok")
    for agent in escalation.escalations.agents():
        escalation.escalations.set_presence(Agent(agent.agent_id, agent.name, "offline"))


def new_conversation(store: DynamoDBConversationStore, bot: str = "it") -> Conversation:
    """A conversation with a few masked messages, as the turn stores them."""
    conversation = Conversation(str(uuid.uuid4()), "sub-123", bot, "api", datetime.now(UTC).isoformat())
    store.create(conversation)
    texts = [
        ("user", "My VPN drops every hour, my email is <EMAIL_1>"),
        ("assistant", "I could not find this in the sources available to me."),
        ("user", "I want to talk to a human please"),
    ]
    for seq, (role, text) in enumerate(texts):
        store.append(StoredMessage(conversation.conversation_id, str(uuid.uuid4()), seq, role, text, "t"))  # type: ignore[arg-type]
    return conversation


PRINCIPAL = Principal(
    subject="sub-123",
    username="alex",
    groups=frozenset({"all-staff", "engineering"}),
    tenant="demo",
    email="alex@example.test",
    department="engineering",
)
