"""The learned input-screen head: a bag of small neural networks over the shared multilingual sentence embedding
fused with the older layers' signals (TF-IDF classifier, rules, known-attack similarity, obfuscation, Markdown
exfiltration shape), trained by keel.guardrails.head_training on data with a frozen test split (issue 17).

The artefact is a small JSON file (operating points, categories, the training record) beside an .npz of float32
arrays (standardisation and each network's layers; read with allow_pickle off, checked against the sha256 the JSON
records). Its raw probability, the mean of the networks', is mapped onto the policy's score scale so that the
operating points chosen on validation land on the default flag (0.5) and block (0.8) thresholds; per-bot policy
then decides as before.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keel.errors import ConfigurationError
from keel.models.networks import Bag, read_arrays

if TYPE_CHECKING:
    import numpy as np

DEFAULT_HEAD = Path(__file__).with_name("data") / "learned_head.json"
# A Markdown image or link whose URL carries a query string: the shape of data smuggled out in a URL.
MARKDOWN_URL_QUERY = re.compile(r"!?\[[^\]\n]{0,200}\]\(\s*<?https?://[^)\s>]*\?[^)\s>]*=", re.IGNORECASE)
# Where calibration puts the head's flag point on the policy scale (the default BotPolicy.flag_threshold).
FLAG_POINT_SCORE = 0.5
EXTRA_FEATURES = (
    "tfidf_logit",
    "rule_max",
    "rule_count",
    "addressed",
    "similarity",
    "obfuscated",
    "markdown_url_query",
    "conversation",
)


@dataclass(frozen=True)
class Signals:
    """What the older layers say about one view of a message (inputs to the head besides the embedding)."""

    tfidf_logit: float
    rule_max: float
    rule_count: int
    addressed: bool
    similarity: float
    obfuscated: bool
    markdown_url_query: bool
    conversation: bool

    def vector(self) -> list[float]:
        """The extra features in EXTRA_FEATURES order, scaled to about 0..1."""
        return [
            max(-10.0, min(10.0, self.tfidf_logit)) / 10.0,
            self.rule_max,
            min(self.rule_count, 3) / 3.0,
            float(self.addressed),
            self.similarity,
            float(self.obfuscated),
            float(self.markdown_url_query),
            float(self.conversation),
        ]


class LearnedHead:
    """Attack probability and most likely attack category from an embedding and the layers' signals."""

    def __init__(self, artefact: dict[str, Any], arrays: Mapping[str, Any]) -> None:
        import numpy as np

        try:
            network = artefact["network"]
            bag = Bag.from_arrays(arrays, int(network["members"]), int(network["layers"]), "learned guardrail head")
            self.flag_raw = float(artefact["operating_points"]["flag"])
            self.block_raw = float(artefact["operating_points"]["block"])
            # The earlier screen's score counts on its own only from this floor (chosen on validation).
            self.legacy_floor = float(artefact["operating_points"].get("legacy_floor", 0.0))
            # One rule hit of this weight flags a message on its own (chosen on validation; above 1: never).
            self.rule_floor = float(artefact["operating_points"].get("rule_floor", 1.01))
            self.categories: list[str] = [str(c) for c in artefact["categories"]["labels"]]
            self.category_weights = np.asarray(artefact["categories"]["weights"], dtype=np.float32)
            self.category_intercepts = np.asarray(artefact["categories"]["intercepts"], dtype=np.float32)
            self.model_id = str(artefact["encoder"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigurationError(f"learned guardrail head is malformed ({exc}); retrain it") from exc
        if not 0.0 < self.flag_raw <= self.block_raw < 1.0:
            raise ConfigurationError("learned guardrail head: operating points must satisfy 0 < flag <= block < 1")
        if bag.output_count != 1:
            raise ConfigurationError("learned guardrail head: a network must end in one output")
        self.bag = bag
        if self.category_weights.shape != (len(self.categories), self.dimension // 2):
            raise ConfigurationError("learned guardrail head: category weights do not match the embedding size")
        self.artefact = artefact

    @classmethod
    def load(cls, path: Path = DEFAULT_HEAD) -> LearnedHead:
        """Read the artefact written by keel.guardrails.head_training and the arrays beside it."""
        rebuild = "rebuild it with `make guard-model`"
        try:
            artefact = json.loads(path.read_text(encoding="utf-8"))
            arrays_path, sha256 = path.parent / artefact["network"]["file"], str(artefact["network"].get("sha256"))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigurationError(f"learned guardrail head {path} is missing or malformed; {rebuild}") from exc
        return cls(artefact, read_arrays(arrays_path, sha256, f"learned guardrail head {path}", rebuild))

    @property
    def dimension(self) -> int:
        """The size of the view vector the head expects: the sentence vector and its windows' maximum."""
        return self.bag.width - len(EXTRA_FEATURES)

    def probability(self, view: np.ndarray, signals: Signals) -> float:
        """Raw attack probability of one view: the mean of the networks' (ReLU hidden layers, logistic output)."""
        import numpy as np

        x = np.concatenate([view.astype(np.float32), np.asarray(signals.vector(), dtype=np.float32)])
        return float(self.bag.outputs(x[None, :])[0, 0])

    def category(self, view: np.ndarray) -> str:
        """The most likely attack category of a view (from its sentence vector)."""
        sentence = view[: self.category_weights.shape[1]].astype(self.category_weights.dtype)
        scores = self.category_weights @ sentence + self.category_intercepts
        return self.categories[int(scores.argmax())]

    def to_score(self, raw: float) -> float:
        """Map a raw probability onto the policy scale: flag point -> 0.5, block point -> 0.8."""
        return calibrate(raw, self.flag_raw, self.block_raw)


def calibrate(raw: float, flag_raw: float, block_raw: float) -> float:
    """Piecewise-linear map through (0, 0), (flag_raw, 0.5), (block_raw, 0.8), (1, 1)."""
    raw = max(0.0, min(1.0, raw))
    if raw < flag_raw:
        return FLAG_POINT_SCORE * raw / flag_raw
    if raw < block_raw:
        return 0.5 + 0.3 * (raw - flag_raw) / max(block_raw - flag_raw, 1e-9)
    return 0.8 + 0.2 * (raw - block_raw) / max(1.0 - block_raw, 1e-9)


def raw_at(score: float, flag_raw: float, block_raw: float) -> float:
    """The raw probability `calibrate` maps onto score (its inverse on 0..1)."""
    score = max(0.0, min(1.0, score))
    if score < FLAG_POINT_SCORE:
        return flag_raw * score / FLAG_POINT_SCORE
    if score < 0.8:
        return flag_raw + (block_raw - flag_raw) * (score - 0.5) / 0.3
    return block_raw + (1.0 - block_raw) * (score - 0.8) / 0.2
