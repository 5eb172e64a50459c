"""Simple topic grouping of queries: per bot, by each query's two most common content terms."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

TERMS_PER_TOPIC = 2
EXAMPLES_PER_TOPIC = 3
OTHER = "(other)"
_WORD = re.compile(r"[a-z][a-z0-9'-]{2,}")
_PLACEHOLDER = re.compile(r"<[A-Z_]+_\d+>")
_STOPWORD_TEXT = """
    about above after again against all also and any are aren't because been before being below between both
    but can can't cannot could couldn't did didn't does doesn't doing don't down during each few for from
    further had hadn't has hasn't have haven't having her here hers herself him himself his how i'd i'll i'm
    i've into isn't it's its itself let's more most mustn't myself nor not off once only other ought our ours
    ourselves out over own same shan't she she'd she'll she's should shouldn't some such than that that's the
    their theirs them themselves then there there's these they they'd they'll they're they've this those
    through too under until very was wasn't we'd we'll we're we've were weren't what what's when when's where
    where's which while who who's whom why why's will with won't would wouldn't you you'd you'll you're you've
    your yours yourself yourselves please thanks thank hello need want know tell get got give just like one
    may might must shall per via yes okay hey help does
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


@dataclass(frozen=True)
class TopicGroup:
    """Queries of one bot that share their top terms."""

    bot: str
    terms: tuple[str, ...]
    count: int
    examples: tuple[str, ...]

    @property
    def label(self) -> str:
        """'bot: term term', or 'bot: (other)' for queries with no content term."""
        return f"{self.bot}: {' '.join(self.terms) if self.terms else OTHER}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "bot": self.bot,
            "topic": self.label,
            "terms": list(self.terms),
            "count": self.count,
            "examples": list(self.examples),
        }


def terms(text: str) -> list[str]:
    """Content words of a query (lower case, placeholders and stop words removed, each once)."""
    cleaned = _PLACEHOLDER.sub(" ", text).lower()
    return list(dict.fromkeys(w.strip("'-") for w in _WORD.findall(cleaned) if w.strip("'-") not in _STOPWORDS))


def group_by_topic(queries: Sequence[tuple[str, str]], *, limit: int = 10) -> list[TopicGroup]:
    """Group (bot, masked query) pairs: a query's topic is its terms most frequent among its bot's queries."""
    frequency: dict[str, Counter[str]] = {}
    for bot, text in queries:
        frequency.setdefault(bot, Counter()).update(terms(text))
    groups: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for bot, text in queries:
        counts = frequency[bot]
        # Most frequent first, alphabetical among equals, so the grouping does not depend on input order.
        top = sorted(terms(text), key=lambda t: (-counts[t], t))[:TERMS_PER_TOPIC]
        groups.setdefault((bot, tuple(sorted(top))), []).append(text)
    ranked = sorted(groups.items(), key=lambda item: (-len(item[1]), item[0][0], item[0][1]))
    return [TopicGroup(bot, key_terms, len(texts), _examples(texts)) for (bot, key_terms), texts in ranked[:limit]]


def _examples(texts: list[str]) -> tuple[str, ...]:
    """The most asked phrasings first, alphabetical among equals."""
    counts = Counter(texts)
    return tuple(sorted(counts, key=lambda t: (-counts[t], t))[:EXAMPLES_PER_TOPIC])
