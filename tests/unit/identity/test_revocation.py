"""Revocation: not-before records, the per-request check, the revoke fan-out, admin events and SCIM."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from keel.errors import InvalidRequest, NotFound, ServiceUnavailable, Unauthenticated
from keel.identity.admin import Revoker, deprovision_from_scim, scim_deactivates
from keel.identity.authenticator import TokenAuthenticator
from keel.identity.events import handle_cognito_admin_event, parse_admin_event
from keel.identity.revocation import InMemoryRevocationStore, RevocationCheck, RevocationRecord
from keel.identity.sessions import InMemorySessionRegistry, Session, new_session
from keel.identity.tokens import TokenVerifier
from tests.unit.identity.conftest import Clock
from tests.unit.identity.tokenfactory import NOW, KeyPair, claims

POOL = "us-east-1_TEST"


class Directory:
    """A user directory fake that records the calls the revocation path makes."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.subjects = {"emma": "sub-emma", "CorpIdP_emma": "sub-CorpIdP_emma"}

    def subject_of(self, username: str) -> str:
        self.calls.append(("subject_of", username))
        if username not in self.subjects:
            raise NotFound(f"no user {username!r}")
        return self.subjects[username]

    def global_sign_out(self, username: str) -> None:
        self.calls.append(("global_sign_out", username))

    def disable(self, username: str) -> None:
        self.calls.append(("disable", username))


class Closer:
    """Records closed sessions; fails for the channels it is told to."""

    def __init__(self, failing: frozenset[str] = frozenset()) -> None:
        self.closed: list[Session] = []
        self.failing = failing

    def close(self, session: Session, reason: str) -> None:
        if session.channel in self.failing:
            raise ServiceUnavailable("channel down")
        self.closed.append(session)


@pytest.fixture
def store() -> InMemoryRevocationStore:
    return InMemoryRevocationStore()


@pytest.fixture
def registry() -> InMemorySessionRegistry:
    return InMemorySessionRegistry(clock=Clock(NOW))


@pytest.fixture
def authenticator(verifier: TokenVerifier, store: InMemoryRevocationStore) -> TokenAuthenticator:
    return TokenAuthenticator(verifier, RevocationCheck(store))


def revoker(store: InMemoryRevocationStore, registry: InMemorySessionRegistry, closer: Closer, **kw: Any) -> Revoker:
    return Revoker(store, registry, closer, kw.get("directory"), clock=Clock(kw.get("at", NOW)))


def test_token_issued_before_sign_out_is_refused(
    authenticator: TokenAuthenticator, store: InMemoryRevocationStore, pair: KeyPair
) -> None:
    token = pair.sign(claims())
    assert authenticator.authenticate(token).subject == "sub-emma"
    store.put(RevocationRecord("sub-emma", not_before=NOW - 10, reason="signed out"))
    with pytest.raises(Unauthenticated) as caught:
        authenticator.authenticate(token)
    assert caught.value.details["reason"] == "revoked"


def test_token_from_a_fresh_sign_in_after_sign_out_is_accepted(
    authenticator: TokenAuthenticator, store: InMemoryRevocationStore, pair: KeyPair
) -> None:
    store.put(RevocationRecord("sub-emma", not_before=NOW - 100, reason="signed out"))
    assert authenticator.authenticate(pair.sign(claims())).subject == "sub-emma"


def test_refreshed_token_dates_from_its_sign_in(
    authenticator: TokenAuthenticator, store: InMemoryRevocationStore, pair: KeyPair
) -> None:
    # A refresh after the revocation mints a new iat but keeps auth_time: still refused.
    store.put(RevocationRecord("sub-emma", not_before=NOW - 30, reason="signed out"))
    token = pair.sign(claims(iat=int(NOW) - 5, auth_time=int(NOW) - 60))
    with pytest.raises(Unauthenticated):
        authenticator.authenticate(token)


def test_disabled_user_is_refused_even_with_a_new_token(
    authenticator: TokenAuthenticator, store: InMemoryRevocationStore, pair: KeyPair
) -> None:
    store.put(RevocationRecord("sub-emma", not_before=NOW - 100, disabled=True, reason="left"))
    with pytest.raises(Unauthenticated, match="disabled"):
        authenticator.authenticate(pair.sign(claims()))
    store.enable("sub-emma", at=NOW)
    assert authenticator.authenticate(pair.sign(claims())).subject == "sub-emma"


def test_not_before_never_moves_back(store: InMemoryRevocationStore) -> None:
    store.put(RevocationRecord("s", not_before=200.0))
    store.put(RevocationRecord("s", not_before=100.0))
    record = store.get("s")
    assert record is not None and record.not_before == 200.0


def test_check_reads_the_store_on_every_request_by_default(
    verifier: TokenVerifier, store: InMemoryRevocationStore, pair: KeyPair
) -> None:
    authenticator = TokenAuthenticator(verifier, RevocationCheck(store))
    token = pair.sign(claims())
    for _ in range(3):
        authenticator.authenticate(token)
    assert store.reads == 3


def test_optional_cache_is_bounded_by_max_age(
    verifier: TokenVerifier, store: InMemoryRevocationStore, pair: KeyPair
) -> None:
    monotonic = Clock(0.0)
    authenticator = TokenAuthenticator(verifier, RevocationCheck(store, max_age_seconds=2.0, clock=monotonic))
    token = pair.sign(claims())
    authenticator.authenticate(token)
    store.put(RevocationRecord("sub-emma", not_before=NOW, reason="signed out"))
    authenticator.authenticate(token)  # within max_age the cached "not revoked" still answers
    monotonic.now = 2.5
    with pytest.raises(Unauthenticated):
        authenticator.authenticate(token)
    assert store.reads == 2


def test_revoke_writes_the_record_calls_the_idp_and_closes_sessions(
    store: InMemoryRevocationStore, registry: InMemorySessionRegistry
) -> None:
    directory, closer = Directory(), Closer()
    registry.register(new_session("sub-emma", "websocket", "conn-1", now=NOW))
    registry.register(new_session("sub-emma", "slack", "T1:U1", now=NOW))
    registry.register(new_session("sub-other", "websocket", "conn-2", now=NOW))
    result = revoker(store, registry, closer, directory=directory).revoke("emma", "left the company", disable=True)
    assert (result.subject, result.disabled, result.sessions_closed) == ("sub-emma", True, 2)
    record = store.get("sub-emma")
    assert record is not None and record.disabled and record.not_before == NOW
    assert directory.calls == [("subject_of", "emma"), ("global_sign_out", "emma"), ("disable", "emma")]
    assert {s.session_id for s in closer.closed} == {"conn-1", "T1:U1"}
    assert registry.sessions("sub-emma") == []
    assert len(registry.sessions("sub-other")) == 1


def test_one_failing_channel_does_not_stop_the_others(
    store: InMemoryRevocationStore, registry: InMemorySessionRegistry
) -> None:
    registry.register(new_session("sub-emma", "websocket", "conn-1", now=NOW))
    registry.register(new_session("sub-emma", "slack", "T1:U1", now=NOW))
    closer = Closer(failing=frozenset({"slack"}))
    result = revoker(store, registry, closer).revoke("sub-emma", "signed out")
    assert (result.sessions_closed, result.sessions_failed) == (1, 1)
    assert [s.channel for s in registry.sessions("sub-emma")] == ["slack"]


def test_revoke_without_a_reason_is_refused(store: InMemoryRevocationStore, registry: InMemorySessionRegistry) -> None:
    with pytest.raises(InvalidRequest, match="reason"):
        revoker(store, registry, Closer()).revoke("sub-emma", "  ")
    assert store.get("sub-emma") is None


def test_revoking_an_unknown_user_is_not_found(
    store: InMemoryRevocationStore, registry: InMemorySessionRegistry
) -> None:
    with pytest.raises(NotFound):
        revoker(store, registry, Closer(), directory=Directory()).revoke("nobody", "test")


def test_expired_sessions_are_not_returned() -> None:
    registry = InMemorySessionRegistry(clock=Clock(NOW))
    registry.register(new_session("s", "websocket", "old", now=NOW - 100, ttl_seconds=50))
    assert registry.sessions("s") == []


def test_unknown_session_channel_is_refused() -> None:
    with pytest.raises(InvalidRequest, match="accepted"):
        new_session("s", "carrier-pigeon", "x", now=NOW)


# --- Cognito admin events from CloudTrail via EventBridge ---


def cloudtrail(name: str, *, username: str = "emma", sub: str | None = None, **detail: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "eventSource": "cognito-idp.amazonaws.com",
        "eventName": name,
        "eventTime": datetime.fromtimestamp(NOW - 5, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "requestParameters": {"userPoolId": POOL, "username": username},
    }
    if sub:
        body["additionalEventData"] = {"sub": sub}
    body.update(detail)
    return {"detail-type": "AWS API Call via CloudTrail", "source": "aws.cognito-idp", "detail": body}


def handle(event: dict[str, Any], store: InMemoryRevocationStore, registry: InMemorySessionRegistry) -> Any:
    directory = Directory()
    return handle_cognito_admin_event(
        event, revoker(store, registry, Closer(), directory=directory), store, directory, user_pool_id=POOL
    )


def test_global_sign_out_event_refuses_older_tokens(
    authenticator: TokenAuthenticator, store: InMemoryRevocationStore, registry: InMemorySessionRegistry, pair: KeyPair
) -> None:
    token = pair.sign(claims())
    registry.register(new_session("sub-emma", "websocket", "conn-1", now=NOW))
    result = handle(cloudtrail("AdminUserGlobalSignOut"), store, registry)
    assert result.sessions_closed == 1 and not result.disabled
    record = store.get("sub-emma")
    assert record is not None and record.not_before == NOW - 5  # the event's own time, not delivery time
    with pytest.raises(Unauthenticated):
        authenticator.authenticate(token)


def test_disable_event_with_hidden_username_uses_the_sub(
    store: InMemoryRevocationStore, registry: InMemorySessionRegistry
) -> None:
    handle(cloudtrail("AdminDisableUser", username="HIDDEN_DUE_TO_SECURITY_REASONS", sub="sub-x"), store, registry)
    record = store.get("sub-x")
    assert record is not None and record.disabled


def test_enable_event_clears_disabled(store: InMemoryRevocationStore, registry: InMemorySessionRegistry) -> None:
    handle(cloudtrail("AdminDisableUser"), store, registry)
    handle(cloudtrail("AdminEnableUser"), store, registry)
    record = store.get("sub-emma")
    assert record is not None and not record.disabled


@pytest.mark.parametrize(
    "event",
    [
        cloudtrail("AdminUserGlobalSignOut", errorCode="UserNotFoundException"),
        cloudtrail("AdminGetUser"),
        cloudtrail("AdminUserGlobalSignOut", requestParameters={"userPoolId": "other_pool", "username": "emma"}),
        cloudtrail("AdminDisableUser", eventSource="s3.amazonaws.com"),
    ],
    ids=["failed-call", "read-only-call", "other-pool", "other-service"],
)
def test_events_that_change_nothing_write_nothing(
    event: dict[str, Any], store: InMemoryRevocationStore, registry: InMemorySessionRegistry
) -> None:
    assert handle(event, store, registry) is None
    assert store.get("sub-emma") is None


@pytest.mark.parametrize(
    "event",
    [
        {"source": "aws.cognito-idp"},
        cloudtrail("AdminDisableUser", eventTime="yesterday"),
        cloudtrail("AdminDisableUser", username="HIDDEN_DUE_TO_SECURITY_REASONS"),
    ],
    ids=["no-detail", "bad-time", "no-user"],
)
def test_malformed_events_are_invalid_requests(
    event: dict[str, Any], store: InMemoryRevocationStore, registry: InMemorySessionRegistry
) -> None:
    with pytest.raises(InvalidRequest):
        handle(event, store, registry)


@pytest.mark.parametrize(
    "operation", ["AdminRemoveUserFromGroup", "AdminUpdateUserAttributes", "AdminDeleteUserAttributes"]
)
def test_a_change_of_groups_or_attributes_refuses_tokens_issued_before_it(
    operation: str,
    authenticator: TokenAuthenticator,
    store: InMemoryRevocationStore,
    registry: InMemorySessionRegistry,
    pair: KeyPair,
) -> None:
    # Given a token that still carries the groups the user had when signing in
    token = pair.sign(claims())
    registry.register(new_session("sub-emma", "websocket", "conn-1", now=NOW))
    # When an administrator changes the user's groups or attributes
    result = handle(cloudtrail(operation, groupName="payroll-admins"), store, registry)
    # Then the old token is refused on the next request and the open session ends; the account stays enabled
    assert result.sessions_closed == 1 and not result.disabled
    with pytest.raises(Unauthenticated):
        authenticator.authenticate(token)


def test_idp_deprovisioning_of_a_federated_identity_revokes_and_disables(
    store: InMemoryRevocationStore, registry: InMemorySessionRegistry
) -> None:
    user = {"ProviderName": "CorpIdP", "ProviderAttributeName": "Cognito_Subject", "ProviderAttributeValue": "emma"}
    event = cloudtrail("AdminDisableProviderForUser", requestParameters={"userPoolId": POOL, "user": user})
    parsed = parse_admin_event(event)
    assert parsed is not None and parsed.username == "CorpIdP_emma"
    handle(event, store, registry)
    record = store.get("sub-CorpIdP_emma")
    assert record is not None and record.disabled


def test_parse_admin_event_reads_the_event_time() -> None:
    parsed = parse_admin_event(cloudtrail("GlobalSignOut", sub="sub-emma"))
    assert parsed is not None and parsed.at == NOW - 5 and parsed.subject == "sub-emma"


# --- SCIM deprovisioning ---


@pytest.mark.parametrize(
    ("body", "deactivates"),
    [
        ({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "active": False}, True),
        (
            {
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "replace", "path": "active", "value": False}],
            },
            True,
        ),
        (
            {
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "Replace", "value": {"active": False}}],
            },
            True,
        ),
        (
            {
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "replace", "path": "displayName", "value": "E"}],
            },
            False,
        ),
        ({"active": True}, False),
    ],
)
def test_scim_deactivation_is_recognised(body: dict[str, Any], deactivates: bool) -> None:
    assert scim_deactivates(body) is deactivates


def test_scim_patch_without_operations_is_invalid() -> None:
    with pytest.raises(InvalidRequest, match="Operations"):
        scim_deactivates({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]})


def test_scim_deprovisioning_disables_the_user(
    store: InMemoryRevocationStore, registry: InMemorySessionRegistry
) -> None:
    directory = Directory()
    result = deprovision_from_scim(revoker(store, registry, Closer(), directory=directory), "emma", {"active": False})
    assert result is not None and result.disabled
    assert ("disable", "emma") in directory.calls
