"""Property-based fuzzing of the local stack's HTTP API from docs/openapi.json: no 5xx over at least 500
generated requests, sent with a valid bearer token (a demo employee's Cognito IdToken) to the real handlers
and the real turn. Methods the document does not declare (TRACE, OPTIONS, ...) must be refused, not crash.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keel.local.api import SERVED_METHODS
from tests.integration.channels.live import Live

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DOCUMENT = json.loads((Path(__file__).resolve().parents[3] / "docs" / "openapi.json").read_text())
schema = schemathesis.openapi.from_dict(DOCUMENT)
DOCUMENTED = {(path, method.upper()) for path, item in DOCUMENT["paths"].items() for method in item}
# Operations without a body have few distinct inputs, so the ones with a body carry the 500 requests.
EXAMPLES_PER_OPERATION = 60
SENT: Counter[int] = Counter()
BY_OPERATION: Counter[str] = Counter()
UNDOCUMENTED: dict[str, int] = {}


@pytest.fixture(scope="module")
def bearer(live: Live) -> str:
    return live.sign_in("emma.engineer")["IdToken"]


@pytest.mark.parametrize(("method", "path"), [("TRACE", "/v1/chat"), ("OPTIONS", "/"), ("PUT", "/healthz")])
def test_methods_the_api_does_not_serve_get_405_naming_what_is_accepted(live: Live, method: str, path: str) -> None:
    import http.client

    host, port = live.stack.api.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.request(method, path)
    response = connection.getresponse()
    body = json.loads(response.read())
    connection.close()
    assert response.status == 405
    assert body["error"]["code"] == "method_not_allowed" and "GET" in body["error"]["message"]


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_generated_request_gets_a_server_error(case: schemathesis.Case, live: Live, bearer: str) -> None:
    response = case.call(base_url=live.stack.api.url, headers={"Authorization": f"Bearer {bearer}"}, timeout=30)
    SENT[response.status_code] += 1
    if (case.path, case.method.upper()) not in DOCUMENTED:
        UNDOCUMENTED[f"{case.method} {case.path}"] = response.status_code
        # The stand-in routes by path prefix, so a served method on a documented path reaches the handler,
        # which refuses it with a 4xx; a method the API serves nowhere is refused with 405, never 501.
        if case.method.upper() not in SERVED_METHODS:
            assert response.status_code == 405, f"{case.method} {case.path} -> {response.status_code}"
    else:
        BY_OPERATION[f"{case.method} {case.path} {response.status_code}"] += 1
    assert response.status_code < 500, f"{case.method} {case.path} -> {response.status_code}: {response.text[:300]}"


def test_fuzz_run_sent_at_least_500_requests() -> None:
    # Runs after the parametrized cases in this module (pytest keeps file order).
    print(f"schemathesis sent {sum(SENT.values())} requests; statuses: {dict(sorted(SENT.items()))}")
    print(f"documented operations: {dict(sorted(BY_OPERATION.items()))}")
    print(f"undocumented methods probed: {UNDOCUMENTED}")
    assert sum(SENT.values()) >= 500
    assert not [status for status in SENT if status >= 500]


# The document's free-form fields rarely make a request the turn accepts (an unknown bot is a 404 before the
# turn runs), so this property drives the whole turn: any text, to every bot and to auto, never a 5xx.
BOTS = ["auto", "hr", "it", "finance", "sales", "customer"]
TURNS: Counter[str] = Counter()


@given(
    bot=st.sampled_from(BOTS),
    message=st.text(min_size=1, max_size=300).filter(lambda text: text.strip() != ""),
)
@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_any_message_to_any_bot_runs_the_turn_without_a_server_error(
    live: Live, bearer: str, bot: str, message: str
) -> None:
    status, body = live.post("/v1/chat", {"bot": bot, "message": message}, bearer)
    TURNS[f"{status} {body.get('outcome') or body.get('error', {}).get('code')}"] += 1
    assert status < 500, body


def test_the_turn_property_reached_the_turn() -> None:
    print(f"turn property: {dict(sorted(TURNS.items()))}")
    assert sum(n for key, n in TURNS.items() if key.startswith("200 ")) >= 50
