"""Actions through the chat API on the local stack: view but not delete, confirm before destroying (issue 11)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from keel.bootstrap import AwsClients
from keel.local import provision

pytestmark = pytest.mark.integration


def _token(stack: Any, user: str, groups: list[str]) -> str:
    aws = AwsClients(region="us-east-1", endpoint_url=stack.moto.url)
    password = provision.ensure_user(aws.cognito, stack.pool, user, groups=groups)
    return provision.sign_in(aws.cognito, stack.pool, user, password)["IdToken"]


def _chat(stack: Any, token: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{stack.api.url}/v1/chat",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        reply: dict[str, Any] = json.loads(response.read())
        return reply


def _instance(stack: Any) -> tuple[Any, str]:
    ec2 = AwsClients(region="us-east-1", endpoint_url=stack.moto.url).client("ec2")
    reservations = ec2.describe_instances(Filters=[{"Name": "tag:keel-demo", "Values": ["true"]}])["Reservations"]
    running = [i for r in reservations for i in r["Instances"] if i["State"]["Name"] == "running"]
    return ec2, running[0]["InstanceId"]


def _state(ec2: Any, instance_id: str) -> str:
    found = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    return str(found["State"]["Name"])


def test_a_viewer_cannot_delete_and_an_admin_deletes_only_after_yes(local_stack: Any) -> None:
    ec2, instance_id = _instance(local_stack)

    # Given an engineer who may view but not delete
    viewer = _token(local_stack, "act-viewer", ["all-staff", "engineering"])
    refused = _chat(local_stack, viewer, {"bot": "it", "message": f"Please delete instance {instance_id}"})
    assert refused["outcome"] == "refused", refused
    assert _state(ec2, instance_id) == "running"

    # Given a cloud admin: a confirmation question first, nothing deleted yet
    admin = _token(local_stack, "act-admin", ["all-staff", "it", "cloud-admins"])
    asked = _chat(local_stack, admin, {"bot": "it", "message": f"Please delete instance {instance_id}"})
    assert "?" in asked["answer"], asked
    assert _state(ec2, instance_id) == "running"

    # When the admin says yes in the same conversation, the instance goes
    done = _chat(local_stack, admin, {"bot": "it", "conversation_id": asked["conversation_id"], "message": "yes"})
    assert done["outcome"] == "answered", done
    assert _state(ec2, instance_id) in ("shutting-down", "terminated")


def test_a_yes_late_in_a_long_conversation_still_confirms(local_stack: Any) -> None:
    # Given an admin who has already asked six questions in this conversation (the model is given the last six
    # turns, so the stored history the turn reads is full), When they ask to delete an instance and say yes on the
    # very next turn, Then the instance goes. (The confirmation used to count user turns within that window, which
    # stops growing at six, so from the seventh turn on every yes was taken as stale.)
    ec2, instance_id = _instance(local_stack)
    admin = _token(local_stack, "act-admin-long", ["all-staff", "it", "cloud-admins"])
    conversation = _chat(local_stack, admin, {"bot": "it", "message": "How do I connect to the VPN?"})[
        "conversation_id"
    ]
    for question in (
        "Which VPN client do we use?",
        "Is there a VPN for contractors?",
        "How do I reset my password?",
        "Where is the IT service desk?",
        "What is the laptop refresh policy?",
    ):
        answered = _chat(local_stack, admin, {"bot": "it", "conversation_id": conversation, "message": question})
        assert answered["outcome"] == "answered", answered

    ask = {"bot": "it", "conversation_id": conversation, "message": f"Please delete instance {instance_id}"}
    asked = _chat(local_stack, admin, ask)
    assert "?" in asked["answer"], asked
    done = _chat(local_stack, admin, {"bot": "it", "conversation_id": conversation, "message": "yes"})

    assert done["outcome"] == "answered", done
    assert "expired" not in done["answer"].lower() and _state(ec2, instance_id) in ("shutting-down", "terminated")

    # And a second yes, one turn later, is not a confirmation of anything (the action ran once).
    again = _chat(local_stack, admin, {"bot": "it", "conversation_id": conversation, "message": "yes"})
    assert again["outcome"] != "refused" and "shutting" not in again["answer"].lower(), again
