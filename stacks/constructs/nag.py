"""cdk-nag acknowledgments, each with its reason, and the IAM5 wildcard evidence it asks for."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import aws_cdk as cdk
from constructs import IConstruct


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    """Accept one cdk-nag finding on ``scope`` and everything under it, saying why."""
    if len(reason) < 20:
        raise ValueError(f"acknowledging {rule_id}: give a real reason (got {reason!r})")
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=rule_id, reason=reason))


def flatten_reference(node: Any) -> str:
    """Render a resolved CloudFormation value the way cdk-nag names IAM5 findings."""
    if node is None:
        return ""
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict):
        if "Fn::Join" in node:
            delimiter, items = node["Fn::Join"]
            return str(delimiter).join(flatten_reference(item) for item in items)
        if "Fn::Sub" in node:
            return flatten_reference(node["Fn::Sub"])
        if "Fn::GetAtt" in node:
            resource, attribute = node["Fn::GetAtt"]
            return f"<{flatten_reference(resource)}.{flatten_reference(attribute)}>"
        if "Fn::ImportValue" in node:
            return flatten_reference(node["Fn::ImportValue"])
        if "Ref" in node:
            return f"<{flatten_reference(node['Ref'])}>"
    return json.dumps(node, separators=(",", ":"))


def acknowledge_wildcards(
    scope: IConstruct, actions: Iterable[str], resources: Iterable[str], reason: str
) -> list[str]:
    """Acknowledge the IAM5 findings a statement will raise on ``scope``; returns the finding ids.

    Resources are resolved in ``scope``'s stack, so a wildcard ARN built from another stack's
    token would be named differently after cross-stack export; callers build such ARNs from
    physical names instead, and synthesis fails loudly if one slips through.
    """
    stack = cdk.Stack.of(scope)
    findings = [f"Action::{a}" for a in actions if "*" in a]
    for resource in resources:
        flat = flatten_reference(stack.resolve(resource))
        if "*" in flat:
            findings.append(f"Resource::{flat}")
    ids = [f"AwsSolutions-IAM5[{f}]" for f in dict.fromkeys(findings)]
    for rule_id in ids:
        acknowledge(scope, rule_id, reason)
    return ids
