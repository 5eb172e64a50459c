"""The HTTP API contract, generated from the code: the route table below plus the pydantic models' schemas.

`keel openapi` writes it to docs/openapi.json; a unit test fails when the checked-in document drifts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field
from pydantic.json_schema import models_json_schema

from keel.channels.agent import PresenceBody, ReplyBody
from keel.channels.feedback import FeedbackReceipt, FeedbackRequest
from keel.channels.guests import GuestSession
from keel.conversations.models import ChatReply, ChatRequest

API_VERSION = "1.0.0"
REF = "#/components/schemas/{model}"


class ErrorDetail(BaseModel):
    """What went wrong, in words a caller can act on."""

    code: str
    message: str
    correlation_id: str | None = None
    details: dict[str, Any] | None = None


class ErrorBody(BaseModel):
    """Every non-2xx JSON answer."""

    error: ErrorDetail


class HealthReport(BaseModel):
    """The local stack's health: up only when every component is."""

    status: Literal["up", "degraded"]
    components: dict[str, dict[str, Any]] = Field(default_factory=dict)


class SlackAck(BaseModel):
    """Slack's acknowledgement: a challenge echo, an ephemeral notice, or ok."""

    model_config = {"extra": "allow"}


class AgentResult(BaseModel):
    """What the agent console returns: the queue, a conversation, or the new state after an action."""

    model_config = {"extra": "allow"}


class OpsKpis(BaseModel):
    """KPIs over a window, per day and per bot (definitions in docs/kpis.md)."""

    model_config = {"extra": "allow"}


CONVERSATION_ID = {"name": "conversation_id", "pattern": "^[A-Za-z0-9-]{8,64}$", "in": "path"}
SINCE = {"name": "since", "pattern": "^[0-9]{1,3}[dh]$", "in": "query"}


@dataclass(frozen=True)
class Operation:
    """One route of the HTTP API."""

    method: str
    path: str
    summary: str
    operation_id: str
    request: type[BaseModel] | None
    response: type[BaseModel]
    errors: tuple[int, ...]
    security: Literal["bearer", "slack", "none"] = "bearer"
    tag: str = "chat"
    request_media: str = "application/json"
    path_params: tuple[dict[str, str], ...] = ()


def _agent(method: str, path: str, summary: str, operation_id: str, request: type[BaseModel] | None) -> Operation:
    params = (CONVERSATION_ID,) if "{conversation_id}" in path else ()
    return Operation(
        method, path, summary, operation_id, request, AgentResult, (400, 401, 403, 404, 409, 500, 503),
        tag="agent", path_params=params,
    )  # fmt: skip


ROUTES: tuple[Operation, ...] = (
    Operation(
        "post",
        "/v1/chat",
        "Ask a bot; the reply carries citations, confidence and outcome.",
        "chat",
        ChatRequest,
        ChatReply,
        (400, 401, 403, 404, 409, 429, 500, 503),
    ),
    Operation(
        "post",
        "/v1/feedback",
        "Thumbs up or down and a 1-5 CSAT on one answer.",
        "giveFeedback",
        FeedbackRequest,
        FeedbackReceipt,
        (400, 401, 404, 500, 503),
        tag="feedback",
    ),
    Operation(
        "post",
        "/v1/session/guest",
        "A bearer token for an anonymous website visitor (group customers).",
        "openGuestSession",
        None,
        GuestSession,
        (429, 500, 503),
        security="none",
        tag="session",
    ),
    Operation(
        "get",
        "/healthz",
        "Health of the API and the components behind it.",
        "health",
        None,
        HealthReport,
        (503,),
        security="none",
        tag="operations",
    ),
    Operation(
        "post",
        "/slack/events",
        "Slack Events API (signed with the app's signing secret).",
        "slackEvents",
        None,
        SlackAck,
        (400, 401, 503),
        security="slack",
        tag="slack",
    ),
    Operation(
        "post",
        "/slack/commands",
        "The /keel slash command (form-encoded, signed).",
        "slackCommand",
        None,
        SlackAck,
        (400, 401, 503),
        security="slack",
        tag="slack",
        request_media="application/x-www-form-urlencoded",
    ),
    Operation(
        "post",
        "/slack/interactivity",
        "Block Kit button actions (form-encoded, signed).",
        "slackInteractivity",
        None,
        SlackAck,
        (400, 401, 503),
        security="slack",
        tag="slack",
        request_media="application/x-www-form-urlencoded",
    ),
)

ROUTES += (
    _agent(
        "get", "/v1/agent/queue", "Escalations of the queues the agent is assigned to.", "agentQueue", None
    ),
    _agent("post", "/v1/agent/presence", "Set the agent online or offline.", "agentPresence", PresenceBody),
    _agent(
        "get", "/v1/agent/conversations/{conversation_id}", "One escalated conversation.", "agentConversation", None
    ),
    _agent("post", "/v1/agent/conversations/{conversation_id}/take", "Take the conversation.", "agentTake", None),
    _agent("post", "/v1/agent/conversations/{conversation_id}/reply", "Reply as the agent.", "agentReply", ReplyBody),
    _agent(
        "post", "/v1/agent/conversations/{conversation_id}/handback", "Hand back to the bot.", "agentHandback", None
    ),
    _agent("post", "/v1/agent/conversations/{conversation_id}/close", "Close the conversation.", "agentClose", None),
    Operation(
        "get", "/v1/ops/kpis", "KPIs for the ops view (the tenant's operators).", "opsKpis", None, OpsKpis,
        (400, 401, 403, 500, 503), tag="operations", path_params=(SINCE,),
    ),
)  # fmt: skip

_ERROR_TEXT = {
    400: "The request is malformed; the message says what is accepted.",
    401: "No valid token (or a bad Slack signature).",
    403: "The principal may not do this.",
    404: "Not found, or not visible to the caller.",
    409: "A concurrent change won; retry.",
    413: "The request body is over the size limit; the message names the limit.",
    415: "The request body is not sent as Content-Type: application/json.",
    429: "Too many requests; see Retry-After.",
    500: "Unexpected error; quote the correlation id.",
    503: "A dependency is unavailable; see Retry-After.",
}


def build_openapi() -> dict[str, Any]:
    """The OpenAPI 3.1 document of the HTTP API."""
    models: list[type[BaseModel]] = [ErrorBody]
    for op in ROUTES:
        models += [m for m in (op.request, op.response) if m is not None]
    unique = list(dict.fromkeys(models))
    _, schemas = models_json_schema([(m, "validation") for m in unique], ref_template=REF)
    paths: dict[str, dict[str, Any]] = {}
    for op in ROUTES:
        paths.setdefault(op.path, {})[op.method] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Keel HTTP API",
            "version": API_VERSION,
            "description": "Every channel runs the same turn: identity, policy, guardrails, audit (R20).",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "slack": {"type": "apiKey", "in": "header", "name": "X-Slack-Signature"},
            },
        },
    }


def _error_statuses(op: Operation) -> list[int]:
    """The operation's errors; every operation with a JSON body can also get 413 and 415."""
    extra = (413, 415) if op.request is not None else ()
    return sorted({*op.errors, *extra})


def _operation(op: Operation) -> dict[str, Any]:
    body: dict[str, Any] = {
        "summary": op.summary,
        "operationId": op.operation_id,
        "tags": [op.tag],
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": _ref(op.response)}}}},
            **{
                str(status): {
                    "description": _ERROR_TEXT[status],
                    "content": {"application/json": {"schema": {"$ref": _ref(ErrorBody)}}},
                }
                for status in _error_statuses(op)
            },
        },
    }
    if op.security != "none":
        body["security"] = [{op.security: []}]
    if op.path_params:
        body["parameters"] = [
            {
                "name": p["name"],
                "in": p["in"],
                "required": p["in"] == "path",
                "schema": {"type": "string", "pattern": p["pattern"]},
            }
            for p in op.path_params
        ]
    if op.request is not None:
        body["requestBody"] = {"required": True, "content": {op.request_media: {"schema": {"$ref": _ref(op.request)}}}}
    elif op.security == "slack":
        body["requestBody"] = {"required": True, "content": {op.request_media: {"schema": {"type": "object"}}}}
    return body


def _ref(model: type[BaseModel]) -> str:
    return REF.format(model=model.__name__)


def render() -> str:
    """The document as checked in: sorted keys, two-space indent, trailing newline."""
    return json.dumps(build_openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
