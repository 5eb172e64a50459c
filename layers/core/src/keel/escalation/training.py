"""`keel escalation train`: fit the intent heads on the corpus's train split and write the small artefact.

Reproducible: the encoder is deterministic, lbfgs is deterministic, and the thresholds come from
out-of-fold probabilities of a cross-validation grouped by family (a family's paraphrases never sit on
both sides of a fold). The frozen test split is never read here. scikit-learn is needed only to train.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keel.errors import InvalidRequest
from keel.escalation import decision
from keel.escalation.evaluation import TranscriptRow
from keel.escalation.heads import FEATURES, HEADS, VULNERABILITY_KINDS, ConversationFeatures, IntentHeads

if TYPE_CHECKING:
    import numpy as np

    from keel.models.encoder import SentenceEncoder

# Heads where a miss costs most: the threshold is the highest that keeps out-of-fold recall at this level.
RECALL_FIRST = {"explicit_request": 0.95, "vulnerable_customer": 0.95, "self_harm": 0.95, "fraud": 0.95}
C_GRID = (1.0, 4.0, 16.0)
FOLDS = 5
BAND_LOW = 0.5
THRESHOLD_GRID = tuple(round(0.05 * i, 2) for i in range(2, 19))


@dataclass(frozen=True)
class Example:
    """One training row at its final decision point."""

    text: str
    features: ConversationFeatures
    labels: dict[str, bool]
    kind: str
    family: str


class _EncoderScorer:
    """The encoder alone, for the rephrase feature while no heads exist yet."""

    def __init__(self, encoder: SentenceEncoder) -> None:
        self._encoder = encoder

    def encode(self, texts: Sequence[str]) -> Any:
        return self._encoder.encode(texts)


def examples(rows: Sequence[dict[str, Any]], encoder: SentenceEncoder) -> list[Example]:
    """Training examples: the last user message of each row with the conversation features the decision sees."""
    policy = decision.EscalationPolicy()
    scorer = _EncoderScorer(encoder)
    found: list[Example] = []
    for raw in rows:
        row = TranscriptRow.model_validate(raw)
        users = [t for t in row.turns if t.role == "user"]
        if not users or row.expected is None:
            raise InvalidRequest(f"training row {row.id} needs a user turn and an expected label")
        reason, intent = row.expected.reason, str(raw.get("intent", "general"))
        features = decision.conversation_features(row.turns, policy, scorer)  # type: ignore[arg-type]
        labels = {
            "explicit_request": reason == "explicit_request",
            "vulnerable_customer": reason == "vulnerable_customer",
            "self_harm": reason == "vulnerable_customer" and intent == "self_harm",
            "negative_sentiment": reason == "negative_sentiment",
        }
        for head in ("fraud", "account_closure", "compliance", "billing_dispute", "legal_threat"):
            labels[head] = reason == "high_risk_intent" and intent == head
        kind = intent if reason == "vulnerable_customer" else ""
        found.append(Example(users[-1].text, features, labels, kind, str(raw.get("family", row.id))))
    return found


def train(train_path: Path, out: Path, encoder: SentenceEncoder) -> dict[str, Any]:
    """Fit, choose C and thresholds by grouped cross-validation, write the artefact; returns its summary."""
    import numpy as np

    if "test" in train_path.name:
        raise InvalidRequest(f"{train_path} looks like a test split; train only on the train split")
    raw_rows = [json.loads(line) for line in train_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    data = examples(raw_rows, encoder)
    x = np.stack([np.concatenate([encoder.encode([e.text])[0], e.features.vector()]) for e in data]).astype(np.float64)
    groups = np.asarray([e.family for e in data])
    weights, bias, thresholds, folds = [], [], {}, {}
    for head in HEADS:
        y = np.asarray([e.labels[head] for e in data], dtype=int)
        if y.sum() < 5:
            raise InvalidRequest(f"head {head} has {int(y.sum())} positive rows; the corpus needs at least 5")
        c, oof = _best_c(x, y, groups)
        thresholds[head] = _threshold(head, y, oof)
        folds[head] = {"C": c, **_oof_scores(y, oof, thresholds[head])}
        model = _logistic(c).fit(x, y)
        weights.append(model.coef_[0])
        bias.append(float(model.intercept_[0]))
    vulnerable = [i for i, e in enumerate(data) if e.kind]
    kinds = _logistic(4.0, balanced=False).fit(x[vulnerable], [data[i].kind for i in vulnerable])
    kind_index = {k: i for i, k in enumerate(kinds.classes_)}
    missing = [k for k in VULNERABILITY_KINDS if k not in kind_index]
    if missing:
        raise InvalidRequest(f"the corpus has no vulnerable rows of kind {', '.join(missing)}")
    artefact = {
        "encoder": encoder.model_id,
        "heads": list(HEADS),
        "features": ["embedding"] * encoder.dimension + list(FEATURES),
        "vulnerability_kinds": list(VULNERABILITY_KINDS),
        "thresholds": thresholds,
        "band_low": BAND_LOW,
        "trained_on": {
            "file": train_path.name,
            "sha256": hashlib.sha256(train_path.read_bytes()).hexdigest(),
            "rows": len(data),
        },
        "cross_validation": folds,
        "bias": [round(b, 6) for b in bias],
        "weights": [[round(float(v), 6) for v in row] for row in weights],
        "kind_bias": [round(float(kinds.intercept_[kind_index[k]]), 6) for k in VULNERABILITY_KINDS],
        "kind_weights": [[round(float(v), 6) for v in kinds.coef_[kind_index[k]]] for k in VULNERABILITY_KINDS],
    }
    out.write_text(json.dumps(artefact, indent=1) + "\n", encoding="utf-8")
    IntentHeads.load(out, encoder)  # the written file must load
    return {k: artefact[k] for k in ("thresholds", "trained_on", "cross_validation")}


def _logistic(c: float, *, balanced: bool = True) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, class_weight="balanced" if balanced else None, max_iter=2000)


def _best_c(x: np.ndarray, y: np.ndarray, groups: np.ndarray) -> tuple[float, np.ndarray]:
    """The C with the best out-of-fold average precision, and its out-of-fold probabilities."""
    import numpy as np
    from sklearn.metrics import average_precision_score
    from sklearn.model_selection import GroupKFold

    best: tuple[float, float, Any] = (-1.0, 0.0, None)
    for c in C_GRID:
        oof = np.zeros(len(y))
        for fit_on, held_out in GroupKFold(n_splits=FOLDS).split(x, y, groups):
            if y[fit_on].min() == y[fit_on].max():
                oof[held_out] = float(y[fit_on][0])
                continue
            oof[held_out] = _logistic(c).fit(x[fit_on], y[fit_on]).predict_proba(x[held_out])[:, 1]
        score = float(average_precision_score(y, oof))
        if score > best[0]:
            best = (score, c, oof)
    return best[1], best[2]


def _threshold(head: str, y: np.ndarray, oof: np.ndarray) -> float:
    target = RECALL_FIRST.get(head)
    if target is not None:
        keeping = [t for t in THRESHOLD_GRID if _oof_scores(y, oof, t)["recall"] >= target]
        return max(keeping) if keeping else THRESHOLD_GRID[0]
    return max(THRESHOLD_GRID, key=lambda t: (_oof_scores(y, oof, t)["f1"], t))


def _oof_scores(y: np.ndarray, oof: np.ndarray, threshold: float) -> dict[str, float]:
    predicted = oof >= threshold
    tp = int((predicted & (y == 1)).sum())
    precision = tp / max(int(predicted.sum()), 1)
    recall = tp / max(int(y.sum()), 1)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 3), "recall": round(recall, 3), "f1": round(f1, 3)}
