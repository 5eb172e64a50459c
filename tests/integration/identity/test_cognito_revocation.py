"""On moto: real Cognito tokens verify through the JWKS, and after sign-out or disable the next request is 401."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.config import Config

from keel.errors import Unauthenticated
from keel.identity.admin import Revoker
from keel.identity.authenticator import TokenAuthenticator
from keel.identity.cognito import CognitoDirectory, CognitoSessionCheck
from keel.identity.events import handle_cognito_admin_event
from keel.identity.revocation import DynamoDBRevocationStore, RevocationCheck
from keel.identity.sessions import DynamoDBSessionRegistry, Session, new_session
from keel.identity.tokens import HttpJwks, TokenVerifier

REGION = "us-east-1"
PASSWORD = "Correct-Horse-9!"


class Closer:
    """Stands in for the channels' closer (API Gateway deleteConnection); records what it closed."""

    def __init__(self) -> None:
        self.closed: list[Session] = []

    def close(self, session: Session, reason: str) -> None:
        self.closed.append(session)


@dataclass
class Stack:
    cognito: Any
    pool: str
    client_id: str
    authenticator: TokenAuthenticator
    revoker: Revoker
    store: DynamoDBRevocationStore
    sessions: DynamoDBSessionRegistry
    directory: CognitoDirectory
    closer: Closer

    def user(self, groups: tuple[str, ...] = ("all-staff",)) -> tuple[str, dict[str, str]]:
        name = f"u{uuid.uuid4().hex[:8]}"
        self.cognito.admin_create_user(
            UserPoolId=self.pool,
            Username=name,
            UserAttributes=[
                {"Name": "email", "Value": f"{name}@acme.example"},
                {"Name": "custom:department", "Value": "engineering"},
            ],
            MessageAction="SUPPRESS",
        )
        self.cognito.admin_set_user_password(UserPoolId=self.pool, Username=name, Password=PASSWORD, Permanent=True)
        for group in groups:
            self.cognito.admin_add_user_to_group(UserPoolId=self.pool, Username=name, GroupName=group)
        return name, self.sign_in(name)

    def sign_in(self, name: str) -> dict[str, str]:
        result = self.cognito.admin_initiate_auth(
            UserPoolId=self.pool,
            ClientId=self.client_id,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": name, "PASSWORD": PASSWORD},
        )["AuthenticationResult"]
        return {"id": result["IdToken"], "access": result["AccessToken"]}


@pytest.fixture(scope="module")
def stack(moto_stack: Any) -> Iterator[Stack]:
    config = Config(retries={"max_attempts": 0})
    kw: dict[str, Any] = {"endpoint_url": moto_stack.url, "region_name": REGION, "config": config}
    cognito, dynamodb = boto3.client("cognito-idp", **kw), boto3.client("dynamodb", **kw)
    pool = cognito.create_user_pool(
        PoolName=f"keel-{uuid.uuid4().hex[:6]}",
        Schema=[{"Name": "department", "AttributeDataType": "String", "Mutable": True}],
    )["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool, ClientName="web", ExplicitAuthFlows=["ADMIN_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    for group in ("all-staff", "engineering"):
        cognito.create_group(UserPoolId=pool, GroupName=group)
    revocations, sessions_table = f"revocations-{pool[-6:]}", f"sessions-{pool[-6:]}"
    dynamodb.create_table(
        TableName=revocations,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "subject", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "subject", "AttributeType": "S"}],
    )
    dynamodb.create_table(
        TableName=sessions_table,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[
            {"AttributeName": "subject", "KeyType": "HASH"},
            {"AttributeName": "session_key", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "subject", "AttributeType": "S"},
            {"AttributeName": "session_key", "AttributeType": "S"},
        ],
    )
    issuer = f"https://cognito-idp.{REGION}.amazonaws.com/{pool}"
    verifier = TokenVerifier(
        HttpJwks(f"{moto_stack.url}/{pool}/.well-known/jwks.json"),
        issuers=frozenset({issuer}),
        audiences=frozenset({client_id}),
        tenant="demo",
    )
    store = DynamoDBRevocationStore(dynamodb, revocations)
    registry = DynamoDBSessionRegistry(dynamodb, sessions_table)
    directory, closer = CognitoDirectory(cognito, pool), Closer()
    yield Stack(
        cognito,
        pool,
        client_id,
        TokenAuthenticator(verifier, RevocationCheck(store), sessions={issuer: CognitoSessionCheck(cognito, pool)}),
        Revoker(store, registry, closer, directory),
        store,
        registry,
        directory,
        closer,
    )


def after_a_tick() -> None:
    # Tokens carry whole-second iat; a revocation in the same second as sign-in must be later than it.
    time.sleep(1.05)


def test_real_cognito_tokens_verify_and_map_to_a_principal(stack: Stack) -> None:
    name, tokens = stack.user(("all-staff", "engineering"))
    principal = stack.authenticator.authenticate(tokens["id"])
    assert principal.username == name
    assert principal.groups == {"all-staff", "engineering"}
    assert principal.department == "engineering"
    assert stack.authenticator.authenticate(tokens["access"]).subject == principal.subject


def test_token_for_another_app_client_is_refused(stack: Stack) -> None:
    other = stack.cognito.create_user_pool_client(
        UserPoolId=stack.pool, ClientName="other", ExplicitAuthFlows=["ADMIN_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    name, _ = stack.user()
    result = stack.cognito.admin_initiate_auth(
        UserPoolId=stack.pool,
        ClientId=other,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": name, "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    with pytest.raises(Unauthenticated) as caught:
        stack.authenticator.authenticate(result["IdToken"])
    assert caught.value.details["reason"] == "wrong_audience"


def test_global_sign_out_through_revoke_refuses_the_next_request(stack: Stack) -> None:
    name, tokens = stack.user()
    subject = stack.authenticator.authenticate(tokens["id"]).subject
    stack.sessions.register(new_session(subject, "websocket", f"conn-{name}", now=time.time()))
    after_a_tick()
    result = stack.revoker.revoke(name, "signed out by an administrator")
    assert result.sessions_closed == 1
    assert [s.session_id for s in stack.closer.closed if s.subject == subject] == [f"conn-{name}"]
    assert stack.sessions.sessions(subject) == []
    for token in tokens.values():
        with pytest.raises(Unauthenticated) as caught:
            stack.authenticator.authenticate(token)
        assert caught.value.details["reason"] == "revoked"
    # A fresh sign-in after the sign-out works again.
    after_a_tick()
    assert stack.authenticator.authenticate(stack.sign_in(name)["id"]).subject == subject


def test_admin_disable_through_revoke_refuses_the_next_request(stack: Stack) -> None:
    name, tokens = stack.user()
    stack.authenticator.authenticate(tokens["id"])
    after_a_tick()
    stack.revoker.revoke(name, "left the company", disable=True)
    with pytest.raises(Unauthenticated, match="disabled"):
        stack.authenticator.authenticate(tokens["id"])
    user = stack.cognito.admin_get_user(UserPoolId=stack.pool, Username=name)
    assert user["Enabled"] is False


def cloudtrail_event(stack: Stack, name: str, username: str) -> dict[str, Any]:
    return {
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.cognito-idp",
        "detail": {
            "eventSource": "cognito-idp.amazonaws.com",
            "eventName": name,
            "eventTime": datetime.now(UTC).isoformat(),
            "requestParameters": {"userPoolId": stack.pool, "username": username},
        },
    }


@pytest.mark.parametrize("operation", ["AdminUserGlobalSignOut", "AdminDisableUser"])
def test_console_change_reaches_keel_through_the_event_consumer(stack: Stack, operation: str) -> None:
    name, tokens = stack.user()
    subject = stack.authenticator.authenticate(tokens["id"]).subject
    stack.sessions.register(new_session(subject, "slack", f"T1:{name}", now=time.time()))
    after_a_tick()
    # Given an operator acts in the Cognito console (not through Keel) ...
    call = "admin_user_global_sign_out" if operation == "AdminUserGlobalSignOut" else "admin_disable_user"
    getattr(stack.cognito, call)(UserPoolId=stack.pool, Username=name)
    # ... the token still verifies against the JWKS: Cognito alone does not stop it.
    assert stack.authenticator._verifier.verify(tokens["id"]).principal.subject == subject
    # When CloudTrail's event reaches the consumer, the next request is refused and the session ends.
    result = handle_cognito_admin_event(
        cloudtrail_event(stack, operation, name),
        stack.revoker,
        stack.store,
        stack.directory,
        user_pool_id=stack.pool,
    )
    assert result is not None and result.sessions_closed == 1
    with pytest.raises(Unauthenticated):
        stack.authenticator.authenticate(tokens["id"])


def test_high_assurance_check_asks_cognito(stack: Stack) -> None:
    name, tokens = stack.user()
    assert stack.authenticator.authenticate_high_assurance(tokens["access"]).username == name
    assert stack.authenticator.authenticate_high_assurance(tokens["id"]).username == name
    # Signed out at Cognito with no revocation record yet: GetUser is what catches it.
    stack.cognito.admin_user_global_sign_out(UserPoolId=stack.pool, Username=name)
    with pytest.raises(Unauthenticated) as caught:
        stack.authenticator.authenticate_high_assurance(tokens["access"])
    assert caught.value.details["reason"] == "revoked"


def test_high_assurance_check_on_an_id_token_reads_the_user_record(stack: Stack) -> None:
    # Given a user disabled at Cognito with no revocation record yet
    name, tokens = stack.user()
    principal = stack.authenticator.authenticate(tokens["id"])
    assert principal.session is not None
    principal.session.confirm()
    stack.cognito.admin_disable_user(UserPoolId=stack.pool, Username=name)
    # Then the ID token still verifies, but the live-session proof is refused
    with pytest.raises(Unauthenticated) as caught:
        principal.session.confirm()
    assert caught.value.details["reason"] == "revoked"


def test_revocation_store_keeps_the_latest_not_before(stack: Stack) -> None:
    from keel.identity.revocation import RevocationRecord

    stack.store.put(RevocationRecord("sub-race", not_before=200.0, reason="a", updated_at=1.0))
    stack.store.put(RevocationRecord("sub-race", not_before=100.0, reason="b", updated_at=2.0))
    record = stack.store.get("sub-race")
    assert record is not None and record.not_before == 200.0 and not record.disabled
