"""The ops view's core (R16): who may read the tenant-wide KPIs, and the report for a window."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from keel.analytics.kpis import ABANDON_AFTER, report_from_source
from keel.analytics.ports import ConversationAnalyticsSource
from keel.analytics.timeutil import parse_duration
from keel.errors import Forbidden, InvalidRequest
from keel.identity.principal import Principal

DEFAULT_WINDOW = "7d"
KPI_PATH = "/v1/ops/kpis"


class Authenticator(Protocol):
    """Turns a bearer token into a principal."""

    def authenticate(self, token: str) -> Principal:
        """The principal, or raise Unauthenticated."""
        ...


@dataclass(frozen=True)
class OpsDependencies:
    """What the ops view talks to."""

    authenticator: Authenticator
    source: ConversationAnalyticsSource
    # Operators: the tenant's groups that may read tenant-wide KPIs (aggregates and masked queries only).
    operators: frozenset[str]
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)


def require_operator(deps: OpsDependencies, principal: Principal) -> None:
    """Forbidden unless principal is in one of the tenant's operator groups."""
    if not principal.groups & deps.operators:
        named = ", ".join(sorted(deps.operators)) or "no group (the tenant names no operators)"
        raise Forbidden(f"the ops view is for members of {named}")


def kpis(deps: OpsDependencies, principal: Principal, query: Mapping[str, str]) -> dict[str, Any]:
    """The KPI report over ?since (default 7d) for an operator; Forbidden for anyone else."""
    require_operator(deps, principal)
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
