"""Every log line and metric line of one turn carries one correlation id and no raw PII or token (issue 10).

The turns run through the local stack's API; its Lambda handlers run in this process, so the log records
they write reach a handler attached here, and their EMF lines reach the captured stdout.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from keel.analytics.logs import install_log_hygiene
from keel.bootstrap import AwsClients
from keel.conversations.dynamodb import DynamoDBConversationStore
from keel.local import provision

pytestmark = pytest.mark.integration

EMAIL = "maria.gonzalez@example.org"
PHONE = "+1 415-555-0134"
CARD = "4111 1111 1111 1111"
IBAN = "DE89 3704 0044 0532 0130 00"
RAW_PII = (EMAIL, PHONE, CARD, IBAN, "415-555-0134", "4111111111111111")
# Logs of the API Gateway stand-in (access lines) and of background workers are not part of the turn.
NOT_THE_TURN = ("keel.local.api", "keel.audit.writer", "keel.local.stack")


class _Capture(logging.Handler):
    """Keeps every record written on request threads, as the formatted JSON line a log shipper would see."""

    def __init__(self, lines: list[dict[str, Any]]) -> None:
        super().__init__(logging.DEBUG)
        self.lines = lines
        self._main = threading.main_thread().ident

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self._main or record.name.startswith(NOT_THE_TURN):
            return
        standard = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message"}
        extras = {k: v for k, v in vars(record).items() if k not in standard}
        line = {"logger": record.name, "message": record.getMessage(), "exception": record.exc_text, **extras}
        self.lines.append(json.loads(json.dumps(line, default=str)))


@pytest.fixture
def captured() -> Iterator[list[dict[str, Any]]]:
    """Log lines of the keel loggers and of every other logger, with the log hygiene installed as in a Lambda.

    Two handlers: Powertools puts a filter on the root logger's handlers that drops records of its own
    ("keel") loggers, which its JSON handler on "keel" writes instead; one capture sits at each place.
    """
    lines: list[dict[str, Any]] = []
    on_keel, on_root = _Capture(lines), _Capture(lines)
    keel_logger, root = logging.getLogger("keel"), logging.getLogger()
    keel_logger.addHandler(on_keel)
    root.addHandler(on_root)
    install_log_hygiene(keel_logger, root)
    yield lines
    keel_logger.removeHandler(on_keel)
    root.removeHandler(on_root)


def _token(stack: Any, user: str) -> str:
    aws = AwsClients(region="us-east-1", endpoint_url=stack.moto.url)
    password = provision.ensure_user(aws.cognito, stack.pool, user, groups=["all-staff"], department="hr")
    return str(provision.sign_in(aws.cognito, stack.pool, user, password)["IdToken"])


def _chat(stack: Any, token: str, correlation: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        f"{stack.api.url}/v1/chat",
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {token}",
            "X-Correlation-Id": correlation,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_one_correlation_id_and_no_pii_or_token_in_any_line_of_a_turn(
    local_stack: Any, captured: list[dict[str, Any]], capfd: pytest.CaptureFixture[str]
) -> None:
    # Given a user who writes PII into the message
    token = _token(local_stack, "obs-user")
    message = f"I am {EMAIL}, phone {PHONE}. My card {CARD} and IBAN {IBAN}: how many days of annual leave?"
    capfd.readouterr()

    # When two turns run through the API with different correlation ids
    status, reply = _chat(local_stack, token, "obs-turn-0001", {"bot": "hr", "message": message})
    assert status == 200, reply
    status, second = _chat(
        local_stack,
        token,
        "obs-turn-0002",
        {"bot": "hr", "conversation_id": reply["conversation_id"], "message": f"And for {EMAIL}?"},
    )
    assert status == 200, second
    out = capfd.readouterr()

    # Then every log line of the turns carries its turn's correlation id, and nothing raw leaks
    lines = captured
    assert lines, "the turn wrote no log line: is the turn's telemetry wired in bootstrap.turn_dependencies?"
    ids = [line.get("correlation_id") for line in lines]
    assert set(ids) == {"obs-turn-0001", "obs-turn-0002"}, lines
    first = [line for line in lines if line.get("correlation_id") == "obs-turn-0001"]
    assert any(line["message"] == "turn completed" for line in first)
    logged = json.dumps(lines) + out.out + out.err
    for raw in RAW_PII:
        assert raw not in logged, f"{raw!r} reached a log line"
    assert token not in logged and token.split(".")[1] not in logged

    # And the metric lines (EMF on stdout) of the turn carry the same id
    emf = [json.loads(line) for line in out.out.splitlines() if line.startswith('{"_aws"')]
    assert emf, "no EMF line was written for the turn"
    assert {doc.get("correlation_id") for doc in emf} == {"obs-turn-0001", "obs-turn-0002"}

    # And the stored answer (what the audit record is built from) carries the id the channel was given
    clients = AwsClients(region="us-east-1", endpoint_url=local_stack.moto.url)
    store = DynamoDBConversationStore(clients.dynamodb, local_stack.names.tables["conversations"].name)
    answers = [m for m in store.messages(reply["conversation_id"]) if m.role == "assistant"]
    assert [m.meta["correlation_id"] for m in answers] == ["obs-turn-0001", "obs-turn-0002"]
