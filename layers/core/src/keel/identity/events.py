"""Cognito admin events (CloudTrail, delivered by EventBridge) become revocation records (R5).

This covers changes made outside Keel's admin API: an operator in the console, the IdP's own automation.
EventBridge delivery lags CloudTrail by seconds to minutes, so the not-before time is the event's own
``eventTime``: tokens issued before the change are refused, tokens issued after it (a fresh sign-in after
a global sign-out) are not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from keel.contract import ENABLING_EVENTS, REVOKING_EVENTS
from keel.errors import InvalidRequest
from keel.identity.admin import Revocation, Revoker, UserDirectory
from keel.identity.revocation import RevocationStore

# Cognito hides user names in CloudTrail for some calls; the sub then comes in additionalEventData.
HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS"


@dataclass(frozen=True)
class AdminEvent:
    """The parts of a CloudTrail record that matter for revocation."""

    name: str
    user_pool_id: str | None
    username: str | None
    subject: str | None
    at: float


def parse_admin_event(event: Mapping[str, Any]) -> AdminEvent | None:
    """The admin event inside an EventBridge envelope, or None when it is not a Cognito user event."""
    detail = event.get("detail")
    if not isinstance(detail, Mapping):
        raise InvalidRequest("expected an EventBridge event with a 'detail' object (CloudTrail record)")
    if detail.get("eventSource") != "cognito-idp.amazonaws.com":
        return None
    name = detail.get("eventName")
    if name not in REVOKING_EVENTS and name not in ENABLING_EVENTS:
        return None
    if detail.get("errorCode"):
        return None  # the call failed at Cognito, so nothing changed
    params = detail.get("requestParameters") or {}
    extra = detail.get("additionalEventData") or {}
    username = params.get("username") if isinstance(params, Mapping) else None
    if username is None and isinstance(params, Mapping):
        username = _federated_username(params.get("user"))
    subject = extra.get("sub") if isinstance(extra, Mapping) else None
    try:
        at = datetime.fromisoformat(str(detail.get("eventTime") or event.get("time"))).timestamp()
    except ValueError as exc:
        raise InvalidRequest("the event has no valid eventTime (ISO 8601 expected)") from exc
    return AdminEvent(
        name=str(name),
        user_pool_id=params.get("userPoolId") if isinstance(params, Mapping) else None,
        username=username if isinstance(username, str) and username != HIDDEN else None,
        subject=subject if isinstance(subject, str) and subject else None,
        at=at,
    )


def _federated_username(user: object) -> str | None:
    """The Cognito user name of a federated identity (``<provider>_<id>``), as AdminDisableProviderForUser names it."""
    if not isinstance(user, Mapping):
        return None
    provider, value = user.get("ProviderName"), user.get("ProviderAttributeValue")
    if isinstance(provider, str) and isinstance(value, str) and provider and value and HIDDEN not in (provider, value):
        return f"{provider}_{value}"
    return None


def handle_cognito_admin_event(
    event: Mapping[str, Any],
    revoker: Revoker,
    store: RevocationStore,
    directory: UserDirectory,
    *,
    user_pool_id: str,
) -> Revocation | None:
    """Write the revocation record an admin event implies and end sessions; None when nothing applies."""
    parsed = parse_admin_event(event)
    if parsed is None or (parsed.user_pool_id is not None and parsed.user_pool_id != user_pool_id):
        return None
    subject = parsed.subject
    if subject is None:
        if parsed.username is None:
            raise InvalidRequest(f"{parsed.name} event names neither a username nor a sub")
        subject = directory.subject_of(parsed.username)
    if parsed.name in ENABLING_EVENTS:
        store.enable(subject, at=parsed.at)
        return None
    reason = f"{parsed.name} at the identity provider"
    return revoker.record(subject, reason, disable=REVOKING_EVENTS[parsed.name], at=parsed.at)
