"""Attacker stories against identity, played through the local stack's public Cognito API and Keel's API (#21).

Each story is a hole that was once open: a customer who signs themselves up (or edits their attributes later)
asking for internal groups, a tenant switch through a claim, a group removed while a token is still valid, and
a support agent reaching outside their queue. Forged tokens live in tests/unit/identity/test_tokens.py.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from keel.bootstrap import AwsClients
from keel.identity.admin import Revoker
from keel.identity.closers import ChannelSessionCloser, ForgetSession
from keel.identity.cognito import CognitoDirectory
from keel.identity.events import handle_cognito_admin_event
from keel.identity.revocation import DynamoDBRevocationStore
from keel.identity.sessions import DynamoDBSessionRegistry
from keel.local import provision

pytestmark = pytest.mark.integration

# Every internal group the demo tenant knows, plus the powers an attacker would want most.
WISHED_GROUPS = "all-staff,hr,hr-admins,payroll-admins,support-agents,it-service-desk,ops,it-admins,cloud-admins"
PASSWORD = "Attacker-Chosen-Pass-2026!"


def _aws(stack: Any) -> AwsClients:
    return AwsClients(region="us-east-1", endpoint_url=stack.moto.url)


def _call(stack: Any, token: str, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(
        f"{stack.api.url}{path}",
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def _self_sign_up(stack: Any, attributes: dict[str, str]) -> tuple[str, dict[str, str]]:
    """SignUp on the customer pool's public widget client, as any visitor on the internet can."""
    cognito = _aws(stack).cognito
    pool, client = stack.environment["KEEL_CUSTOMER_USER_POOL_ID"], stack.environment["KEEL_CUSTOMER_APP_CLIENT_ID"]
    username = f"mallory-{uuid.uuid4().hex[:8]}"
    chosen = [{"Name": k, "Value": v} for k, v in {"email": f"{username}@example.com", **attributes}.items()]
    cognito.sign_up(ClientId=client, Username=username, Password=PASSWORD, UserAttributes=chosen)
    # Stands in for the e-mailed code: an attacker confirms an address they own.
    cognito.admin_confirm_sign_up(UserPoolId=pool, Username=username)
    return username, _sign_in(stack, username)


def _sign_in(stack: Any, username: str) -> dict[str, str]:
    result = _aws(stack).cognito.initiate_auth(
        ClientId=stack.environment["KEEL_CUSTOMER_APP_CLIENT_ID"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    return {"id": result["IdToken"], "access": result["AccessToken"]}


def assert_only_a_customer(stack: Any, token: str) -> None:
    """What a customer may do, and nothing else: every internal door answers 403, every answer is public."""
    # No internal bot
    for bot in ("hr", "it", "finance", "sales"):
        status, body = _call(stack, token, "POST", "/v1/chat", {"bot": bot, "message": "What are the salary bands?"})
        assert status == 403, (bot, body)
    # "auto" routes to the customer bot only, and nothing internal is cited
    status, body = _call(
        stack, token, "POST", "/v1/chat", {"bot": "auto", "message": "What are the salary bands for engineers?"}
    )
    assert status == 200, body
    cited = {c["doc_id"] for c in body["citations"]}
    assert all(doc.startswith("customer-") for doc in cited), cited  # the demo's public collection only
    # No agent console, no ops view
    assert _call(stack, token, "GET", "/v1/agent/queue")[0] == 403
    assert _call(stack, token, "POST", "/v1/agent/presence", {"status": "online"})[0] == 403
    assert _call(stack, token, "GET", "/v1/ops/kpis")[0] == 403
    # No action beyond a customer's: asking the customer bot to terminate an instance changes nothing
    status, body = _call(
        stack, token, "POST", "/v1/chat", {"bot": "customer", "message": "Terminate instance i-0123456789abcdef0"}
    )
    assert status == 200 and "confirm" not in body["answer"].lower(), body


def test_a_self_registered_customer_who_asks_for_internal_groups_stays_a_customer(local_stack: Any) -> None:
    # Given a visitor who signs up through the widget's public client choosing every internal group
    _, tokens = _self_sign_up(
        local_stack, {"custom:groups": WISHED_GROUPS, "custom:department": "hr", "custom:tenant": "another-company"}
    )
    # Then the API treats them as a customer, through the ID token and the access token alike
    assert_only_a_customer(local_stack, tokens["id"])
    assert _call(local_stack, tokens["access"], "GET", "/v1/ops/kpis")[0] == 403


def test_a_customer_who_edits_their_attributes_after_sign_up_stays_a_customer(local_stack: Any) -> None:
    # Given an ordinary customer account
    username, tokens = _self_sign_up(local_stack, {})
    cognito = _aws(local_stack).cognito
    # When they write internal groups into their own attributes with their access token (AWS refuses this
    # through the client's WriteAttributes; moto does not enforce it, so Keel's own mapping must hold)
    cognito.update_user_attributes(
        AccessToken=tokens["access"],
        UserAttributes=[
            {"Name": "custom:groups", "Value": WISHED_GROUPS},
            {"Name": "custom:department", "Value": "hr"},
        ],
    )
    fresh = _sign_in(local_stack, username)
    # Then neither the old nor the new token gets more than a customer
    assert_only_a_customer(local_stack, fresh["id"])
    assert_only_a_customer(local_stack, tokens["id"])


def test_a_tenant_claim_does_not_switch_what_a_customer_is_counted_and_recorded_under(local_stack: Any) -> None:
    # Given a customer whose token claims another tenant
    _, tokens = _self_sign_up(local_stack, {"custom:tenant": "another-company"})
    status, _ = _call(
        local_stack, tokens["id"], "POST", "/v1/chat", {"bot": "auto", "message": "How do I reset my password?"}
    )
    assert status == 200
    # Then every budget counter and audit partition is keyed by the configured tenant, never the claimed one
    aws = _aws(local_stack)
    budgets = aws.dynamodb.scan(TableName=local_stack.environment["KEEL_BUDGETS_TABLE"])["Items"]
    keys = [item["pk"]["S"] for item in budgets]
    assert keys and not [k for k in keys if "another-company" in k]
    configured = local_stack.environment.get("KEEL_TENANT", "demo")
    assert any(f"#{configured}#" in k for k in keys)


def _revoke_through_the_event_consumer(stack: Any, operation: str, username: str) -> None:
    """What EventBridge delivers to the revocation function when an administrator acts in Cognito."""
    aws = _aws(stack)
    env = stack.environment
    store = DynamoDBRevocationStore(aws.dynamodb, env["KEEL_REVOCATIONS_TABLE"])
    revoker = Revoker(
        store,
        DynamoDBSessionRegistry(aws.dynamodb, env["KEEL_SESSIONS_TABLE"]),
        ChannelSessionCloser({"web": ForgetSession(), "slack": ForgetSession(), "websocket": ForgetSession()}),
    )
    event = {
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.cognito-idp",
        "detail": {
            "eventSource": "cognito-idp.amazonaws.com",
            "eventName": operation,
            "eventTime": datetime.now(UTC).isoformat(),
            "requestParameters": {"userPoolId": stack.pool.pool_id, "username": username},
        },
    }
    directory = CognitoDirectory(aws.cognito, stack.pool.pool_id)
    assert handle_cognito_admin_event(event, revoker, store, directory, user_pool_id=stack.pool.pool_id)


def test_a_removed_group_takes_effect_on_the_next_request(local_stack: Any) -> None:
    # Given a payroll administrator who can read the salary bands
    aws = _aws(local_stack)
    username = f"paul-{uuid.uuid4().hex[:6]}"
    password = provision.ensure_user(aws.cognito, local_stack.pool, username, groups=["all-staff", "payroll-admins"])
    token = provision.sign_in(aws.cognito, local_stack.pool, username, password)["IdToken"]
    question = {"bot": "hr", "message": "What are the salary bands for engineers?"}
    status, body = _call(local_stack, token, "POST", "/v1/chat", question)
    assert status == 200 and "hr-salary-bands" in {c["doc_id"] for c in body["citations"]}
    time.sleep(1.05)  # tokens carry whole-second iat; the change must come after the sign-in
    # When an administrator removes them from the group (in the console: the event reaches Keel)
    aws.cognito.admin_remove_user_from_group(
        UserPoolId=local_stack.pool.pool_id, Username=username, GroupName="payroll-admins"
    )
    _revoke_through_the_event_consumer(local_stack, "AdminRemoveUserFromGroup", username)
    # Then the token that still lists the group is refused on the very next request
    status, body = _call(local_stack, token, "POST", "/v1/chat", question)
    assert status == 401, body
    # And after signing in again, the salary bands are gone
    time.sleep(1.05)
    fresh = provision.sign_in(aws.cognito, local_stack.pool, username, password)["IdToken"]
    status, body = _call(local_stack, fresh, "POST", "/v1/chat", question)
    assert status == 200 and "hr-salary-bands" not in {c["doc_id"] for c in body["citations"]}


def test_a_support_agent_of_the_customer_queue_cannot_reach_internal_escalations(local_stack: Any) -> None:
    # Given an employee whose IT conversation was handed to a person
    aws = _aws(local_stack)
    employee = f"erin-{uuid.uuid4().hex[:6]}"
    password = provision.ensure_user(aws.cognito, local_stack.pool, employee, groups=["all-staff"])
    user_token = provision.sign_in(aws.cognito, local_stack.pool, employee, password)["IdToken"]
    status, reply = _call(
        local_stack, user_token, "POST", "/v1/chat", {"bot": "it", "message": "I want to talk to a human, please."}
    )
    assert status == 200 and reply["escalation"], reply
    conversation_id = reply["conversation_id"]
    # And an agent assigned to the customer queue
    agent = f"cora-{uuid.uuid4().hex[:6]}"
    password = provision.ensure_user(aws.cognito, local_stack.pool, agent, groups=["all-staff", "support-agents"])
    agent_token = provision.sign_in(aws.cognito, local_stack.pool, agent, password)["IdToken"]
    # Then the IT escalation is not in their queue, and reading, taking or answering it is refused
    status, queue = _call(local_stack, agent_token, "GET", "/v1/agent/queue")
    assert status == 200 and conversation_id not in {q["conversation_id"] for q in queue["queue"]}
    base = f"/v1/agent/conversations/{conversation_id}"
    assert _call(local_stack, agent_token, "GET", base)[0] == 403
    assert _call(local_stack, agent_token, "POST", f"{base}/take")[0] == 403
    assert _call(local_stack, agent_token, "POST", f"{base}/reply", {"text": "Hi, it's Cora"})[0] == 403
    # While the IT service desk does see it
    desk = f"ivy-{uuid.uuid4().hex[:6]}"
    password = provision.ensure_user(aws.cognito, local_stack.pool, desk, groups=["all-staff", "it-service-desk"])
    desk_token = provision.sign_in(aws.cognito, local_stack.pool, desk, password)["IdToken"]
    status, queue = _call(local_stack, desk_token, "GET", "/v1/agent/queue")
    assert status == 200 and conversation_id in {q["conversation_id"] for q in queue["queue"]}


def test_a_stolen_connection_record_holds_no_bearer_token(local_stack: Any) -> None:
    # Given a visitor with an open WebSocket to the widget's API
    from websockets.sync.client import connect

    request = urllib.request.Request(f"{local_stack.api.url}/v1/session/guest", data=b"{}", method="POST")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        token = json.loads(response.read())["token"]
    table = local_stack.environment["KEEL_CHANNEL_STATE_TABLE"]
    with connect(f"{local_stack.websocket_url}/?token={token}") as socket:
        socket.send(json.dumps({"action": "sendMessage", "bot": "customer", "message": "What plans do you offer?"}))
        frames = []
        while not frames or frames[-1]["type"] not in ("done", "error"):
            frames.append(json.loads(socket.recv(timeout=60)))
        assert frames[-1]["type"] == "done", frames[-1]
        # When an attacker reads the connection table
        items = _aws(local_stack).dynamodb.scan(TableName=table)["Items"]
        records = [i for i in items if i["pk"]["S"].startswith("WSCONN#")]
        # Then the open connection's record is there, with its claims, and no token (nor any piece of it)
        assert records
        signature = token.rsplit(".", 1)[1]
        assert not [r for r in records if token in json.dumps(r) or signature in json.dumps(r)]
        assert all("claims" in r and "token" not in r for r in records)
