"""Token estimates where no tokenizer is shipped: about 1.3 tokens per whitespace-separated word."""

from __future__ import annotations

TOKENS_PER_WORD = 1.3


def estimate_tokens(text: str) -> int:
    """Estimated tokens of text; at least 1 for non-empty text."""
    words = len(text.split())
    return max(1, round(words * TOKENS_PER_WORD)) if words else 0
