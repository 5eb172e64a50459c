"""`keel escalation train`: fit the intent heads on the corpus's train split and write the small artefact.

Reproducible: the encoder is deterministic, the networks are seeded, and the network size, the thresholds and the
tie-break come from out-of-fold probabilities of a cross-validation grouped by family (a family's paraphrases never
sit on both sides of a fold). The frozen test split is never read here. scikit-learn is needed only to train.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keel.errors import InvalidRequest
from keel.escalation import augment, decision
from keel.escalation.corpus import DEFLECTIONS, OPENERS
from keel.escalation.evaluation import TranscriptRow
from keel.escalation.heads import (
    FEATURES,
    HEADS,
    VULNERABILITY_KINDS,
    ConversationFeatures,
    IntentHeads,
    embedding_key,
)
from keel.models.networks import Bag, fit_bag, write_arrays

if TYPE_CHECKING:
    import numpy as np

    from keel.models.encoder import SentenceEncoder

# Heads where a miss costs most: the threshold is the highest that keeps out-of-fold recall at this level,
# unless that makes the head fire on more than FALSE_ALARMS of the out-of-fold rows that should stay with the
# bot (look-alikes and routine questions): then the lowest threshold within that budget.
RECALL_FIRST = {"vulnerable_customer": 0.95, "self_harm": 0.95, "fraud": 0.95}
FALSE_ALARMS = 0.01
# Heads whose false alarm is costly whatever the true reason: a crisis message with support lines sent to someone who
# only asked for a person, or shouted about a bug. Their budget counts every row of another reason, not only the
# rows that stay with the bot.
QUIET_ON_EVERY_OTHER_REASON = frozenset({"self_harm"})
# Explicit requests must always be honoured: the lowest threshold (the most recall) at which the head fires on
# at most this share of the out-of-fold rows that should stay with the bot.
EXPLICIT_FALSE_ALARMS = 0.03
# ... and on at most this share of the look-alikes among them ("human resources", a travel agent, "is a person
# reading this?"): the routine rows are most of the budget's rows and rarely fire, so a budget over all of them
# alone let the head fire on about twice as many look-alikes, which the issue holds to 5% over every reason. 3% until
# round 11, whose assistant-work rows moved the networks so that 3% put the threshold at 0.35 and the whole decision
# escalated 4.2% of the look-alikes out of fold; at 2% it was 0.50 and 3.3% (explicit requests honoured 0.966).
# Round 12's harder look-alike families (mild frustration, legal "person") put it at 0.40 under the same budget.
EXPLICIT_LOOKALIKE_ALARMS = 0.02
# Candidate factors for the fraud-over-vulnerability tie-break (see HeadScores.fraud_not_vulnerability).
TIE_BREAK_GRID = (0.5, 0.67, 0.8, 1.0, 1.25, 1.5, 2.0)
# The heads are one bag of small networks with an output per head (they share what they learn of requests, risk
# and distress). On grouped cross-validation of round 7's train split they separated every head but self-harm
# better than one logistic regression per head (explicit requests: average precision 0.971 -> 0.986; recall with
# 3% of the rows that stay with the bot firing, 0.883 -> 0.942). The size and penalty are chosen out of fold.
NETWORK_GRID = (((128,), 1e-3), ((128,), 1e-2))
MEMBERS = 3
EPOCHS = 300
FOLDS = 5
BAND_LOW = 0.5
# From 0.05: with 0.10 as the lowest, the recall-first rule could not reach its recall for the vulnerability and
# fraud heads (out of fold 0.93 at 0.10 in round 7 and after the edited copies; the false-alarm budget still bounds it).
THRESHOLD_GRID = tuple(round(0.05 * i, 2) for i in range(1, 19))
# Edited copies of every example added to training (keel.escalation.augment); never used to choose the network, the
# thresholds or the tie-break, which come from the original rows.
COPIES = 2
# The user turns the corpus builder puts before an author's text (keel.escalation.corpus).
BUILDER_OPENINGS = frozenset(text for text, _ in (*OPENERS.values(), *DEFLECTIONS.values()))


@dataclass(frozen=True)
class Example:
    """One training row at its final decision point."""

    text: str
    features: ConversationFeatures
    labels: dict[str, bool]
    kind: str
    family: str
    reason: str = "none"
    intent: str = ""
    edit: str = ""  # the surface edits of an added copy (keel.escalation.augment); empty for a corpus row


class _EncoderScorer:
    """The encoder alone, for the rephrase feature while no heads exist yet."""

    def __init__(self, encoder: SentenceEncoder) -> None:
        self._encoder = encoder

    def encode(self, texts: Sequence[str]) -> Any:
        return self._encoder.encode([embedding_key(t) for t in texts])


def examples(rows: Sequence[dict[str, Any]], encoder: SentenceEncoder) -> list[Example]:
    """Training examples: the last user message of each row with the conversation features the decision sees, one
    per row and in row order; then the earlier decision points the corpus builder wrote (its opening questions and
    the ask a deflection answers), labelled to stay with the bot. The decision runs at every point of a
    conversation, so the heads must also learn what an ordinary opening looks like: fitted on last messages only,
    the networks took "I need help with my case" for a vulnerable customer."""
    policy = decision.EscalationPolicy()
    scorer = _EncoderScorer(encoder)
    found: list[Example] = []
    openings: list[Example] = []
    seen: set[tuple[str, str]] = set()
    for raw in rows:
        row = TranscriptRow.model_validate(raw)
        users = [t for t in row.turns if t.role == "user"]
        if not users or row.expected is None:
            raise InvalidRequest(f"training row {row.id} needs a user turn and an expected label")
        reason, intent = row.expected.reason, str(raw.get("intent", "general"))
        family = str(raw.get("family", row.id))
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
        found.append(Example(users[-1].text, features, labels, kind, family, reason, intent))
        for index, turn in enumerate(row.turns[:-1]):
            if turn.role != "user" or turn.text not in BUILDER_OPENINGS or (family, turn.text) in seen:
                continue
            seen.add((family, turn.text))
            before = decision.conversation_features(row.turns[: index + 1], policy, scorer)  # type: ignore[arg-type]
            openings.append(Example(turn.text, before, dict.fromkeys(labels, False), "", family, "none", "routine"))
    return found + openings


def with_copies(data: Sequence[Example], copies: int = COPIES) -> list[Example]:
    """The examples, then edited copies of every one (the builder's openings too): same labels, features and
    family, so grouped cross-validation keeps a copy beside its original. Every label gets the same edits: with the
    openings (all `none`) left out, lower case without punctuation went with the other reasons, and the heads read
    "quantum chromodynamics" typed in lower case as a request for a person."""
    added = [
        Example(text, e.features, e.labels, e.kind, e.family, e.reason, e.intent, edit)
        for e in data
        for edit, text in augment.variants(e.text, copies)
    ]
    return [*data, *added]


def train(train_path: Path, out: Path, encoder: SentenceEncoder) -> dict[str, Any]:
    """Fit, choose the network and the thresholds by grouped cross-validation, write the artefact (JSON and the
    arrays beside it); returns its summary."""
    import numpy as np

    if "test" in train_path.name:
        raise InvalidRequest(f"{train_path} looks like a test split; train only on the train split")
    raw_rows = [json.loads(line) for line in train_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    originals = examples(raw_rows, encoder)
    data = with_copies(originals)
    n = len(originals)  # the rows that choose the network, the thresholds and the tie-break
    x = np.stack(
        [np.concatenate([encoder.encode([embedding_key(e.text)])[0], e.features.vector()]) for e in data]
    ).astype(np.float64)
    groups = np.asarray([e.family for e in data])
    stays = np.asarray([e.reason == "none" for e in data])
    lookalikes = np.asarray([e.reason == "none" and e.intent == "lookalike" for e in data])
    labels = np.asarray([[e.labels[head] for head in HEADS] for e in data], dtype=int)
    for k, head in enumerate(HEADS):
        if labels[:, k].sum() < 5:
            raise InvalidRequest(
                f"head {head} has {int(labels[:, k].sum())} positive rows; the corpus needs at least 5"
            )
    network, out_of_fold, folds_fitted = _best_network(x, labels, groups, n)
    thresholds, folds, oof_by_head = {}, {}, {}
    stays, lookalikes = stays[:n], lookalikes[:n]
    for k, head in enumerate(HEADS):
        y, oof = labels[:n, k], out_of_fold[:n, k]
        oof_by_head[head] = oof
        thresholds[head] = _threshold(head, y, oof, stays, lookalikes)
        folds[head] = {"average_precision": _average_precision(y, oof), **_oof_scores(y, oof, thresholds[head])}
        folds[head]["false_alarms_on_none"] = round(float((oof[stays] >= thresholds[head]).mean()), 3)
    hidden, alpha = network
    bag = _fit(x, labels, network)
    vulnerable = [i for i, e in enumerate(data) if e.kind]
    kinds = _logistic(4.0, balanced=False).fit(x[vulnerable], [data[i].kind for i in vulnerable])
    kind_index = {k: i for i, k in enumerate(kinds.classes_)}
    missing = [k for k in VULNERABILITY_KINDS if k not in kind_index]
    if missing:
        raise InvalidRequest(f"the corpus has no vulnerable rows of kind {', '.join(missing)}")
    tie_break = _tie_break(originals, oof_by_head, thresholds)
    figures = _decision_cv(raw_rows, x, data, folds_fitted, thresholds, tie_break, encoder)
    mistakes = figures.pop("mistakes")
    folds["decision"] = figures
    artefact = {
        "encoder": encoder.model_id,
        "heads": list(HEADS),
        "features": ["embedding"] * encoder.dimension + list(FEATURES),
        "vulnerability_kinds": list(VULNERABILITY_KINDS),
        "thresholds": thresholds,
        "network": {
            "file": out.with_suffix(".npz").name,
            "sha256": write_arrays(out.with_suffix(".npz"), bag.arrays()),
            "members": MEMBERS,
            "layers": len(hidden) + 1,
            "hidden": list(hidden),
            "alpha": alpha,
            "activation": "relu",
        },
        "band_low": BAND_LOW,
        "fraud_over_vulnerable": tie_break,
        "trained_on": {
            "file": train_path.name,
            "sha256": hashlib.sha256(train_path.read_bytes()).hexdigest(),
            "rows": n,
            "edited_copies": len(data) - n,
            "edits": sorted(augment.EDITS),
        },
        "cross_validation": folds,
        "kind_bias": [round(float(kinds.intercept_[kind_index[k]]), 6) for k in VULNERABILITY_KINDS],
        "kind_weights": [[round(float(v), 6) for v in kinds.coef_[kind_index[k]]] for k in VULNERABILITY_KINDS],
    }
    out.write_text(json.dumps(artefact, indent=1) + "\n", encoding="utf-8")
    IntentHeads.load(out, encoder)  # the written file must load
    summary = {k: artefact[k] for k in ("thresholds", "trained_on", "cross_validation", "fraud_over_vulnerable")}
    return {**summary, "out_of_fold_mistakes": mistakes}


def _decision_cv(
    raw_rows: Sequence[dict[str, Any]],
    x: np.ndarray,
    data: Sequence[Example],
    folds_fitted: Sequence[tuple[np.ndarray, np.ndarray, Bag]],
    thresholds: dict[str, float],
    tie_break: float | None,
    encoder: SentenceEncoder,
) -> dict[str, Any]:
    """The whole decision (patterns, heads, tie-break, turn logic) scored out of fold, grouped by family: each
    fold's rows are decided by the networks fitted on the other folds (the ones whose probabilities chose the
    thresholds). The thresholds and the tie-break come from the same folds, so these figures are slightly
    optimistic."""
    import numpy as np

    from keel.escalation.evaluation import Acceptance, Scored, TranscriptRow
    from keel.escalation.heads import IntentHeads

    scored: list[Scored] = []
    for fit_on, held_out, bag in folds_fitted:
        vulnerable = [i for i in fit_on if data[i].kind]
        kinds = _logistic(4.0, balanced=False).fit(x[vulnerable], [data[i].kind for i in vulnerable])
        index = {k: i for i, k in enumerate(kinds.classes_)}
        rows = [index.get(k) for k in VULNERABILITY_KINDS]
        kind_weights = np.stack([kinds.coef_[i] if i is not None else np.zeros(x.shape[1]) for i in rows])
        kind_bias = np.asarray([kinds.intercept_[i] if i is not None else -99.0 for i in rows])
        heads = IntentHeads(
            encoder,
            bag,
            thresholds,
            kind_weights.astype(np.float32),
            kind_bias.astype(np.float32),
            band_low=BAND_LOW,
            fraud_over_vulnerable=tie_break if tie_break is not None else float("inf"),
        )
        for i in held_out[held_out < len(raw_rows)]:  # the conversations (the openings after them are examples only)
            row = TranscriptRow.model_validate(raw_rows[i])
            scored.append(Scored(row, decision.first_escalation(row.turns, heads=heads)))
    figures = Acceptance.of(scored).as_json()
    figures["mistakes"] = [
        f"{s.row.id}: {s.expected.reason} -> {s.decision.reason}/{s.decision.intent} ({s.decision.detail})"
        for s in scored
        if s.expected.reason != s.decision.reason or (s.row.label_intent == "fraud" and s.decision.intent != "fraud")
    ]
    return figures


def _tie_break(data: Sequence[Example], oof: dict[str, Any], thresholds: dict[str, float]) -> float | None:
    """The factor for the fraud-over-vulnerability tie-break with the most right answers out of fold, among the
    train rows where both heads fire (a tie keeps the larger factor: vulnerability first). None: never fraud."""
    both = [
        i
        for i, e in enumerate(data)
        if e.kind not in ("self_harm", "safety")
        and (e.labels["fraud"] or e.labels["vulnerable_customer"])
        and oof["fraud"][i] >= thresholds["fraud"]
        and oof["vulnerable_customer"][i] >= thresholds["vulnerable_customer"]
    ]
    if not both:
        return None

    def right(factor: float | None) -> int:
        count = 0
        for i in both:
            fraud_margin = oof["fraud"][i] / thresholds["fraud"]
            vulnerable_margin = oof["vulnerable_customer"][i] / thresholds["vulnerable_customer"]
            says_fraud = factor is not None and fraud_margin >= factor * vulnerable_margin
            count += says_fraud == data[i].labels["fraud"]
        return count

    best = max([None, *TIE_BREAK_GRID], key=lambda f: (right(f), f if f is not None else 99.0))
    return best


def _logistic(c: float, *, balanced: bool = True) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, class_weight="balanced" if balanced else None, max_iter=2000)


def _fit(x: np.ndarray, labels: np.ndarray, network: tuple[tuple[int, ...], float]) -> Bag:
    hidden, alpha = network
    # The embedding is unit length and the conversation features are on 0..1: the networks read them as they are.
    return fit_bag(x, labels, None, hidden=hidden, alpha=alpha, epochs=EPOCHS, members=MEMBERS, standardise=False)


def _best_network(
    x: np.ndarray, labels: np.ndarray, groups: np.ndarray, scored: int
) -> tuple[tuple[tuple[int, ...], float], np.ndarray, list[tuple[np.ndarray, np.ndarray, Bag]]]:
    """The network size and penalty with the best mean out-of-fold average precision over the heads on the first
    `scored` rows (the corpus's, not the edited copies), its out-of-fold probabilities (rows x heads) and each fold's
    rows (fitted on, held out) with the bag fitted there."""
    import numpy as np
    from sklearn.model_selection import GroupKFold

    best: tuple[float, Any, Any, Any] = (-1.0, None, None, None)
    for network in NETWORK_GRID:
        oof = np.zeros(labels.shape)
        fitted = []
        for fit_on, held_out in GroupKFold(n_splits=FOLDS).split(x, groups=groups):
            bag = _fit(x[fit_on], labels[fit_on], network)
            oof[held_out] = bag.outputs(x[held_out])
            fitted.append((fit_on, held_out, bag))
        score = float(
            np.mean([_average_precision(labels[:scored, k], oof[:scored, k]) for k in range(labels.shape[1])])
        )
        print(f"  out of fold: hidden {network[0]}, alpha {network[1]}: mean average precision {score:.4f}", flush=True)
        if score > best[0]:
            best = (score, network, oof, fitted)
    return best[1], best[2], best[3]


def _average_precision(y: np.ndarray, scores: np.ndarray) -> float:
    from sklearn.metrics import average_precision_score

    return round(float(average_precision_score(y, scores)), 4)


def _threshold(head: str, y: np.ndarray, oof: np.ndarray, stays: np.ndarray, lookalikes: np.ndarray) -> float:
    if head == "explicit_request":
        return max(_quiet(oof[stays], EXPLICIT_FALSE_ALARMS), _quiet(oof[lookalikes], EXPLICIT_LOOKALIKE_ALARMS))
    target = RECALL_FIRST.get(head)
    if target is not None:
        keeping = [t for t in THRESHOLD_GRID if _oof_scores(y, oof, t)["recall"] >= target]
        threshold = max(max(keeping) if keeping else THRESHOLD_GRID[0], _quiet(oof[stays], FALSE_ALARMS))
        if head in QUIET_ON_EVERY_OTHER_REASON:
            threshold = max(threshold, _quiet(oof[y == 0], FALSE_ALARMS))
        return threshold
    return max(THRESHOLD_GRID, key=lambda t: (_oof_scores(y, oof, t)["f1"], t))


def _quiet(scores_of_rows_that_stay: np.ndarray, budget: float) -> float:
    """The lowest threshold at which a head fires on at most `budget` of the rows that should stay with the bot (a
    corpus without such rows sets no bound: the lowest threshold)."""
    if not len(scores_of_rows_that_stay):
        return THRESHOLD_GRID[0]
    quiet = [t for t in THRESHOLD_GRID if float((scores_of_rows_that_stay >= t).mean()) <= budget]
    return min(quiet) if quiet else THRESHOLD_GRID[-1]


def _oof_scores(y: np.ndarray, oof: np.ndarray, threshold: float) -> dict[str, float]:
    predicted = oof >= threshold
    tp = int((predicted & (y == 1)).sum())
    precision = tp / max(int(predicted.sum()), 1)
    recall = tp / max(int(y.sum()), 1)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 3), "recall": round(recall, 3), "f1": round(f1, 3)}
