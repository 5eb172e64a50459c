"""A small Keel world on fakes for channel tests: the real ChatService over in-memory ports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from keel.channels.feedback import FeedbackService, InMemoryFeedbackStore
from keel.conversations.memory import InMemoryConversationStore
from keel.errors import Forbidden, NotFound
from keel.identity.principal import Principal
from keel.knowledge.ports import Passage
from keel.turn import ChatService, TurnDependencies
from tests.fakes.turn import EchoFirstPassage, PlainPrompts, TokenTable

EMMA = Principal("sub-emma", "emma", frozenset({"all-staff"}), "demo", email="emma@acme.example")
CARLA = Principal("sub-carla", "carla", frozenset({"customers"}), "demo", external=True)

LEAVE = Passage(
    "hr-annual-leave",
    "hr-annual-leave#0",
    "Annual leave",
    "Employees get 25 days of annual leave. Unused days carry over.",
    0,
    classification="internal",
    acl_groups=("all-staff",),
    department="hr",
)
REFUND = Passage(
    "customer-refunds",
    "customer-refunds#0",
    "Refunds",
    "Refunds are possible within 30 days of purchase for every plan. Contact support to start one.",
    0,
    classification="public",
    acl_groups=("public",),
    department="customer",
)
BOTS = {"hr": ("all-staff", "internal"), "customer": ("customers", "external")}


@dataclass(frozen=True)
class Scope:
    """Stands in for SearchScope (built only by keel.access); channels never look inside it."""

    index: str


class Access:
    """Bot -> (group that may use it, index it reads)."""

    def authorize_bot(self, principal: Principal, bot: str) -> None:
        """Forbidden unless the principal is in the bot's group."""
        if bot not in BOTS:
            raise NotFound(f"bot {bot!r} does not exist")
        if BOTS[bot][0] not in principal.groups:
            raise Forbidden(f"you may not use the {bot} bot")

    def scope_for(self, principal: Principal, bot: str) -> Scope:
        """The bot's index."""
        return Scope(BOTS[bot][1])

    def bots_for(self, principal: Principal) -> list[str]:
        """Bots of the principal's groups."""
        return [b for b, (group, _) in BOTS.items() if group in principal.groups]


class Retriever:
    """Every passage of the scope's index that shares a word with the query."""

    corpus = {"internal": [LEAVE], "external": [REFUND]}

    def search(self, scope: Scope, query: str, *, k: int = 5) -> list[Passage]:
        """Passages sharing a word with the query."""
        words = {w for w in query.lower().split() if len(w) > 3}
        return [p for p in self.corpus[scope.index] if words & set(p.text.lower().split())][:k]


@dataclass
class World:
    """The service, its stores and the token table (mutable, to revoke a token)."""

    tokens: dict[str, Principal] = field(default_factory=lambda: {"t-emma": EMMA, "t-carla": CARLA})
    conversations: InMemoryConversationStore = field(default_factory=InMemoryConversationStore)
    feedback_store: InMemoryFeedbackStore = field(default_factory=InMemoryFeedbackStore)
    generator: EchoFirstPassage = field(default_factory=EchoFirstPassage)

    def __post_init__(self) -> None:
        ids = iter(f"id-{n:08d}" for n in range(100_000))
        self.service = ChatService(
            TurnDependencies(
                authenticator=TokenTable(self.tokens),
                access=Access(),  # type: ignore[arg-type]
                retriever=Retriever(),  # type: ignore[arg-type]
                generator=self.generator,
                prompts=PlainPrompts(),
                conversations=self.conversations,
                clock=lambda: datetime(2026, 11, 24, tzinfo=UTC),
                new_id=lambda: next(ids),
            )
        )
        self.feedback = FeedbackService(self.conversations, self.feedback_store)
