"""EC2 adapter error translation (moto in-process, no sockets) and rotation event validation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from keel.errors import InvalidRequest, NotFound
from keel.integrations.cloud import Ec2Instances
from keel.integrations.rotation import ApiKeyRotator, RotationFailed, key_fingerprint


@pytest.fixture
def ec2() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("ec2", region_name="us-east-1")


def test_describe_stop_and_terminate_report_states(ec2: Any) -> None:
    image = ec2.describe_images()["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    instances = Ec2Instances(ec2)

    assert instances.describe(instance).state == "running"
    assert instances.stop(instance) in ("stopping", "stopped")
    assert instances.terminate(instance) in ("shutting-down", "terminated")


def test_unknown_and_malformed_instances_are_keel_errors(ec2: Any) -> None:
    with pytest.raises(NotFound):
        Ec2Instances(ec2).describe("i-00000000deadbeef0")
    with pytest.raises((InvalidRequest, NotFound)):
        Ec2Instances(ec2).terminate("not-an-id")


class Described:
    def __init__(self, stages: dict[str, list[str]]) -> None:
        self.stages = stages

    def describe_secret(self, SecretId: str) -> dict[str, Any]:
        return {"VersionIdsToStages": self.stages}


def test_rotation_events_are_checked_before_any_step_runs() -> None:
    rotator = ApiKeyRotator(Described({"v1": ["AWSCURRENT"], "v2": []}), target=None)  # type: ignore[arg-type]
    with pytest.raises(InvalidRequest, match="Step"):
        rotator.handle({"SecretId": "s", "ClientRequestToken": "v1"})
    with pytest.raises(InvalidRequest, match="unknown rotation step"):
        rotator.handle({"SecretId": "s", "ClientRequestToken": "v1", "Step": "dropSecret"})
    with pytest.raises(RotationFailed, match="not a version"):
        rotator.handle({"SecretId": "s", "ClientRequestToken": "v9", "Step": "createSecret"})
    with pytest.raises(RotationFailed, match="not pending"):
        rotator.handle({"SecretId": "s", "ClientRequestToken": "v2", "Step": "createSecret"})
    rotator.handle({"SecretId": "s", "ClientRequestToken": "v1", "Step": "finishSecret"})  # already current: no-op


def test_a_key_fingerprint_is_stable_and_reveals_nothing() -> None:
    assert key_fingerprint("abc") == key_fingerprint("abc") != key_fingerprint("abd")
    assert "abc" not in key_fingerprint("abc") and len(key_fingerprint("abc")) == 16
