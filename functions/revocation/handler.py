"""Lambda handler for the revocation function: placeholder created with the CDK app until its owner writes it.

It fails closed and says so, so a deployment made before the real handler lands refuses work
instead of pretending to do it.
"""

from __future__ import annotations

from typing import Any

from keel.errors import KeelError


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Refuse every event: the revocation handler is not implemented in this build."""
    raise KeelError("the revocation function is not implemented in this build")
