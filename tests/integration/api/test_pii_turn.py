"""A turn full of PII: the model endpoint never receives a raw value, the answer is still useful (issue 5),
and no audit record holds raw PII (issue 7)."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

import pytest

from keel.bootstrap import AwsClients
from keel.local import provision

pytestmark = pytest.mark.integration
RAW = {
    "email": "maria.lopez@example.com",
    "phone": "+44 20 7946 0958",
    "card": "4111 1111 1111 1111",
    "iban": "DE89 3704 0044 0532 0130 00",
    "name": "Maria Lopez",
}


def _request(url: str, method: str = "GET", body: Any = None, token: str | None = None) -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    with urllib.request.urlopen(
        urllib.request.Request(url, data=data, method=method, headers=headers), timeout=60
    ) as r:
        payload = r.read()
        return json.loads(payload) if payload else None


def test_the_model_sees_placeholders_only_and_the_answer_still_helps(local_stack: Any) -> None:
    aws = AwsClients(region="us-east-1", endpoint_url=local_stack.moto.url)
    password = provision.ensure_user(aws.cognito, local_stack.pool, "pii-user", groups=["all-staff"])
    token = provision.sign_in(aws.cognito, local_stack.pool, "pii-user", password)["IdToken"]
    _request(f"{local_stack.model.url}/_requests", "DELETE")

    message = (
        f"Hi, I am {RAW['name']} ({RAW['email']}, {RAW['phone']}). My card {RAW['card']} and IBAN {RAW['iban']} "
        "are on file. How many days of annual leave do I get?"
    )
    reply = _request(f"{local_stack.api.url}/v1/chat", "POST", {"bot": "hr", "message": message}, token)

    received = json.dumps(_request(f"{local_stack.model.url}/_requests"))
    assert "annual leave" in received  # the endpoint did get the question
    for kind, value in RAW.items():
        assert value not in received, f"raw {kind} reached the model"
    assert "<EMAIL_1>" in received
    assert reply["citations"] and reply["citations"][0]["doc_id"].startswith("hr-"), reply

    # The audit record of this turn reaches the locked bucket with masked text only.
    s3 = aws.s3
    bucket = local_stack.names.buckets["audit"]
    deadline = time.monotonic() + 30
    found = ""
    while time.monotonic() < deadline and reply["conversation_id"] not in found:
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
        found = "".join(s3.get_object(Bucket=bucket, Key=k)["Body"].read().decode() for k in keys)
        time.sleep(0.5)
    assert reply["conversation_id"] in found
    for kind, value in RAW.items():
        assert value not in found, f"raw {kind} reached the audit trail"
