"""Cognito adapters: the user directory the revocation path drives, and the authoritative token check."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from keel.errors import NotFound, ServiceUnavailable
from keel.identity.tokens import refuse

# The scope GetUser (and every self-service call) requires of an access token.
SELF_SERVICE_SCOPE = "aws.cognito.signin.user.admin"
# Cognito's answers for a token whose user signed out, was disabled or deleted.
_REVOKED_CODES = frozenset({"NotAuthorizedException", "UserNotFoundException", "UserNotConfirmedException"})
# A federated user is EXTERNAL_PROVIDER; any other status (a reset forced by an administrator) is not live.
_LIVE_STATUSES = frozenset({"CONFIRMED", "EXTERNAL_PROVIDER"})


class CognitoDirectory:
    """The user pool as the revocation path sees it: resolve a user, sign them out, disable, enable."""

    def __init__(self, client: Any, user_pool_id: str) -> None:
        self._client = client
        self._pool = user_pool_id

    def subject_of(self, username: str) -> str:
        """The immutable sub of a user (AdminGetUser accepts the username, an alias or the sub)."""
        try:
            response = self._client.admin_get_user(UserPoolId=self._pool, Username=username)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "UserNotFoundException":
                raise NotFound(f"no user {username!r} in the user pool") from exc
            raise ServiceUnavailable("the user directory cannot be read") from exc
        except BotoCoreError as exc:
            raise ServiceUnavailable("the user directory cannot be read") from exc
        for attribute in response.get("UserAttributes", []):
            if attribute.get("Name") == "sub":
                return str(attribute["Value"])
        raise ServiceUnavailable("the user directory returned a user without a sub")

    def global_sign_out(self, username: str) -> None:
        """AdminUserGlobalSignOut: Cognito stops refreshing the user's tokens."""
        self._call("admin_user_global_sign_out", username)

    def disable(self, username: str) -> None:
        """AdminDisableUser: the user can no longer sign in."""
        self._call("admin_disable_user", username)

    def _call(self, operation: str, username: str) -> None:
        try:
            getattr(self._client, operation)(UserPoolId=self._pool, Username=username)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "UserNotFoundException":
                raise NotFound(f"no user {username!r} in the user pool") from exc
            raise ServiceUnavailable(f"the user directory refused {operation}") from exc
        except BotoCoreError as exc:
            raise ServiceUnavailable(f"the user directory cannot be reached for {operation}") from exc


class CognitoSessionCheck:
    """Asks Cognito itself whether a session is live, for high-assurance actions (R5, R6).

    An access token with the self-service scope goes to GetUser, which fails after a global sign-out, a
    disable or a delete. Other tokens (ID tokens; OAuth access tokens without that scope, which GetUser
    refuses) cannot be presented to Cognito, so the user's record is read instead (AdminGetUser: exists and
    enabled); a sign-out is then caught by the revocation record already checked on every request.
    Costs a call to Cognito, so only destructive and money-moving actions pay for it.
    """

    def __init__(self, client: Any, user_pool_id: str) -> None:
        self._client = client
        self._pool = user_pool_id

    def check(self, token: str | None, claims: Mapping[str, Any]) -> None:
        """Raise Unauthenticated when Cognito no longer honours the session (token None: only claims kept)."""
        try:
            scopes = str(claims.get("scope", "")).split()
            if token and claims.get("token_use") == "access" and SELF_SERVICE_SCOPE in scopes:
                self._client.get_user(AccessToken=token)
                return
            username = claims.get("cognito:username") or claims.get("sub")
            user = self._client.admin_get_user(UserPoolId=self._pool, Username=str(username))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _REVOKED_CODES:
                raise refuse("revoked", "the identity provider no longer accepts this session") from exc
            raise ServiceUnavailable("the identity provider cannot confirm this session") from exc
        except BotoCoreError as exc:
            raise ServiceUnavailable("the identity provider cannot confirm this session") from exc
        if not user.get("Enabled", True) or user.get("UserStatus") not in _LIVE_STATUSES:
            raise refuse("revoked", "the identity provider no longer accepts this session")
