"""Channel integration fixtures.

`live`: the whole local stack (`local_stack`, what `keel dev` runs) with the real turn; the acceptance tests
(one path, Slack, fuzz, revocation) run there. `channel_env` / `channel_stack`: the channel adapters on moto
around the small fake turn of tests/unit/channels/world.py, for fast protocol tests (WebSocket records,
secret rotation, Slack buttons, the Cognito directory); everything the channels themselves talk to
(DynamoDB, SQS, Secrets Manager, Cognito, the Slack Web API, the Management API) is real protocol on 127.0.0.1.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from keel.bootstrap import AwsClients
from keel.channels.wiring import ChannelConfig, Channels
from keel.conversations.dynamodb import DynamoDBConversationStore
from keel.local import provision
from keel.local.slack_api import DEFAULT_BOT_TOKEN, LocalSlackApi
from tests.integration.channels.live import Live
from tests.unit.channels.world import World

SIGNING_SECRET = "e2b9f0c1d2a34b5c6d7e8f90a1b2c3d4"


@pytest.fixture(scope="session")
def live(local_stack: Any) -> Live:
    """The running local stack's channels."""
    return Live(local_stack)


@dataclass
class ChannelEnv:
    clients: AwsClients
    names: provision.LocalResources
    pool: provision.UserPool
    queue_urls: dict[str, str]
    slack: LocalSlackApi
    world: World
    channels: Channels

    def receive_jobs(self) -> list[dict[str, Any]]:
        """Drain the Slack work queue into SQS-event records."""
        records = []
        while True:
            batch = self.clients.sqs.receive_message(
                QueueUrl=self.queue_urls["slack-events"], MaxNumberOfMessages=10, WaitTimeSeconds=0
            ).get("Messages", [])
            if not batch:
                return records
            for message in batch:
                records.append({"messageId": message["MessageId"], "body": message["Body"]})
                self.clients.sqs.delete_message(
                    QueueUrl=self.queue_urls["slack-events"], ReceiptHandle=message["ReceiptHandle"]
                )


@pytest.fixture(scope="module")
def channel_env(moto_stack: Any) -> Iterator[ChannelEnv]:
    clients = AwsClients(region="us-east-1", endpoint_url=moto_stack.url)  # type: ignore[attr-defined]
    names = provision.LocalResources(prefix="keel-chtest")
    queue_urls = provision.provision_aws(clients, names)
    pool = provision.provision_user_pool(clients.cognito)
    secrets = clients.client("secretsmanager")
    for name, value in (
        ("keel-chtest/slack/signing", {"signing_secret": SIGNING_SECRET}),
        ("keel-chtest/slack/bot", {"bot_token": DEFAULT_BOT_TOKEN}),
    ):
        try:
            secrets.create_secret(Name=name, SecretString=json.dumps(value))
        except secrets.exceptions.ResourceExistsException:
            secrets.put_secret_value(SecretId=name, SecretString=json.dumps(value))
    slack = LocalSlackApi().start()
    conversations_table = names.tables["conversations"].name
    world = World(conversations=DynamoDBConversationStore(clients.dynamodb, conversations_table))  # type: ignore[arg-type]
    config = ChannelConfig(
        user_pool_id=pool.pool_id,
        app_client_ids=[pool.client_id],
        conversations_table=conversations_table,
        channel_state_table=names.tables["idempotency"].name,
        revocations_table=names.tables["revocations"].name,
        slack_signing_secret_id="keel-chtest/slack/signing",
        slack_bot_token_secret_id="keel-chtest/slack/bot",
        slack_events_queue_url=queue_urls["slack-events"],
        slack_api_url=slack.api_url,
        slack_bot="hr",
    )
    yield ChannelEnv(clients, names, pool, queue_urls, slack, world, Channels(config, clients, lambda: world.service))
    slack.stop()


@dataclass
class ChannelStack:
    """The HTTP API (LocalApi with the channel handlers), the WebSocket API and the Slack stand-in on loopback."""

    env: ChannelEnv
    api: Any
    ws: Any

    def guest_token(self) -> str:
        """A real Cognito token for a new guest in group customers."""
        import urllib.request

        request = urllib.request.Request(f"{self.api.url}/v1/session/guest", data=b"{}", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            return str(json.loads(response.read())["token"])


@pytest.fixture(scope="module")
def channel_stack(channel_env: ChannelEnv) -> Iterator[ChannelStack]:
    from keel.channels.api import ChatEndpoint
    from keel.identity.tokens import HttpJwks, TokenVerifier
    from keel.local.api import LocalApi, Route
    from keel.local.websocket import LocalWebSocketApi
    from tests.conftest import REPO_ROOT

    moto_url = channel_env.clients._endpoint_url  # type: ignore[attr-defined]
    verifier = TokenVerifier(
        HttpJwks(f"{moto_url}/{channel_env.pool.pool_id}/.well-known/jwks.json"),
        issuers=frozenset({f"https://cognito-idp.us-east-1.amazonaws.com/{channel_env.pool.pool_id}"}),
        audiences=frozenset({channel_env.pool.client_id}),
        tenant="demo",
    )
    channel_env.world.service.verify = lambda token: verifier.verify(token).principal
    channels = channel_env.channels
    chat, feedback, guest = (
        ChatEndpoint(lambda: channel_env.world.service),  # type: ignore[arg-type, return-value]
        channels.feedback_endpoint(),
        channels.guest_endpoint(),
    )
    slack = channels.slack_ingress()
    api = LocalApi(
        [
            Route("/v1/chat", "chat", ("POST",)),
            Route("/v1/feedback", "feedback", ("POST",)),
            Route("/v1/session/guest", "guest_session", ("POST",)),
            Route("/slack", "slack", ("POST",)),
        ],
        REPO_ROOT / "functions",
        REPO_ROOT / "web",
        lambda: {"status": "up", "components": {}},
    )
    # The same endpoint objects the handlers build, bound to the fake-model turn instead of bootstrap's.
    api._handlers.update(
        {
            "chat": lambda event, context: chat.handle(event),
            "feedback": lambda event, context: feedback.handle(event),
            "guest_session": lambda event, context: guest.handle(event),
            "slack": lambda event, context: slack.handle(event),
        }
    )
    gateway = channels.websocket_gateway()
    ws = LocalWebSocketApi(lambda event, context: gateway.handle(event)).start()
    api.start()
    yield ChannelStack(channel_env, api, ws)
    api.stop()
    ws.stop()
