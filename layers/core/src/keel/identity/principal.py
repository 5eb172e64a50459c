"""The principal: who is asking, as established from a verified token or a mapped channel identity."""

from __future__ import annotations

from dataclasses import dataclass, field

EXTERNAL_GROUPS = frozenset({"customers", "external"})


@dataclass(frozen=True)
class Principal:
    """A verified user. Only identity code builds one; everything downstream trusts it."""

    subject: str
    username: str
    groups: frozenset[str]
    tenant: str
    email: str | None = None
    department: str | None = None
    external: bool = False
    attributes: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def kind(self) -> str:
        """'external' for customers, 'internal' for employees."""
        return "external" if self.external else "internal"
