"""The channels part of the composition root: the channel handlers build their adapters here, once per process."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from keel.channels.endpoints import FeedbackEndpoint, GuestSessionEndpoint
from keel.channels.feedback import DynamoDBFeedbackStore, FeedbackService
from keel.channels.guests import CognitoGuestIssuer
from keel.channels.idempotency import DynamoDBIdempotencyStore
from keel.channels.ports import Turn
from keel.channels.slack import SlackIngress, SqsJobQueue
from keel.channels.slack_signature import SecretsManagerSigningSecret, SlackSignatureVerifier
from keel.channels.slack_worker import (
    CachedSecret,
    CognitoPrincipalDirectory,
    DynamoDBThreadMap,
    SlackThreadNotifier,
    SlackWebApi,
    SlackWorker,
)
from keel.channels.websocket import (
    ApiGatewayPoster,
    DynamoDBConnectionStore,
    WebSocketGateway,
    WebSocketNotifier,
    WebSocketSessionCloser,
)
from keel.errors import ConfigurationError, KeelError
from keel.escalation.ports import UserNotifier
from keel.identity.revocation import DynamoDBRevocationStore, RevocationCheck
from keel.lazy import Lazy

logger = logging.getLogger("keel.channels")


class ChannelConfig(BaseModel):
    """The channel settings; the same names (KEEL_SLACK_*, KEEL_CHANNEL_STATE_TABLE, ...) live on Settings."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    region: str = "us-east-1"
    tenant: str = "demo"
    user_pool_id: str = Field(min_length=1)
    app_client_ids: list[str] = Field(min_length=1)
    conversations_table: str = Field(min_length=3)
    # Idempotency claims, Slack thread links and WebSocket connections: one pk/sk table with a TTL.
    channel_state_table: str | None = None
    # The identity sessions registry: open WebSocket connections are registered so a revocation closes them.
    sessions_table: str | None = None
    # The per-subject revocation records the Slack worker reads on every job (channels without a token).
    revocations_table: str | None = None
    revocation_max_age_seconds: float = Field(default=0.0, ge=0.0, le=60.0)
    slack_signing_secret_id: str | None = None
    slack_bot_token_secret_id: str | None = None
    slack_events_queue_url: str | None = None
    slack_api_url: str | None = None
    slack_bot: str = "auto"
    # Anonymous visitors belong in the customer pool; without one they go to the main pool's `customers`.
    customer_user_pool_id: str | None = None
    customer_app_client_id: str | None = None

    @classmethod
    def from_settings(cls, settings: BaseModel) -> ChannelConfig:
        """The channel part of the settings, or a ConfigurationError naming each bad KEEL_* variable."""
        try:
            return cls.model_validate(settings.model_dump(mode="json"))
        except ValidationError as exc:
            names = ", ".join(f"KEEL_{str(e['loc'][0]).upper()} ({e['msg']})" for e in exc.errors())
            raise ConfigurationError(f"channel settings are incomplete: {names}") from None

    def require(self, name: str) -> str:
        """A setting this channel cannot run without, or a ConfigurationError naming its variable."""
        value = getattr(self, name)
        if not value:
            raise ConfigurationError(f"KEEL_{name.upper()} is not set; the channel cannot run without it")
        return str(value)


class Channels:
    """Builds each channel from one config, the AWS clients and the chat service factory."""

    def __init__(self, config: ChannelConfig, clients: Any, service: Callable[[], Turn]) -> None:
        self.config = config
        self.clients = clients
        self.service = Lazy(service)
        self.feedback = Lazy(self._feedback_service)
        self._posters: dict[str, ApiGatewayPoster] = {}
        self._lock = threading.Lock()

    def _feedback_service(self) -> FeedbackService:
        from keel.conversations.dynamodb import DynamoDBConversationStore

        table = self.config.conversations_table
        return FeedbackService(
            DynamoDBConversationStore(self.clients.dynamodb, table), DynamoDBFeedbackStore(self.clients.dynamodb, table)
        )

    def feedback_endpoint(self) -> FeedbackEndpoint:
        """POST /v1/feedback."""
        return FeedbackEndpoint(self.service, self.feedback)

    def guest_endpoint(self) -> GuestSessionEndpoint:
        """POST /v1/session/guest."""
        config = self.config

        def issuer() -> CognitoGuestIssuer:
            return CognitoGuestIssuer(
                self.clients.cognito,
                config.customer_user_pool_id or config.user_pool_id,
                config.customer_app_client_id or config.app_client_ids[0],
                tenant=config.tenant,
            )

        return GuestSessionEndpoint(Lazy(issuer))

    def slack_ingress(self) -> SlackIngress:
        """The Slack HTTP endpoints."""
        state = DynamoDBIdempotencyStore(self.clients.dynamodb, self.config.require("channel_state_table"))
        secret = SecretsManagerSigningSecret(
            self.clients.client("secretsmanager"), self.config.require("slack_signing_secret_id")
        )
        queue = SqsJobQueue(self.clients.sqs, self.config.require("slack_events_queue_url"))
        return SlackIngress(SlackSignatureVerifier(secret, state), state, queue)

    def slack_worker(self) -> SlackWorker:
        """The Slack queue worker; it reads the revocation record on every job (R5), as the token path does."""
        from keel.conversations.dynamodb import DynamoDBConversationStore

        config, dynamodb = self.config, self.clients.dynamodb
        table = config.require("channel_state_table")
        revocations = RevocationCheck(
            DynamoDBRevocationStore(dynamodb, config.require("revocations_table")),
            max_age_seconds=config.revocation_max_age_seconds,
        )
        return SlackWorker(
            self.service,
            self._slack_web(),
            CognitoPrincipalDirectory(self.clients.cognito, config.user_pool_id, tenant=config.tenant),
            revocations,
            DynamoDBIdempotencyStore(dynamodb, table),
            DynamoDBThreadMap(dynamodb, table),
            DynamoDBConversationStore(dynamodb, config.conversations_table),
            self.feedback,
            bot=config.slack_bot,
        )

    def websocket_gateway(self) -> WebSocketGateway:
        """The WebSocket API routes."""
        connections = DynamoDBConnectionStore(self.clients.dynamodb, self.config.require("channel_state_table"))
        sessions = None
        if self.config.sessions_table:
            from keel.identity.sessions import DynamoDBSessionRegistry

            sessions = DynamoDBSessionRegistry(self.clients.dynamodb, self.config.sessions_table)
        return WebSocketGateway(self.service, connections, self._poster, self.feedback, sessions=sessions)

    def websocket_closer(self) -> WebSocketSessionCloser:
        """The SessionCloser the revocation path uses to end open WebSocket connections."""
        connections = DynamoDBConnectionStore(self.clients.dynamodb, self.config.require("channel_state_table"))
        return WebSocketSessionCloser(connections, self._poster)

    def user_notifier(self) -> FanOutNotifier:
        """Tells the user what a person in the agent console does: pushed to their open widget connections and,
        for a conversation handed over from Slack (when Slack is configured), posted in its thread."""
        from keel.identity.sessions import DynamoDBSessionRegistry

        config, dynamodb = self.config, self.clients.dynamodb
        table = config.require("channel_state_table")
        connections = DynamoDBConnectionStore(dynamodb, table)
        sessions = DynamoDBSessionRegistry(dynamodb, config.require("sessions_table"))
        notifiers: list[UserNotifier] = [WebSocketNotifier(sessions, connections, self._poster)]
        if config.slack_bot_token_secret_id:
            notifiers.append(SlackThreadNotifier(DynamoDBThreadMap(dynamodb, table), self._slack_web()))
        return FanOutNotifier(notifiers)

    def _slack_web(self) -> SlackWebApi:
        """The Slack Web API as the app's bot (its token from Secrets Manager, cached)."""
        token = CachedSecret(
            self.clients.client("secretsmanager"), self.config.require("slack_bot_token_secret_id"), field="bot_token"
        )
        return SlackWebApi(token, base_url=self.config.slack_api_url)

    def _poster(self, endpoint: str) -> ApiGatewayPoster:
        # The Management API endpoint is the API's own URL, so one client is made per endpoint.
        with self._lock:
            if endpoint not in self._posters:
                self._posters[endpoint] = ApiGatewayPoster(_management_client(self.config.region, endpoint))
            return self._posters[endpoint]


def _management_client(region: str, endpoint: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        "apigatewaymanagementapi",
        region_name=region,
        endpoint_url=endpoint,
        config=Config(connect_timeout=3, read_timeout=5, retries={"mode": "standard", "max_attempts": 2}),
    )


def channels_from_environment() -> Channels:
    """The channels for the environment the KEEL_* variables describe (what each handler calls once)."""
    from keel.bootstrap import AwsClients, build_chat_service
    from keel.settings import load_settings

    settings = load_settings()
    clients = AwsClients.from_settings(settings)
    return Channels(ChannelConfig.from_settings(settings), clients, lambda: build_chat_service(settings, clients))


class FanOutNotifier:
    """Every notifier in turn; one failing (its service down) neither stops the others nor the agent's action."""

    def __init__(self, notifiers: list[UserNotifier]) -> None:
        self.notifiers = notifiers

    def notify(self, subject: str, frame: dict[str, Any]) -> None:
        """Best effort per notifier; failures are logged."""
        for notifier in self.notifiers:
            try:
                notifier.notify(subject, frame)
            except KeelError as exc:
                logger.warning("a user notification failed: %s", exc.code)
