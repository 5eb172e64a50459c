"""DynamoDB token budgets under concurrency and the SSM maintenance switch, on moto server."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any

import pytest

from keel.errors import BudgetExceeded
from keel.identity.principal import Principal
from keel.knowledge.ports import Passage
from keel.models.bedrock import BedrockConverseModel
from keel.models.budget import BudgetLimits, DynamoDBBudget
from keel.models.maintenance import SsmMaintenanceSwitch
from keel.models.ports import ChatMessage
from keel.models.registry import ModelRegistry, ModelSpec, load_registry_data
from keel.models.router import ModelRouter
from tests.integration.conftest import ModelEndpoint
from tests.integration.models.helpers import PRIMARY, SECONDARY, SMALL, aws_client, bedrock_client

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def serial_moto() -> Iterator[SimpleNamespace]:
    """moto handling one request at a time, as DynamoDB serialises writes to one item.

    moto's threaded server applies concurrent UpdateItem ADDs to one item without a lock (measured here:
    920 of 1,000 tokens counted after 50 concurrent ADDs), which real DynamoDB never does. The clients
    below stay concurrent; only moto's side is serialised.
    """
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    from keel.local.servers import LOOPBACK, free_port

    port = free_port()
    app = DomainDispatcherApplication(create_backend_app)
    server = make_server(LOOPBACK, port, app, threaded=False, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield SimpleNamespace(url=f"http://{LOOPBACK}:{port}")
    server.shutdown()
    thread.join(timeout=5)


def _table(dynamodb: Any) -> str:
    name = f"keel-budgets-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(
        TableName=name,
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def _router(url: str, **options: Any) -> ModelRouter:
    specs = {m["id"]: ModelSpec(**m) for m in load_registry_data()["models"]}
    registry = ModelRegistry(specs, primary=PRIMARY, secondary=SECONDARY, small=SMALL)
    return ModelRouter(BedrockConverseModel(bedrock_client(url)), registry, **options)


def test_counters_stay_exact_under_50_concurrent_reservations(serial_moto: Any) -> None:
    dynamodb = aws_client("dynamodb", serial_moto.url)
    budget = DynamoDBBudget(dynamodb, _table(dynamodb), BudgetLimits(per_user_per_day=1000, per_tenant_per_day=5000))

    # When 50 requests of 20 tokens race for a 1,000-token budget
    with ThreadPoolExecutor(max_workers=50) as pool:
        reservations = list(pool.map(lambda _: budget.reserve("alice", "acme", 20), range(50)))

    # Then every one was counted exactly once, and the next request is refused with a clear message
    assert len(reservations) == 50
    assert budget.used("alice", "acme") == (1000, 1000)
    with pytest.raises(BudgetExceeded, match="your daily token budget of 1000 tokens is spent") as caught:
        budget.reserve("alice", "acme", 1)
    assert caught.value.retry_after >= 1
    assert budget.used("alice", "acme") == (1000, 1000), "a refused request changes no counter"


def test_more_requests_than_budget_exactly_the_affordable_ones_pass(serial_moto: Any) -> None:
    dynamodb = aws_client("dynamodb", serial_moto.url)
    budget = DynamoDBBudget(dynamodb, _table(dynamodb), BudgetLimits(per_user_per_day=10_000, per_tenant_per_day=700))

    def attempt(index: int) -> bool:
        try:
            budget.reserve(f"user-{index}", "acme", 20)
        except BudgetExceeded as exc:
            assert "organisation's daily token budget of 700" in exc.message
            return False
        return True

    with ThreadPoolExecutor(max_workers=50) as pool:
        passed = list(pool.map(attempt, range(50)))
    assert passed.count(True) == 35
    assert budget.used("user-0", "acme")[1] == 700
    # Users refused by the tenant budget got their own tokens back.
    refused = [i for i, ok in enumerate(passed) if not ok]
    assert all(budget.used(f"user-{i}", "acme")[0] == 0 for i in refused)


def test_router_settles_budgets_to_real_usage(moto_stack: Any, clean_model_endpoint: ModelEndpoint) -> None:
    dynamodb = aws_client("dynamodb", moto_stack.url)
    budget = DynamoDBBudget(
        dynamodb, _table(dynamodb), BudgetLimits(per_user_per_day=50_000, per_tenant_per_day=50_000)
    )
    router = _router(clean_model_endpoint.url, budget=budget)
    principal = Principal("bob", "bob", frozenset({"all-staff"}), "acme")
    passages = [Passage("hr-annual-leave", "c", "Leave", "Employees get 25 days of annual leave per year.", 1.0)]
    prompt = (
        '<source doc_id="hr-annual-leave">Employees get 25 days of annual leave per year.</source>'
        "<question>How many days of annual leave?</question>"
    )
    total = 0
    for _ in range(5):
        completion = router.generate("hr", "sys", [ChatMessage("user", prompt)], passages, principal=principal)
        total += completion.input_tokens + completion.output_tokens
    assert budget.used("bob", "acme") == (total, total)


def test_maintenance_switch_in_ssm_turns_every_answer_into_the_message(
    moto_stack: Any, clean_model_endpoint: ModelEndpoint
) -> None:
    ssm = aws_client("ssm", moto_stack.url)
    name = f"/keel/test/maintenance-{uuid.uuid4().hex[:6]}"
    switch = SsmMaintenanceSwitch(ssm, name, ttl=0.2)
    router = _router(clean_model_endpoint.url, maintenance=switch)
    messages = [ChatMessage("user", "<question>hello</question>")]
    assert "maintenance" not in router.generate("hr", "sys", messages, []).degradations  # parameter absent: off

    ssm.put_parameter(Name=name, Value='{"enabled": true, "message": "Back at 14:00 UTC."}', Type="String")
    time.sleep(0.25)
    clean_model_endpoint.clear_requests()
    result = router.generate("hr", "sys", messages, [])
    assert (result.text, result.degradations) == ("Back at 14:00 UTC.", ("maintenance",))
    assert clean_model_endpoint.requests() == [], "no model is called in maintenance mode"

    ssm.put_parameter(Name=name, Value="off", Type="String", Overwrite=True)
    time.sleep(0.25)
    assert router.generate("hr", "sys", messages, []).degradations == ()
