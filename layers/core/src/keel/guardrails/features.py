"""Text features shared by training and inference: TF-IDF over word 1-2 grams and char 3-5 grams.

Implemented here (not sklearn's vectorisers) so that inference needs no sklearn or pickle: the model
is a JSON file of feature -> (idf, weight), and training uses exactly this function.
"""

from __future__ import annotations

import math
import re
from collections import Counter

_WORD = re.compile(r"\w+", re.UNICODE)
CHAR_NGRAMS = (3, 4, 5)


def raw_counts(text: str) -> Counter[str]:
    """Term counts of one text: `w:` word uni/bigrams and `c:` char n-grams inside padded words."""
    words = _WORD.findall(text.lower())
    counts: Counter[str] = Counter()
    for i, word in enumerate(words):
        counts["w:" + word] += 1
        if i:
            counts["w:" + words[i - 1] + " " + word] += 1
        padded = f" {word} "
        for n in CHAR_NGRAMS:
            for j in range(len(padded) - n + 1):
                counts["c:" + padded[j : j + n]] += 1
    return counts


def tfidf(counts: Counter[str], idf: dict[str, float]) -> dict[str, float]:
    """Sublinear TF times IDF over the known vocabulary, L2-normalised (length carries no signal)."""
    vec = {term: (1.0 + math.log(n)) * idf[term] for term, n in counts.items() if term in idf}
    norm = math.sqrt(sum(v * v for v in vec.values()))
    if norm == 0.0:
        return {}
    return {term: v / norm for term, v in vec.items()}
