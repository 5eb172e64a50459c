"""The escalation state machine: the ASL file CDK and the local stack both load, with their resource names."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from keel.contract import ASL_FILE


def definition_template() -> str:
    """The ASL with ${AgentsTable} and ${EscalationQueueUrl} placeholders."""
    return (resources.files("keel.escalation") / ASL_FILE).read_text(encoding="utf-8")


def definition(*, agents_table: str, queue_url: str) -> str:
    """The ASL with the placeholders filled in, as the local stack creates it."""
    text = definition_template()
    for key, value in {"AgentsTable": agents_table, "EscalationQueueUrl": queue_url}.items():
        text = text.replace("${" + key + "}", value)
    json.loads(text)  # a substitution must never break the JSON
    return text


def ensure_state_machine(sfn: Any, name: str, role_arn: str, *, agents_table: str, queue_url: str) -> str:
    """Create the state machine (or update an existing one of that name); returns its ARN."""
    body = definition(agents_table=agents_table, queue_url=queue_url)
    for machine in sfn.list_state_machines().get("stateMachines", []):
        if machine["name"] == name:
            sfn.update_state_machine(stateMachineArn=machine["stateMachineArn"], definition=body, roleArn=role_arn)
            return str(machine["stateMachineArn"])
    return str(sfn.create_state_machine(name=name, definition=body, roleArn=role_arn)["stateMachineArn"])
