"""The launch checks' plan comes from the tenant (keel.launch.plan): any organisation's folder drives them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from keel.access.explain import explain, tenant_documents
from keel.access.pdp import PolicyDecisionPoint
from keel.errors import ConfigurationError
from keel.identity.principal import Principal, principals_from_file
from keel.launch.plan import MAX_FORBIDDEN, LaunchPlan, launch_plan
from keel.launch.probes import curated_cases, escalation_suite
from keel.tenant.loader import default_tenant_dir, load_tenant
from tests.conftest import REPO_ROOT

TENANTS = [default_tenant_dir(), REPO_ROOT / "examples" / "lakeside-health"]


def _principal(folder: Path, username: str) -> tuple[Principal, PolicyDecisionPoint]:
    tenant = load_tenant(folder)
    principals = principals_from_file(tenant.users_file(), tenant.spec.id or "default")  # type: ignore[arg-type]
    return principals[username], PolicyDecisionPoint.for_tenant(tenant)


@pytest.mark.parametrize("folder", TENANTS, ids=lambda p: p.name)
def test_the_plan_is_read_from_the_tenant_and_agrees_with_the_access_decisions(folder: Path) -> None:
    plan = launch_plan(folder)
    tenant = load_tenant(folder)
    documents = tenant_documents(tenant, published_only=True)
    principal, pdp = _principal(folder, plan.user)
    assert not principal.external and plan.bot in plan.internal_bots
    assert pdp.may_use(principal, plan.bot).allowed
    collections = set(pdp.bots.get(plan.bot).collections)
    # Every hidden document is the bot's and invisible to the user through it: citing one is a leak.
    assert plan.hidden
    for doc in plan.hidden:
        assert documents[doc].department in collections
        assert plan.bot not in explain(principal, documents[doc], pdp, bot=plan.bot).visible_through
    # The fallback question names a document the user does see through the bot.
    seen = [d for d in documents.values() if f"our {d.title} say" in plan.question]
    assert seen and plan.bot in explain(principal, seen[0], pdp, bot=plan.bot).visible_through
    # Each forbidden question asks a bot the user may use for a document that bot hides from them.
    assert 0 < len(plan.forbidden) <= MAX_FORBIDDEN
    for case in plan.forbidden:
        assert case.user == plan.user and pdp.may_use(principal, case.bot).allowed
        (doc,) = case.forbidden_doc_ids
        assert case.bot not in explain(principal, documents[doc], pdp, bot=case.bot).visible_through
    # The customer is a user of the external pool; every internal bot of the tenant is tried.
    assert plan.customer is not None and _principal(folder, plan.customer)[0].external
    assert set(plan.internal_bots) == {b.id for b in tenant.spec.bots if b.audience == "internal"}
    # Load users may ask every bot the load questions go to.
    assert plan.load_users[0] == plan.user
    for user in plan.load_users:
        someone, _ = _principal(folder, user)
        assert all(pdp.may_use(someone, bot).allowed for bot, _ in plan.load_questions)
    assert json.loads(plan.to_env())["bot"] == plan.bot


def test_two_organisations_get_two_plans() -> None:
    first, second = (launch_plan(f) for f in TENANTS)
    assert first.bot != second.bot or first.user != second.user
    assert not set(first.internal_bots) & set(second.internal_bots)


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "tenant"
    shutil.copytree(default_tenant_dir(), folder)
    return folder


def test_a_tenant_without_users_or_documents_says_what_the_checks_need(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    (folder / "users.json").unlink()
    with pytest.raises(ConfigurationError, match=r"needs users\.json .* and docs/"):
        launch_plan(folder)


def test_a_tenant_whose_bots_hide_nothing_cannot_test_scoping_and_says_so(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    users = json.loads((folder / "users.json").read_text(encoding="utf-8"))
    (folder / "users.json").write_text(json.dumps([u for u in users if u.get("external")]), encoding="utf-8")
    with pytest.raises(ConfigurationError, match="no internal bot both shows an employee"):
        launch_plan(folder)


def test_hand_written_questions_for_another_tenant_are_left_out(tmp_path: Path) -> None:
    path = tmp_path / "forbidden.jsonl"
    rows = [
        {"id": "a", "bot": "b1", "user": "u1", "question": "q", "forbidden_doc_ids": ["d1"]},
        {"id": "b", "bot": "elsewhere", "user": "u1", "question": "q", "forbidden_doc_ids": ["d2"]},
        {"id": "c", "bot": "b1", "user": "stranger", "question": "q", "forbidden_doc_ids": ["d3"]},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    assert [c.id for c in curated_cases(path, ["b1"], ["u1"])] == ["a"]
    assert curated_cases(tmp_path / "missing.jsonl", ["b1"], ["u1"]) == []


def test_an_escalation_suite_with_nothing_to_ask_does_not_pass() -> None:
    # No question asked and no customer to try the bots: a pass would say nothing, so it is not one.
    ok, evidence = escalation_suite("http://127.0.0.1:9", lambda user: "", [], customer=None, internal_bots=["x"])
    assert not ok and evidence["forbidden_questions"] == 0
    assert "not run" in evidence["external_user"]


def test_the_plan_is_a_value() -> None:
    plan = launch_plan()
    assert isinstance(plan, LaunchPlan) and launch_plan() == plan


def test_preflight_drives_the_tenant_the_running_stack_serves(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from keel.cli import preflight as cli
    from keel.cli.main import main
    from keel.launch import preflight
    from keel.local.state import write_stack

    monkeypatch.setenv("KEEL_STATE_DIR", str(tmp_path))
    lakeside = REPO_ROOT / "examples" / "lakeside-health"
    write_stack({"environment": {"KEEL_TENANT_DIR": str(lakeside)}, "api_url": "http://127.0.0.1:9"})
    seen: list[Path | None] = []

    def fake_run(info: dict[str, object], options: preflight.Options) -> object:
        seen.append(options.tenant_dir)
        raise SystemExit(0)

    monkeypatch.setattr(preflight, "run_preflight", fake_run)
    with pytest.raises(SystemExit):
        main(["preflight", "--out", str(tmp_path / "out")])
    assert seen == [lakeside]
    assert cli.stack_tenant_dir({"environment": {}}) is None
