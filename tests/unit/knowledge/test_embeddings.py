"""Embedders: the packaged MiniLM behaves like a sentence encoder; Titan errors are translated."""

from __future__ import annotations

import io
import json
from pathlib import Path

import boto3
import numpy as np
import pytest
from botocore.stub import Stubber

from keel.errors import ConfigurationError, ServiceUnavailable
from keel.knowledge.embeddings import BedrockTitanEmbedder, OnnxMiniLMEmbedder, minilm_files


@pytest.fixture(scope="module")
def minilm() -> OnnxMiniLMEmbedder:
    return OnnxMiniLMEmbedder()


def test_minilm_vectors_are_unit_length_with_384_dimensions(minilm: OnnxMiniLMEmbedder) -> None:
    vectors = np.array(minilm.embed(["How do I reset my password?", "hello"]))
    assert vectors.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_minilm_scores_paraphrases_above_unrelated_sentences(minilm: OnnxMiniLMEmbedder) -> None:
    a, b, c = np.array(minilm.embed(["How do I reset my password?", "I forgot my password", "Lunch is at noon"]))
    assert a @ b > 0.6 and a @ c < 0.2


def test_minilm_batches_and_truncates_long_texts_consistently(minilm: OnnxMiniLMEmbedder) -> None:
    texts = [f"sentence number {n}" for n in range(40)] + ["word " * 2000]
    together = np.array(minilm.embed(texts))
    alone = np.array(minilm.embed(texts[:1]))
    assert together.shape == (41, 384)
    assert np.allclose(together[0], alone[0], atol=1e-4)
    assert minilm.embed([]) == []


def test_a_tampered_model_file_is_refused(tmp_path: Path) -> None:
    _, tokenizer = minilm_files()
    fake = tmp_path / "model.onnx"
    fake.write_bytes(b"not the pinned model")
    with pytest.raises(ConfigurationError, match="sha256"):
        OnnxMiniLMEmbedder(fake, tokenizer).embed(["x"])


def test_a_missing_model_file_is_a_configuration_error(tmp_path: Path) -> None:
    _, tokenizer = minilm_files()
    with pytest.raises(ConfigurationError, match="missing"):
        OnnxMiniLMEmbedder(tmp_path / "absent.onnx", tokenizer).embed(["x"])


def bedrock() -> tuple[object, Stubber]:
    client = boto3.client("bedrock-runtime", region_name="us-east-1")
    return client, Stubber(client)


def test_titan_returns_the_vectors_it_is_given() -> None:
    client, stub = bedrock()
    body = io.BytesIO(json.dumps({"embedding": [0.6, 0.8] + [0.0] * 254}).encode())
    stub.add_response("invoke_model", {"body": body, "contentType": "application/json"})
    with stub:
        (vector,) = BedrockTitanEmbedder(client, dimension=256).embed(["hi"])
    assert vector[:2] == [0.6, 0.8] and len(vector) == 256


def test_titan_throttling_becomes_service_unavailable() -> None:
    client, stub = bedrock()
    stub.add_client_error("invoke_model", service_error_code="ThrottlingException", http_status_code=429)
    with stub, pytest.raises(ServiceUnavailable, match="embedding model"):
        BedrockTitanEmbedder(client).embed(["hi"])


def test_titan_wrong_dimension_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="accepted: 256, 512, 1024"):
        BedrockTitanEmbedder(object(), dimension=384)
