"""Ingestion from S3 (moto server): object tags and sidecars carry metadata; events add and remove documents."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.config import Config

from keel.knowledge.events import parse_event, run
from keel.knowledge.ingest import IndexNames, Ingestor


@pytest.fixture
def s3(moto_stack: Any) -> Any:
    client = boto3.client(
        "s3", endpoint_url=moto_stack.url, region_name="us-east-1", config=Config(retries={"max_attempts": 0})
    )
    client.create_bucket(Bucket="kb-test")
    yield client
    for item in client.list_objects_v2(Bucket="kb-test").get("Contents", []):
        client.delete_object(Bucket="kb-test", Key=item["Key"])
    client.delete_bucket(Bucket="kb-test")


def ids(search_client: Any, index: str) -> set[str]:
    hits = search_client.search(index=index, body={"size": 100, "query": {"match_all": {}}})["hits"]["hits"]
    return {h["_source"]["doc_id"] for h in hits}


def test_tags_sidecars_events_and_refresh(s3: Any, ingestor: Ingestor, search_client: Any, names: IndexNames) -> None:
    s3.put_object(Bucket="kb-test", Key="it/vpn.txt", Body=b"VPN\nUse GlobalProtect for remote access.")
    s3.put_object_tagging(
        Bucket="kb-test",
        Key="it/vpn.txt",
        Tagging={
            "TagSet": [{"Key": "acl_groups", "Value": "all-staff"}, {"Key": "classification", "Value": "internal"}]
        },
    )
    s3.put_object(Bucket="kb-test", Key="faq/plans.md", Body=b"# Plans\nFree, Pro and Business plans.")
    sidecar = {"acl_groups": ["public"], "classification": "public", "department": "customer"}
    s3.put_object(Bucket="kb-test", Key="faq/plans.md.meta.json", Body=json.dumps(sidecar).encode())
    s3.put_object(Bucket="kb-test", Key="it/drives.txt", Body=b"Drives\nMap S: to the share.")

    # Given a scheduled refresh, every document lands in its index and the untagged one is rejected.
    (report,) = run(parse_event({"refresh": {"bucket": "kb-test"}}), ingestor, s3)
    assert ids(search_client, names.internal) == {"vpn"} and ids(search_client, names.external) == {"plans"}
    assert [(r.file, "missing ACL" in r.reason) for r in report.rejected] == [("it/drives.txt", True)]

    # When the VPN object is deleted, its ObjectRemoved event takes it out of the index.
    s3.delete_object(Bucket="kb-test", Key="it/vpn.txt")
    event = {
        "Records": [
            {
                "eventName": "ObjectRemoved:Delete",
                "s3": {"bucket": {"name": "kb-test"}, "object": {"key": "it/vpn.txt"}},
            }
        ]
    }
    run(parse_event(event), ingestor, s3)
    assert ids(search_client, names.internal) == set()

    # Then a refresh over the unchanged bucket changes nothing.
    (again,) = run(parse_event({"refresh": {"bucket": "kb-test"}}), ingestor, s3)
    assert again.changes == 0
