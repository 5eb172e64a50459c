"""The ops API's HTTP edge: GET /v1/ops/kpis?since=7d returns the KPI report as JSON to operators (R16)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from keel.analytics.ops import KPI_PATH, OpsDependencies, kpis, require_operator
from keel.channels.http import bearer_token, correlation_id, error_response, json_response
from keel.errors import NotFound
from keel.lazy import Lazy


class OpsEndpoint:
    """Authenticate, route, compute the report (keel.analytics.ops), respond."""

    def __init__(self, factory: Callable[[], OpsDependencies]) -> None:
        self._deps = Lazy(factory)

    def handle(self, event: dict[str, Any]) -> dict[str, Any]:
        """One API Gateway proxy event in, one proxy response out; never raises."""
        correlation = correlation_id(event)
        try:
            deps = self._deps()
            principal = deps.authenticator.authenticate(bearer_token(event))
            body = self._route(deps, principal, event)
        except Exception as exc:  # every failure becomes a typed JSON error; unknown ones a 500
            return error_response(exc, correlation=correlation)
        return json_response(200, body, correlation=correlation)

    @staticmethod
    def _route(deps: OpsDependencies, principal: Any, event: dict[str, Any]) -> dict[str, Any]:
        require_operator(deps, principal)  # before routing: only operators learn which routes exist
        if event.get("httpMethod", "GET") != "GET" or event.get("path") != KPI_PATH:
            raise NotFound(f"no ops resource at {event.get('httpMethod')} {event.get('path')}; try GET {KPI_PATH}")
        return kpis(deps, principal, event.get("queryStringParameters") or {})
