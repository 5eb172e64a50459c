"""Lambda handler for knowledge-base ingestion: S3 object events and the scheduled refresh (EventBridge)."""

from __future__ import annotations

import json
import logging
from typing import Any

from keel.bootstrap import AwsClients, build_tenant
from keel.knowledge.events import parse_event, run
from keel.knowledge.ingest import Ingestor
from keel.knowledge.wiring import build_embedder, build_ingestor, build_search_client
from keel.lazy import once
from keel.settings import load_settings

logger = logging.getLogger("keel.ingest")


@once
def _dependencies() -> tuple[Ingestor, Any]:
    settings = load_settings()
    clients = AwsClients.from_settings(settings)
    embedder = build_embedder(settings, clients.bedrock if settings.bedrock_endpoint_url is None else None)
    return build_ingestor(settings, build_search_client(settings), embedder, build_tenant(settings)), clients.s3


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Parse the event, ingest, and return (and log) a summary of each report."""
    commands = parse_event(event)
    ingestor, s3 = _dependencies()
    reports = run(commands, ingestor, s3)
    summary = [
        {
            "origin": r.origin,
            "changes": r.changes,
            "added": len(r.added),
            "updated": len(r.updated),
            "removed": len(r.removed),
            "rejected": [{"file": x.file, "reason": x.reason} for x in r.rejected],
        }
        for r in reports
    ]
    logger.info(json.dumps({"ingest": summary}))
    return {"reports": summary}
