"""Session closers and the revocation Lambda: admin events end sessions per channel and per user pool."""

from __future__ import annotations

import importlib.util
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from keel.errors import InvalidRequest, ServiceUnavailable
from keel.identity.admin import Revoker
from keel.identity.closers import ApiGatewayConnectionCloser, ChannelSessionCloser, ForgetSession
from keel.identity.revocation import InMemoryRevocationStore
from keel.identity.sessions import InMemorySessionRegistry, Session, new_session
from tests.unit.identity.conftest import Clock
from tests.unit.identity.tokenfactory import NOW

REPO = Path(__file__).resolve().parents[3]
WORKFORCE, CUSTOMERS = "eu-west-1_WORK", "eu-west-1_CUST"


class ManagementApi:
    """A fake apigatewaymanagementapi client: records deletes, answers the error it is given."""

    def __init__(self, error: Exception | None = None) -> None:
        self.deleted: list[str] = []
        self.error = error

    def delete_connection(self, ConnectionId: str) -> None:
        if self.error is not None:
            raise self.error
        self.deleted.append(ConnectionId)


def client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, "DeleteConnection")


def session(channel: str = "websocket", session_id: str = "conn-1") -> Session:
    return new_session("sub-emma", channel, session_id, now=NOW)


def test_a_websocket_session_is_ended_with_delete_connection() -> None:
    api = ManagementApi()
    ApiGatewayConnectionCloser(api).close(session(), "signed out")
    assert api.deleted == ["conn-1"]


def test_a_connection_already_gone_counts_as_closed() -> None:
    ApiGatewayConnectionCloser(ManagementApi(client_error("GoneException"))).close(session(), "signed out")


@pytest.mark.parametrize(
    "error", [client_error("ForbiddenException"), EndpointConnectionError(endpoint_url="https://x")]
)
def test_a_refused_or_unreachable_management_api_is_service_unavailable(error: Exception) -> None:
    with pytest.raises(ServiceUnavailable):
        ApiGatewayConnectionCloser(ManagementApi(error)).close(session(), "signed out")


def test_sessions_go_to_their_channels_closer_and_unknown_channels_fail() -> None:
    api = ManagementApi()
    closer = ChannelSessionCloser({"websocket": ApiGatewayConnectionCloser(api), "slack": ForgetSession()})
    closer.close(session("websocket", "conn-9"), "r")
    closer.close(session("slack", "T1:U1"), "r")
    assert api.deleted == ["conn-9"]
    with pytest.raises(ServiceUnavailable, match="configured: slack, websocket"):
        closer.close(session("web", "w-1"), "r")


# The revocation Lambda ---------------------------------------------------------------------------


class Directory:
    def __init__(self, subjects: dict[str, str]) -> None:
        self.subjects = subjects

    def subject_of(self, username: str) -> str:
        return self.subjects[username]

    def global_sign_out(self, username: str) -> None:
        raise AssertionError("an admin event already happened at the IdP; no second sign-out")

    def disable(self, username: str) -> None:
        raise AssertionError("an admin event already happened at the IdP; no second disable")


def load_handler() -> ModuleType:
    spec = importlib.util.spec_from_file_location("revocation_handler", REPO / "functions/revocation/handler.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # The handler defines a dataclass, which looks its module up in sys.modules.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def cloudtrail(name: str, pool: str | None, username: str = "emma") -> dict[str, Any]:
    params: dict[str, Any] = {"username": username}
    if pool:
        params["userPoolId"] = pool
    return {
        "source": "aws.cognito-idp",
        "detail-type": "AWS API Call via CloudTrail",
        "detail": {
            "eventSource": "cognito-idp.amazonaws.com",
            "eventName": name,
            "eventTime": datetime.fromtimestamp(NOW - 5, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "requestParameters": params,
        },
    }


@pytest.fixture
def wired() -> tuple[ModuleType, Any, InMemoryRevocationStore, InMemorySessionRegistry, ManagementApi]:
    handler = load_handler()
    store, registry, api = InMemoryRevocationStore(), InMemorySessionRegistry(clock=Clock(NOW)), ManagementApi()
    closer = ChannelSessionCloser({"websocket": ApiGatewayConnectionCloser(api), "slack": ForgetSession()})
    wiring = handler.RevocationWiring(
        revoker=Revoker(store, registry, closer, clock=Clock(NOW)),
        store=store,
        directories={WORKFORCE: Directory({"emma": "sub-emma"}), CUSTOMERS: Directory({"guest-1": "sub-guest"})},
        default_pool=WORKFORCE,
    )
    return handler, wiring, store, registry, api


def test_a_disable_event_revokes_and_closes_the_subjects_websocket_and_slack_sessions(wired: Any) -> None:
    handler, wiring, store, registry, api = wired
    registry.register(session("websocket", "conn-1"))
    registry.register(session("slack", "T1:U1"))
    answer = handler.handle(cloudtrail("AdminDisableUser", WORKFORCE), wiring)
    assert answer == {
        "applied": True,
        "event": "AdminDisableUser",
        "revoked": True,
        "disabled": True,
        "sessions_closed": 2,
        "sessions_failed": 0,
    }
    assert api.deleted == ["conn-1"] and registry.sessions("sub-emma") == []
    record = store.get("sub-emma")
    assert record is not None and record.disabled and record.not_before == NOW - 5


def test_a_customer_pool_event_resolves_the_user_in_the_customer_pool(wired: Any) -> None:
    handler, wiring, store, _, _ = wired
    assert handler.handle(cloudtrail("AdminUserGlobalSignOut", CUSTOMERS, "guest-1"), wiring)["revoked"] is True
    assert store.get("sub-guest") is not None and store.get("sub-emma") is None


def test_an_event_without_a_pool_id_belongs_to_the_workforce_pool(wired: Any) -> None:
    handler, wiring, store, _, _ = wired
    assert handler.handle(cloudtrail("AdminUserGlobalSignOut", None), wiring)["revoked"] is True
    assert store.get("sub-emma") is not None


def test_enable_clears_the_disabled_flag_without_revoking(wired: Any) -> None:
    handler, wiring, store, _, _ = wired
    handler.handle(cloudtrail("AdminDisableUser", WORKFORCE), wiring)
    assert handler.handle(cloudtrail("AdminEnableUser", WORKFORCE), wiring) == {
        "applied": True,
        "event": "AdminEnableUser",
        "revoked": False,
    }
    record = store.get("sub-emma")
    assert record is not None and not record.disabled


def test_events_of_other_pools_and_other_operations_change_nothing(wired: Any) -> None:
    handler, wiring, store, _, _ = wired
    assert handler.handle(cloudtrail("AdminDisableUser", "eu-west-1_OTHER"), wiring)["applied"] is False
    assert handler.handle(cloudtrail("ListUsers", WORKFORCE), wiring)["applied"] is False
    assert store.get("sub-emma") is None


def test_a_failing_channel_is_reported_and_its_session_kept_for_a_retry(wired: Any) -> None:
    handler, wiring, _, registry, api = wired
    api.error = client_error("ForbiddenException")
    registry.register(session("websocket", "conn-1"))
    answer = handler.handle(cloudtrail("AdminUserGlobalSignOut", WORKFORCE), wiring)
    assert answer["sessions_closed"] == 0 and answer["sessions_failed"] == 1
    assert [s.session_id for s in registry.sessions("sub-emma")] == ["conn-1"]


def test_an_event_that_is_not_eventbridge_shaped_is_refused_clearly(wired: Any) -> None:
    handler, wiring, *_ = wired
    with pytest.raises(InvalidRequest, match="detail"):
        handler.handle({"Records": []}, wiring)
