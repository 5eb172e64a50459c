"""The action use case: authorise with Cedar, confirm what is destructive, execute, audit the decision path (R6)."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel

from keel.actions.confirmation import read_answer
from keel.actions.ports import (
    ActionAuthorizer,
    ActionOutcome,
    ActionResult,
    AuditTrail,
    PendingAction,
    PendingActions,
)
from keel.actions.registry import ActionRegistry, ActionSpec
from keel.audit.records import ActionDetail, action_record
from keel.errors import InvalidRequest, KeelError, NotFound
from keel.identity.principal import Principal
from keel.models.ports import ToolCall

DEFAULT_CONFIRM_SECONDS = 300
# No policy said yes: Cedar's default deny decided. Named so the audit record always names a decider.
DEFAULT_DENY = "cedar:default-deny"
UNKNOWN_ACTION = "cedar:unknown-action"
# The identity provider could not confirm a live session, so a high-assurance action did not run.
NO_LIVE_SESSION = "identity:no-live-session"
_log = logging.getLogger("keel.actions")

Confirmation = Literal["not_required", "requested", "confirmed", "declined", "expired"]


@dataclass(frozen=True)
class ActionContext:
    """Who acts, through which bot, in which conversation, on which channel."""

    principal: Principal
    bot: str
    conversation_id: str
    channel: str
    correlation_id: str
    user_turn: int = 0


@dataclass(frozen=True)
class _Authorised:
    allowed: bool
    policy_ids: tuple[str, ...]


class ActionService:
    """Runs proposed tool calls with never more authority than the user, one audit record per action."""

    def __init__(
        self,
        registry: ActionRegistry,
        authorizer: ActionAuthorizer,
        pending: PendingActions,
        audit: AuditTrail,
        *,
        confirm_seconds: int = DEFAULT_CONFIRM_SECONDS,
        clock: Callable[[], float] = time.time,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self._registry = registry
        self._authorizer = authorizer
        self._pending = pending
        self._audit = audit
        self._confirm_seconds = confirm_seconds
        self._clock = clock
        self._new_id = new_id

    @property
    def registry(self) -> ActionRegistry:
        """The declared actions."""
        return self._registry

    def propose(self, ctx: ActionContext, call: ToolCall, *, step_up: bool = False) -> ActionOutcome | None:
        """Handle a tool call the model proposed from the user's message; None if the bot has no such action.

        With step_up (the input screen flagged the message), every action waits for the user's explicit
        confirmation on a later turn, read-only ones included."""
        spec = self._registry.get(ctx.bot, call.name)
        if spec is None:
            _log.warning("model proposed %r, which bot %s does not offer; ignored", call.name, ctx.bot)
            return None
        try:
            inputs = spec.parse(dict(call.input))
        except InvalidRequest as exc:
            return ActionOutcome("invalid", f"I can't run {spec.name.replace('_', ' ')} yet: {exc.message}.", spec.name)
        started = time.perf_counter()
        resource = spec.resource(ctx.principal, inputs)
        decision = self._authorise(ctx.principal, spec, resource, inputs)
        if not decision.allowed:
            record_id = self._record(ctx, spec, resource, inputs, decision, "not_required", "not_run", None, started)
            return ActionOutcome("refused", _refusal(spec, inputs), spec.name, record_id)
        if spec.needs_confirmation or step_up:
            return self._ask(ctx, spec, resource, inputs, decision, step_up=step_up)
        return self._execute(ctx, spec, resource, inputs, decision, "not_required", started)

    def resolve(self, ctx: ActionContext, text: str) -> tuple[ActionOutcome | None, bool]:
        """Answer a pending confirmation with this user message.

        Returns (outcome, consumed): consumed is True when the message was the answer (yes or no) and must
        not be treated as a new request; an unrelated message cancels the pending action and is not consumed.
        """
        pending = self._pending.latest(ctx.conversation_id)
        if pending is None or not self._pending.take(ctx.conversation_id, pending.action_id):
            return None, False
        started = time.perf_counter()
        spec = self._registry.get(pending.bot, pending.name)
        answer = read_answer(text)
        if spec is None or pending.subject != ctx.principal.subject or pending.bot != ctx.bot:
            _log.warning("pending action %s no longer applies; dropped", pending.action_id)
            return None, False
        inputs = spec.parse(pending.arguments)
        asked = _Authorised(True, pending.policy_ids)
        stale = self._clock() > pending.expires_at or ctx.user_turn != pending.user_turn + 1
        if stale:
            record_id = self._record(ctx, spec, pending.resource, inputs, asked, "expired", "not_run", None, started)
            if answer != "yes":
                return None, False
            text_out = f"That request to {spec.summary(inputs)} has expired, so I did nothing. Ask again if needed."
            return ActionOutcome("expired", text_out, spec.name, record_id), True
        if answer != "yes":
            record_id = self._record(ctx, spec, pending.resource, inputs, asked, "declined", "not_run", None, started)
            if answer == "no":
                return ActionOutcome("cancelled", f"OK, I won't {spec.summary(inputs)}.", spec.name, record_id), True
            return None, False
        # Authorise again with the principal of this turn: groups or policies may have changed since asking.
        decision = self._authorise(ctx.principal, spec, pending.resource, inputs)
        if not decision.allowed:
            record_id = self._record(
                ctx, spec, pending.resource, inputs, decision, "confirmed", "not_run", None, started
            )
            return ActionOutcome("refused", _refusal(spec, inputs), spec.name, record_id), True
        return self._execute(ctx, spec, pending.resource, inputs, decision, "confirmed", started), True

    def _ask(
        self,
        ctx: ActionContext,
        spec: ActionSpec,
        resource: str,
        inputs: BaseModel,
        decision: _Authorised,
        *,
        step_up: bool = False,
    ) -> ActionOutcome:
        now = self._clock()
        pending = PendingAction(
            action_id=self._new_id(),
            conversation_id=ctx.conversation_id,
            subject=ctx.principal.subject,
            bot=ctx.bot,
            name=spec.name,
            arguments=inputs.model_dump(mode="json"),
            resource=resource,
            user_turn=ctx.user_turn,
            asked_at=now,
            expires_at=now + self._confirm_seconds,
            policy_ids=decision.policy_ids,
        )
        self._pending.put(pending)
        level = _consequence(spec) or "needs your confirmation because this message was flagged for review"
        minutes = max(1, self._confirm_seconds // 60)
        question = (
            f"Please confirm: do you want me to {spec.summary(inputs)}? This {level}. "
            f'Reply "yes" to go ahead or "no" to cancel (this request expires in {minutes} min).'
        )
        return ActionOutcome("confirm", question, spec.name, None, {"action_id": pending.action_id, "step_up": step_up})

    def _execute(
        self,
        ctx: ActionContext,
        spec: ActionSpec,
        resource: str,
        inputs: BaseModel,
        decision: _Authorised,
        confirmation: Confirmation,
        started: float,
    ) -> ActionOutcome:
        if spec.needs_confirmation and not self._session_is_live(ctx.principal):
            # A valid token is not enough to destroy or move money: the IdP itself must still vouch for
            # the session (a user disabled a second ago still holds a token that verifies).
            refused = _Authorised(False, (*decision.policy_ids, NO_LIVE_SESSION))
            record_id = self._record(
                ctx, spec, resource, inputs, refused, confirmation, "not_run", "no_live_session", started
            )
            return ActionOutcome("refused", _no_live_session(spec, inputs), spec.name, record_id)
        try:
            result: ActionResult = spec.run(ctx.principal, inputs)
        except KeelError as exc:
            record_id = self._record(ctx, spec, resource, inputs, decision, confirmation, "failed", exc.code, started)
            return ActionOutcome("failed", _failure(spec, inputs, exc), spec.name, record_id)
        except Exception as exc:
            # An adapter bug must still leave a record and a clear answer, never a silent half-action.
            _log.exception("action %s failed unexpectedly", spec.name)
            record_id = self._record(ctx, spec, resource, inputs, decision, confirmation, "failed", "internal", started)
            return ActionOutcome("failed", _failure(spec, inputs, exc), spec.name, record_id)
        record_id = self._record(ctx, spec, resource, inputs, decision, confirmation, "succeeded", None, started)
        return ActionOutcome("done", result.message, spec.name, record_id, result.data)

    @staticmethod
    def _session_is_live(principal: Principal) -> bool:
        if principal.session is None:
            return False
        try:
            principal.session.confirm()
        except KeelError as exc:
            _log.warning("high-assurance action refused: %s", exc.code)
            return False
        return True

    def _authorise(self, principal: Principal, spec: ActionSpec, resource: str, inputs: BaseModel) -> _Authorised:
        amount = spec.amount_cents(inputs) if spec.amount_cents is not None else None
        try:
            decision = self._authorizer.may_act(principal, spec.cedar_action, resource, amount_cents=amount)
        except InvalidRequest:
            # The policy point does not know this action: nothing can permit it (fail closed).
            return _Authorised(False, (UNKNOWN_ACTION,))
        ids = tuple(decision.policy_ids)
        if not decision.allowed and not ids:
            ids = (DEFAULT_DENY,)
        return _Authorised(bool(decision.allowed), ids)

    def _record(
        self,
        ctx: ActionContext,
        spec: ActionSpec,
        resource: str,
        inputs: BaseModel,
        decision: _Authorised,
        confirmation: Confirmation,
        result: Literal["succeeded", "failed", "not_run"],
        error_code: str | None,
        started: float,
    ) -> str:
        record_id = self._new_id()
        detail = ActionDetail(
            action=spec.name,
            resource=resource[:512],
            policy=f'Keel::Action::"{spec.cedar_action}"',
            decision="allow" if decision.allowed else "deny",
            policy_ids=decision.policy_ids,
            confirmation=confirmation,
            result=result,
            error_code=error_code,
            arguments_masked=json.dumps(inputs.model_dump(mode="json"), sort_keys=True),
        )
        self._audit.record(
            action_record(
                record_id=record_id,
                principal=ctx.principal,
                occurred_at=datetime.fromtimestamp(self._clock(), UTC),
                correlation_id=ctx.correlation_id,
                channel=ctx.channel,
                bot=ctx.bot,
                conversation_id=ctx.conversation_id,
                message_id=None,
                detail=detail,
                latency_ms=(time.perf_counter() - started) * 1000,
            )
        )
        return record_id


def _refusal(spec: ActionSpec, inputs: BaseModel) -> str:
    # Says what was refused and why in general terms; never which policy or which groups would allow it.
    return (
        f"I can't {spec.summary(inputs)}: your permissions don't allow it, and I never act with more "
        "authority than you have. Nothing was changed."
    )


def _consequence(spec: ActionSpec) -> str | None:
    """Why an action always needs the user's yes (destructive or money-moving), or None."""
    if spec.side_effect == "destructive":
        return "cannot be undone"
    return "moves money" if spec.needs_confirmation else None


def _no_live_session(spec: ActionSpec, inputs: BaseModel) -> str:
    return (
        f"I can't {spec.summary(inputs)}: this {_consequence(spec)}, and your identity provider could not "
        "confirm that your sign-in is still active. Sign in again and ask once more. Nothing was changed."
    )


def _failure(spec: ActionSpec, inputs: BaseModel, exc: Exception) -> str:
    if isinstance(exc, NotFound):
        return f"I couldn't {spec.summary(inputs)}: it was not found."
    if isinstance(exc, InvalidRequest):
        return f"I couldn't {spec.summary(inputs)}: {exc.message}."
    return (
        f"I couldn't {spec.summary(inputs)} because the system behind it is not available right now. Try again later."
    )
