"""Fixtures of the integration suite: local servers on free loopback ports, started once per session."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from keel.local.model_server import ModelEndpointControl, RunningModelServer, start


@dataclass
class ModelEndpoint:
    """The local Bedrock Runtime endpoint: `.url` for clients, faults and received requests over HTTP.

    `fault("throttle" | "error" | "model_error" | "stall" | "down" | "ok", model=..., count=...,
    rate_limit_per_second=..., stall_seconds=...)`, `requests()`, `clear_requests()`, `reset()`.
    """

    url: str
    control: ModelEndpointControl
    server: RunningModelServer

    def fault(self, mode: str, **options: Any) -> dict[str, Any]:
        """Install a fault rule on the endpoint."""
        return self.control.fault(mode, **options)

    def requests(self) -> list[dict[str, Any]]:
        """The request bodies the endpoint received since the last clear."""
        return self.control.requests()

    def clear_requests(self) -> None:
        """Forget the received requests."""
        self.control.clear_requests()

    def reset(self) -> None:
        """No faults, no recorded requests."""
        self.control.reset()


@pytest.fixture(scope="session")
def model_endpoint() -> Iterator[ModelEndpoint]:
    """The local model endpoint on a free loopback port for the whole session (reset it if you fault it)."""
    server = start()
    endpoint = ModelEndpoint(url=server.url, control=ModelEndpointControl(server.url), server=server)
    yield endpoint
    server.stop()


@pytest.fixture
def clean_model_endpoint(model_endpoint: ModelEndpoint) -> Iterator[ModelEndpoint]:
    """The session's model endpoint with no faults and no recorded requests, reset again afterwards."""
    model_endpoint.reset()
    yield model_endpoint
    model_endpoint.reset()
