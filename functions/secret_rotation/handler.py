"""Secrets Manager rotation (createSecret, setSecret, testSecret, finishSecret) and the daily secret-age check.

The secret's ``keel:rotation`` tag picks the rotator (``keel.integrations.rotation_schemes``):

- ``rest-key`` (the CRM and HR API keys): a new key is registered at the provider's key API
  (``keel:rotation-url``, ``keel:rotation-auth``), tested there, promoted, and then the old key is revoked.
- ``self-issued`` (values Keel issues itself): a new value replaces the field named by ``rotate_field``.
- ``provider`` (Slack, the IdP, the helpdesk: values their provider issues, with no key API): no schedule; a
  rotation event for one fails, saying to rotate it at the provider and store it with put-secret-value.

A missing or unknown tag, a provider that refuses the new key or a failed test raises RotationFailed with
a message saying what is wrong and what is accepted; Secrets Manager records the failure and AWSCURRENT
stays in use. A daily EventBridge event ``{"check": "secret-age", ...}`` instead reports the secrets older than
``max_age_days`` and emits the ``SecretsOverdue`` metric (``keel.integrations.secret_age``).
"""

from __future__ import annotations

from typing import Any

import boto3

from keel.contract import SECRET_AGE_SERVICE as SERVICE
from keel.integrations.secret_age import handle_event
from keel.models.metrics import EmfMetrics


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any] | None:
    """Run one rotation step, or the secret-age check (its summary is the answer)."""
    return handle_event(boto3.client("secretsmanager"), event, metrics=EmfMetrics(service=SERVICE))
