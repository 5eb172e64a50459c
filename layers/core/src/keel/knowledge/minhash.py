"""MinHash signatures and banded locality-sensitive hashing: the candidates of near-duplicate detection.

Written here (numpy only) instead of using datasketch, whose LSH imports scipy.integrate just to choose
its band layout: scipy is about 77 MB of the ingest function, which must stay under 200 MB unzipped.
The band layout is chosen the same way (the layout minimising the expected false positive and false
negative probabilities around the threshold), integrated with numpy's trapezoid rule instead.
Candidates are only candidates: hygiene confirms each with the exact Jaccard similarity of the word sets.
"""

from __future__ import annotations

import functools
import hashlib
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

# Hashes of 32 bits, permuted by a*x + b modulo a Mersenne prime (the universal family MinHash uses).
_MERSENNE_PRIME = (1 << 61) - 1
_MAX_HASH = (1 << 32) - 1
_INTEGRATION_POINTS = 201
_FALSE_POSITIVE_WEIGHT = 0.1
_FALSE_NEGATIVE_WEIGHT = 0.9


@functools.lru_cache(maxsize=8)
def band_layout(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows), bands * rows <= num_perm, minimising weighted false positives and false negatives.

    A pair of Jaccard similarity s becomes a candidate with probability 1 - (1 - s**rows)**bands. Every
    candidate is confirmed exactly, so a false positive costs one set comparison while a false negative
    keeps a duplicate: false negatives weigh 0.9, false positives 0.1. At 0.7 with 128 permutations this
    is 20 bands of 6 rows: a pair at 0.8 is a candidate 99.8% of the time, at 0.7 92%, at 0.5 27%.
    """
    import numpy as np

    if not 0.0 < threshold < 1.0:
        raise ValueError(f"the near-duplicate threshold must lie strictly between 0 and 1, not {threshold}")
    if num_perm < 2:
        raise ValueError(f"MinHash needs at least 2 permutations, not {num_perm}")
    layouts = np.array([(b, r) for b in range(1, num_perm + 1) for r in range(1, num_perm // b + 1)], dtype=float)
    bands, rows = layouts[:, :1], layouts[:, 1:]
    below = np.linspace(0.0, threshold, _INTEGRATION_POINTS)[None, :]
    above = np.linspace(threshold, 1.0, _INTEGRATION_POINTS)[None, :]
    false_positive = np.trapezoid(1.0 - (1.0 - below**rows) ** bands, below, axis=1)
    false_negative = np.trapezoid((1.0 - above**rows) ** bands, above, axis=1)
    best = int(np.argmin(_FALSE_POSITIVE_WEIGHT * false_positive + _FALSE_NEGATIVE_WEIGHT * false_negative))
    return int(layouts[best, 0]), int(layouts[best, 1])


class MinHasher:
    """Signatures of ``num_perm`` hash permutations; the same seed gives the same permutations."""

    def __init__(self, num_perm: int = 128, seed: int = 7) -> None:
        import numpy as np

        if num_perm < 2:
            raise ValueError(f"MinHash needs at least 2 permutations, not {num_perm}")
        generator = np.random.RandomState(seed)
        self.num_perm = num_perm
        self._a = generator.randint(1, _MERSENNE_PRIME, size=num_perm, dtype=np.uint64)
        self._b = generator.randint(0, _MERSENNE_PRIME, size=num_perm, dtype=np.uint64)

    def signature(self, shingles: Iterable[str]) -> Any:
        """The signature (uint64 array of num_perm) of a set of shingles; an empty set has the all-max signature."""
        import numpy as np

        hashes = np.array([_hash32(s) for s in set(shingles)], dtype=np.uint64)
        if hashes.size == 0:
            return np.full(self.num_perm, _MAX_HASH, dtype=np.uint64)
        # uint64 arithmetic wraps on overflow, as a hash family may; the result is kept to 32 bits.
        permuted = np.bitwise_and((np.outer(hashes, self._a) + self._b) % np.uint64(_MERSENNE_PRIME), _MAX_HASH)
        return permuted.min(axis=0)


class BandedIndex:
    """Banded LSH over MinHash signatures: keys whose signatures agree on a whole band are candidates."""

    def __init__(self, threshold: float, num_perm: int) -> None:
        self.bands, self.rows = band_layout(threshold, num_perm)
        self._buckets: list[dict[bytes, list[str]]] = [defaultdict(list) for _ in range(self.bands)]

    def _keys(self, signature: Any) -> list[bytes]:
        return [bytes(signature[b * self.rows : (b + 1) * self.rows].tobytes()) for b in range(self.bands)]

    def insert(self, key: str, signature: Any) -> None:
        """Index a signature under key."""
        for bucket, band in zip(self._buckets, self._keys(signature), strict=True):
            bucket[band].append(key)

    def candidates(self, signature: Any) -> set[str]:
        """Every key sharing at least one band with signature."""
        found: set[str] = set()
        for bucket, band in zip(self._buckets, self._keys(signature), strict=True):
            found.update(bucket.get(band, ()))
        return found


def _hash32(shingle: str) -> int:
    return int.from_bytes(hashlib.sha1(shingle.encode("utf-8"), usedforsecurity=False).digest()[:4], "little")


def jaccard(left: frozenset[str], right: frozenset[str]) -> float:
    """|left ∩ right| / |left ∪ right| (1.0 for two empty sets)."""
    union = len(left | right)
    return len(left & right) / union if union else 1.0
