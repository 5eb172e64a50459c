"""Privacy capability: PII detection, typed placeholders and the per-conversation vault (R9).

Importing this package is cheap; spaCy and Presidio load on the first full-mode mask.
"""

from keel.privacy.masker import Masked, MaskedEntity, PiiMasker
from keel.privacy.recognizers import ENTITY_TYPES, Entity
from keel.privacy.vault import Vault

__all__ = ["ENTITY_TYPES", "Entity", "Masked", "MaskedEntity", "PiiMasker", "Vault"]
