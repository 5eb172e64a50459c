"""The shared multilingual encoder: pinned files, unit vectors, meaning across languages, one encoding per text."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from keel.errors import ConfigurationError
from keel.models import encoder as encoder_module
from keel.models.encoder import MultilingualEncoder, shared_encoder


@pytest.fixture(scope="module")
def encoder() -> MultilingualEncoder:
    return shared_encoder()


def test_vectors_are_unit_length_float32_one_row_per_text(encoder: MultilingualEncoder) -> None:
    vectors = encoder.encode(["Where is my parcel?", "Wo ist mein Paket?", ""])
    assert vectors.shape == (3, encoder.dimension)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors[:2], axis=1), 1.0, atol=1e-3)


def test_a_request_for_a_person_is_closer_to_its_translation_than_to_an_unrelated_intent(
    encoder: MultilingualEncoder,
) -> None:
    # Given the same intent in English and Polish, and an unrelated intent in English
    human, polish_human, hours = encoder.encode(
        ["I want to talk to a human", "Chcę porozmawiać z człowiekiem", "What are your opening hours?"]
    )
    # Then the translation is nearer than the other intent
    assert float(human @ polish_human) > float(human @ hours) + 0.1


def test_a_text_seen_recently_is_not_encoded_again(
    encoder: MultilingualEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = encoder.encode(["cache me once"])
    calls: list[object] = []
    model = encoder._loaded()
    monkeypatch.setattr(model, "encode", lambda texts: calls.append(texts) or np.zeros((len(texts), 512)))
    again = encoder.encode(["cache me once", "cache me once"])
    assert calls == []
    assert np.array_equal(again[0], first[0]) and np.array_equal(again[1], first[0])


def test_an_empty_batch_gives_an_empty_matrix(encoder: MultilingualEncoder) -> None:
    assert encoder.encode([]).shape == (0, encoder.dimension)


def test_a_tampered_weights_file_is_refused_with_the_expected_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sp_model, weights = tmp_path / "sp.model", tmp_path / "weights.npz"
    sp_model.write_bytes(b"not the pinned tokenizer")
    weights.write_bytes(b"not the pinned weights")
    monkeypatch.setattr(encoder_module, "use_resources", lambda: (sp_model, weights))
    with pytest.raises(ConfigurationError, match="expected 994fcc2e"):
        MultilingualEncoder().encode(["anything"])


def test_a_missing_file_is_refused_naming_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(encoder_module, "use_resources", lambda: (tmp_path / "sp.model", tmp_path / "w.npz"))
    with pytest.raises(ConfigurationError, match=r"sp\.model is missing"):
        MultilingualEncoder().encode(["anything"])
