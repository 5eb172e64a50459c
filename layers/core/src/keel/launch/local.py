"""Helpers on the running local stack (its .keel/stack.json): clients and signed-in test principals."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any


def clients(info: Mapping[str, Any]) -> Any:
    """AWS clients pointed at the stack's moto (fake credentials: moto accepts any)."""
    from keel.bootstrap import AwsClients

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    return AwsClients(region=str(info.get("region", "us-east-1")), endpoint_url=str(info["moto_url"]))


def token_for(info: Mapping[str, Any], username: str, groups: list[str], **attributes: Any) -> str:
    """An ID token (1 h) for a local Cognito user with exactly these groups, created when missing."""
    from keel.local import provision

    pool = provision.UserPool(pool_id=str(info["user_pool_id"]), client_id=str(info["client_id"]))
    cognito = clients(info).cognito
    password = provision.ensure_user(cognito, pool, username, groups=groups, **attributes)
    token: str = provision.sign_in(cognito, pool, username, password)["IdToken"]
    return token
