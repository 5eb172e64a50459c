"""The launch checks' plan comes from the tenant (keel.launch.plan): any organisation's folder drives them."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from keel.access.explain import explain, tenant_documents
from keel.access.pdp import PolicyDecisionPoint
from keel.errors import ConfigurationError
from keel.identity.principal import Principal, principals_from_file
from keel.launch import probes
from keel.launch.plan import MAX_CUSTOMER_QUESTIONS, MAX_FORBIDDEN, ForbiddenCase, LaunchPlan, launch_plan
from keel.launch.probes import curated_cases
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
    documents = tenant_documents(tenant)
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
    # Each forbidden question asks a bot its asker may use for a document that bot hides from them: the employee's
    # (up to MAX_FORBIDDEN), then the customer's on the customer-facing bots (up to MAX_CUSTOMER_QUESTIONS).
    askers = [c.user for c in plan.forbidden]
    assert 0 < askers.count(plan.user) <= MAX_FORBIDDEN and 0 < askers.count(plan.customer) <= MAX_CUSTOMER_QUESTIONS
    assert set(askers) == {plan.user, plan.customer}
    for case in plan.forbidden:
        asker, _ = _principal(folder, case.user)
        assert pdp.may_use(asker, case.bot).allowed and plan.may_use(case.user, case.bot)
        (doc,) = case.forbidden_doc_ids
        assert case.bot not in explain(asker, documents[doc], pdp, bot=case.bot).visible_through
        assert plan.leaks(case.user, case.bot, [doc])[0] == [doc]
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
    cases, skipped = curated_cases(path, ["b1"], ["u1"])
    assert [c.id for c in cases] == ["a"] and skipped == 2
    assert curated_cases(tmp_path / "missing.jsonl", ["b1"], ["u1"]) == ([], 0)


def test_every_hand_written_question_fits_the_example_tenant_the_customer_bot_included() -> None:
    plan = launch_plan()
    users = json.loads((default_tenant_dir() / "users.json").read_text(encoding="utf-8"))
    cases, skipped = curated_cases(
        REPO_ROOT / "evals" / "retrieval" / "forbidden.jsonl", plan.bots, [u["username"] for u in users]
    )
    assert skipped == 0 and any(c.user == plan.customer for c in cases)


def _plan_with(**changes: object) -> LaunchPlan:
    return dataclasses.replace(launch_plan(), **changes)  # type: ignore[arg-type]


def test_a_leak_is_any_known_document_the_user_may_not_see_through_that_bot() -> None:
    plan = launch_plan()
    allowed = plan.visible[(plan.user, plan.bot)]
    seen = sorted(allowed)[0]
    other = sorted(plan.documents - allowed)[0]
    assert plan.leaks(plan.user, plan.bot, [seen]) == ([], [])
    assert plan.leaks(plan.user, plan.bot, [seen, other, "not-a-document"]) == ([other], ["not-a-document"])
    # The same document through a bot the user may not use is a leak: visibility is per bot.
    assert plan.leaks(plan.user, "no-such-bot", [seen]) == ([seen], [])
    # Hidden documents are among what the user may not see, drafts and retired ones included in what is known.
    assert set(plan.hidden) <= plan.documents - allowed


class Replies:
    """probes.chat stubbed per (bot, question): pure suite logic, no server."""

    def __init__(self, default: tuple[int, dict[str, Any]], **by_question: tuple[int, dict[str, Any]]) -> None:
        self.default, self.by_question, self.asked = default, by_question, []

    def __call__(self, api_url: str, token: str, bot: str, message: str, **_: Any) -> tuple[int, dict[str, Any]]:
        self.asked.append((token, bot, message))
        return self.by_question.get(message, self.default)


def _answer(*doc_ids: str, outcome: str = "answered") -> tuple[int, dict[str, Any]]:
    return 200, {"answer": "ok", "outcome": outcome, "citations": [{"doc_id": d} for d in doc_ids]}


def test_the_injection_suite_fails_on_a_cited_document_the_user_may_not_see(monkeypatch: pytest.MonkeyPatch) -> None:
    plan = launch_plan()
    allowed = sorted(plan.visible[(plan.user, plan.bot)])
    outside = sorted(plan.documents - set(allowed))[0]  # not necessarily in the bot's hidden list
    replies = Replies(_answer(outcome="refused"), **{plan.question: _answer(allowed[0])})
    monkeypatch.setattr(probes, "chat", replies)
    ok, evidence = probes.injection_suite("http://127.0.0.1:9", "t", plan)
    assert ok and evidence["control"]["answered"] and evidence["contained"] == evidence["attacks"]
    replies.default = _answer(allowed[0], outside)
    ok, evidence = probes.injection_suite("http://127.0.0.1:9", "t", plan)
    assert not ok and all(r["restricted_cited"] == [outside] for r in evidence["rows"])


def test_a_suite_whose_user_is_turned_away_tested_nothing_and_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    plan = launch_plan()
    monkeypatch.setattr(probes, "chat", Replies((403, {"message": "forbidden"})))
    ok, evidence = probes.injection_suite("http://127.0.0.1:9", "t", plan)
    assert not ok and not evidence["control"]["answered"] and evidence["contained"] == 0
    ok, evidence = probes.escalation_suite("http://127.0.0.1:9", lambda user: user, plan)
    assert not ok and evidence["wrong_status"] > 0


def test_the_escalation_suite_passes_only_when_nothing_leaks_and_every_internal_bot_refuses_the_customer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plan = launch_plan()
    crossing = "What internal documents can you show me?"
    replies = Replies(_answer(outcome="no_answer"), **{crossing: (403, {})})
    monkeypatch.setattr(probes, "chat", replies)
    ok, evidence = probes.escalation_suite("http://127.0.0.1:9", lambda user: user, plan)
    assert ok and evidence["forbidden_questions"] == len(plan.forbidden)
    assert [c["bot"] for c in evidence["external_to_internal_bots"]] == list(plan.internal_bots)
    # One internal bot that answers the customer fails the suite.
    replies.by_question[crossing] = (200, {})
    assert not probes.escalation_suite("http://127.0.0.1:9", lambda user: user, plan)[0]
    # A forbidden document cited fails it, whichever case it comes from.
    case = plan.forbidden[0]
    replies.by_question = {crossing: (403, {}), case.question: _answer(*case.forbidden_doc_ids)}
    ok, evidence = probes.escalation_suite("http://127.0.0.1:9", lambda user: user, plan)
    assert not ok and evidence["forbidden_documents_cited"] >= 1


def test_an_escalation_suite_with_nothing_to_ask_does_not_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    # No question asked and no customer to try the bots: a pass would say nothing, so it is not one.
    plan = _plan_with(forbidden=(), customer=None)
    monkeypatch.setattr(probes, "chat", Replies((200, {})))
    ok, evidence = probes.escalation_suite("http://127.0.0.1:9", lambda user: "", plan)
    assert not ok and evidence["forbidden_questions"] == 0
    assert "not run" in evidence["external_user"]


def test_the_plans_own_bot_leads_the_forbidden_questions_and_every_bot_gets_a_turn() -> None:
    plan = launch_plan()
    employee_cases = [c for c in plan.forbidden if c.user == plan.user]
    assert employee_cases[0].bot == plan.bot
    bots = [c.bot for c in employee_cases]
    assert len(set(bots[: len(set(bots))])) == len(set(bots))  # one per bot before any bot's second


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


@pytest.mark.parametrize("status", [401, 403, 429])
def test_a_question_the_tenant_grants_must_be_answered_not_throttled_or_refused(
    monkeypatch: pytest.MonkeyPatch, status: int
) -> None:
    plan = launch_plan()
    crossing = "What internal documents can you show me?"
    case = plan.forbidden[0]
    replies = Replies(_answer(outcome="no_answer"), **{crossing: (403, {}), case.question: (status, {})})
    monkeypatch.setattr(probes, "chat", replies)
    ok, evidence = probes.escalation_suite("http://127.0.0.1:9", lambda user: user, plan)
    assert not ok and evidence["wrong_status"] == 1


def test_a_question_to_a_bot_the_asker_may_not_use_must_be_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    plan = launch_plan()
    crossing = "What internal documents can you show me?"
    stray = ForbiddenCase("stray", plan.internal_bots[0], str(plan.customer), "q?", ())
    assert not plan.may_use(stray.user, stray.bot)
    replies = Replies(_answer(outcome="no_answer"), **{crossing: (403, {}), "q?": (200, {"citations": []})})
    monkeypatch.setattr(probes, "chat", replies)
    ok, evidence = probes.escalation_suite("http://127.0.0.1:9", lambda user: user, plan, [stray])
    assert not ok and evidence["wrong_status"] == 1
    replies.by_question["q?"] = (403, {})
    assert probes.escalation_suite("http://127.0.0.1:9", lambda user: user, plan, [stray])[0]


def test_a_hand_written_forbidden_document_fails_even_where_the_access_code_would_open_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The independent check: if a policy wrongly opened the document, the plan (which shares the access code with
    # search) would call it visible; the hand-written row still names it forbidden.
    plan = launch_plan()
    crossing = "What internal documents can you show me?"
    allowed = sorted(plan.visible[(plan.user, plan.bot)])[0]
    row = ForbiddenCase("hand", plan.bot, plan.user, "hand?", (allowed,))
    replies = Replies(_answer(outcome="no_answer"), **{crossing: (403, {}), "hand?": _answer(allowed)})
    monkeypatch.setattr(probes, "chat", replies)
    ok, evidence = probes.escalation_suite("http://127.0.0.1:9", lambda user: user, plan, [row])
    assert not ok and evidence["forbidden_documents_cited"] == 1


def test_citations_the_plan_does_not_know_fail_both_suites(monkeypatch: pytest.MonkeyPatch) -> None:
    # A stack serving other documents than the tenant folder holds: the check cannot tell a leak, so it fails.
    plan = launch_plan()
    crossing = "What internal documents can you show me?"
    monkeypatch.setattr(probes, "chat", Replies(_answer("other/hr-salary-bands#0"), **{crossing: (403, {})}))
    ok, evidence = probes.injection_suite("http://127.0.0.1:9", "t", plan)
    assert not ok and not evidence["control"]["answered"] and evidence["contained"] == 0
    ok, evidence = probes.escalation_suite("http://127.0.0.1:9", lambda user: user, plan)
    assert not ok and evidence["unknown_documents_cited"] == len(plan.forbidden)


def test_preflight_refuses_a_malformed_users_file_with_what_is_accepted(tmp_path: Path) -> None:
    from keel.errors import InvalidRequest
    from keel.launch.preflight import Options, Preflight

    folder = _copy(tmp_path)
    (folder / "users.json").write_text("[{bad", encoding="utf-8")
    with pytest.raises(InvalidRequest, match="is not a users list of"):
        Preflight({}, Options(repo_root=REPO_ROOT, out_dir=tmp_path / "out", tenant_dir=folder))
