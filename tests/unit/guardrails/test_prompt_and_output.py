"""Hardened prompt with canary; output checks for leaks, toxicity, grounding and loops."""

from __future__ import annotations

import pytest

from keel.guardrails import OutputCheck, build_system_prompt, leaked_canary, new_canary
from keel.guardrails.metrics import verdict_metrics
from keel.guardrails.verdict import Verdict
from keel.knowledge.ports import Passage
from keel.privacy import PiiMasker, Vault

PASSAGE = Passage(
    doc_id="hr-1",
    chunk_id="hr-1#0",
    title="Leave policy",
    text="Employees receive 28 days of annual leave. Unused leave can be carried over until March.",
    score=1.0,
)


def _check() -> OutputCheck:
    # A fixed toxicity function keeps these tests about the decision logic, not the model.
    return OutputCheck(toxicity=lambda text: 0.95 if "idiot" in text else 0.01)


def test_system_prompt_carries_a_canary_and_leak_is_detected() -> None:
    prompt = build_system_prompt("HR bot", "Acme")
    assert prompt.canary in prompt.text
    assert leaked_canary(f"sure: {prompt.canary}", prompt.canary)
    assert not leaked_canary("Employees receive 28 days.", prompt.canary)


def test_canary_from_conversation_is_stable_and_keyed() -> None:
    assert new_canary("c1", b"k") == new_canary("c1", b"k") != new_canary("c2", b"k")


def test_malformed_canary_is_refused() -> None:
    with pytest.raises(ValueError, match="canary"):
        build_system_prompt("b", "o", canary="hello")


def test_grounded_answer_is_delivered() -> None:
    verdict = _check().check("Employees receive 28 days of annual leave.", [PASSAGE], "sys", "how much leave?", [])
    assert verdict.action == "deliver"
    assert verdict.grounding == 1.0


def test_ungrounded_answer_is_withheld() -> None:
    verdict = _check().check("The moon orbits Jupiter every Tuesday.", [PASSAGE], "sys", "q", [])
    assert verdict.action == "withhold"
    assert "ungrounded" in verdict.problems


def test_partly_grounded_answer_is_low_confidence() -> None:
    answer = "Employees receive 28 days of annual leave. Unused leave carried over until March. Bonus paid weekly."
    verdict = OutputCheck(toxicity=lambda t: 0.0, grounding_threshold=0.9).check(answer, [PASSAGE], "s", "q", [])
    assert verdict.action == "low_confidence"


def test_system_prompt_leak_by_verbatim_overlap() -> None:
    prompt = build_system_prompt("HR bot", "Acme")
    answer = "My rules: " + prompt.text.split("\n")[1]
    verdict = _check().check(answer, [PASSAGE], prompt.text, "q", [])
    assert "system_prompt_leak" in verdict.problems


def test_toxic_answer_is_withheld() -> None:
    verdict = _check().check("You idiot, employees receive 28 days of annual leave.", [PASSAGE], "s", "q", [])
    assert "toxic" in verdict.problems
    assert verdict.action == "withhold"


def test_raw_pii_not_in_user_input_is_a_leak() -> None:
    answer = "Employees receive 28 days of annual leave; ask jane.doe@acme.com."
    verdict = _check().check(answer, [PASSAGE], "s", "how much leave?", [])
    assert "pii_raw:EMAIL" in verdict.problems


def test_users_own_pii_is_not_a_leak() -> None:
    answer = "Employees receive 28 days of annual leave; we will write to jane.doe@acme.com."
    verdict = _check().check(answer, [PASSAGE], "s", "my mail is jane.doe@acme.com", [])
    assert not any(p.startswith("pii") for p in verdict.problems)


def test_placeholder_from_someone_else_is_not_restorable() -> None:
    vault = Vault()
    PiiMasker("fast").mask("contact bob@acme.com", vault, origin="document")
    answer = "Employees receive 28 days of annual leave, ask <EMAIL_1>."
    verdict = _check().check(answer, [PASSAGE], "s", "q", [], vault=vault)
    assert "pii_placeholder_not_entitled:1" in verdict.problems


def test_same_reply_again_and_again_escalates() -> None:
    answer = "Employees receive 28 days of annual leave."
    verdict = _check().check(answer, [PASSAGE], "s", "q", [answer, answer])
    assert verdict.action == "escalate"
    assert "loop" in verdict.problems


def test_real_toxicity_model_scores_profanity_higher() -> None:
    check = OutputCheck()
    rude = check.check("you are a fucking idiot", [PASSAGE], "s", "q", [])
    polite = check.check("Employees receive 28 days of annual leave.", [PASSAGE], "s", "q", [])
    assert rude.toxicity > 0.8 > polite.toxicity


def test_metrics_have_category_bot_and_channel() -> None:
    metrics = verdict_metrics(Verdict("block", 0.9, ("jailbreak",)), bot="hr", channel="web")
    assert metrics[0].name == "GuardrailBlocked"
    assert metrics[0].dimensions == {"category": "jailbreak", "bot": "hr", "channel": "web", "stage": "input"}
    assert verdict_metrics(Verdict("allow", 0.0), bot="hr", channel="web") == []
