"""The Presidio + spaCy adapter loads the packaged model (no download) and finds names."""

from __future__ import annotations

from keel.privacy import PiiMasker, Vault
from keel.privacy.ner import model_path


def test_model_ships_in_the_package() -> None:
    assert (model_path() / "config.cfg").is_file()


def test_full_mode_masks_a_name() -> None:
    masked = PiiMasker("full").mask("Yesterday Albert Svenningsen sent the report.", Vault())
    assert "Svenningsen" not in masked.text
    assert "<PERSON_1>" in masked.text
