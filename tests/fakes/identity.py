"""A live-session proof whose answer a test sets (the IdP's word on whether a session is still live)."""

from __future__ import annotations

from keel.identity.tokens import refuse


class SettableSession:
    """Confirms while live; once ended, refuses as the IdP would after a sign-out or a disable."""

    def __init__(self, live: bool = True) -> None:
        self.live = live
        self.checks = 0

    def confirm(self) -> None:
        """Count the check; refuse when the session has ended."""
        self.checks += 1
        if not self.live:
            raise refuse("revoked", "the identity provider no longer accepts this session")
