"""The policy decision point: every channel asks it, and every answer names the policies that decided (R6)."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cedarpy

from keel.access.bots import BotDefinition, BotRegistry
from keel.errors import ConfigurationError, InvalidRequest
from keel.identity.principal import Principal
from keel.knowledge.ports import CLASSIFICATIONS

if TYPE_CHECKING:
    from keel.tenant.loader import Tenant

POLICIES_DIR = Path(__file__).resolve().parent / "policies"
SCHEMA_FILE = POLICIES_DIR / "keel.cedarschema"
NAMESPACE = "Keel"
ACTIONS = ("use", "retrieve", "viewResource", "deleteResource", "refund")
RESOURCE_ACTIONS: dict[str, str] = {
    "viewResource": "CloudResource",
    "stopResource": "CloudResource",
    "deleteResource": "CloudResource",
    "refund": "Order",
    "readCustomer": "Customer",
    "logInteraction": "Customer",
    "readLeaveBalance": "Employee",
    "readTicket": "Ticket",
    "updateTicket": "Ticket",
}
_ENTITY_CACHE_SIZE = 256


@dataclass(frozen=True)
class AccessDecision:
    """Allow or deny, with the @id of every policy that decided (empty: nothing permitted it)."""

    allowed: bool
    action: str
    resource: str
    policy_ids: tuple[str, ...]

    @property
    def explanation(self) -> str:
        """One line for operators and audit records."""
        verdict = "allowed" if self.allowed else "denied"
        by = ", ".join(self.policy_ids) if self.policy_ids else "no policy permits it (default deny)"
        return f"{self.action} on {self.resource}: {verdict} by {by}"


def load_policy_text(directory: Path = POLICIES_DIR) -> str:
    """Every *.cedar file of the directory, in name order."""
    files = sorted(directory.glob("*.cedar"))
    if not files:
        raise ConfigurationError(f"no Cedar policy files (*.cedar) in {directory}")
    return "\n".join(f.read_text(encoding="utf-8") for f in files)


def base_policy_text() -> str:
    """Keel's own policies: the guarantees no tenant can override, and the tenant-neutral defaults."""
    return load_policy_text(POLICIES_DIR)


class PolicyDecisionPoint:
    """Cedar over the base policies plus the tenant's: functional access, data access and action permissions.

    Cedar's forbid always wins over permit, so a tenant policy can add permissions but never lift a
    base guarantee (a bot never reads outside its collections; internal content never reaches an
    external principal).
    """

    def __init__(self, bots: BotRegistry, *, policies_dir: Path = POLICIES_DIR, tenant_policies: str = "") -> None:
        text = load_policy_text(policies_dir) + "\n" + tenant_policies
        schema_text = (policies_dir / "keel.cedarschema").read_text(encoding="utf-8")
        result = cedarpy.validate_policies(text, schema_text)
        if not result.validation_passed:
            problems = "; ".join(str(e) for e in result.errors[:5])
            raise ConfigurationError(f"Cedar policies do not match the schema: {problems}")
        self.bots = bots
        self._policies = cedarpy.PolicySet.from_str(text)
        self._base = cedarpy.Entities.from_json_str(json.dumps(_registry_entities(bots)), schema_text)
        self._principals: OrderedDict[Principal, cedarpy.Entities] = OrderedDict()

    @classmethod
    def for_tenant(cls, tenant: Tenant, *, policies_dir: Path = POLICIES_DIR) -> PolicyDecisionPoint:
        """The decision point of one organisation: its bots, its grants and its extra policies."""
        return cls(BotRegistry.from_tenant(tenant), policies_dir=policies_dir, tenant_policies=tenant.policy_text())

    def may_use(self, principal: Principal, bot_id: str) -> AccessDecision:
        """Functional access: may principal talk to bot_id (NotFound for an unknown bot)."""
        bot = self.bots.get(bot_id)
        return self._decide(principal, "use", _uid("Bot", bot.id), {})

    def may_retrieve(
        self, principal: Principal, bot: BotDefinition, collection: str, classification: str
    ) -> AccessDecision:
        """Data access: may bot retrieve documents of this classification in collection for principal."""
        if classification not in CLASSIFICATIONS:
            raise InvalidRequest(f"unknown classification {classification!r}; accepted: {CLASSIFICATIONS}")
        context = {"bot": _uid("Bot", bot.id), "classification": classification}
        return self._decide(principal, "retrieve", _uid("Collection", collection), context)

    def retrievable(self, principal: Principal, bot: BotDefinition) -> dict[str, frozenset[str]]:
        """Every (collection -> classifications) the bot may retrieve for principal, in one batch."""
        pairs = [(c, k) for c in bot.collections for k in CLASSIFICATIONS]
        requests = [
            self._request(
                principal,
                "retrieve",
                _uid("Collection", c),
                {"bot": _uid("Bot", bot.id), "classification": k},
            )
            for c, k in pairs
        ]
        results = cedarpy.is_authorized_batch(requests, self._policies, self._entities(principal))
        allowed: dict[str, set[str]] = {}
        for (collection, classification), result in zip(pairs, results, strict=True):
            if result.allowed:
                allowed.setdefault(collection, set()).add(classification)
        return {c: frozenset(k) for c, k in allowed.items()}

    def may_act(
        self, principal: Principal, action: str, resource_id: str, *, amount_cents: int | None = None
    ) -> AccessDecision:
        """Action permission: viewResource/deleteResource on a cloud resource, refund on an order."""
        resource_type = RESOURCE_ACTIONS.get(action)
        if resource_type is None:
            raise InvalidRequest(f"unknown action {action!r}; accepted: {', '.join(RESOURCE_ACTIONS)}")
        context: dict[str, Any] = {}
        if action == "refund":
            if not isinstance(amount_cents, int) or isinstance(amount_cents, bool):
                raise InvalidRequest("a refund needs amount_cents as an integer number of cents")
            context["amountCents"] = amount_cents
        return self._decide(principal, action, _uid(resource_type, resource_id), context)

    def _decide(
        self, principal: Principal, action: str, resource: dict[str, str], context: dict[str, Any]
    ) -> AccessDecision:
        request = self._request(principal, action, resource, context)
        result = cedarpy.is_authorized(request, self._policies, self._entities(principal))
        if result.diagnostics.errors:
            # An evaluation error means a policy could not decide: fail closed and say so.
            return AccessDecision(False, action, _label(resource), ("error: " + result.diagnostics.errors[0],))
        names = result.diagnostics.id_annotations_by_reason
        ids = tuple(sorted(names.get(r, r) for r in result.diagnostics.reasons))
        return AccessDecision(result.allowed, action, _label(resource), ids)

    @staticmethod
    def _request(
        principal: Principal, action: str, resource: dict[str, str], context: dict[str, Any]
    ) -> dict[str, Any]:
        return {
            "principal": _uid("User", principal.subject),
            "action": {"type": f"{NAMESPACE}::Action", "id": action},
            "resource": resource,
            "context": {k: ({"__entity": v} if isinstance(v, dict) else v) for k, v in context.items()},
        }

    def _entities(self, principal: Principal) -> cedarpy.Entities:
        # One principal asks several questions per turn (use, then retrieve): parse its entities once.
        cached = self._principals.get(principal)
        if cached is not None:
            self._principals.move_to_end(principal)
            return cached
        entities = self._base.with_added_json_str(json.dumps(_principal_entities(principal)))
        self._principals[principal] = entities
        if len(self._principals) > _ENTITY_CACHE_SIZE:
            self._principals.popitem(last=False)
        return entities


class TenantPolicies:
    """The decision point of the tenant a source serves now; rebuilt only when the source returns a new tenant."""

    def __init__(self, tenants: Callable[[], Tenant]) -> None:
        self._tenants = tenants
        self._lock = threading.Lock()
        self._tenant: Tenant | None = None
        self._pdp: PolicyDecisionPoint | None = None

    def __call__(self) -> PolicyDecisionPoint:
        """The current decision point."""
        tenant = self._tenants()
        with self._lock:
            if self._pdp is None or tenant is not self._tenant:
                self._pdp, self._tenant = PolicyDecisionPoint.for_tenant(tenant), tenant
            return self._pdp


def _uid(kind: str, entity_id: str) -> dict[str, str]:
    return {"type": f"{NAMESPACE}::{kind}", "id": entity_id}


def _label(uid: dict[str, str]) -> str:
    return f'{uid["type"]}::"{uid["id"]}"'


def _registry_entities(bots: BotRegistry) -> list[dict[str, Any]]:
    entities: list[dict[str, Any]] = [
        {"uid": _uid("Collection", name), "attrs": {"audience": audience}, "parents": []}
        for name, audience in sorted(bots.collections().items())
    ]
    for bot in bots:
        entities.append(
            {
                "uid": _uid("Bot", bot.id),
                "attrs": {
                    "audience": bot.audience,
                    "collections": [{"__entity": _uid("Collection", c)} for c in bot.collections],
                    "departments": list(bot.collections),
                    "allowedGroups": [{"__entity": _uid("Group", g)} for g in bot.allowed_groups],
                },
                "parents": [],
            }
        )
    return entities


def _principal_entities(principal: Principal) -> list[dict[str, Any]]:
    attrs: dict[str, Any] = {"external": principal.external, "tenant": principal.tenant}
    if principal.department:
        attrs["department"] = principal.department
    groups = sorted(principal.groups)
    user = {"uid": _uid("User", principal.subject), "attrs": attrs, "parents": [_uid("Group", g) for g in groups]}
    return [user, *({"uid": _uid("Group", g), "attrs": {}, "parents": []} for g in groups)]
