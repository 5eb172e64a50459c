"""Intent heads: a small bag of neural networks over the shared encoder's embedding of the user's message plus a few
conversation features, with one output per escalation reason (R17), and a linear model for the kind of
vulnerability.

The artefact is checked in and made by `keel escalation train`: `heads.json` (thresholds, the vulnerability kinds'
weights, the training record) and the networks' float32 arrays beside it in `heads.npz` (read without pickle,
checked against the sha256 the JSON records). At run time this module needs only numpy and the shared encoder.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keel.errors import ConfigurationError
from keel.guardrails.normalise import fold as screened_form
from keel.lazy import Lazy
from keel.models.networks import Bag, read_arrays

if TYPE_CHECKING:
    import numpy as np

    from keel.models.encoder import SentenceEncoder

MODEL_PATH = Path(__file__).resolve().parent / "heads.json"  # the arrays: heads.npz beside it
# Heads in the order of the weight rows. vulnerable_customer covers every kind of vulnerability; self_harm is
# the narrower head that decides the support message and the urgency.
HEADS = (
    "explicit_request",
    "vulnerable_customer",
    "self_harm",
    "fraud",
    "account_closure",
    "compliance",
    "billing_dispute",
    "legal_threat",
    "negative_sentiment",
)
HIGH_RISK_HEADS = ("fraud", "account_closure", "compliance", "billing_dispute", "legal_threat")
VULNERABILITY_KINDS = ("self_harm", "hardship", "coercive_control", "cognitive_impairment", "bereavement", "safety")
# Not the number of turns: the training conversations are one or two user turns long, and with the count as an
# input the networks took ordinary messages late in a long conversation for requests for a person (round 14).
FEATURES = ("hedges", "rephrases", "uncertain_event")


SHOUTED = 0.6  # share of upper-case letters from which a message counts as shouted

# Opaque identifiers: a word of 8 or more letters, digits, "-" or "_" with at least three digits and a letter
# ("i-0e23120fcb5098169", "INV-2024-88172", a UUID), or a run of 6 or more digits. They say nothing about
# whether a person is needed, yet the encoder splits a random one into many sub-word pieces that move the
# embedding: before they were left out, "Restart server <instance id> please" asked for a human for about one
# instance id in four. The corpus the heads learn from has none.
_IDENTIFIER = re.compile(r"(?<![\w-])(?:(?=(?:[\w-]*?\d){3})(?=[\w-]*?[^\W\d_])[^\W_][\w-]{6,}[^\W_]|\d{6,})(?![\w-])")
_SPACES = re.compile(r"[ \t]{2,}")


def without_identifiers(text: str) -> str:
    """The text with its opaque identifiers left out (and the doubled spaces they leave closed)."""
    if not any(c.isdigit() for c in text):
        return text
    return _SPACES.sub(" ", _IDENTIFIER.sub("", text)).strip()


def embedding_key(text: str) -> str:
    """The form of a user message the heads embed: the input screen's form (guardrails fold), so that in a turn
    the decision's embedding is the one the screen already computed and the encoder's cache answers it, less its
    opaque identifiers (a message that carries one costs the decision one more encoder call). A shouted message
    is embedded in lower case: the encoder reads "WHY DOES THIS NEVER WORK" as other words than "why does this
    never work" (the self-harm head fired on it), and the phrase patterns already count the shouting as a cue."""
    form = without_identifiers(screened_form(text))
    letters = [c for c in form if c.isalpha()]
    if len(letters) >= 8 and sum(c.isupper() for c in letters) >= SHOUTED * len(letters):
        return form.lower()
    return form


@dataclass(frozen=True)
class ConversationFeatures:
    """What the conversation around the message says: how often the bot hedged, repeats, events."""

    hedges: int = 0
    rephrases: int = 1
    uncertain_event: bool = False

    def vector(self) -> list[float]:
        """Scaled to 0..1 so they sit beside unit-length embeddings."""
        return [
            min(self.hedges, 3) / 3,
            min(self.rephrases - 1, 2) / 2,
            1.0 if self.uncertain_event else 0.0,
        ]


@dataclass(frozen=True)
class HeadScores:
    """Probability per head, the threshold each must reach, and the most likely vulnerability kind."""

    probabilities: dict[str, float]
    thresholds: dict[str, float]
    vulnerability: str
    band_low: float
    # When the fraud and vulnerability heads both fire, fraud wins if its margin is at least this many times
    # the vulnerability head's (chosen by grouped cross-validation; infinity keeps vulnerability first).
    fraud_over_vulnerable: float = math.inf

    def fraud_not_vulnerability(self) -> bool:
        """Both heads fired: is this fraud described with distress rather than a vulnerable customer?"""
        return self.margin("fraud") >= self.fraud_over_vulnerable * self.margin("vulnerable_customer")

    def fires(self, head: str) -> bool:
        """True when the head's probability reaches its threshold."""
        return self.probabilities[head] >= self.thresholds[head]

    def margin(self, head: str) -> float:
        """Probability over threshold (above 1 fires)."""
        return self.probabilities[head] / max(self.thresholds[head], 1e-6)

    def uncertain(self) -> list[str]:
        """Heads that did not fire but came within the uncertainty band of their threshold."""
        return [h for h in HEADS if not self.fires(h) and self.probabilities[h] >= self.band_low * self.thresholds[h]]

    def rounded(self) -> dict[str, float]:
        """Probabilities rounded for records."""
        return {h: round(p, 3) for h, p in self.probabilities.items()}


class IntentHeads:
    """The trained heads; `score` embeds the message once (the encoder caches it) and runs the networks."""

    def __init__(
        self,
        encoder: SentenceEncoder,
        bag: Bag,
        thresholds: Mapping[str, float],
        kind_weights: np.ndarray,
        kind_bias: np.ndarray,
        *,
        band_low: float = 0.5,
        fraud_over_vulnerable: float = math.inf,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        width = encoder.dimension + len(FEATURES)
        if bag.width != width or bag.output_count != len(HEADS):
            raise ConfigurationError(
                f"escalation heads take {bag.width} inputs to {bag.output_count} outputs, expected {width} to "
                f"{len(HEADS)}; run `keel escalation train` again"
            )
        if tuple(kind_weights.shape) != (len(VULNERABILITY_KINDS), width):
            raise ConfigurationError(
                f"escalation vulnerability kinds have shape {kind_weights.shape}, expected "
                f"{(len(VULNERABILITY_KINDS), width)}"
            )
        self._encoder = encoder
        self._bag = bag
        self._thresholds = {h: float(thresholds[h]) for h in HEADS}
        self._kind_weights = kind_weights
        self._kind_bias = kind_bias
        self._band_low = band_low
        self._fraud_over_vulnerable = fraud_over_vulnerable
        self.metadata = dict(metadata or {})

    @classmethod
    def load(cls, path: Path = MODEL_PATH, encoder: SentenceEncoder | None = None) -> IntentHeads:
        """Read the artefact and its arrays (no pickle); it must have been trained on the same encoder."""
        import numpy as np

        from keel.models.encoder import shared_encoder

        retrain = "run `keel escalation train`"
        if not path.is_file():
            raise ConfigurationError(f"escalation heads {path} are missing; {retrain}")
        try:
            model = json.loads(path.read_text(encoding="utf-8"))
            encoder = encoder or shared_encoder()
            if model["encoder"] != encoder.model_id or tuple(model["heads"]) != HEADS:
                raise ConfigurationError(
                    f"escalation heads {path} were trained for {model['encoder']} with heads {model['heads']}; "
                    f"{retrain} again"
                )
            network = model["network"]
            arrays = read_arrays(
                path.parent / network["file"], str(network["sha256"]), f"escalation heads {path}", retrain
            )
            bag = Bag.from_arrays(arrays, int(network["members"]), int(network["layers"]), f"escalation heads {path}")
            return cls(
                encoder,
                bag,
                model["thresholds"],
                np.asarray(model["kind_weights"], dtype=np.float32),
                np.asarray(model["kind_bias"], dtype=np.float32),
                band_low=float(model["band_low"]),
                fraud_over_vulnerable=float(model.get("fraud_over_vulnerable") or math.inf),
                metadata={k: v for k, v in model.items() if k != "kind_weights"},
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigurationError(f"escalation heads {path} are not readable ({exc}); retrain them") from exc

    def score(self, text: str, features: ConversationFeatures) -> HeadScores:
        """Every head's probability for one user message in its conversation."""
        import numpy as np

        x = self.features(text, features)
        outputs = self._bag.outputs(x[None, :])[0]
        probabilities = {h: float(v) for h, v in zip(HEADS, outputs, strict=True)}
        kind_logits = self._kind_weights @ x + self._kind_bias
        kind = VULNERABILITY_KINDS[int(np.argmax(kind_logits))]
        return HeadScores(probabilities, self._thresholds, kind, self._band_low, self._fraud_over_vulnerable)

    def features(self, text: str, features: ConversationFeatures) -> np.ndarray:
        """The input row of the heads: embedding, then the conversation features."""
        import numpy as np

        embedding = self._encoder.encode([embedding_key(text)])[0]
        return np.concatenate([embedding, np.asarray(features.vector(), dtype=np.float32)])

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings of several user messages in one encoder call, in the form the input screen embeds them."""
        return self._encoder.encode([embedding_key(t) for t in texts])


@Lazy
def packaged_heads() -> IntentHeads:
    """The checked-in heads on the shared encoder, loaded once per process."""
    return IntentHeads.load()
