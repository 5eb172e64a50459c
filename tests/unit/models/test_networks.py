"""The network bags the input screen and the escalation heads share: the forward pass, fitting, and the arrays file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from keel.errors import ConfigurationError
from keel.models.networks import Bag, bag_outputs, fit_bag, read_arrays, write_arrays


def _rows(n: int = 240, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6))
    labels = np.stack([x[:, 0] > 0, x[:, 1] + x[:, 2] > 0, (x[:, 3] > 0) & (x[:, 4] > 0)], axis=1).astype(int)
    return x, labels


def test_a_bag_with_several_outputs_learns_each_column_and_is_reproducible() -> None:
    x, labels = _rows()
    first = fit_bag(x, labels, None, hidden=(16,), alpha=1e-3, epochs=300, members=2, standardise=False)
    second = fit_bag(x, labels, None, hidden=(16,), alpha=1e-3, epochs=300, members=2, standardise=False)
    out = first.outputs(x)
    assert out.shape == (len(x), 3) and first.output_count == 3 and first.width == 6
    assert np.array_equal(out, second.outputs(x))
    assert (((out > 0.5) == labels).mean(axis=0) > 0.85).all()
    # Unstandardised inputs are read as they are
    assert np.array_equal(first.mean, np.zeros(6)) and np.array_equal(first.scale, np.ones(6))


def test_the_forward_pass_is_the_mean_of_the_members_logistic_outputs() -> None:
    one = [(np.eye(2, dtype=np.float32), np.zeros(2, dtype=np.float32))]
    double = [(2 * np.eye(2, dtype=np.float32), np.zeros(2, dtype=np.float32))]
    x = np.asarray([[0.0, 1.0]])
    out = bag_outputs(x, np.zeros(2), np.ones(2), [one, double])
    expected = (1 / (1 + np.exp(-np.asarray([0.0, 1.0]))) + 1 / (1 + np.exp(-np.asarray([0.0, 2.0])))) / 2
    assert np.allclose(out[0], expected)
    with pytest.raises(ConfigurationError, match="at least one network"):
        bag_outputs(x, np.zeros(2), np.ones(2), [])


def test_arrays_round_trip_byte_for_byte_and_a_changed_file_is_refused(tmp_path: Path) -> None:
    x, labels = _rows(120)
    bag = fit_bag(x, labels[:, 0], np.ones(len(x)), hidden=(8,), alpha=1e-2, epochs=50, members=2)
    first = write_arrays(tmp_path / "a.npz", bag.arrays())
    assert write_arrays(tmp_path / "b.npz", bag.arrays()) == first
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    loaded = Bag.from_arrays(read_arrays(tmp_path / "a.npz", first, "test bag", "rebuild it"), 2, 2, "test bag")
    assert np.allclose(loaded.outputs(x)[:, 0], bag.outputs(x)[:, 0], atol=1e-6)
    blob = (tmp_path / "a.npz").read_bytes()
    (tmp_path / "a.npz").write_bytes(blob[:100] + bytes([blob[100] ^ 1]) + blob[101:])
    with pytest.raises(ConfigurationError, match="sha256; rebuild it"):
        read_arrays(tmp_path / "a.npz", first, "test bag", "rebuild it")
    with pytest.raises(ConfigurationError, match="missing"):
        read_arrays(tmp_path / "absent.npz", first, "test bag", "rebuild it")


def test_malformed_arrays_are_refused_with_the_reason() -> None:
    x, labels = _rows(60)
    arrays = fit_bag(x, labels, None, hidden=(4,), alpha=1e-2, epochs=20, members=2, standardise=False).arrays()
    with pytest.raises(ConfigurationError, match=r"malformed.*m2_w0"):
        Bag.from_arrays(arrays, 3, 2, "test bag")
    broken = dict(arrays, m1_w1=np.zeros((5, 3), dtype=np.float32))
    with pytest.raises(ConfigurationError, match="do not chain"):
        Bag.from_arrays(broken, 2, 2, "test bag")
    fewer = dict(arrays, m1_w1=np.zeros((4, 2), dtype=np.float32), m1_b1=np.zeros(2, dtype=np.float32))
    with pytest.raises(ConfigurationError, match="different numbers of outputs"):
        Bag.from_arrays(fewer, 2, 2, "test bag")
    with pytest.raises(ConfigurationError, match="missing"):
        Bag.from_arrays(dict(arrays, scale=np.ones(2, dtype=np.float32)), 2, 2, "test bag")


def test_the_tables_command_says_why_it_cannot_write(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from keel.models.networks import write_tables_command

    def refuse(out: Path) -> str:
        raise ConfigurationError("the installed package holds other fields; pin the version")

    assert write_tables_command(["--out", str(tmp_path / "t.npz")], "tables", tmp_path / "x.npz", refuse) == 2
    assert "error: the installed package holds other fields" in capsys.readouterr().err
    assert not (tmp_path / "t.npz").exists()


def test_keyed_tables_are_read_only_for_their_key(tmp_path: Path) -> None:
    from keel.models.networks import read_keyed_tables, write_keyed_tables

    arrays = {"x": np.arange(3, dtype=np.int32)}
    sha256 = write_keyed_tables(tmp_path / "d" / "t.npz", ["model-sha", "1.0"], arrays)
    read = read_keyed_tables(tmp_path / "d" / "t.npz", sha256, "tables", ["model-sha", "1.0"], "package version")
    assert read["x"].tolist() == [0, 1, 2]
    with pytest.raises(ConfigurationError, match="tables were written for another package version"):
        read_keyed_tables(tmp_path / "d" / "t.npz", sha256, "tables", ["model-sha", "2.0"], "package version")
    plain = write_arrays(tmp_path / "plain.npz", arrays)  # no format or key: not prebuilt tables
    with pytest.raises(ConfigurationError, match="were written for another"):
        read_keyed_tables(tmp_path / "plain.npz", plain, "tables", ["model-sha", "1.0"], "package version")
