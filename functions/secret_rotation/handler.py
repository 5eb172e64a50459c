"""Secrets Manager rotation (createSecret, setSecret, testSecret, finishSecret) for integration secrets.

The secret's ``keel:rotation`` tag picks the rotator (``keel.integrations.rotation_schemes``):

- ``rest-key`` (the CRM and HR API keys): a new key is registered at the provider's key API
  (``keel:rotation-url``, ``keel:rotation-auth``), tested there, promoted, and then the old key is revoked.
- ``self-issued`` (values Keel issues itself): a new value replaces the field named by ``rotate_field``.

A missing or unknown tag, a provider that refuses the new key or a failed test raises RotationFailed with
a message saying what is wrong and what is accepted; Secrets Manager records the failure and AWSCURRENT
stays in use. Provider-issued secrets without a key API (Slack, the IdP, the helpdesk) carry no
``keel:rotation`` tag: they are rotated at their provider and stored with put-secret-value.
"""

from __future__ import annotations

from typing import Any

import boto3

from keel.integrations.rotation_schemes import rotate_step


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    """Run one rotation step for the event's ``SecretId`` / ``ClientRequestToken`` / ``Step``."""
    rotate_step(boto3.client("secretsmanager"), event)
