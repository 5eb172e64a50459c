"""Slack protocol details on loopback around the fake turn: signing-secret rotation, the feedback button and the
Cognito directory. The acceptance path (signed event -> ack -> SQS -> worker -> reply in thread, retries,
refusals) runs on the local stack with the real turn in test_slack_local_stack.py."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from slack_sdk.signature import SignatureVerifier

from keel.channels.slack import SlackJob
from keel.channels.slack_worker import CognitoPrincipalDirectory, DynamoDBThreadMap, ThreadLink
from keel.errors import NotFound, Unauthenticated
from keel.identity.revocation import DynamoDBRevocationStore, RevocationRecord
from keel.local import provision
from tests.integration.channels.conftest import SIGNING_SECRET, ChannelEnv

pytestmark = pytest.mark.integration


def signed(
    path: str, body: bytes, *, secret: str = SIGNING_SECRET, at: int | None = None, **headers: str
) -> dict[str, Any]:
    ts = str(int(time.time()) if at is None else at)
    return {
        "path": path,
        "httpMethod": "POST",
        "headers": {
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": SignatureVerifier(secret).generate_signature(timestamp=ts, body=body),
            **headers,
        },
        "body": body.decode(),
        "requestContext": {"requestId": "r"},
    }


def mention(event_id: str, user: str = "UEMMA") -> bytes:
    return json.dumps(
        {
            "type": "event_callback",
            "team_id": "T1",
            "event_id": event_id,
            "event": {
                "type": "app_mention",
                "user": user,
                "channel": "C1",
                "ts": f"1700000000.{event_id[-4:]}",
                "text": "<@UKEELBOT> how many days of annual leave do I get?",
            },
        }
    ).encode()


@pytest.fixture(scope="module")
def employee(channel_env: ChannelEnv) -> str:
    provision.ensure_user(
        channel_env.clients.cognito,
        channel_env.pool,
        "emma-slack",
        groups=["all-staff"],
        email="emma.slack@acme.example",
        department="engineering",
    )
    channel_env.slack.add_user("UEMMA", "emma.slack@acme.example")
    return "UEMMA"


def run_worker(env: ChannelEnv) -> dict[str, Any]:
    from keel.local.api import load_handler
    from tests.conftest import REPO_ROOT

    worker = env.channels.slack_worker()
    failures = []
    for record in env.receive_jobs():
        try:
            worker.process(SlackJob.model_validate_json(record["body"]))
        except Exception:
            failures.append(record["messageId"])
    assert load_handler(REPO_ROOT / "functions", "slack_worker")  # the Lambda entry point imports cleanly
    return {"batchItemFailures": failures}


def test_rotated_signing_secret_applies_without_a_restart(channel_env: ChannelEnv, employee: str) -> None:
    from keel.channels import slack_signature

    ingress = channel_env.channels.slack_ingress()
    secrets = channel_env.clients.client("secretsmanager")
    assert ingress.handle(signed("/slack/events", mention("Ev4001")))["statusCode"] == 200
    secrets.put_secret_value(
        SecretId="keel-chtest/slack/signing", SecretString=json.dumps({"signing_secret": "rotated-1"})
    )
    try:
        original = slack_signature.REFETCH_INTERVAL_SECONDS
        slack_signature.REFETCH_INTERVAL_SECONDS = 0
        assert ingress.handle(signed("/slack/events", mention("Ev4002"), secret="rotated-1"))["statusCode"] == 200
    finally:
        slack_signature.REFETCH_INTERVAL_SECONDS = original
        secrets.put_secret_value(
            SecretId="keel-chtest/slack/signing", SecretString=json.dumps({"signing_secret": SIGNING_SECRET})
        )
    channel_env.receive_jobs()


def test_feedback_button_lands_on_the_conversation_item(channel_env: ChannelEnv, employee: str) -> None:
    channel_env.slack.clear()
    ingress = channel_env.channels.slack_ingress()
    ingress.handle(signed("/slack/events", mention("Ev5001")))
    run_worker(channel_env)
    actions = next(b for b in channel_env.slack.messages()[0]["blocks"] if b["type"] == "actions")
    value = json.loads(actions["elements"][0]["value"])
    payload = {
        "type": "block_actions",
        "trigger_id": "trig-5001",
        "team": {"id": "T1"},
        "user": {"id": "UEMMA"},
        "channel": {"id": "C1"},
        "message": {"ts": "1700000000.999", "thread_ts": "1700000000.5001"},
        "actions": [{"action_id": "keel_feedback_up", "value": json.dumps(value)}],
    }
    from urllib.parse import urlencode

    assert (
        ingress.handle(signed("/slack/interactivity", urlencode({"payload": json.dumps(payload)}).encode()))[
            "statusCode"
        ]
        == 200
    )
    run_worker(channel_env)
    item = channel_env.clients.dynamodb.get_item(
        TableName=channel_env.names.tables["conversations"].name,
        Key={"pk": {"S": f"CONV#{value['c']}"}, "sk": {"S": f"FEEDBACK#{value['m']}"}},
    )["Item"]
    assert item["rating"]["S"] == "up" and item["channel"]["S"] == "slack"
    assert channel_env.slack.messages()[-1]["method"] == "chat.update"


def test_cognito_directory_maps_email_to_groups_and_refuses_disabled_users(channel_env: ChannelEnv) -> None:
    cognito = channel_env.clients.cognito
    provision.ensure_user(
        cognito,
        channel_env.pool,
        "paula-slack",
        groups=["all-staff", "payroll-admins"],
        email="paula.slack@acme.example",
        department="finance",
    )
    directory = CognitoPrincipalDirectory(cognito, channel_env.pool.pool_id, tenant="demo")
    principal = directory.principal_for_email("paula.slack@acme.example")
    assert principal.groups == frozenset({"all-staff", "payroll-admins"})
    assert (principal.username, principal.department, principal.external) == ("paula-slack", "finance", False)
    with pytest.raises(NotFound, match="no single Keel user"):
        directory.principal_for_email("nobody@acme.example")
    cognito.admin_disable_user(UserPoolId=channel_env.pool.pool_id, Username="paula-slack")
    with pytest.raises(Unauthenticated, match="disabled"):
        directory.principal_for_email("paula.slack@acme.example")


def test_disabled_revocation_record_refuses_slack_before_cognito_catches_up(channel_env: ChannelEnv) -> None:
    # Given a user Cognito still shows enabled, whose revocation record is already disabled (SCIM or the event
    # consumer wrote it first)
    cognito = channel_env.clients.cognito
    provision.ensure_user(cognito, channel_env.pool, "lena-slack", groups=["all-staff"], email="lena@acme.example")
    channel_env.slack.add_user("ULENA", "lena@acme.example")
    user = cognito.admin_get_user(UserPoolId=channel_env.pool.pool_id, Username="lena-slack")
    sub = next(a["Value"] for a in user["UserAttributes"] if a["Name"] == "sub")
    store = DynamoDBRevocationStore(channel_env.clients.dynamodb, channel_env.names.tables["revocations"].name)
    store.put(RevocationRecord(sub, not_before=time.time(), disabled=True, reason="deprovisioned", updated_at=0.0))
    channel_env.slack.clear()
    calls = len(channel_env.world.service.calls)
    # When she mentions the bot in Slack
    channel_env.channels.slack_ingress().handle(signed("/slack/events", mention("Ev6001", user="ULENA")))
    assert run_worker(channel_env) == {"batchItemFailures": []}
    # Then she is refused in the thread and no turn runs
    [post] = channel_env.slack.messages()
    assert "disabled" in post["text"] and post["thread_ts"] == "1700000000.6001"
    assert len(channel_env.world.service.calls) == calls


def test_thread_links_record_their_start_and_old_links_read_as_the_oldest(channel_env: ChannelEnv) -> None:
    client, table = channel_env.clients.dynamodb, channel_env.names.tables["idempotency"].name
    threads = DynamoDBThreadMap(client, table)
    threads.remember("T1:C9:1700000000.1", ThreadLink("conv-new-0001", 1_700_000_000.25))
    assert threads.link_for("T1:C9:1700000000.1") == ThreadLink("conv-new-0001", 1_700_000_000.25)
    # An item the previous worker wrote has no started_at.
    client.put_item(
        TableName=table,
        Item={
            "pk": {"S": "SLACKTHREAD#T1:C9:1600000000.1"},
            "sk": {"S": "LINK"},
            "conversation_id": {"S": "conv-old-0001"},
            "expires_at": {"N": str(int(time.time()) + 3600)},
        },
    )
    assert threads.link_for("T1:C9:1600000000.1") == ThreadLink("conv-old-0001", 0.0)
    threads.forget("T1:C9:1600000000.1")
    threads.forget("T1:C9:1600000000.1")  # forgetting twice is not an error
    assert threads.link_for("T1:C9:1600000000.1") is None


def test_an_agents_reply_reaches_the_slack_thread_the_conversation_was_handed_over_in(
    channel_env: ChannelEnv, employee: str
) -> None:
    from keel.channels.wiring import Channels

    worker, root = channel_env.channels.slack_worker(), "1700000555.000100"
    channel_env.slack.clear()
    ask = {"team_id": "T1", "user_id": employee, "channel_id": "C7", "thread_ts": root}
    worker.process(SlackJob(kind="message", delivery_id="ho-1", message_ts=root, text="annual leave?", **ask))
    answer = channel_env.slack.messages()[-1]
    action = next(b for b in answer["blocks"] if b["type"] == "actions")
    ids = json.loads(next(e["value"] for e in action["elements"] if e["action_id"] == "keel_escalate"))
    worker.process(SlackJob(kind="escalate", delivery_id="ho-2", conversation_id=ids["c"], message_id=ids["m"], **ask))

    # The agent console's notifier, as the agent API builds it (sessions table set), with Slack configured
    sessions = channel_env.names.tables["sessions"].name
    config = channel_env.channels.config.model_copy(update={"sessions_table": sessions})
    notifier = Channels(config, channel_env.clients, lambda: channel_env.world.service).user_notifier()
    channel_env.slack.clear()
    frame = {"type": "agent_message", "conversation_id": ids["c"], "text": "Hi, Sam from HR here.", "agent": "Sam"}
    notifier.notify("any-subject", frame)
    notifier.notify("any-subject", {**frame, "conversation_id": "never-in-slack-0001"})
    posted = channel_env.slack.messages()
    assert [(m.get("channel"), m.get("thread_ts"), m.get("text")) for m in posted] == [
        ("C7", root, "*Sam*: Hi, Sam from HR here.")
    ]
