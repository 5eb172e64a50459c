"""The validation split and the operating-point rule of the head's training (pure logic, no encoder, no fitting)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from keel.guardrails import dataset
from keel.guardrails.head_training import (
    SATURATED,
    Example,
    _flag_point,
    fit_bag,
    place_flag_point,
    predict,
    validation_rows,
    write_arrays,
)


def _examples() -> list[Example]:
    out = []
    for f in range(12):
        for i in range(10):
            label = f % 2
            out.append(Example(f"text {f} {i}", (), label, f"fam-{f}", "keel-authored", "cat", 1.0, "en", "cat"))
    for i in range(100):
        out.append(Example(f"corpus {i}", (), i % 2, f"corpus:{i % 7}", "s-labs/train", "injection", 0.5))
    return out


def test_validation_takes_whole_families_never_single_rows() -> None:
    examples = _examples()
    val = validation_rows(examples)
    for family in {e.group for e in examples}:
        sides = {bool(v) for v, e in zip(val, examples, strict=True) if e.group == family}
        assert len(sides) == 1, family
    held = {e.group for v, e in zip(val, examples, strict=True) if v and e.source == "keel-authored"}
    assert held and len(held) < 12
    assert validation_rows(examples).tolist() == val.tolist()  # deterministic


def test_validation_never_sees_a_frozen_test_family() -> None:
    test_families = set(dataset.frozen_split()["test_families"])
    assert not {r.family for r in dataset.train_rows(None)} & test_families


def test_flag_point_is_the_lowest_score_keeping_every_benign_source_under_the_rate() -> None:
    examples = [Example(f"b{i}", (), 0, f"g{i}", "keel-authored", "c", 1.0) for i in range(100)]
    examples += [Example(f"a{i}", (), 1, f"h{i}", "keel-authored", "c", 1.0) for i in range(10)]
    raw = np.concatenate([np.linspace(0.0, 0.99, 100), np.full(10, 0.995)])
    rows = np.ones(len(examples), dtype=bool)
    point = _flag_point(raw, np.zeros(len(examples)), examples, rows, 0.02)
    flagged = raw[:100] >= point
    assert flagged.mean() <= 0.02 and (raw[:100] >= point - 0.011).mean() > 0.02
    # The earlier screen flagging benign rows on its own leaves no room: the point goes to the top.
    legacy = np.zeros(len(examples))
    legacy[:5] = 0.9
    assert _flag_point(raw, legacy, examples, rows, 0.02) == SATURATED


def test_a_bag_is_deterministic_and_its_arrays_are_written_byte_for_byte_the_same(tmp_path: object) -> None:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(200, 6)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(int)
    first, second = fit_bag(x, y, np.ones(200), 0.01), fit_bag(x, y, np.ones(200), 0.01)
    assert np.allclose(predict(first, x), predict(second, x))
    assert ((predict(first, x) > 0.5) == y).mean() > 0.9
    one = write_arrays(tmp_path / "a.npz", first.arrays())  # type: ignore[operator]
    two = write_arrays(tmp_path / "b.npz", second.arrays())  # type: ignore[operator]
    assert one == two
    with np.load(tmp_path / "a.npz", allow_pickle=False) as data:  # type: ignore[operator]
        assert set(data.files) == set(first.arrays())


def test_an_unreadable_embedding_cache_is_set_aside_and_writes_are_atomic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from keel.guardrails import head_training

    class Inner:
        model_id, dimension = "fake", 2

    monkeypatch.setattr("keel.models.encoder.shared_encoder", Inner)
    cache = tmp_path / "guard-embeddings.npz"
    cache.write_bytes(b"half a zip file")  # a run stopped mid-write, before writes were atomic
    encoder = head_training.CachingEncoder(cache)
    assert encoder.vectors == {} and not cache.exists()
    encoder.vectors["k"] = np.ones(2, dtype=np.float32)
    encoder._dirty = True
    encoder.save()
    assert head_training.CachingEncoder(cache).vectors["k"].tolist() == [1.0, 1.0]
    assert not list(tmp_path.glob("*.partial"))


def test_the_cache_takes_sentence_vectors_from_the_sentence_path_whatever_order_it_is_filled_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from keel.guardrails import head_training

    class Inner:
        # The pooling's sentence half differs from the sentence path's (as the real encoder's does, in the seventh
        # decimal): the cache must keep the sentence path's, which is what the screen uses at run time.
        model_id, dimension = "fake", 2

        def encode(self, texts: list[str]) -> np.ndarray:
            return np.asarray([[9.0, 9.0]] * len(texts), dtype=np.float32)

        def encode_with_windows(self, texts: list[str]) -> np.ndarray:
            return np.asarray([[1.0, 2.0, 3.0, 4.0]] * len(texts), dtype=np.float32)

    monkeypatch.setattr("keel.models.encoder.shared_encoder", Inner)
    windows_first = head_training.CachingEncoder(tmp_path / "a.npz")
    assert windows_first.encode_with_windows(["hello"]).tolist() == [[9.0, 9.0, 3.0, 4.0]]
    sentences_first = head_training.CachingEncoder(tmp_path / "b.npz")
    sentences_first.encode(["hello"])
    assert sentences_first.encode_with_windows(["hello"]).tolist() == [[9.0, 9.0, 3.0, 4.0]]
    lost = head_training.CachingEncoder(tmp_path / "c.npz")
    lost.windows[lost.key("hello")] = np.asarray([3.0, 4.0], dtype=np.float32)  # its vector file was lost
    assert lost.encode_with_windows(["hello"]).tolist() == [[9.0, 9.0, 3.0, 4.0]]


def test_the_flag_point_is_placed_from_the_validation_point_and_placing_twice_changes_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import json

    from keel.guardrails import operating_point
    from keel.guardrails.learned import DEFAULT_HEAD, LearnedHead, calibrate

    seen: list[float] = []

    def fake_calibrate(sets: object, screen: object, fp: float) -> dict[str, object]:
        seen.append(screen.head.flag_raw)  # type: ignore[attr-defined]
        return {
            "fp_budget": fp,
            "flag_threshold": [0.5, 0.45],
            "pooled": {"attacks_caught": [0.8, 0.9], "benign_flagged": [0.01, 0.02]},
            "by_file": {},
        }

    monkeypatch.setattr(operating_point, "development_sets", lambda root: {})
    monkeypatch.setattr(operating_point, "calibrate", fake_calibrate)
    head = LearnedHead.load()
    artefact = {**json.loads(DEFAULT_HEAD.read_text(encoding="utf-8"))}
    artefact["operating_points"] = {k: v for k, v in artefact["operating_points"].items() if k != "validation_flag"}
    validation = artefact["operating_points"]["flag"] = 0.99
    block = artefact["operating_points"]["block"]
    once = place_flag_point(artefact, head.bag.arrays(), 0.02)
    twice = place_flag_point(once, head.bag.arrays(), 0.02)
    assert seen == [validation, validation]  # always measured at the validation point
    assert once == twice
    points = once["operating_points"]
    assert points["validation_flag"] == validation
    assert calibrate(points["flag"], validation, block) == pytest.approx(0.45, abs=1e-5)
    assert once["training"]["development_point"]["fp_budget"] == 0.02


def test_placing_a_missing_artefact_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from keel.guardrails.head_training import main

    assert main(["--place-only", "--out", str(tmp_path / "learned_head.json")]) == 2
    err = capsys.readouterr().err
    assert "is missing or malformed" in err and "make guard-model" in err and "Traceback" not in err
