"""API Gateway REQUEST authorizer for the REST API: verify the token, check revocation, answer a policy (R5)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from keel.identity.authorizer import authorize
from keel.identity.principal import Principal
from keel.lazy import once


@once
def _authenticate() -> Callable[[str], Principal]:
    # Built on the first request and kept while warm: the JWKS cache survives, revocation is read every time.
    from keel.bootstrap import AwsClients, build_authenticator
    from keel.settings import load_settings

    settings = load_settings()
    authenticator = build_authenticator(settings, AwsClients.from_settings(settings))
    return authenticator.authenticate


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """REQUEST authorizer entry point: Allow on the method ARN with the principal, or Deny."""
    return authorize(event, _authenticate())
