"""Cognito admin events (CloudTrail through EventBridge) revoke the subject and end its sessions (R5).

The event names the user pool; the workforce pool and the customer pool each have their own directory.
Events from any other pool, and Cognito calls that change nothing (failed calls, other operations),
are ignored.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from keel.identity.admin import Revoker, UserDirectory
from keel.identity.events import handle_cognito_admin_event, parse_admin_event
from keel.identity.revocation import RevocationStore
from keel.lazy import once

logger = logging.getLogger("keel.revocation")
# The WebSocket API's Management endpoint (https://<api>.execute-api.<region>.amazonaws.com/<stage>).
MANAGEMENT_URL_VARIABLE = "WEBSOCKET_MANAGEMENT_URL"


@dataclass(frozen=True)
class RevocationWiring:
    """The revoker, its store and one directory per user pool, the first being the workforce pool."""

    revoker: Revoker
    store: RevocationStore
    directories: Mapping[str, UserDirectory]
    default_pool: str


def handle(event: Mapping[str, Any], wiring: RevocationWiring) -> dict[str, Any]:
    """Apply one event; the answer says what was done (EventBridge ignores it, the logs keep it)."""
    parsed = parse_admin_event(event)
    if parsed is None:
        return {"applied": False, "why": "not a Cognito user event that changes access"}
    pool = parsed.user_pool_id or wiring.default_pool
    directory = wiring.directories.get(pool)
    if directory is None:
        return {"applied": False, "why": f"user pool {pool} is not one of Keel's"}
    result = handle_cognito_admin_event(event, wiring.revoker, wiring.store, directory, user_pool_id=pool)
    if result is None:
        return {"applied": True, "event": parsed.name, "revoked": False}
    logger.info(
        "revoked from an admin event",
        extra={"event": parsed.name, "sessions_closed": result.sessions_closed, "failed": result.sessions_failed},
    )
    return {
        "applied": True,
        "event": parsed.name,
        "revoked": True,
        "disabled": result.disabled,
        "sessions_closed": result.sessions_closed,
        "sessions_failed": result.sessions_failed,
    }


@once
def _wiring() -> RevocationWiring:
    # Built on the first event and kept while warm.
    import boto3
    from botocore.config import Config

    from keel.bootstrap import AwsClients
    from keel.identity.closers import ApiGatewayConnectionCloser, ChannelSessionCloser, ForgetSession
    from keel.identity.cognito import CognitoDirectory
    from keel.identity.revocation import DynamoDBRevocationStore
    from keel.identity.sessions import DynamoDBSessionRegistry
    from keel.settings import load_settings

    settings = load_settings()
    clients = AwsClients.from_settings(settings)
    closers: dict[str, Any] = {"slack": ForgetSession(), "web": ForgetSession()}
    management_url = os.environ.get(MANAGEMENT_URL_VARIABLE)
    if management_url:
        management = boto3.session.Session().client(
            "apigatewaymanagementapi",
            region_name=settings.region,
            endpoint_url=management_url,
            config=Config(connect_timeout=3, read_timeout=5, retries={"mode": "standard", "max_attempts": 2}),
        )
        closers["websocket"] = ApiGatewayConnectionCloser(management)
    store = DynamoDBRevocationStore(clients.dynamodb, settings.revocations_table)
    revoker = Revoker(
        store, DynamoDBSessionRegistry(clients.dynamodb, settings.sessions_table), ChannelSessionCloser(closers)
    )
    pools = [settings.user_pool_id, *([settings.customer_user_pool_id] if settings.customer_user_pool_id else [])]
    directories = {pool: CognitoDirectory(clients.cognito, pool) for pool in pools}
    return RevocationWiring(revoker, store, directories, settings.user_pool_id)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """EventBridge entry point."""
    return handle(event, _wiring())
