"""The per-conversation vault: value <-> typed placeholder, serialisable for encrypted storage."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from keel.errors import InvalidRequest

PLACEHOLDER = re.compile(r"<([A-Z][A-Z_]*[A-Z])_(\d+)>")


@dataclass
class Vault:
    """Maps raw values to placeholders such as <EMAIL_1>, consistently within one conversation."""

    by_value: dict[tuple[str, str], str] = field(default_factory=dict)
    by_placeholder: dict[str, str] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    origin: dict[str, str] = field(default_factory=dict)

    def placeholder_for(self, entity_type: str, value: str, origin: str = "user") -> str:
        """The placeholder of value, minted on first sight."""
        key = (entity_type, value)
        found = self.by_value.get(key)
        if found is not None:
            return found
        self.counters[entity_type] = self.counters.get(entity_type, 0) + 1
        placeholder = f"<{entity_type}_{self.counters[entity_type]}>"
        self.by_value[key] = placeholder
        self.by_placeholder[placeholder] = value
        self.origin[placeholder] = origin
        return placeholder

    def unmask(self, text: str, *, origins: frozenset[str] | None = None) -> str:
        """Put raw values back for known placeholders (optionally only those of the given origins)."""

        def _swap(match: re.Match[str]) -> str:
            token = match.group(0)
            value = self.by_placeholder.get(token)
            if value is None or (origins is not None and self.origin.get(token) not in origins):
                return token
            return value

        return PLACEHOLDER.sub(_swap, text)

    def placeholders(self, origin: str | None = None) -> set[str]:
        """Known placeholders, optionally only those minted from one origin."""
        return {p for p in self.by_placeholder if origin is None or self.origin.get(p) == origin}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form; store it only in an encrypted field."""
        return {
            "entries": [
                {"type": t, "value": v, "placeholder": p, "origin": self.origin.get(p, "user")}
                for (t, v), p in self.by_value.items()
            ],
            "counters": dict(self.counters),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Vault:
        """Rebuild a vault from to_dict() output; malformed data is refused."""
        vault = cls()
        try:
            for entry in data.get("entries", []):
                placeholder = str(entry["placeholder"])
                if not PLACEHOLDER.fullmatch(placeholder):
                    raise InvalidRequest(f"vault entry has a malformed placeholder {placeholder!r}")
                vault.by_value[(str(entry["type"]), str(entry["value"]))] = placeholder
                vault.by_placeholder[placeholder] = str(entry["value"])
                vault.origin[placeholder] = str(entry.get("origin", "user"))
            vault.counters = {str(k): int(v) for k, v in data.get("counters", {}).items()}
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidRequest("vault data must be {entries: [{type, value, placeholder}], counters}") from exc
        return vault
