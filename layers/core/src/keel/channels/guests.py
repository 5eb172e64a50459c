"""Anonymous website visitors: a guest user in the customer pool, group `customers`, signed in at once.

A guest gets a real Cognito token, so the web channel verifies it with the same ChatService.identify
as every other token and the customer policies apply to it unchanged (R5, R6, R20).
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any, Literal, Protocol

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel

from keel.errors import RateLimited, ServiceUnavailable
from keel.identity.principal import CUSTOMER_GROUP

GUEST_GROUP = CUSTOMER_GROUP
GUEST_PREFIX = "guest-"
_THROTTLED = frozenset({"TooManyRequestsException", "LimitExceededException", "ThrottlingException"})


class GuestSession(BaseModel):
    """A bearer token for an anonymous visitor."""

    token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the scheme name, not a secret
    expires_in: int
    username: str


class GuestIssuer(Protocol):
    """Creates a guest identity and returns its token."""

    def issue(self) -> GuestSession:
        """A fresh guest session."""
        ...


class CognitoGuestIssuer:
    """Guests as users of the customer pool; the password is random, used once and never kept."""

    def __init__(self, client: Any, user_pool_id: str, app_client_id: str, *, tenant: str) -> None:
        self._client = client
        self._pool = user_pool_id
        self._app_client = app_client_id
        self._tenant = tenant

    def issue(self) -> GuestSession:
        """AdminCreateUser (no invitation), set a permanent random password, add to customers, sign in."""
        username = f"{GUEST_PREFIX}{uuid.uuid4()}"
        password = f"Gst-{secrets.token_urlsafe(24)}-7!"
        try:
            self._client.admin_create_user(
                UserPoolId=self._pool,
                Username=username,
                MessageAction="SUPPRESS",
                UserAttributes=[{"Name": "custom:tenant", "Value": self._tenant}],
            )
            self._client.admin_set_user_password(
                UserPoolId=self._pool, Username=username, Password=password, Permanent=True
            )
            self._ensure_group()
            self._client.admin_add_user_to_group(UserPoolId=self._pool, Username=username, GroupName=GUEST_GROUP)
            result = self._client.admin_initiate_auth(
                UserPoolId=self._pool,
                ClientId=self._app_client,
                AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": username, "PASSWORD": password},
            )["AuthenticationResult"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _THROTTLED:
                raise RateLimited("too many guest sessions are being opened; try again shortly", retry_after=5) from exc
            raise ServiceUnavailable("guest sessions cannot be opened right now") from exc
        except BotoCoreError as exc:
            raise ServiceUnavailable("guest sessions cannot be opened right now") from exc
        return GuestSession(token=result["IdToken"], expires_in=int(result.get("ExpiresIn", 3600)), username=username)

    def _ensure_group(self) -> None:
        try:
            self._client.create_group(GroupName=GUEST_GROUP, UserPoolId=self._pool)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "GroupExistsException":
                raise
