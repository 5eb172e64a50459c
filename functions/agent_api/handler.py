"""Lambda handler for the agent console API (/v1/agent/...): parse, call the core, respond."""

from __future__ import annotations

import os
from typing import Any

from keel.channels.agent import AgentEndpoint, agent_console_factory
from keel.escalation.wiring import EscalationConfig

# Settings are read at the edge; the console and its clients are built on the first request.
_endpoint = AgentEndpoint(agent_console_factory(EscalationConfig.from_environ(os.environ)))


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """API Gateway proxy integration entry point."""
    return _endpoint.handle(event)
