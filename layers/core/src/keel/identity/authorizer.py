"""API Gateway REQUEST authorizer: a verified, unrevoked token becomes an IAM policy for one method (R5).

The REST API caches no authorizer result (TTL 0), so every request runs token verification and the
revocation check again: a subject revoked a moment ago is refused on its very next request.
Context values must be strings, numbers or booleans (API Gateway drops anything else), so groups
travel as one comma-separated string.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from keel.errors import InvalidRequest, Unauthenticated
from keel.identity.principal import Principal

logger = logging.getLogger("keel.authorizer")

POLICY_VERSION = "2012-10-17"
INVOKE = "execute-api:Invoke"
# principalId of a denied caller: API Gateway requires one, and it must not echo anything the caller sent.
ANONYMOUS = "anonymous"
MAX_TOKEN_HEADER_CHARS = 8192


def bearer_from_event(event: Mapping[str, Any]) -> str:
    """The JWT of a REQUEST authorizer event's ``Authorization: Bearer <jwt>`` header (any case)."""
    headers = event.get("headers") or {}
    if not isinstance(headers, Mapping):
        raise InvalidRequest("the authorizer event has no headers object")
    value = next((v for k, v in headers.items() if str(k).lower() == "authorization"), None)
    if not isinstance(value, str) or not value.strip():
        raise Unauthenticated("no bearer token was sent; send 'Authorization: Bearer <JWT>'")
    if len(value) > MAX_TOKEN_HEADER_CHARS:
        raise Unauthenticated(f"the Authorization header is longer than {MAX_TOKEN_HEADER_CHARS} characters")
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("the Authorization header must be 'Bearer <JWT>'")
    return token.strip()


def method_arn(event: Mapping[str, Any]) -> str:
    """The ARN of the method being called (REST ``methodArn``); the policy names exactly this resource."""
    arn = event.get("methodArn")
    if not isinstance(arn, str) or not arn.startswith("arn:") or ":execute-api:" not in arn:
        raise InvalidRequest("the authorizer event has no execute-api methodArn")
    return arn


def _policy(principal_id: str, effect: str, resource: str) -> dict[str, Any]:
    return {
        "principalId": principal_id,
        "policyDocument": {
            "Version": POLICY_VERSION,
            "Statement": [{"Action": INVOKE, "Effect": effect, "Resource": resource}],
        },
    }


def allow_policy(principal: Principal, resource: str) -> dict[str, Any]:
    """Allow ``principal`` to invoke exactly ``resource``; the context carries who they are."""
    response = _policy(principal.subject, "Allow", resource)
    response["context"] = {
        "subject": principal.subject,
        "username": principal.username,
        "groups": ",".join(sorted(principal.groups)),
        "tenant": principal.tenant,
        "external": principal.external,
    }
    return response


def deny_policy(resource: str, reason: str) -> dict[str, Any]:
    """Deny ``resource``; the reason code (never the token) goes to the context for access logs."""
    response = _policy(ANONYMOUS, "Deny", resource)
    response["context"] = {"reason": reason}
    return response


def authorize(event: Mapping[str, Any], authenticate: Callable[[str], Principal]) -> dict[str, Any]:
    """The authorizer's answer: Allow for an authenticated principal, Deny when the token is refused.

    Only ``Unauthenticated`` becomes a Deny; any other error (the revocation table unreachable, a bad
    configuration) propagates, so API Gateway fails the request instead of letting it through.
    """
    resource = method_arn(event)
    try:
        principal = authenticate(bearer_from_event(event))
    except Unauthenticated as exc:
        reason = str(exc.details.get("reason") or exc.code)
        logger.info("request refused", extra={"reason": reason})
        return deny_policy(resource, reason)
    return allow_policy(principal, resource)
