"""Property-based fuzzing of the HTTP API from docs/openapi.json: no 5xx over at least 500 generated requests.

Runs against the channel handlers on loopback (LocalApi, real Cognito tokens from moto, the fake-model turn);
the same test pointed at `local_stack.api.url` fuzzes the full stack once the lead wires the routes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.integration.channels.conftest import ChannelStack

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DOCUMENT = json.loads((Path(__file__).resolve().parents[3] / "docs" / "openapi.json").read_text())
schema = schemathesis.openapi.from_dict(DOCUMENT)
DOCUMENTED = {(path, method.upper()) for path, item in DOCUMENT["paths"].items() for method in item}
# Operations without a body have few distinct inputs, so the ones with a body carry the 500 requests.
EXAMPLES_PER_OPERATION = 120
SENT: list[int] = []
UNDOCUMENTED_METHODS: dict[str, int] = {}


@pytest.fixture(scope="module")
def bearer(channel_stack: ChannelStack) -> str:
    return channel_stack.guest_token()


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_generated_request_gets_a_server_error(
    case: schemathesis.Case, channel_stack: ChannelStack, bearer: str
) -> None:
    response = case.call(base_url=channel_stack.api.url, headers={"Authorization": f"Bearer {bearer}"}, timeout=15)
    if (case.path, case.method.upper()) not in DOCUMENTED:
        # Schemathesis also probes methods the document does not declare (TRACE, ...). The local API stand-in
        # answers those from http.server itself (501); API Gateway answers 403. Reported, not asserted here.
        UNDOCUMENTED_METHODS[f"{case.method} {case.path}"] = response.status_code
        return
    SENT.append(response.status_code)
    assert response.status_code < 500, f"{case.method} {case.path} -> {response.status_code}: {response.text[:300]}"


def test_fuzz_run_sent_at_least_500_requests() -> None:
    # Runs after the parametrized cases in this module (pytest keeps file order).
    print(f"schemathesis sent {len(SENT)} requests; statuses: {sorted(set(SENT))}")
    print(f"undocumented methods probed: {UNDOCUMENTED_METHODS}")
    assert len(SENT) >= 500
