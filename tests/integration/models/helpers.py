"""Builders shared by the model integration tests: real boto3 clients pointed at loopback servers."""

from __future__ import annotations

from typing import Any

import boto3

from keel.models.bedrock import client_config

PRIMARY = "anthropic.claude-3-5-sonnet-20240620-v1:0"
SECONDARY = "anthropic.claude-3-haiku-20240307-v1:0"
SMALL = "amazon.nova-micro-v1:0"


def bedrock_client(url: str, *, read_timeout: float = 2.0, max_attempts: int = 1) -> Any:
    """A bedrock-runtime client for the local endpoint."""
    return boto3.session.Session().client(
        "bedrock-runtime",
        endpoint_url=url,
        region_name="us-east-1",
        config=client_config(read_timeout=read_timeout, connect_timeout=1.0, max_attempts=max_attempts),
    )


def aws_client(service: str, url: str) -> Any:
    """A client for a moto-served service, with no SDK retries (moto's 500s are not transient)."""
    from botocore.config import Config

    return boto3.session.Session().client(
        service, endpoint_url=url, region_name="us-east-1", config=Config(retries={"total_max_attempts": 1})
    )
