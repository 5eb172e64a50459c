"""Builds the ingestor and retriever for an environment (to move into keel.bootstrap, the composition root)."""

from __future__ import annotations

from typing import Any

from keel.knowledge.ingest import IndexNames, Ingestor
from keel.knowledge.ports import CollectionCatalog, Embedder
from keel.settings import Environment, Settings


def build_embedder(settings: Settings, bedrock_client: Any | None) -> Embedder:
    """The packaged MiniLM locally; Titan through Bedrock in AWS."""
    if settings.environment == Environment.LOCAL or bedrock_client is None:
        from keel.knowledge.embeddings import OnnxMiniLMEmbedder

        return OnnxMiniLMEmbedder()
    from keel.knowledge.embeddings import BedrockTitanEmbedder

    return BedrockTitanEmbedder(bedrock_client)


def build_search_client(settings: Settings) -> Any:
    """opensearch-py client: SigV4 in AWS (credentials of the function's role), plain HTTP locally."""
    from keel.knowledge.opensearch import opensearch_client

    url = str(settings.opensearch_url).rstrip("/")
    if settings.environment == Environment.LOCAL:
        return opensearch_client(url)
    import boto3

    return opensearch_client(url, region=settings.region, credentials=boto3.Session().get_credentials())


def build_ingestor(
    settings: Settings, search_client: Any, embedder: Embedder, catalog: CollectionCatalog | None = None
) -> Ingestor:
    """The ingest use case over the two indices named in settings, placing rows in the tenant's collections."""
    from keel.knowledge.opensearch import ChunkIndex

    names = IndexNames(settings.index_internal, settings.index_external)
    store = ChunkIndex(search_client, indices=(names.internal, names.external), knn=settings.opensearch_knn)
    return Ingestor(store, embedder, names, progress=False, catalog=catalog)


def build_retriever(settings: Settings, search_client: Any, embedder: Embedder) -> Any:
    """The hybrid retriever; k-NN in one request where the engine has it (settings.opensearch_knn)."""
    from keel.knowledge.opensearch import OpenSearchRetriever

    return OpenSearchRetriever(search_client, embedder, settings.opensearch_knn)
