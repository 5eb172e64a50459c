"""The trained injection classifier: TF-IDF + logistic regression weights read from a JSON artefact."""

from __future__ import annotations

import json
import math
from pathlib import Path

from keel.errors import ConfigurationError
from keel.guardrails.features import raw_counts, tfidf
from keel.lazy import once

DEFAULT_MODEL = Path(__file__).with_name("data") / "injection_model.json"
DEFAULT_LIBRARY = Path(__file__).with_name("data") / "attack_library.json"


class InjectionClassifier:
    """Scores a text's probability of being an injection or jailbreak (no sklearn needed at run time)."""

    def __init__(self, idf: dict[str, float], weights: dict[str, float], intercept: float) -> None:
        self.idf = idf
        self.weights = weights
        self.intercept = intercept

    @classmethod
    def load(cls, path: Path = DEFAULT_MODEL) -> InjectionClassifier:
        """Read a model written by keel.guardrails.training."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            features = data["features"]
            return cls(
                {t: float(v[0]) for t, v in features.items()},
                {t: float(v[1]) for t, v in features.items()},
                float(data["intercept"]),
            )
        except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
            raise ConfigurationError(
                f"injection model {path} is missing or malformed; rebuild it with `python -m keel.guardrails.training`"
            ) from exc

    def vector(self, text: str) -> dict[str, float]:
        """The normalised TF-IDF vector of text."""
        return tfidf(raw_counts(text), self.idf)

    def logit(self, text: str) -> float:
        """The log-odds that text is an attack."""
        return self.intercept + sum(v * self.weights[t] for t, v in self.vector(text).items())

    def score(self, text: str) -> float:
        """Probability in 0..1 that text is an attack."""
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, self.logit(text)))))


class AttackLibrary:
    """Cosine similarity over word n-grams to a library of known attacks (inverted index)."""

    def __init__(self, texts: list[str], idf: dict[str, float]) -> None:
        self.idf = {t: w for t, w in idf.items() if t.startswith("w:")}
        self.texts = texts
        self._postings: dict[str, list[tuple[int, float]]] = {}
        for i, text in enumerate(texts):
            for term, weight in tfidf(raw_counts(text), self.idf).items():
                self._postings.setdefault(term, []).append((i, weight))

    @classmethod
    def load(cls, idf: dict[str, float], path: Path = DEFAULT_LIBRARY) -> AttackLibrary:
        """Read the library written by keel.guardrails.training."""
        try:
            texts = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"attack library {path} is missing or malformed") from exc
        return cls([str(t) for t in texts], idf)

    def nearest(self, text: str) -> tuple[float, str]:
        """(cosine, library text) of the closest known attack; (0.0, "") when nothing overlaps."""
        acc: dict[int, float] = {}
        for term, weight in tfidf(raw_counts(text), self.idf).items():
            for i, w in self._postings.get(term, ()):
                acc[i] = acc.get(i, 0.0) + weight * w
        if not acc:
            return 0.0, ""
        best = max(acc, key=lambda i: acc[i])
        return acc[best], self.texts[best]


@once
def default_classifier() -> InjectionClassifier:
    """The shipped classifier, loaded once per process."""
    return InjectionClassifier.load()


@once
def default_library() -> AttackLibrary:
    """The shipped library of known attacks, loaded once per process."""
    return AttackLibrary.load(default_classifier().idf)
