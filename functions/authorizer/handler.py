"""API Gateway Lambda authorizer: placeholder created with the CDK app until its owner writes it.

It fails closed: every request is denied, so nothing is reachable before token verification and
the revocation check exist (R5).
"""

from __future__ import annotations

from typing import Any


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Deny every request (REST and WebSocket $connect authorizer responses share this shape)."""
    resource = str(event.get("methodArn") or event.get("routeArn") or "*")
    return {
        "principalId": "anonymous",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": resource}],
        },
    }
