"""keel.knowledge.minhash: the band layout, signatures and candidates that replaced datasketch (and scipy)."""

from __future__ import annotations

import random

import pytest

from keel.knowledge.minhash import BandedIndex, MinHasher, band_layout, jaccard


def test_the_band_layout_favours_recall_and_fits_the_permutations() -> None:
    bands, rows = band_layout(0.7, 128)
    assert (bands, rows) == (20, 6) and bands * rows <= 128
    # A stricter threshold needs longer bands (fewer accidental candidates).
    assert band_layout(0.9, 128)[1] > rows


@pytest.mark.parametrize(("threshold", "num_perm"), [(0.0, 128), (1.0, 128), (1.5, 128), (0.7, 1)])
def test_a_bad_layout_request_says_what_is_accepted(threshold: float, num_perm: int) -> None:
    with pytest.raises(ValueError, match=r"between 0 and 1|at least 2 permutations"):
        band_layout(threshold, num_perm)


def test_signatures_are_deterministic_and_estimate_jaccard() -> None:
    words = [f"w{i}" for i in range(200)]
    left, right = frozenset(words[:150]), frozenset(words[50:])
    hasher = MinHasher(256, seed=7)
    a, b = hasher.signature(left), hasher.signature(right)
    assert (a == MinHasher(256, seed=7).signature(left)).all()
    assert jaccard(left, right) == 0.5
    assert abs(float((a == b).mean()) - 0.5) < 0.1
    assert (hasher.signature([]) == hasher.signature(set())).all()


def test_near_copies_are_candidates_and_unrelated_sets_mostly_are_not() -> None:
    # Given 60 documents of 60 words and a copy of each with 4 words changed (Jaccard about 0.88),
    # When the originals are indexed, Then every copy finds its original, and few unrelated sets collide.
    rng = random.Random(3)
    vocabulary = [f"v{i}" for i in range(5000)]
    hasher, index = MinHasher(128, seed=7), BandedIndex(0.7, 128)
    originals = {f"d{i}": frozenset(rng.sample(vocabulary, 60)) for i in range(60)}
    for key, words in originals.items():
        index.insert(key, hasher.signature(words))
    stray = 0
    for key, words in originals.items():
        changed = set(rng.sample(sorted(words), 56)) | set(rng.sample(vocabulary, 4))
        found = index.candidates(hasher.signature(changed))
        assert key in found, key
        stray += len(found - {key})
    assert stray <= 3
