"""Output checks before a reply leaves: PII leaks, system-prompt leaks, links that carry data out, toxicity, grounding,
loops."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import SplitResult, urlsplit

from keel.guardrails.prompt import leaked_canary
from keel.knowledge.ports import Passage
from keel.privacy.recognizers import find_structured, resolve
from keel.privacy.vault import PLACEHOLDER, Vault

_WORD = re.compile(r"\w+")
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]?")
_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "of",
        "to",
        "in",
        "on",
        "at",
        "for",
        "with",
        "by",
        "from",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "it",
        "this",
        "that",
        "these",
        "those",
        "as",
        "you",
        "your",
        "we",
        "our",
        "i",
        "me",
        "my",
        "he",
        "she",
        "they",
        "them",
        "his",
        "her",
        "its",
        "their",
        "can",
        "could",
        "should",
        "would",
        "will",
        "may",
        "might",
        "do",
        "does",
        "did",
        "not",
        "no",
        "yes",
        "if",
        "then",
        "so",
        "than",
        "there",
        "here",
        "what",
        "which",
        "who",
        "how",
        "when",
        "where",
        "why",
    ]
)


@dataclass(frozen=True)
class OutputVerdict:
    """What the output checks found; `action` is deliver, low_confidence, withhold or escalate."""

    action: str
    problems: tuple[str, ...] = ()
    grounding: float = 1.0
    toxicity: float = 0.0
    details: dict[str, object] = field(default_factory=dict)


def _content_words(text: str) -> set[str]:
    return {w for w in (m.group(0).lower() for m in _WORD.finditer(text)) if w not in _STOP and len(w) > 2}


def grounding_share(answer: str, passages: Sequence[Passage], min_overlap: float = 0.5) -> float:
    """Share of answer sentences whose content words are mostly found in the cited passages."""
    source_words: set[str] = set()
    for passage in passages:
        source_words |= _content_words(passage.text)
    sentences = [s for s in (m.group(0).strip() for m in _SENTENCE.finditer(answer)) if _content_words(s)]
    if not sentences:
        return 1.0
    supported = 0
    for sentence in sentences:
        words = _content_words(sentence)
        if len(words & source_words) / len(words) >= min_overlap:
            supported += 1
    return supported / len(sentences)


def verbatim_overlap(answer: str, system_prompt: str, n: int = 8) -> bool:
    """True when the answer repeats any run of n words from the system prompt."""
    words = [w.lower() for w in _WORD.findall(system_prompt)]
    grams = {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}
    said = [w.lower() for w in _WORD.findall(answer)]
    return any(tuple(said[i : i + n]) in grams for i in range(len(said) - n + 1))


# A URL in a draft answer: http(s), or protocol-relative (//host.tld/...) where a host with a dot follows.
_URL = re.compile(
    r"https?://[^\s<>()\[\]{}\"'`|\\^]+|(?<![\w:/])//[\w-]+(?:\.[\w-]+)+(?:[/?#:][^\s<>()\[\]{}\"'`|\\^]*)?",
    re.IGNORECASE,
)
_URL_TRAILER = ".,;:!?*_~"
# Where a URL is fetched without a click when the reply is rendered: a Markdown image, an HTML tag's src (img,
# iframe, script, audio, video, source) or poster, a CSS url(). Tag and attribute names are matched case-blind.
_AUTOLOAD = re.compile(
    r"!\[[^\]\n]{0,500}\]\(\s*<?(?P<md>[^)\s>]+)"
    r"|\b(?:src|poster|srcset|background)\s*=\s*[\"']?(?P<attr>[^\"'\s>]+)"
    r"|url\(\s*[\"']?(?P<css>[^\"')\s]+)",
    re.IGNORECASE,
)


def _urls(text: str) -> list[str]:
    return [m.group(0).rstrip(_URL_TRAILER) for m in _URL.finditer(text)]


def _host(parts: SplitResult) -> str:
    return (parts.hostname or "").rstrip(".")


def _carries_data(url: str, parts: SplitResult) -> bool:
    """A query or a fragment (even an empty one), or a user part before the host."""
    return "?" in url or "#" in url or "@" in parts.netloc


def _shortens(url: str, source: str) -> bool:
    """The URL is the source's own URL cut at a path boundary (its host root, a parent folder, without the query)."""
    cut = url.rstrip("/")
    return source == cut or any(source.startswith(cut + mark) for mark in "/?#")


def unsourced_links(answer: str, user_text: str, passages: Sequence[Passage], system_prompt: str = "") -> list[str]:
    """Problems with the URLs in a draft answer: a URL the model composed can carry what it was told out of the
    conversation (data in a query string, fragment, user part, path or sub-domain), and a Markdown image or an HTML
    src is fetched by the reader's client with no click. A URL quoted exactly from the user's message, a retrieved
    source or the bot's own instructions is fine. Otherwise it must be on a host those sources or instructions
    name (never one only the user's message names: a pasted document is the user's message), carry no query,
    fragment or user part, be one of their URLs cut short at a path boundary (a path the model made up can carry
    data, even to a known host), and not be loaded without a click."""
    trusted = {u for text in (system_prompt, *(p.text for p in passages)) for u in _urls(text)}
    quoted = trusted | set(_urls(user_text))
    trusted_hosts = {_host(urlsplit(u)) for u in trusted}
    autoload = {
        (m.group("md") or m.group("attr") or m.group("css") or "").rstrip(_URL_TRAILER)
        for m in _AUTOLOAD.finditer(answer)
    }
    problems: set[str] = set()
    for url in _urls(answer):
        if url in quoted:
            continue
        parts = urlsplit(url)
        if any(url in target for target in autoload):
            problems.add("link_autoload_unsourced")
        elif _host(parts) not in trusted_hosts:
            problems.add("link_unknown_host")
        elif _carries_data(url, parts):
            problems.add("link_carries_data")
        elif not any(_shortens(url, source) for source in trusted):
            problems.add("link_unsourced_path")
    return sorted(problems)


def _default_toxicity(text: str) -> float:
    from profanity_check import predict_prob

    return float(predict_prob([text])[0])


class OutputCheck:
    """Runs every output check and decides what happens to the draft answer."""

    def __init__(
        self,
        *,
        grounding_threshold: float = 0.6,
        withhold_below: float = 0.3,
        toxicity_threshold: float = 0.8,
        loop_limit: int = 3,
        toxicity: Callable[[str], float] | None = None,
    ) -> None:
        self.grounding_threshold = grounding_threshold
        self.withhold_below = withhold_below
        self.toxicity_threshold = toxicity_threshold
        self.loop_limit = loop_limit
        self._toxicity = toxicity or _default_toxicity

    def pii_leaks(
        self, answer: str, user_text: str, vault: Vault | None, passages: Sequence[Passage] = ()
    ) -> list[str]:
        """Problems: placeholders the user may not restore, and raw PII found neither in the user's input nor in
        the sources retrieved for this user (a support address in a public FAQ is not a leak)."""
        problems = []
        if vault is not None:
            own = vault.placeholders(origin="user")
            foreign = {m.group(0) for m in PLACEHOLDER.finditer(answer)} - own
            if foreign:
                problems.append(f"pii_placeholder_not_entitled:{len(foreign)}")
        user_values = {user_text[e.start : e.end] for e in resolve(find_structured(user_text), user_text)}
        sources = " ".join(p.text for p in passages)
        raw = [
            e
            for e in resolve(find_structured(answer), answer)
            if answer[e.start : e.end] not in user_values and answer[e.start : e.end] not in sources
        ]
        if raw:
            problems.append("pii_raw:" + ",".join(sorted({e.type for e in raw})))
        return problems

    def check(
        self,
        answer: str,
        passages: Sequence[Passage],
        system_prompt: str,
        user_text: str,
        history_replies: Sequence[str],
        *,
        canary: str | None = None,
        vault: Vault | None = None,
    ) -> OutputVerdict:
        """Judge a draft answer; the strictest finding decides the action."""
        problems: list[str] = []
        action = "deliver"
        if leaked_canary(answer, canary) or verbatim_overlap(answer, system_prompt):
            problems.append("system_prompt_leak")
            action = "withhold"
        leaks = self.pii_leaks(answer, user_text, vault, passages)
        if leaks:
            problems.extend(leaks)
            action = "withhold"
        links = unsourced_links(answer, user_text, passages, system_prompt)
        if links:
            problems.extend(links)
            action = "withhold"
        toxicity = self._toxicity(answer) if answer.strip() else 0.0
        if toxicity >= self.toxicity_threshold:
            problems.append("toxic")
            action = "withhold"
        grounding = grounding_share(answer, passages) if passages else 0.0
        if action == "deliver" and grounding < self.grounding_threshold:
            problems.append("ungrounded")
            action = "withhold" if grounding < self.withhold_below else "low_confidence"
        normalised = " ".join(answer.lower().split())
        repeats = sum(1 for reply in history_replies if " ".join(reply.lower().split()) == normalised)
        if repeats + 1 >= self.loop_limit:
            problems.append("loop")
            action = "escalate"
        return OutputVerdict(action, tuple(problems), round(grounding, 3), round(toxicity, 3))
