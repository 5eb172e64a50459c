"""The daily secret-age check of provider-rotated secrets, and the provider scheme refusing rotation events."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from keel.contract import Scheme
from keel.errors import InvalidRequest
from keel.integrations.rotation import RotationFailed
from keel.integrations.rotation_schemes import RotationScheme, rotate_step
from keel.integrations.secret_age import AgeCheck, check_ages, handle_event
from keel.local.api import load_handler
from keel.models.metrics import RecordingMetrics
from tests.fakes.rotation import FakeSecretsManager

REPO = Path(__file__).resolve().parents[3]
NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
PROVIDER = {"keel:rotation": "provider"}
SLACK = "keel/prod/slack-bot-token"


def age_event(*secret_ids: str, max_age_days: object = 30) -> dict[str, object]:
    return {"check": "secret-age", "secret_ids": list(secret_ids), "max_age_days": max_age_days}


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def run(sm: FakeSecretsManager, *secret_ids: str) -> tuple[dict[str, object], RecordingMetrics]:
    metrics = RecordingMetrics()
    answer = handle_event(sm, age_event(*secret_ids), metrics=metrics, now=lambda: NOW)
    assert answer is not None
    return answer, metrics


def test_a_secret_changed_within_the_limit_is_fresh_and_nothing_is_overdue() -> None:
    sm = FakeSecretsManager()
    sm.create(SLACK, {"bot_token": "xoxb-1"}, PROVIDER, created=days_ago(200), changed=days_ago(10))

    answer, metrics = run(sm, SLACK)

    assert answer["overdue_count"] == 0 and answer["checked"] == 1 and answer["overdue"] == []
    assert answer["fresh"] == [{"secret": SLACK, "age_days": 10.0}]
    assert metrics.total("SecretsOverdue") == 0 and metrics.total("SecretsChecked") == 1
    assert metrics.total("SecretAgeDays", secret=SLACK) == 10.0


def test_an_overdue_secret_is_named_with_how_to_rotate_it_at_the_provider() -> None:
    sm = FakeSecretsManager()
    sm.create(SLACK, {"bot_token": "xoxb-1"}, PROVIDER, created=days_ago(41), changed=days_ago(41))
    sm.create("keel/prod/helpdesk", {"api_token": "t"}, PROVIDER, changed=days_ago(3))

    answer, metrics = run(sm, SLACK, "keel/prod/helpdesk")

    assert answer["overdue_count"] == 1 and "1 of 2 secrets overdue" in str(answer["summary"])
    [overdue] = answer["overdue"]  # type: ignore[misc]
    assert overdue["secret"] == SLACK and overdue["age_days"] == 41.0
    assert f"put-secret-value --secret-id {SLACK}" in overdue["how_to_rotate"]
    assert metrics.total("SecretsOverdue") == 1


def test_the_age_falls_back_to_created_date_when_the_secret_never_changed() -> None:
    sm = FakeSecretsManager()
    sm.create(SLACK, {"bot_token": "xoxb-1"}, PROVIDER, created=days_ago(31))

    answer, _ = run(sm, SLACK)

    assert answer["overdue_count"] == 1 and answer["overdue"][0]["age_days"] == 31.0  # type: ignore[index]


def test_an_unreadable_secret_is_counted_overdue_with_the_reason() -> None:
    sm = FakeSecretsManager()
    sm.create(SLACK, {"bot_token": "xoxb-1"}, PROVIDER, changed=days_ago(1))
    sm.create("keel/prod/undated", {"value": "v"}, PROVIDER)  # neither date: cannot be judged

    answer, metrics = run(sm, SLACK, "keel/prod/gone", "keel/prod/undated")

    errors = {o["secret"]: o["error"] for o in answer["overdue"]}  # type: ignore[attr-defined]
    assert errors["keel/prod/gone"] == "DescribeSecret failed (ResourceNotFoundException); counted as overdue"
    assert "neither LastChangedDate nor CreatedDate" in errors["keel/prod/undated"]
    assert metrics.total("SecretsOverdue") == 2 and metrics.total("SecretsChecked") == 3


def test_an_overdue_automatically_rotated_secret_points_at_its_failed_rotation() -> None:
    sm = FakeSecretsManager()
    sm.create("keel/prod/crm", {"access_token": "k"}, {"keel:rotation": "rest-key"}, changed=days_ago(90))

    answer, _ = run(sm, "keel/prod/crm")

    assert "rotate-secret --secret-id keel/prod/crm" in answer["overdue"][0]["how_to_rotate"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"check": "secret-size"}, "unknown check 'secret-size'; accepted: a Secrets Manager rotation event"),
        (age_event(), "needs secret_ids: a non-empty list of secret ARNs"),
        ({"check": "secret-age", "secret_ids": "keel/prod/x"}, "needs secret_ids"),
        (age_event(SLACK, max_age_days=0), "max_age_days: a whole number of days from 1 to 365; got 0"),
        (age_event(SLACK, max_age_days="30"), "max_age_days: .*got '30'"),
        (age_event(SLACK, max_age_days=True), "max_age_days: .*got True"),
        ({"detail-type": "Scheduled Event"}, r"unknown event with keys \['detail-type'\]; accepted: .*\"check\""),
        ([SLACK], "the event is a list; accepted"),
    ],
)
def test_a_malformed_event_is_refused_saying_what_is_accepted(event: object, message: str) -> None:
    metrics = RecordingMetrics()
    with pytest.raises(InvalidRequest, match=message):
        handle_event(FakeSecretsManager(), event, metrics=metrics)
    assert metrics.records == []


def test_the_check_reads_only_the_secrets_it_is_given() -> None:
    sm = FakeSecretsManager()
    sm.create(SLACK, {"bot_token": "xoxb-1"}, PROVIDER, changed=days_ago(1))

    check_ages(sm, AgeCheck.from_event(age_event(SLACK)), metrics=RecordingMetrics(), now=lambda: NOW)

    assert sm.calls == ["describe_secret"]


def test_a_provider_secret_parses_to_a_scheme_that_refuses_a_rotation_event() -> None:
    # Given a provider-rotated secret on which someone turned rotation on by hand,
    sm = FakeSecretsManager()
    sm.create(SLACK, {"bot_token": "xoxb-1", "rotate_field": "bot_token"}, PROVIDER)
    token = sm.start_rotation(SLACK)
    assert RotationScheme.from_tags(SLACK, PROVIDER).scheme is Scheme.PROVIDER

    # When Secrets Manager calls createSecret, Then it fails saying how the secret is rotated; nothing changed.
    with pytest.raises(RotationFailed, match=f"{SLACK} is keel:rotation=provider.*put-secret-value.*cancel-rotate"):
        rotate_step(sm, {"SecretId": SLACK, "ClientRequestToken": token, "Step": "createSecret"})
    with pytest.raises(RotationFailed, match="keel:rotation=provider"):
        RotationScheme(Scheme.PROVIDER).rotator(sm)
    assert sm.current(SLACK)["bot_token"] == "xoxb-1" and "put_secret_value" not in sm.calls


def test_the_lambda_entry_runs_the_age_check_and_writes_the_overdue_metric_as_emf(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sm = FakeSecretsManager()
    sm.create(SLACK, {"bot_token": "xoxb-1"}, PROVIDER, changed=datetime.now(UTC) - timedelta(days=45))
    handler = load_handler(REPO / "functions", "secret_rotation")
    monkeypatch.setattr(handler.__globals__["boto3"], "client", lambda service: sm)

    answer = handler(age_event(SLACK), None)

    assert answer["overdue_count"] == 1
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    [summary] = [line for line in lines if "SecretsOverdue" in line]
    metric = summary["_aws"]["CloudWatchMetrics"][0]
    assert metric["Namespace"] == "Keel" and metric["Dimensions"] == [["service"]]
    assert summary["service"] == "secret-age" and summary["SecretsOverdue"] == 1


def test_the_lambda_entry_refuses_a_rotation_event_for_a_provider_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    sm = FakeSecretsManager()
    sm.create(SLACK, {"bot_token": "xoxb-1", "rotate_field": "bot_token"}, PROVIDER)
    token = sm.start_rotation(SLACK)
    handler = load_handler(REPO / "functions", "secret_rotation")
    monkeypatch.setattr(handler.__globals__["boto3"], "client", lambda service: sm)

    with pytest.raises(RotationFailed, match="keel:rotation=provider: it has no automatic rotation"):
        handler({"SecretId": SLACK, "ClientRequestToken": token, "Step": "createSecret"}, None)
    assert "put_secret_value" not in sm.calls
