"""The composition root: the only module that names concrete adapters and makes AWS clients."""

from __future__ import annotations

import threading
from functools import cached_property
from typing import Any

from keel.settings import Settings, load_settings
from keel.turn import ChatService, TurnDependencies


class AwsClients:
    """boto3 clients made on first use (never at import), pointed at moto locally."""

    def __init__(self, *, region: str, endpoint_url: str | None = None, bedrock_endpoint_url: str | None = None,
                 model_timeout: float = 20.0) -> None:
        self._region = region
        self._endpoint_url = endpoint_url
        self._bedrock_endpoint_url = bedrock_endpoint_url
        self._model_timeout = model_timeout
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> AwsClients:
        """Clients for the environment the settings describe."""
        return cls(
            region=settings.region,
            endpoint_url=str(settings.aws_endpoint_url).rstrip("/") if settings.aws_endpoint_url else None,
            bedrock_endpoint_url=(
                str(settings.bedrock_endpoint_url).rstrip("/") if settings.bedrock_endpoint_url else None
            ),
            model_timeout=settings.model_timeout_seconds,
        )

    def client(self, service: str, **config: Any) -> Any:
        """A boto3 client for one service with bounded timeouts and standard retries."""
        import boto3
        from botocore.config import Config

        defaults: dict[str, Any] = {
            "connect_timeout": 3,
            "read_timeout": 10,
            "retries": {"mode": "standard", "max_attempts": 3},
        }
        defaults.update(config)
        endpoint = self._bedrock_endpoint_url if service == "bedrock-runtime" else self._endpoint_url
        with self._lock:  # boto3's default session is not thread-safe while it creates clients
            return boto3.session.Session().client(
                service, region_name=self._region, endpoint_url=endpoint, config=Config(**defaults)
            )

    @cached_property
    def dynamodb(self) -> Any:
        """DynamoDB."""
        return self.client("dynamodb")

    @cached_property
    def s3(self) -> Any:
        """S3."""
        return self.client("s3")

    @cached_property
    def sqs(self) -> Any:
        """SQS."""
        return self.client("sqs")

    @cached_property
    def cognito(self) -> Any:
        """Cognito user pools."""
        return self.client("cognito-idp")

    @cached_property
    def bedrock(self) -> Any:
        """Bedrock Runtime; the router does its own retries, so botocore makes one attempt."""
        return self.client(
            "bedrock-runtime",
            read_timeout=self._model_timeout,
            retries={"mode": "standard", "max_attempts": 1},
        )


def build_chat_service(settings: Settings | None = None, clients: AwsClients | None = None) -> ChatService:
    """The chat turn wired to the real adapters for this environment."""
    settings = settings or load_settings()
    clients = clients or AwsClients.from_settings(settings)
    return ChatService(_turn_dependencies(settings, clients))


def _turn_dependencies(settings: Settings, clients: AwsClients) -> TurnDependencies:
    raise NotImplementedError  # replaced below once the adapters land
