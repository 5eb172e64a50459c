"""The agent console's HTTP edge (/v1/agent/...): identify, route, call the console, respond (R18)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from keel.channels.http import bearer_token, correlation_id, error_response, json_response, parse_body
from keel.errors import InvalidRequest, NotFound
from keel.escalation.console import AgentConsole
from keel.escalation.wiring import EscalationConfig
from keel.identity.principal import Principal
from keel.lazy import Lazy

_ROUTE = re.compile(r"^/v1/agent/conversations/([A-Za-z0-9-]{8,64})(?:/(take|reply|handback|close))?$")


class ReplyBody(BaseModel):
    """POST /v1/agent/conversations/{id}/reply."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    text: str = Field(min_length=1, max_length=4000)


class PresenceBody(BaseModel):
    """POST /v1/agent/presence."""

    model_config = ConfigDict(extra="forbid")

    status: str = Field(pattern=r"^(online|offline)$")


class AgentEndpoint:
    """The agent API as API Gateway proxy events: identify, route, call the console, respond."""

    def __init__(self, factory: Callable[[], tuple[Callable[[str], Principal], AgentConsole]]) -> None:
        self._built = Lazy(factory)

    def handle(self, event: dict[str, Any]) -> dict[str, Any]:
        """One proxy event in, one proxy response out; never raises."""
        correlation = correlation_id(event)
        try:
            identify, console = self._built()
            agent = identify(bearer_token(event))
            body = self._route(console, agent, str(event.get("httpMethod", "")), str(event.get("path", "")), event)
        except Exception as exc:  # every failure becomes a typed JSON error; unknown ones a 500
            return error_response(exc, correlation=correlation)
        return json_response(200, body, correlation=correlation)

    @staticmethod
    def _route(console: AgentConsole, agent: Principal, method: str, path: str, event: dict[str, Any]) -> Any:
        if path.rstrip("/") == "/v1/agent/queue" and method == "GET":
            return {"queue": console.queue(agent)}
        if path.rstrip("/") == "/v1/agent/presence" and method == "POST":
            return console.set_presence(agent, parse_body(event, PresenceBody).status)
        match = _ROUTE.match(path.rstrip("/"))
        if match is None:
            raise NotFound(f"no agent route {method} {path}")
        conversation_id, action = match.groups()
        if action is None and method == "GET":
            return console.conversation(agent, conversation_id)
        if method != "POST" or action is None:
            raise InvalidRequest(f"{method} is not accepted on {path}; use POST .../take|reply|handback|close")
        if action == "reply":
            return console.reply(agent, conversation_id, parse_body(event, ReplyBody).text)
        actions = {"take": console.take, "handback": console.handback, "close": console.close}
        return actions[action](agent, conversation_id)


def agent_console_factory(config: EscalationConfig) -> Callable[[], tuple[Any, AgentConsole]]:
    """Builds (identify, console) on first use; identity is the chat service's (the same tokens and revocation)."""

    def factory() -> tuple[Any, AgentConsole]:
        from keel.bootstrap import build_chat_service, build_tenant_source
        from keel.channels.wiring import ChannelConfig, Channels
        from keel.conversations.dynamodb import DynamoDBConversationStore
        from keel.escalation.queues import AgentQueues
        from keel.escalation.records import DynamoDBEscalationStore
        from keel.escalation.wiring import stage_clients

        settings, clients = stage_clients()
        service = build_chat_service(settings, clients)
        channels = ChannelConfig.from_settings(settings)
        notifier = None
        if channels.channel_state_table and channels.sessions_table:
            # An agent's reply reaches the user's open widget at once (otherwise on the user's next message).
            notifier = Channels(channels, clients, lambda: service).user_notifier()
        console = AgentConsole(
            DynamoDBEscalationStore(clients.dynamodb, config.agents_table),
            DynamoDBConversationStore(clients.dynamodb, settings.conversations_table),
            AgentQueues.following(build_tenant_source(settings)),
            notifier,
        )
        return service.identify, console

    return factory
