"""Input screening: normalisation, rules, the TF-IDF classifier and known-attack similarity, fused by a learned
head over the shared multilingual sentence embedding (issue 17); per turn and over the recent conversation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from keel.guardrails.classifier import AttackLibrary, InjectionClassifier, default_classifier, default_library
from keel.guardrails.exfil import slot_to_fill
from keel.guardrails.learned import FLAG_POINT_SCORE, MARKDOWN_URL_QUERY, LearnedHead, Signals
from keel.guardrails.normalise import Normalised, fold, normalise
from keel.guardrails.overrides import override_floor
from keel.guardrails.rules import ADDRESSED_TO_AI, RuleHit, document_note, match, signature_floor, unquoted_hit
from keel.guardrails.second_opinion import SecondOpinionPort, UncertaintyBand
from keel.guardrails.verdict import BotPolicy, Verdict
from keel.lazy import once

if TYPE_CHECKING:
    import numpy as np

    from keel.models.encoder import WindowEncoder

# Weights of the earlier hand-set fusion (kept as `legacy_score` for side-by-side reports and as the screen
# used when a deployment turns the learned head off).
CLASSIFIER_ADDRESSED = 0.75
CLASSIFIER_UNADDRESSED = 0.4
SIMILARITY_FLOOR = 0.55


@dataclass(frozen=True)
class Evidence:
    """What the layers found in one text (or one conversation)."""

    score: float
    categories: tuple[str, ...]
    reasons: tuple[str, ...]
    legacy_score: float = 0.0


@dataclass(frozen=True)
class View:
    """One normalised view of a message and what the older layers say about it."""

    text: str
    hits: tuple[RuleHit, ...]
    classifier: float
    logit: float
    similarity: tuple[float, str]
    addressed: bool


def _noisy_or(values: list[float]) -> float:
    remain = 1.0
    for value in values:
        remain *= 1.0 - max(0.0, min(1.0, value))
    return 1.0 - remain


@once
def default_head() -> LearnedHead:
    """The shipped learned head, loaded once per process."""
    return LearnedHead.load()


def _unit_mean(vectors: np.ndarray) -> np.ndarray:
    import numpy as np

    mean = vectors.mean(axis=0)
    norm = float(np.linalg.norm(mean))
    return mean / norm if norm > 0.0 else mean


# A message longer than the encoder reads (2,000 characters after folding; the chat API takes 4,000) is also judged
# in short overlapping parts, each as a message alone: the whole-message head reads only its first 2,000 characters,
# and there it separated attacks from benign long pastes at chance (ROC AUC 0.53 on the long-message development
# sets, holdouts 1l and 2l), while the head on 400-character parts did at 0.79: an instruction buried in a long paste
# is a large share of its part rather than a sliver of the whole (rounds 47 to 49). A part counts only from
# PART_FLOOR on the policy scale, above the flag point: the more parts a message has, the more chances a benign one
# has to cross it. Parts are cut from the message as sent (so each is folded and decoded on its own, and its offsets
# are the sender's), PART_CHARS long, a new one every three quarters of that (any instruction of up to a quarter of
# that lies whole inside one), the last ending at the message's end; a 4,000-character message has 13. Text that
# folding lengthens many times over (NFKC turns some single characters into 18) would outrun any budget of parts, so
# past FOLD_GROWTH times its length it is flagged as obfuscation instead.
PART_CHARS = 400
PART_FLOOR = 0.75
MAX_PARTS = 16
FOLD_GROWTH = 2.0


def part_bounds(text: str, size: int = PART_CHARS, limit: int = MAX_PARTS) -> list[tuple[int, int]]:
    """(start, end) of the overlapping parts that cover `text`: each `size` long (the text, if shorter), starting
    every three quarters of `size`, the last ending at the end of the text, parts of only whitespace left out; at
    most `limit`, spread evenly over a text that needs more, its start and end always included."""
    if size < 4 or limit < 2:
        raise ValueError("part_bounds needs size >= 4 and limit >= 2")
    n = len(text)
    step = size - size // 4
    last = max(0, n - size)
    starts = list(range(0, last, step))
    # A last regular part close to the final one adds little, when the one before still overlaps the final one enough.
    if len(starts) > 1 and last - starts[-1] < step // 2 and starts[-2] + size - last >= size // 4:
        starts.pop()
    if len(starts) >= limit:
        starts = [last * i // (limit - 1) for i in range(limit - 1)]
    bounds = [(start, min(n, start + size)) for start in [*starts, last]]
    return [b for b in dict.fromkeys(bounds) if text[b[0] : b[1]].strip()]


class InputScreen:
    """Screens a user's message (and the recent user turns) before anything reaches the model."""

    def __init__(
        self,
        policy: BotPolicy | None = None,
        classifier: InjectionClassifier | None = None,
        library: AttackLibrary | None = None,
        *,
        head: LearnedHead | None = None,
        encoder: WindowEncoder | None = None,
        learned: bool = True,
        second_opinion: SecondOpinionPort | None = None,
        band: UncertaintyBand | None = None,
    ) -> None:
        self.policy = policy or BotPolicy()
        # Per-bot policies; bootstrap gives a live mapping that follows the tenant (keel.tenant.derived).
        self.bot_policies: Mapping[str, BotPolicy] = {}
        self._classifier = classifier
        self._library = library
        self._head = head
        self._encoder = encoder
        self.learned = learned
        self.second_opinion = second_opinion
        self.band = band or UncertaintyBand()

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

    @property
    def head(self) -> LearnedHead:
        """The learned head, loaded on first use."""
        if self._head is None:
            self._head = default_head()
        return self._head

    @property
    def encoder(self) -> WindowEncoder:
        """The process-wide multilingual encoder (shared with escalation), loaded on first use."""
        if self._encoder is None:
            from keel.models.encoder import shared_encoder

            self._encoder = shared_encoder()
        return self._encoder

    def _view(self, text: str) -> View:
        logit = self.classifier.logit(text)
        return View(
            text,
            tuple(match(text)),
            self.classifier.score(text),
            logit,
            self.library.nearest(text),
            bool(ADDRESSED_TO_AI.search(text)),
        )

    def features(self, text: str, earlier: tuple[str, ...] = ()) -> tuple[list[np.ndarray], list[Signals]]:
        """(view vector, signals) per normalised view; a view vector is the view's sentence vector beside the
        element-wise maximum of the message's windows. With earlier turns, the conversation's first view is the mean
        of the turns' sentence vectors (each turn was encoded when it arrived, so the cache answers) and the windows
        run over the turns joined."""
        joined = "\n".join([*earlier, text]) if earlier else text
        norm = normalise(joined)
        return self._features(text, earlier, norm, [self._view(v) for v in norm.views])

    def _features(
        self, text: str, earlier: tuple[str, ...], norm: Normalised, views: list[View]
    ) -> tuple[list[np.ndarray], list[Signals]]:
        import numpy as np

        # Each view is [its sentence vector | the windows' maximum of the message] (see keel.models.encoder). The
        # windows are pooled once, over the first view, or over the whole conversation when there is one: per view,
        # they scored worse on validation (evals/guardrails/DATASHEET.md, sixth round).
        dim = self.encoder.dimension
        if earlier:
            folded = [fold(t) for t in (*earlier, text)]
            windows = self.encoder.encode_with_windows(["\n".join(folded)])[0, dim:]
            turns = self.encoder.encode(folded)
            rest = self.encoder.encode(list(norm.decoded)) if norm.decoded else turns[:0]
            sentences = [_unit_mean(turns), *rest]
        else:
            windows = self.encoder.encode_with_windows(list(norm.views[:1]))[0, dim:]
            sentences = list(self.encoder.encode(list(norm.views)))
        embeddings = [np.concatenate([sentence, windows]) for sentence in sentences]
        signals = [
            Signals(
                tfidf_logit=v.logit,
                rule_max=max((h.weight for h in v.hits), default=0.0),
                rule_count=len({h.name for h in v.hits}),
                addressed=v.addressed,
                similarity=v.similarity[0],
                obfuscated=bool(norm.obfuscation),
                markdown_url_query=bool(MARKDOWN_URL_QUERY.search(v.text)),
                conversation=bool(earlier),
            )
            for v in views
        ]
        return embeddings, signals

    def _legacy(self, views: list[View], obfuscation: tuple[str, ...]) -> Evidence:
        by_rule: dict[str, RuleHit] = {}
        for view in views:
            for hit in view.hits:
                by_rule.setdefault(hit.name, hit)
        best_cls = max(v.classifier for v in views)
        best_sim = max(v.similarity for v in views)
        addressed = any(v.addressed for v in views)
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
        if obfuscation and (by_rule or cls_part >= 0.3):
            categories.append("obfuscation")
            reasons.append("obfuscated: " + ", ".join(obfuscation))
        if not categories and score > 0.0:
            categories.append("injection")
        return Evidence(round(score, 4), tuple(dict.fromkeys(categories)), tuple(reasons), round(score, 4))

    def evidence(self, text: str, earlier: tuple[str, ...] = ()) -> Evidence:
        """Run every layer on every normalised view of the text (or of the conversation ending in it). A single
        message longer than the encoder reads is also judged in parts (`part_bounds`), each counting from PART_FLOOR;
        the strongest evidence decides."""
        whole = self._evidence(text, earlier)
        if earlier or not self.learned:
            return whole
        from keel.models.encoder import MAX_CHARS as ENCODER_MAX_CHARS

        folded = len(fold(text))
        if folded <= ENCODER_MAX_CHARS:
            return whole
        if folded > FOLD_GROWTH * len(text):
            growth = (
                f"normalised: folding lengthens the message {folded / len(text):.1f} times (padding that hides text)"
            )
            return Evidence(
                max(whole.score, FLAG_POINT_SCORE),
                tuple(dict.fromkeys((*whole.categories, "obfuscation"))),
                (*whole.reasons, growth),
                whole.legacy_score,
            )
        best = whole
        for start, end in part_bounds(text):
            part = self._evidence(text[start:end])
            if part.score >= PART_FLOOR and part.score > best.score:
                where = f"judged on characters {start}-{end} of {len(text)}"
                best = Evidence(
                    part.score,
                    tuple(dict.fromkeys((*part.categories, *whole.categories))),
                    tuple(dict.fromkeys((where, *part.reasons, *whole.reasons))),
                    whole.legacy_score,
                )
        return best

    def _evidence(self, text: str, earlier: tuple[str, ...] = ()) -> Evidence:
        joined = "\n".join([*earlier, text]) if earlier else text
        norm = normalise(joined)
        views = [self._view(v) for v in norm.views]
        legacy = self._legacy(views, norm.obfuscation)
        if not self.learned:
            return legacy
        embeddings, signals = self._features(text, earlier, norm, views)
        raws = [self.head.probability(e, s) for e, s in zip(embeddings, signals, strict=True)]
        best = max(range(len(raws)), key=lambda i: raws[i])
        # Fused with the earlier screen: its score counts on its own from the head's legacy floor (chosen on
        # validation), and always when the text runs past what the encoder reads (an attack after a long paste).
        from keel.models.encoder import MAX_CHARS as ENCODER_MAX_CHARS

        trusted = legacy.score >= self.head.legacy_floor or len(joined) > ENCODER_MAX_CHARS
        score = max(self.head.to_score(raws[best]), legacy.score if trusted else 0.0)
        # A classic signature used (not quoted) is flagged at least; the head may block.
        if max(sig.rule_max for sig in signals) >= self.head.rule_floor and any(
            unquoted_hit(v, self.head.rule_floor) for v in norm.views
        ):
            score = max(score, FLAG_POINT_SCORE)
        categories = [c for c in legacy.categories if c not in ("injection", "obfuscation")]
        signature, others = self._floors(norm.views)
        floors = [*([signature] if signature is not None else []), *others]
        if floors:
            score = max(score, FLAG_POINT_SCORE)
        # The other floors' categories lead, the last found first; the signature's follows the earlier screen's.
        categories = [
            *(hit.category for hit in reversed(others)),
            *categories,
            *([signature.category] if signature else []),
        ]
        if signals[best].markdown_url_query:
            categories.insert(0, "exfiltration")
        if not categories:
            categories.append(self.head.category(embeddings[best]))
        if norm.obfuscation:
            categories.append("obfuscation")
        reasons = [f"learned head {raws[best]:.2f} (policy score {score:.2f})", *legacy.reasons]
        reasons.extend(f"rule {hit.name}: {hit.excerpt!r}" for hit in floors)
        if norm.obfuscation:
            reasons.append("normalised: " + ", ".join(norm.obfuscation))
        return Evidence(round(score, 4), tuple(dict.fromkeys(categories)), tuple(dict.fromkeys(reasons)), legacy.score)

    def _floors(self, views: tuple[str, ...]) -> tuple[RuleHit | None, list[RuleHit]]:
        """The rule hits that floor a message to flag, each the first on any normalised view; none of them is among
        the head's inputs: the classic signatures in the other seven languages, then the others in the order their
        reasons are given: a note to the assistant inside a pasted document (indirect injection), the rules dropped
        without trigger words (keel.guardrails.overrides, rounds 40 and 41), a resource to render whose address holds
        a slot to fill (keel.guardrails.exfil, round 42)."""
        found = []
        for finder in (signature_floor, document_note, override_floor, slot_to_fill):
            hit = next((h for h in map(finder, views) if h is not None), None)
            found.append(hit if hit is not None and hit.weight >= self.head.rule_floor else None)
        return found[0], [hit for hit in found[1:] if hit is not None]

    def policy_for(self, bot: str | None) -> BotPolicy:
        """The bot's own policy (tenant.yaml `bots[].guardrails`), else the screen's default."""
        return self.bot_policies.get(bot, self.policy) if bot else self.policy

    def screen(self, text: str, history: list[str] | None = None, *, bot: str | None = None) -> Verdict:
        """Judge the message alone and together with the recent user turns, under the bot's policy; the stronger
        wins."""
        policy = self.policy_for(bot)
        single = self.evidence(text)
        best = single
        recent = tuple(t for t in (history or [])[-policy.history_turns :] if t.strip()) if policy.history_turns else ()
        if recent:
            joined = self.evidence(text, recent)
            if joined.score > single.score:
                best = Evidence(
                    joined.score,
                    joined.categories,
                    (*joined.reasons, "judged on the recent turns"),
                    max(joined.legacy_score, single.legacy_score),
                )
        score, reasons, cost = best.score, best.reasons, 0.0
        if self.second_opinion is not None and self.learned and self.band.applies(score):
            opinion = self.second_opinion.judge("\n".join([*recent, text]) if score > single.score else text)
            if opinion is not None:
                cost = opinion.cost_usd
                score = round(self.band.adjust(score, opinion, policy.flag_threshold), 4)
                reasons = (
                    *reasons,
                    f"second opinion {opinion.model_id}: {opinion.verdict} ({opinion.confidence:.2f}), "
                    f"${opinion.cost_usd:.6f}",
                )
        decision = policy.decide(score, best.categories)
        return Verdict(
            decision=decision,
            score=score,
            categories=best.categories if decision != "allow" else (),
            reasons=reasons,
            message=policy.message_for(decision),
            cost_usd=cost,
        )
