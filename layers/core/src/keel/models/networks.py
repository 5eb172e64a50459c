"""Small bags of neural networks over the shared encoder's vectors: the one forward pass the input screen's head
and the escalation heads run, and the deterministic .npz that carries their weights.

A bag is a few networks fitted with different seeds (their mean is steadier than any one of them): inputs are
standardised, hidden layers are ReLU, each output is logistic. Run time needs numpy only; `fit_bag` (training) needs
scikit-learn, imported when called.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keel.errors import ConfigurationError

if TYPE_CHECKING:
    import numpy as np

Layers = list[tuple[Any, Any]]  # one network: (weights, bias) per layer


def bag_outputs(x: np.ndarray, mean: np.ndarray, scale: np.ndarray, members: Sequence[Layers]) -> np.ndarray:
    """Mean probability of every output for the rows of x over the networks: shape (rows, outputs)."""
    import numpy as np

    z = (x - mean) / scale
    total: np.ndarray | None = None
    for layers in members:
        h = z
        for weights, bias in layers[:-1]:
            h = np.maximum(h @ weights + bias, 0.0)
        weights, bias = layers[-1]
        p = 1.0 / (1.0 + np.exp(-np.clip(h @ weights + bias, -30.0, 30.0)))
        total = p.astype(np.float64) if total is None else total + p  # summed in float64, as trained
    if total is None:
        raise ConfigurationError("a network bag needs at least one network")
    return total / len(members)


def array_name(member: int, layer: int, part: str) -> str:
    """The .npz name of one network's layer weights ("w") or bias ("b")."""
    return f"m{member}_{part}{layer}"


@dataclass(frozen=True)
class Bag:
    """The fitted networks and the standardisation they share."""

    mean: Any
    scale: Any
    members: list[Layers]

    def outputs(self, x: Any) -> Any:
        """Mean probability of every output for the rows of x."""
        return bag_outputs(x, self.mean, self.scale, self.members)

    def arrays(self) -> dict[str, Any]:
        """The arrays of the .npz artefact (float32)."""
        import numpy as np

        out = {"mean": self.mean.astype(np.float32), "scale": self.scale.astype(np.float32)}
        for m, layers in enumerate(self.members):
            for k, (weights, bias) in enumerate(layers):
                out[array_name(m, k, "w")] = weights.astype(np.float32)
                out[array_name(m, k, "b")] = bias.astype(np.float32)
        return out

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, Any], members: int, layers: int, what: str) -> Bag:
        """The bag from its .npz arrays, checked: the layer shapes must chain from the standardisation's width."""
        import numpy as np

        def floats(value: Any) -> Any:
            return np.asarray(value, dtype=np.float32)

        try:
            mean, scale = floats(arrays["mean"]), floats(arrays["scale"])
            nets = [
                [(floats(arrays[array_name(m, k, "w")]), floats(arrays[array_name(m, k, "b")])) for k in range(layers)]
                for m in range(members)
            ]
        except KeyError as exc:
            raise ConfigurationError(f"{what} is malformed (its arrays lack {exc}); retrain it") from exc
        if not nets or mean.shape != scale.shape or mean.ndim != 1:
            raise ConfigurationError(f"{what}: its networks or standardisation are missing")
        widths = set()
        for net in nets:
            width = mean.shape[0]
            for weights, bias in net:
                if weights.ndim != 2 or weights.shape[0] != width or bias.shape != (weights.shape[1],):
                    raise ConfigurationError(f"{what}: a network's layer shapes do not chain")
                width = weights.shape[1]
            widths.add(width)
        if len(widths) != 1:
            raise ConfigurationError(f"{what}: its networks end in different numbers of outputs")
        return cls(mean, scale, nets)

    @property
    def width(self) -> int:
        """The number of inputs."""
        return int(self.mean.shape[0])

    @property
    def output_count(self) -> int:
        """The number of outputs."""
        return int(self.members[0][-1][0].shape[1])


def fit_bag(
    x: Any,
    y: Any,
    weights: Any | None,
    *,
    hidden: Sequence[int],
    alpha: float,
    epochs: int,
    members: int,
    standardise: bool = True,
) -> Bag:
    """`members` networks (seeds 1..members) on rows standardised per column (or as they are, for inputs already on
    one scale). y is one label per row (one output) or a 0/1 matrix (one output per column, fitted together). With
    one label, `weights` balances the classes through sample weights; a matrix is fitted unweighted (its columns'
    thresholds are chosen afterwards)."""
    import warnings

    import numpy as np
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    mean = x.mean(axis=0) if standardise else np.zeros(x.shape[1])
    scale = x.std(axis=0) if standardise else np.ones(x.shape[1])
    scale[scale < 1e-8] = 1.0
    z = (x - mean) / scale
    sample_weight = None
    if weights is not None:
        sample_weight = weights.astype(np.float64).copy()
        sample_weight[y == 1] *= sample_weight[y == 0].sum() / sample_weight[y == 1].sum()
        sample_weight /= sample_weight.mean()
    nets = []
    for seed in range(1, members + 1):
        net = MLPClassifier(hidden_layer_sizes=tuple(hidden), alpha=alpha, max_iter=epochs, random_state=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # a fixed number of epochs is the design
            net.fit(z, y, sample_weight=sample_weight)
        nets.append([(w, b) for w, b in zip(net.coefs_, net.intercepts_, strict=True)])
    return Bag(mean, scale, nets)


def write_arrays(path: Path, arrays: Mapping[str, Any]) -> str:
    """Write an .npz whose bytes depend only on the arrays (fixed zip timestamps); return its sha256."""
    import numpy as np

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(arrays):
            member = io.BytesIO()
            np.lib.format.write_array(member, arrays[name], allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, member.getvalue())
    path.write_bytes(buffer.getvalue())
    return hashlib.sha256(buffer.getvalue()).hexdigest()


def read_arrays(path: Path, sha256: str, what: str, rebuild: str) -> dict[str, Any]:
    """The arrays of an .npz written by `write_arrays`, read without pickle, after checking its recorded sha256."""
    import numpy as np

    try:
        blob = path.read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"{what}: {path} is missing ({exc}); {rebuild}") from exc
    if hashlib.sha256(blob).hexdigest() != sha256:
        raise ConfigurationError(f"{what}: {path.name} does not match the recorded sha256; {rebuild}")
    try:
        with np.load(io.BytesIO(blob), allow_pickle=False) as arrays:
            return {k: arrays[k] for k in arrays.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise ConfigurationError(f"{what}: {path.name} is not readable ({exc}); {rebuild}") from exc


# Strings in an .npz of plain arrays: one UTF-8 blob, NUL-separated (no stored string may contain NUL).
_SEPARATOR = "\x00"


def strings_array(strings: Sequence[str]) -> Any:
    """The strings as one uint8 array (read back by `array_strings`); ConfigurationError if one contains NUL."""
    import numpy as np

    if any(_SEPARATOR in s for s in strings):
        raise ConfigurationError("a string to store contains NUL; the arrays cannot hold it")
    return np.frombuffer(_SEPARATOR.join(strings).encode("utf-8"), dtype=np.uint8)


def array_strings(array: Any) -> list[str]:
    """The strings `strings_array` stored (an empty array holds none)."""
    return bytes(array).decode("utf-8").split(_SEPARATOR) if len(array) else []


# Prebuilt tables (keel.models.tokenizer_tables, keel.privacy.name_tables): arrays derived from a pinned package,
# checked in, and keyed by what they were derived from, so that tables of another package version are never read.
TABLES_FORMAT = 1


def installed_version(distribution: str) -> str:
    """The installed distribution's version ('' when it is not installed)."""
    from importlib import metadata

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return ""


def write_keyed_tables(out: Path, key: Sequence[str], arrays: Mapping[str, Any]) -> str:
    """Write prebuilt tables (the arrays, the format and the key of what they were derived from) to out, byte for
    byte the same for the same arrays and key; return their sha256."""
    import numpy as np

    out.parent.mkdir(parents=True, exist_ok=True)
    return write_arrays(
        out, {**arrays, "format": np.asarray([TABLES_FORMAT], dtype=np.int32), "key": strings_array(list(key))}
    )


def read_keyed_tables(path: Path, sha256: str, what: str, key: Sequence[str], keyed_by: str) -> dict[str, Any]:
    """The arrays of prebuilt tables written by `write_keyed_tables`: intact (sha256) and written for `key`, else
    ConfigurationError saying which (keyed_by names what the key holds, as in "another faker version")."""
    arrays = read_arrays(path, sha256, what, "rewrite them")
    try:
        fits = int(arrays["format"][0]) == TABLES_FORMAT and array_strings(arrays["key"]) == list(key)
    except KeyError:
        fits = False
    if not fits:
        raise ConfigurationError(f"{what} were written for another {keyed_by}")
    return arrays


def write_tables_command(argv: list[str] | None, description: str, default: Path, write: Callable[[Path], str]) -> int:
    """`python -m` of a prebuilt-tables module: write its tables to --out (default: the checked-in file) and print
    their sha256, the value its TABLES_SHA256 pins; 2 with the reason when they cannot be written."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", type=Path, default=default)
    args = parser.parse_args(argv)
    try:
        sha256 = write(args.out)
    except ConfigurationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB), sha256 {sha256} (TABLES_SHA256)")
    return 0
