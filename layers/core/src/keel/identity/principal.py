"""The principal: who is asking, as established from a verified token or a mapped channel identity."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
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


def principals_from_file(path: Path, tenant: str) -> dict[str, Principal]:
    """The local users of a tenant (a users.json list of {username, groups, department, external, email}) as
    principals of the tenant, by username: for offline evaluation, the scenario gate and the launch checks, never for
    signing anyone in."""
    from keel.errors import InvalidRequest

    accepted = f"{path} is not a users list of {{username, groups (a list), department, external}}"
    if not path.is_file():
        raise InvalidRequest(f"users file {path} does not exist; pass --users users.json")
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
        principals = {}
        for row in sorted(rows, key=lambda row: str(row["username"])):
            groups = row.get("groups", [])
            if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
                raise InvalidRequest(f"{accepted}: {row['username']!r} has groups {groups!r}")
            principals[row["username"]] = Principal(
                subject=row["username"],
                username=row["username"],
                groups=frozenset(groups),
                tenant=tenant,
                email=row.get("email"),
                department=row.get("department"),
                external=bool(row.get("external", False)),
            )
        return principals
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidRequest(f"users file {path} cannot be read ({exc.__class__.__name__})") from exc
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InvalidRequest(accepted) from exc
