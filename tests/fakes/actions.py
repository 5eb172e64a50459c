"""Small real implementations of the actions ports and of an EC2-like inventory, for unit tests (no sockets)."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from keel.actions.ports import PendingAction
from keel.errors import NotFound
from keel.identity.principal import Principal
from keel.integrations.cloud import Instance
from keel.knowledge.ports import Passage
from keel.local.model_server import choose_tool
from keel.models.bedrock import tool_config
from keel.models.ports import ChatMessage, Completion, ToolCall, ToolSpec


class InMemoryPendingActions:
    """PendingActions with the same take-once semantics as the DynamoDB conditional delete."""

    def __init__(self) -> None:
        self.items: dict[str, list[PendingAction]] = {}
        self._lock = threading.Lock()

    def put(self, pending: PendingAction) -> None:
        """Store it."""
        with self._lock:
            self.items.setdefault(pending.conversation_id, []).append(pending)

    def latest(self, conversation_id: str) -> PendingAction | None:
        """The newest one."""
        with self._lock:
            found = self.items.get(conversation_id) or []
            return max(found, key=lambda p: p.asked_at) if found else None

    def take(self, conversation_id: str, action_id: str) -> bool:
        """Remove it once."""
        with self._lock:
            found = self.items.get(conversation_id) or []
            kept = [p for p in found if p.action_id != action_id]
            self.items[conversation_id] = kept
            return len(kept) != len(found)


@dataclass
class FakeEc2:
    """Instances by id with states; counts every call."""

    instances: dict[str, str] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    fail_with: Exception | None = None

    def describe(self, instance_id: str) -> Instance:
        """The instance or NotFound."""
        self._check("describe", instance_id)
        return Instance(instance_id, self.instances[instance_id], "t3.micro", "build-runner")

    def stop(self, instance_id: str) -> str:
        """Stop it."""
        self._check("stop", instance_id)
        self.instances[instance_id] = "stopping"
        return "stopping"

    def terminate(self, instance_id: str) -> str:
        """Terminate it."""
        self._check("terminate", instance_id)
        self.instances[instance_id] = "shutting-down"
        return "shutting-down"

    def _check(self, operation: str, instance_id: str) -> None:
        self.calls.append((operation, instance_id))
        if self.fail_with is not None:
            raise self.fail_with
        if instance_id not in self.instances:
            raise NotFound(f"instance {instance_id} does not exist")


@dataclass
class LocalToolModel:
    """A ToolProposer that decides exactly as the local Bedrock endpoint does, and records what it was sent."""

    requests: list[dict[str, Any]] = field(default_factory=list)

    def generate(
        self,
        bot: str,
        system: str,
        messages: list[ChatMessage],
        passages: list[Passage],
        task: str = "answer",
        *,
        principal: Principal | None = None,
        tools: Sequence[ToolSpec] = (),
    ) -> Completion:
        """A toolUse when the last user message asks for a tool, else plain text."""
        self.requests.append({"task": task, "messages": list(messages), "passages": list(passages), "tools": tools})
        question = messages[-1].text if messages else ""
        call = choose_tool(question, tool_config(tools)["tools"]) if tools else None
        calls = (ToolCall(call["toolUseId"], call["name"], dict(call["input"])),) if call else ()
        text = json.dumps([{"toolUse": call}]) if call else "no tool"
        return Completion(text, "local", 10, 5, 1.0, stop_reason="tool_use" if call else "end_turn", tool_calls=calls)
