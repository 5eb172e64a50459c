"""The principal: who is asking, as established from a verified token or a mapped channel identity."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

# Every principal of a customer pool is in this group; policies give it the external bots only.
CUSTOMER_GROUP = "customers"
EXTERNAL_GROUPS = frozenset({CUSTOMER_GROUP, "external"})


class LiveSession(Protocol):
    """Asks the identity provider itself whether the session behind this request is still live."""

    def confirm(self) -> None:
        """Return when the IdP still honours the session; raise Unauthenticated (or ServiceUnavailable) if not."""
        ...


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
    # Proof that the session is live at the identity provider, for high-assurance actions (None: none
    # available on this channel). Never serialised: it holds the request's own token in memory only.
    session: LiveSession | None = field(default=None, compare=False, hash=False, repr=False)

    @property
    def kind(self) -> str:
        """'external' for customers, 'internal' for employees."""
        return "external" if self.external else "internal"
