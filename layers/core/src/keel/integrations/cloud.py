"""Cloud resources: describe, stop and terminate EC2 instances through boto3 (client injected)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from keel.errors import Forbidden, InvalidRequest, NotFound
from keel.integrations.http import IntegrationUnavailable

INSTANCE_ID_PATTERN = r"^i-[0-9a-f]{8,17}$"


@dataclass(frozen=True)
class Instance:
    """What the bot may say about an instance."""

    instance_id: str
    state: str
    instance_type: str
    name: str


class Ec2Instances:
    """EC2 through an injected boto3 client; SDK errors become Keel errors."""

    name = "ec2"

    def __init__(self, client: Any) -> None:
        self._client = client

    def describe(self, instance_id: str) -> Instance:
        """The instance's state, type and Name tag."""
        with _translated(instance_id):
            reservations = self._client.describe_instances(InstanceIds=[instance_id])["Reservations"]
        instances = [i for r in reservations for i in r.get("Instances", [])]
        if not instances:
            raise NotFound(f"instance {instance_id} does not exist")
        item = instances[0]
        tags = {t["Key"]: t["Value"] for t in item.get("Tags", [])}
        return Instance(instance_id, item["State"]["Name"], item.get("InstanceType", ""), tags.get("Name", ""))

    def stop(self, instance_id: str) -> str:
        """Stop the instance; returns its new state."""
        with _translated(instance_id):
            changes = self._client.stop_instances(InstanceIds=[instance_id])["StoppingInstances"]
        return str(changes[0]["CurrentState"]["Name"])

    def terminate(self, instance_id: str) -> str:
        """Terminate (delete) the instance; returns its new state."""
        with _translated(instance_id):
            changes = self._client.terminate_instances(InstanceIds=[instance_id])["TerminatingInstances"]
        return str(changes[0]["CurrentState"]["Name"])


@contextmanager
def _translated(instance_id: str) -> Iterator[None]:
    """Turn EC2's error codes into Keel errors (by code, never by message)."""
    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code == "InvalidInstanceID.NotFound":
            raise NotFound(f"instance {instance_id} does not exist") from exc
        if code == "InvalidInstanceID.Malformed":
            raise InvalidRequest(f"{instance_id!r} is not an instance id (i- and 8 or 17 hex)") from exc
        if code in ("UnauthorizedOperation", "AccessDenied", "AccessDeniedException"):
            raise Forbidden("Keel's cloud role may not do this") from exc
        raise IntegrationUnavailable(f"EC2 answered {code or 'an error'}") from exc
    except BotoCoreError as exc:
        raise IntegrationUnavailable("EC2 is not reachable right now") from exc
