"""The ops API: GET /v1/ops/kpis?since=7d returns the KPI report as JSON to operators (R16)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from keel.analytics.kpis import ABANDON_AFTER, report_from_source
from keel.analytics.ports import ConversationAnalyticsSource
from keel.analytics.timeutil import parse_duration
from keel.channels.http import bearer_token, correlation_id, error_response, json_response
from keel.errors import Forbidden, InvalidRequest, NotFound
from keel.identity.principal import Principal
from keel.lazy import Lazy

DEFAULT_WINDOW = "7d"
KPI_PATH = "/v1/ops/kpis"


class Authenticator(Protocol):
    """Turns a bearer token into a principal."""

    def authenticate(self, token: str) -> Principal:
        """The principal, or raise Unauthenticated."""
        ...


@dataclass(frozen=True)
class OpsDependencies:
    """What the ops endpoint talks to."""

    authenticator: Authenticator
    source: ConversationAnalyticsSource
    # Operators: the tenant's groups that may read tenant-wide KPIs (aggregates and masked queries only).
    operators: frozenset[str]
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)


class OpsEndpoint:
    """Authenticate, require an operator group, parse the window, compute the report."""

    def __init__(self, factory: Callable[[], OpsDependencies]) -> None:
        self._deps = Lazy(factory)

    def handle(self, event: dict[str, Any]) -> dict[str, Any]:
        """One API Gateway proxy event in, one proxy response out; never raises."""
        correlation = correlation_id(event)
        try:
            body = self._kpis(event)
        except Exception as exc:  # every failure becomes a typed JSON error; unknown ones a 500
            return error_response(exc, correlation=correlation)
        return json_response(200, body, correlation=correlation)

    def _kpis(self, event: dict[str, Any]) -> dict[str, Any]:
        deps = self._deps()
        principal = deps.authenticator.authenticate(bearer_token(event))
        if not principal.groups & deps.operators:
            named = ", ".join(sorted(deps.operators)) or "no group (the tenant names no operators)"
            raise Forbidden(f"the ops view is for members of {named}")
        if event.get("httpMethod", "GET") != "GET" or event.get("path") != KPI_PATH:
            raise NotFound(f"no ops resource at {event.get('httpMethod')} {event.get('path')}; try GET {KPI_PATH}")
        query = event.get("queryStringParameters") or {}
        unknown = sorted(set(query) - {"since", "abandon_after"})
        if unknown:
            raise InvalidRequest(f"unknown query parameter(s) {', '.join(unknown)}; accepted: since, abandon_after")
        window = parse_duration(query.get("since") or DEFAULT_WINDOW)
        abandon_after = parse_duration(query["abandon_after"]) if query.get("abandon_after") else ABANDON_AFTER
        report = report_from_source(deps.source, window, now=deps.clock(), abandon_after=abandon_after)
        return {**report.to_dict(), "window": query.get("since") or DEFAULT_WINDOW}


def default_dependencies() -> OpsDependencies:
    """Settings from the environment, the conversations table, and the same token check as the chat API."""
    from keel.analytics.dynamodb import DynamoDBAnalyticsSource
    from keel.bootstrap import AwsClients, build_authenticator, build_tenant
    from keel.settings import load_settings

    settings = load_settings()
    clients = AwsClients.from_settings(settings)
    return OpsDependencies(
        authenticator=build_authenticator(settings, clients),
        source=DynamoDBAnalyticsSource(clients.dynamodb, settings.conversations_table),
        operators=frozenset(build_tenant(settings).spec.operators),
    )
