"""POST /v1/chat on the local stack: the real handler behind the local API, real Cognito tokens,
osmem-server, the local model endpoint and DynamoDB in moto."""

from __future__ import annotations

import gzip
import json
import time
import urllib.error
import urllib.request
from importlib import resources
from typing import Any

import pytest
from jose import jwt

from keel.bootstrap import AwsClients
from keel.local import provision

pytestmark = pytest.mark.integration


def post(stack: Any, body: Any, token: str | None, *, raw: bytes | None = None) -> tuple[int, dict[str, Any]]:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = raw if raw is not None else json.dumps(body).encode()
    request = urllib.request.Request(f"{stack.api.url}/v1/chat", data=data, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def clients(stack: Any) -> AwsClients:
    return AwsClients(region="us-east-1", endpoint_url=stack.moto.url)


def token_for(stack: Any, user: str, groups: list[str], **kwargs: Any) -> str:
    aws = clients(stack)
    password = provision.ensure_user(aws.cognito, stack.pool, user, groups=groups, **kwargs)
    return provision.sign_in(aws.cognito, stack.pool, user, password)["IdToken"]


def conversation_items(stack: Any) -> int:
    table = stack.names.tables["conversations"].name
    return int(clients(stack).dynamodb.scan(TableName=table, Select="COUNT")["Count"])


def moto_signed(claims: dict[str, Any]) -> str:
    """A token signed with moto's own Cognito key, so only the claims are wrong."""
    raw = (resources.files("moto.cognitoidp") / "resources" / "jwks-private.json.gz").read_bytes()
    key = json.loads(gzip.decompress(raw))
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": key["kid"]})


def valid_claims(stack: Any, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": f"https://cognito-idp.us-east-1.amazonaws.com/{stack.pool.pool_id}",
        "sub": "sub-forged",
        "aud": stack.pool.client_id,
        "token_use": "id",
        "iat": now,
        "exp": now + 600,
        "cognito:username": "forged",
        "cognito:groups": ["all-staff"],
    }
    claims.update(overrides)
    return claims


def test_healthz_reports_every_component_up(local_stack: Any) -> None:
    with urllib.request.urlopen(f"{local_stack.api.url}/healthz", timeout=10) as response:
        report = json.loads(response.read())
    assert report["status"] == "up"
    assert set(report["components"]) == {"moto", "opensearch", "model", "api"}


def test_employee_question_is_answered_from_an_hr_document(local_stack: Any) -> None:
    token = token_for(local_stack, "u1", ["all-staff"])
    status, reply = post(local_stack, {"bot": "auto", "message": "How many days of annual leave do I get?"}, token)
    assert status == 200, reply
    assert reply["citations"], reply
    assert all(c["doc_id"].startswith("hr-") for c in reply["citations"])
    assert set(reply) >= {"conversation_id", "message_id", "answer", "citations", "confidence"}


def test_external_customer_gets_no_internal_citation(local_stack: Any) -> None:
    token = token_for(local_stack, "ext1", ["customers"])
    status, reply = post(local_stack, {"bot": "customer", "message": "How many days of annual leave do I get?"}, token)
    assert status == 200, reply
    assert all(c["doc_id"].startswith("customer-") for c in reply["citations"]), reply


def test_customer_cannot_reach_an_internal_bot(local_stack: Any) -> None:
    token = token_for(local_stack, "ext2", ["customers"])
    status, reply = post(local_stack, {"bot": "hr", "message": "annual leave"}, token)
    assert status == 403, reply


@pytest.mark.parametrize(
    ("case", "expected_fragment"),
    [
        ("none", "missing Authorization"),
        ("expired", "expired"),
        ("other-key", "does not publish"),
        ("other-audience", "audience"),
        ("garbage", "malformed"),
    ],
)
def test_bad_tokens_get_401_naming_the_problem_and_store_nothing(
    local_stack: Any, case: str, expected_fragment: str
) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    before = conversation_items(local_stack)
    if case == "none":
        token = None
    elif case == "expired":
        token = moto_signed(valid_claims(local_stack, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600))
    elif case == "other-key":
        pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        token = jwt.encode(valid_claims(local_stack), pem.decode(), algorithm="RS256", headers={"kid": "attacker"})
    elif case == "other-audience":
        token = moto_signed(valid_claims(local_stack, aud="some-other-app"))
    else:
        token = "not-a-jwt"
    status, reply = post(local_stack, {"bot": "hr", "message": "annual leave"}, token)
    assert status == 401
    assert expected_fragment in reply["error"]["message"]
    assert conversation_items(local_stack) == before


def test_malformed_body_gets_400_naming_the_problem_and_stores_nothing(local_stack: Any) -> None:
    token = token_for(local_stack, "u1", ["all-staff"])
    before = conversation_items(local_stack)
    status, reply = post(local_stack, None, token, raw=b'{"bot": "hr", "mesage": "typo"}')
    assert status == 400
    assert "message is required" in reply["error"]["message"]
    assert "mesage is not an accepted field" in reply["error"]["message"]
    assert conversation_items(local_stack) == before


def test_model_endpoint_down_gives_a_clear_answer_not_a_stack_trace(local_stack: Any) -> None:
    token = token_for(local_stack, "u1", ["all-staff"])
    fault = urllib.request.Request(
        f"{local_stack.model.url}/_faults",
        data=json.dumps({"mode": "down"}).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    urllib.request.urlopen(fault, timeout=5).close()
    try:
        status, reply = post(local_stack, {"bot": "hr", "message": "How many days of annual leave do I get?"}, token)
    finally:
        reset = urllib.request.Request(
            f"{local_stack.model.url}/_faults",
            data=json.dumps({"mode": "ok"}).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        urllib.request.urlopen(reset, timeout=5).close()
    assert status in (200, 503), reply
    text = json.dumps(reply)
    assert "Traceback" not in text
    if status == 503:
        assert "unavailable" in reply["error"]["message"].lower()
    else:
        # The fallback chain answered without the model: retrieval-only, still cited, and says so.
        assert reply["degradations"], reply
