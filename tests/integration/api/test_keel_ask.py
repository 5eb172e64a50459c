"""`keel ask` against the running local stack, as the issues' acceptance states it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from keel.cli.main import main

pytestmark = pytest.mark.integration
PAYROLL_DOCS = {"hr-salary-bands", "hr-bonus-pool", "hr-payroll-calendar"}


def ask(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    assert main(["ask", *argv, "--json"]) == 0
    out = capsys.readouterr().out
    # The handlers run in this process, so their one-line EMF metric documents share stdout; the reply is
    # the indented document.
    reply: dict[str, Any] = json.JSONDecoder().raw_decode(out[out.index("{\n") :])[0]
    return reply


def test_annual_leave_is_answered_from_and_cites_an_hr_document(local_stack: Any, capsys: Any) -> None:
    reply = ask(capsys, "How many days of annual leave do I get?", "--user", "u1", "--groups", "all-staff")
    assert reply["citations"] and all(c["doc_id"].startswith("hr-") for c in reply["citations"])
    assert set(reply) >= {"answer", "citations", "confidence", "conversation_id"}


def test_the_same_question_as_an_external_customer_cites_no_internal_document(local_stack: Any, capsys: Any) -> None:
    reply = ask(capsys, "How many days of annual leave do I get?", "--user", "u1-ext", "--external")
    assert all(c["doc_id"].startswith("customer-") for c in reply["citations"])


@pytest.mark.parametrize(
    "question",
    [
        "What are the salary bands for engineers?",
        "How big is the bonus pool this year?",
        "When is payroll run each month?",
    ],
)
def test_an_engineering_employee_never_gets_a_payroll_citation(local_stack: Any, capsys: Any, question: str) -> None:
    reply = ask(capsys, question, "--user", "eng1", "--groups", "all-staff,engineering", "--department", "engineering")
    assert not PAYROLL_DOCS & {c["doc_id"] for c in reply["citations"]}


def test_a_payroll_admin_does_get_the_payroll_document(local_stack: Any, capsys: Any) -> None:
    groups = "all-staff,hr,payroll-admins"
    reply = ask(capsys, "What are the salary bands for engineers?", "--user", "pay1", "--groups", groups, "--bot", "hr")
    assert "hr-salary-bands" in {c["doc_id"] for c in reply["citations"]}, reply


def test_an_external_customer_asking_about_internal_policy_gets_no_internal_citation(
    local_stack: Any, capsys: Any
) -> None:
    reply = ask(capsys, "What is the remote work policy and the VPN setup?", "--user", "c2", "--external")
    assert all(c["doc_id"].startswith("customer-") for c in reply["citations"])


def test_ask_refuses_to_run_against_production(local_stack: Any, monkeypatch: Any, capsys: Any) -> None:
    monkeypatch.setenv("KEEL_ENVIRONMENT", "prod")
    assert main(["ask", "hello", "--user", "u1", "--groups", "all-staff"]) == 2
    assert "only against the local stack" in capsys.readouterr().err
