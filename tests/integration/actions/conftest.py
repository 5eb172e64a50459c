"""Fixtures of the action integration tests: moto (EC2, DynamoDB, Secrets Manager, SQS) and loopback servers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.models.helpers import aws_client


@pytest.fixture(scope="module")
def aws(moto_stack: Any) -> dict[str, Any]:
    """Clients for the moto services the actions use."""
    return {name: aws_client(name, moto_stack.url) for name in ("ec2", "dynamodb", "secretsmanager", "sqs")}


@pytest.fixture(scope="module")
def conversations_table(aws: dict[str, Any]) -> str:
    """A conversations table (pk, sk) as provisioned for the stack."""
    name = f"keel-test-conversations-{uuid.uuid4().hex[:8]}"
    aws["dynamodb"].create_table(
        TableName=name,
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


@pytest.fixture
def instance(aws: dict[str, Any]) -> Iterator[str]:
    """A running EC2 instance in moto."""
    ec2 = aws["ec2"]
    image = ec2.describe_images()["Images"][0]["ImageId"]
    made = ec2.run_instances(
        ImageId=image,
        MinCount=1,
        MaxCount=1,
        InstanceType="t3.micro",
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "build-runner"}]}],
    )
    yield made["Instances"][0]["InstanceId"]


def instance_state(aws: dict[str, Any], instance_id: str) -> str:
    """The instance's state as moto EC2 reports it."""
    reservations = aws["ec2"].describe_instances(InstanceIds=[instance_id])["Reservations"]
    return str(reservations[0]["Instances"][0]["State"]["Name"])
