"""Extractive answers: sentences copied verbatim from passages, each followed by its [doc_id] citation.

One pure implementation shared by the router's retrieval-only fallback and the local model endpoint,
so what the local stack answers is what Keel answers when every model is down. It never writes a word
that is not in a passage, apart from the one fixed NO_ANSWER sentence.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

NO_ANSWER = "I could not find this in the sources available to me."
MAX_SENTENCES = 3

# Function words and question scaffolding that say nothing about what is asked.
_STOPWORDS_TEXT = """
    a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further get gets got
    had has have having he her here hers herself him himself his how i if in into is it its itself just
    me more most my myself no nor not now of off on once only or other our ours ourselves out over own
    please same she should so some such tell than that the their theirs them themselves then there these
    they this those through to too under until up very was we were what when where which while who whom
    why will with would you your yours yourself yourselves know want need much many
"""
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())

_WORD = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)?")
# A sentence ends at . ! or ? followed by space, or at a line break; abbreviations split early, which
# only makes a quoted sentence shorter, never invented.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[^a-z\s])|\n\s*\n|\n(?=\s*(?:[-*•]|\d+[.)])\s)")
# A body never contains another opening tag, so a stray "<source>" in prose cannot swallow the next block.
_SOURCE = re.compile(r"<source\b(?P<attrs>[^>]*)>(?P<body>(?:(?!<source\b).)*?)</source\s*>", re.DOTALL | re.IGNORECASE)
_ATTR = re.compile(r"""([A-Za-z_][\w:.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
_QUESTION = re.compile(r"<question\b[^>]*>(?P<body>.*?)</question\s*>", re.DOTALL | re.IGNORECASE)
_TAG = re.compile(r"</?[A-Za-z][\w-]*(?:\s[^>]*)?>")
# The one system-prompt directive the extractive answerer honours, so a prompt version really changes
# what the local model says (the regression gate of issue 12 depends on it).
_SENTENCE_LIMIT = re.compile(r"\banswer in at most (\d{1,2}) sentences?\b", re.IGNORECASE)


@dataclass(frozen=True)
class Source:
    """One passage as the extractive answerer sees it."""

    doc_id: str
    text: str
    title: str = ""


def stem(word: str) -> str:
    """A light, deterministic stem: lower case and common English suffixes removed."""
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    for suffix, keep in (("ies", "y"), ("ing", ""), ("edly", ""), ("ed", ""), ("es", ""), ("ly", "")):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            w = w[: -len(suffix)] + keep
            break
    else:
        if w.endswith("s") and not w.endswith("ss") and len(w) > 3:
            w = w[:-1]
    return w


def terms(text: str) -> list[str]:
    """Content terms of text: words minus stopwords, stemmed."""
    return [stem(w) for w in _WORD.findall(text) if w.lower() not in STOPWORDS and len(w) > 1]


def split_sentences(text: str) -> list[str]:
    """Sentences of text, stripped, each an exact substring of text."""
    return [part.strip() for part in _SENTENCE_END.split(text) if part and part.strip()]


def parse_prompt(prompt: str) -> tuple[list[Source], str]:
    """The <source> blocks and the question of a user message; tolerant of attribute order and extras.

    The question is the <question> block, or else the text outside the source blocks.
    """
    sources: list[Source] = []
    for number, match in enumerate(_SOURCE.finditer(prompt), start=1):
        attrs = {
            m.group(1).lower(): html.unescape(m.group(2) or m.group(3) or m.group(4) or "")
            for m in _ATTR.finditer(match.group("attrs"))
        }
        doc_id = attrs.get("doc_id") or attrs.get("doc") or attrs.get("id") or f"source-{number}"
        sources.append(Source(doc_id=doc_id, title=attrs.get("title", ""), text=html.unescape(match["body"])))
    question_match = _QUESTION.search(prompt)
    if question_match is not None:
        question = html.unescape(question_match.group("body"))
    else:
        question = html.unescape(_TAG.sub(" ", _SOURCE.sub(" ", prompt)))
    return sources, " ".join(question.split())


def answer(question: str, sources: Sequence[Source], *, max_sentences: int = MAX_SENTENCES) -> str:
    """The sentences of sources that best overlap the question, verbatim with [doc_id]; or NO_ANSWER."""
    wanted = set(terms(question))
    if not wanted:
        return NO_ANSWER
    candidates = [
        (index, source.doc_id, sentence, set(terms(sentence)))
        for index, (source, sentence) in enumerate(_sentences(sources))
    ]
    if not candidates:
        return NO_ANSWER
    weights = _idf(wanted, (c[3] for c in candidates), len(candidates))
    # One matching term is enough for a one- or two-word question; longer ones need two, so a single
    # shared common word ("policy") does not pass for an answer.
    needed = 1 if len(wanted) <= 2 else 2
    scored = []
    for index, doc_id, sentence, words in candidates:
        matched = wanted & words
        if len(matched) >= needed:
            scored.append((sum(weights[t] for t in matched), index, doc_id, sentence))
    if not scored:
        return NO_ANSWER
    scored.sort(key=lambda item: (-item[0], item[1]))
    best = scored[0][0]
    # Keep only sentences close to the best one, then present them in reading order.
    chosen = sorted((s for s in scored[:max_sentences] if s[0] >= best * 0.5), key=lambda item: item[1])
    return " ".join(f"{sentence} [{doc_id}]" for _, _, doc_id, sentence in chosen)


def sentence_limit(system: str) -> int:
    """The sentence budget a system prompt sets ("Answer in at most N sentences", N >= 1), else MAX_SENTENCES."""
    match = _SENTENCE_LIMIT.search(system)
    if match is None or int(match.group(1)) < 1:
        return MAX_SENTENCES
    return min(int(match.group(1)), MAX_SENTENCES)


def answer_prompt(prompt: str, system: str = "") -> str:
    """Parse a user message with <source> blocks and answer it extractively, within the system prompt's limit."""
    sources, question = parse_prompt(prompt)
    return answer(question, sources, max_sentences=sentence_limit(system))


def _sentences(sources: Iterable[Source]) -> Iterable[tuple[Source, str]]:
    seen: set[str] = set()
    for source in sources:
        for sentence in split_sentences(source.text):
            # The same sentence in two chunks is quoted once.
            if sentence not in seen:
                seen.add(sentence)
                yield source, sentence


def _idf(wanted: set[str], documents: Iterable[set[str]], total: int) -> dict[str, float]:
    frequency = dict.fromkeys(wanted, 0)
    for words in documents:
        for term in wanted & words:
            frequency[term] += 1
    return {term: math.log(1 + total / (1 + count)) for term, count in frequency.items()}
