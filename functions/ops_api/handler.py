"""Lambda handler for GET /v1/ops/kpis: parse, call the core, respond."""

from __future__ import annotations

from typing import Any

from keel.analytics.ops import default_dependencies
from keel.channels.ops import OpsEndpoint

# Built on the first request, so a cold start imports only what the report needs.
_endpoint = OpsEndpoint(default_dependencies)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """API Gateway proxy integration entry point."""
    return _endpoint.handle(event)
