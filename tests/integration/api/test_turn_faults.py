"""Faults an operator can cause on the local stack, through POST /v1/chat with the real adapters.

Search down, models stalled, throttled or down: the user gets a clear answer (never a 5xx, never a stack
trace), and every turn leaves exactly one audit record, found in the archive by its correlation id.
"""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from keel.audit.s3_object_lock import S3ObjectLockArchive
from keel.bootstrap import AwsClients, build_chat_service
from keel.channels.api import ChatEndpoint
from keel.local import provision
from keel.local.api import to_proxy_event
from keel.local.model_server import ModelEndpointControl
from keel.local.servers import free_port
from keel.settings import load_settings
from keel.turn import SEARCH_DOWN_ANSWER

pytestmark = pytest.mark.integration
QUESTION = "How many days of annual leave do I get?"
MODEL_TIMEOUT = 1.0


@pytest.fixture(scope="module")
def token(local_stack: Any) -> str:
    aws = AwsClients(region="us-east-1", endpoint_url=local_stack.moto.url)
    password = provision.ensure_user(aws.cognito, local_stack.pool, "fault-user", groups=["all-staff"])
    return str(provision.sign_in(aws.cognito, local_stack.pool, "fault-user", password)["IdToken"])


@pytest.fixture
def model(local_stack: Any) -> Iterator[ModelEndpointControl]:
    control = ModelEndpointControl(local_stack.model.url)
    control.reset()
    yield control
    control.reset()


def _endpoint(local_stack: Any, **overrides: str) -> ChatEndpoint:
    """The chat endpoint as the Lambda builds it, with a fresh service (and fresh breakers) per test."""
    environment = {**local_stack.environment, "KEEL_MODEL_TIMEOUT_SECONDS": str(MODEL_TIMEOUT), **overrides}
    settings = load_settings(environment)
    return ChatEndpoint(lambda: build_chat_service(settings, AwsClients.from_settings(settings)))


def _turn(
    endpoint: ChatEndpoint, token: str, message: str = QUESTION, *, bot: str = "hr", conversation: str | None = None
) -> tuple[int, dict[str, Any], str]:
    correlation = str(uuid.uuid4())
    body: dict[str, Any] = {"bot": bot, "message": message}
    if conversation:
        body["conversation_id"] = conversation
    headers = {
        "Content-Type": "application/json",
        "Authorization": f"Bearer {token}",
        "X-Correlation-Id": correlation,
    }
    event = to_proxy_event("POST", "/v1/chat", headers, json.dumps(body).encode(), "")
    response = endpoint.handle(event)
    return int(response["statusCode"]), json.loads(response["body"]), correlation


def _audit_records(local_stack: Any, correlation: str, *, wait: float = 15.0) -> list[dict[str, Any]]:
    """The archived turn records with this correlation id (the stack's drainer writes them within a second)."""
    aws = AwsClients(region="us-east-1", endpoint_url=local_stack.moto.url)
    archive = S3ObjectLockArchive(aws.s3, local_stack.names.buckets["audit"], kms_key_id=None, retention_days=1)
    deadline = time.monotonic() + wait
    found: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        found = [
            body["record"]
            for chain in archive.chain_ids()
            for stored in archive.records(chain)
            if (body := json.loads(stored.body))["record"]["correlation_id"] == correlation
        ]
        if found:
            time.sleep(1.0)  # a duplicate would arrive in the same drain; look once more
            return [
                body["record"]
                for chain in archive.chain_ids()
                for stored in archive.records(chain)
                if (body := json.loads(stored.body))["record"]["correlation_id"] == correlation
            ]
        time.sleep(0.3)
    return found


def _assert_one_record(local_stack: Any, correlation: str, outcome: str) -> dict[str, Any]:
    records = _audit_records(local_stack, correlation)
    assert len(records) == 1, f"expected one audit record for the turn, found {len(records)}"
    assert records[0]["turn"]["outcome"] == outcome
    return dict(records[0])


def test_search_down_gives_200_degraded_with_the_offer_of_a_person_and_one_audit_record(
    local_stack: Any, token: str
) -> None:
    endpoint = _endpoint(local_stack, KEEL_OPENSEARCH_URL=f"http://127.0.0.1:{free_port()}")
    status, reply, correlation = _turn(endpoint, token)
    assert status == 200, reply
    assert reply["outcome"] == "degraded"
    assert reply["answer"] == SEARCH_DOWN_ANSWER
    assert "search_unavailable" in reply["degradations"]
    record = _assert_one_record(local_stack, correlation, "degraded")
    assert "search_unavailable" in record["turn"]["degradations"]


@pytest.mark.parametrize("mode", ["down", "throttle"])
def test_models_down_or_throttled_fall_through_to_a_sourced_answer_and_one_audit_record(
    local_stack: Any, token: str, model: ModelEndpointControl, mode: str
) -> None:
    model.fault(mode)
    status, reply, correlation = _turn(_endpoint(local_stack), token)
    assert status == 200, reply
    assert reply["citations"], "the retrieval-only answer cites its source"
    assert any(tag.startswith(("unavailable:", "throttled:")) for tag in reply["degradations"]), reply["degradations"]
    assert "retrieval_only" in reply["degradations"], reply["degradations"]
    _assert_one_record(local_stack, correlation, reply["outcome"])


def test_a_stalled_model_is_given_up_after_its_timeout_and_no_other_call_starts_after_the_deadline(
    local_stack: Any, token: str, model: ModelEndpointControl
) -> None:
    model.fault("stall", stall_seconds=30)
    model.clear_requests()
    started = time.monotonic()
    status, reply, correlation = _turn(_endpoint(local_stack), token)
    seconds = time.monotonic() - started
    print(f"\nstalled models, timeout {MODEL_TIMEOUT} s: the turn took {seconds:.1f} s")
    assert status == 200, reply
    assert "retrieval_only" in reply["degradations"]
    sent = [(r["model_id"], json.dumps(r["body"], sort_keys=True)) for r in model.requests()]
    # One attempt per call (botocore retried a read timeout once, doubling the wait per model): the same
    # request never reaches the same model twice.
    print(f"{len(sent)} model calls, {len(set(sent))} distinct")
    assert sent and len(set(sent)) == len(sent), [model_id for model_id, _ in sent]
    # The turn's model deadline (the model timeout, unless configured): once the first call has waited out
    # its timeout, no fallback and no second call of the turn starts; the passages answer.
    assert len(sent) == 1, [model_id for model_id, _ in sent]
    assert "model_deadline" in reply["degradations"]
    _assert_one_record(local_stack, correlation, reply["outcome"])


def _tickets(local_stack: Any) -> int:
    with urllib.request.urlopen(f"{local_stack.environment['HELPDESK_URL']}/_control/tickets", timeout=10) as reply:
        return len(json.loads(reply.read())["tickets"])


def test_a_model_outage_opens_no_ticket_for_greetings_and_one_for_a_real_request(
    local_stack: Any, model: ModelEndpointControl
) -> None:
    aws = AwsClients(region="us-east-1", endpoint_url=local_stack.moto.url)
    endpoint = _endpoint(local_stack)
    model.fault("down")
    before = _tickets(local_stack)
    # "hello" is left out: the explicit-request head (issue 18) reads "hello" and "hello!" as asking for a
    # person, before any answer and whatever the outage; that is its own finding, not the outage's storm.
    greetings = ["hi", "good afternoon", "good morning", "hey there", "thanks"]
    for n in range(20):
        user = f"outage-greeter-{n}"
        password = provision.ensure_user(aws.cognito, local_stack.pool, user, groups=["all-staff"])
        token = str(provision.sign_in(aws.cognito, local_stack.pool, user, password)["IdToken"])
        status, reply, _ = _turn(endpoint, token, greetings[n % len(greetings)], bot="it")
        assert status == 200, reply
        assert reply["outcome"] != "escalated" and reply["escalation"] is None, reply
    assert _tickets(local_stack) == before, "greetings during an outage opened tickets"

    password = provision.ensure_user(aws.cognito, local_stack.pool, "outage-requester", groups=["all-staff"])
    token = str(provision.sign_in(aws.cognito, local_stack.pool, "outage-requester", password)["IdToken"])
    status, first, _ = _turn(endpoint, token, "My badge stopped opening the garage barrier since Monday", bot="it")
    assert status == 200 and first["outcome"] == "escalated", first
    conversation = first["conversation_id"]
    status, again, _ = _turn(
        endpoint, token, "The garage barrier still refuses my badge this morning", bot="it", conversation=conversation
    )
    assert status == 200 and again["outcome"] == "degraded" and again["escalation"] is None, again
    assert "already with our support team" in again["answer"]
    assert _tickets(local_stack) == before + 1


@pytest.mark.parametrize(
    ("bot", "conversation"), [("no-such-bot", None), ("hr", "0b9e3c1e-someone-elses-conversation")]
)
def test_a_request_for_a_bot_or_conversation_the_user_may_not_use_is_refused_and_audited_without_its_text(
    local_stack: Any, token: str, bot: str, conversation: str | None
) -> None:
    endpoint = _endpoint(local_stack)
    code, body, correlation = _turn(
        endpoint, token, "list every customer's email address", bot=bot, conversation=conversation
    )
    assert code == 404, body
    assert "Traceback" not in json.dumps(body)
    record = _assert_one_record(local_stack, correlation, "denied")
    assert record["bot"] == bot
    assert record["turn"]["degradations"][0] == f"error:{body['error']['code']}"
    assert "email address" not in json.dumps(record), "the refused request's text is not kept"
