"""The turn logic of the escalation decision, on shapes written for these tests (not corpus rows): the bot hedging
again and again while the user keeps asking, in eight languages and many wordings; system events with an uncertain
outcome in several log styles and languages; benign events; the corpus's dialogue rows; the look-alike guards."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from keel.errors import InvalidRequest
from keel.escalation import EscalationPolicy, Turn, decide, first_escalation
from keel.escalation.corpus import Family, rows
from keel.escalation.heads import HEADS, ConversationFeatures, HeadScores

RULES = EscalationPolicy(semantic=False)
CITED = "You can do it under Settings > Account [help-010]."

# (language, three user questions on one subject that share few words, hedges the bot gave)
HEDGES = [
    ("en", "I'm sorry, I don't have any information about that."),
    ("en", "Unfortunately, I wasn't able to find that in our documentation."),
    ("en", "I'm afraid I can't answer that with the sources I have."),
    ("en", "There is no information on this in the knowledge base."),
    ("en", "I am not certain about the answer to this one."),
    ("en", "Could you clarify what you mean? I didn't understand."),
    ("fr", "Malheureusement, je n'ai pas d'information à ce sujet."),
    ("fr", "Je ne suis pas en mesure de répondre à cette question."),
    ("fr", "Je ne trouve pas cette information dans mes documents."),
    ("de", "Leider habe ich dazu keine Informationen."),
    ("de", "Das kann ich leider nicht beantworten."),
    ("de", "Ich finde dazu nichts in den Unterlagen."),
    ("es", "Lo siento, no tengo información sobre eso."),
    ("es", "No puedo responder a esa pregunta con mis fuentes."),
    ("es", "Lamentablemente no dispongo de ese dato."),
    ("it", "Purtroppo non ho informazioni su questo."),
    ("it", "Non riesco a trovare la risposta nei documenti."),
    ("it", "Non posso confermare questa informazione."),
    ("nl", "Helaas kan ik dat niet vinden in de documentatie."),
    ("nl", "Ik heb daar geen informatie over."),
    ("nl", "Ik kan dit niet bevestigen."),
    ("pl", "Niestety nie mam informacji na ten temat."),
    ("pl", "Nie potrafię odpowiedzieć na to pytanie."),
    ("pl", "Nie znalazłem tego w dokumentacji."),
    ("pt", "Infelizmente não tenho informações sobre isso."),
    ("pt", "Não consigo responder a essa pergunta."),
    ("pt", "Não encontrei isso nos documentos."),
]
QUESTIONS = {
    "en": ("Is dental care covered?", "What about my teeth, does the plan pay?", "Dentist costs, yes or no?"),
    "fr": ("Les soins dentaires sont-ils couverts ?", "Et le dentiste, c'est remboursé ?", "Dentiste, oui ou non ?"),
    "de": ("Ist Zahnbehandlung versichert?", "Zahlt der Tarif den Zahnarzt?", "Zahnarzt, ja oder nein?"),
    "es": ("¿Cubre el dentista?", "¿Y los dientes, lo paga el seguro?", "¿Dentista sí o no?"),
    "it": ("Il dentista è coperto?", "E i denti, li paga la polizza?", "Dentista sì o no?"),
    "nl": ("Wordt de tandarts vergoed?", "En mijn gebit, betaalt de polis?", "Tandarts, ja of nee?"),
    "pl": ("Czy dentysta jest objęty?", "A zęby, czy polisa płaci?", "Dentysta, tak czy nie?"),
    "pt": ("O dentista está coberto?", "E os dentes, o seguro paga?", "Dentista, sim ou não?"),
}


@pytest.mark.parametrize(("language", "hedge"), HEDGES)
def test_a_user_asking_again_after_the_bot_hedged_twice_goes_to_a_person(language: str, hedge: str) -> None:
    first, second, third = QUESTIONS[language]
    turns = [user(first), bot(hedge), user(second), bot(hedge), user(third)]
    decision = decide(turns, RULES)
    assert (decision.reason, decision.signals["low_confidence_streak"]) == ("low_confidence", 2)


@pytest.mark.parametrize(("language", "hedge"), HEDGES)
def test_a_single_hedge_or_a_confident_answer_in_between_keeps_the_bot(language: str, hedge: str) -> None:
    first, second, third = QUESTIONS[language]
    assert decide([user(first), bot(hedge), user(second)], RULES).escalate is False
    assert decide([user(first), bot(hedge), user(second), bot(CITED), user(third)], RULES).escalate is False


def test_confidence_scores_decide_over_wording() -> None:
    hedged = [user("a"), bot("Here it is.", 0.1), user("b"), bot("Here it is.", 0.2), user("c")]
    assert decide(hedged, RULES).reason == "low_confidence"
    sure = [user("a"), bot("I'm not sure.", 0.9), user("b"), bot("I'm not sure.", 0.9), user("c")]
    assert decide(sure, RULES).escalate is False


@pytest.mark.parametrize(
    "event",
    [
        "PaymentGateway: status=PENDING after 45s",
        "[core-banking] ERR_TIMED_OUT waiting for settlement",
        "txn 8812 state: UNKNOWN",
        "refundService.requestRefund -> no ack received",
        "order-svc accepted the cancellation; outcome undetermined",
        "WARN transfer stuck in PROCESSING since 10:02",
        "payment may have been debited twice, reconciliation running",
        "Zahlungsstatus: ausstehend (keine Rückmeldung der Bank)",
        "virement : statut indéterminé, en attente de la banque",
        "pago: estado desconocido, pendiente de confirmación",
        "bonifico in sospeso, esito sconosciuto",
        "overboeking: status onbekend, wacht op bevestiging",
        "przelew: status nieznany, brak potwierdzenia",
        "transferência: estado pendente, sem confirmação do banco",
    ],
)
def test_an_event_with_an_uncertain_outcome_goes_to_a_person(event: str) -> None:
    decision = decide([user("Please pay the invoice."), Turn(role="event", text=event)], RULES)
    assert decision.reason == "system_failure"
    assert decision.detail.startswith("system event with an uncertain outcome")


@pytest.mark.parametrize(
    "event",
    [
        "PaymentGateway: status=COMPLETED ref=88213",
        "[core-banking] transfer settled OK",
        "crmUpdate: SUCCESS",
        "session resumed",
        "Zahlung erfolgreich abgeschlossen",
        "paiement confirmé",
        "pago completado",
        "pagamento confermato",
        "betaling voltooid",
        "płatność zakończona",
        "pagamento concluído",
    ],
)
def test_a_benign_event_keeps_the_bot(event: str) -> None:
    assert decide([user("Please pay the invoice."), Turn(role="event", text=event)], RULES).escalate is False


def test_dialogue_rows_spell_out_every_turn_and_a_bad_turn_is_named() -> None:
    family = Family("xx-a", "en", "low_confidence", "general", "dialogue", ("U: a || A0.2: not sure || E: timed out",))
    turns = next(iter(rows([family])))["turns"]
    assert turns == [
        {"role": "user", "text": "a"},
        {"role": "assistant", "text": "not sure", "confidence": 0.2},
        {"role": "event", "text": "timed out"},
    ]
    for bad in ("X: who", "U:", "Aa: text", "no speaker"):
        broken = Family("xx-b", "en", "none", "routine", "dialogue", (bad,))
        with pytest.raises(InvalidRequest, match=r"dialogue turn|confidence"):
            list(rows([broken]))


class _AlwaysFires:
    """Heads that fire on everything: only the look-alike guards can keep the bot."""

    def __init__(self, *fire: str) -> None:
        self._fire = fire

    def score(self, text: str, features: ConversationFeatures) -> HeadScores:
        probabilities = {h: 0.99 if h in self._fire else 0.01 for h in HEADS}
        return HeadScores(probabilities, dict.fromkeys(HEADS, 0.5), "hardship", 0.5)

    def encode(self, texts: Any) -> Any:
        return np.eye(len(texts), 4, dtype=np.float32)


def test_an_explicit_request_the_self_harm_head_alone_hears_is_urgent_without_crisis_lines() -> None:
    heads = _AlwaysFires("self_harm")
    decision = decide([Turn(role="user", text="I want to talk to a human")], heads=heads)
    assert (decision.reason, decision.urgency) == ("explicit_request", "urgent")
    assert decide([Turn(role="user", text="I feel so low today")], heads=heads).intent == "self_harm"
    # Words of self-harm always get the support message, whatever else the message asks
    words = decide([Turn(role="user", text="I want to end my life, let me talk to a human")], heads=_AlwaysFires())
    assert (decision.urgency, words.intent) == ("urgent", "self_harm")


@pytest.mark.parametrize(
    ("fire", "lookalike", "real"),
    [
        ("explicit_request", "Can I speak to someone in human resources?", "Can I speak to someone?"),
        ("account_closure", "How do I close a ticket?", "How do I close it all?"),
        ("fraud", "Where is the fraud awareness training?", "Where did this payment come from?"),
    ],
)
def test_the_lookalike_guards_of_the_patterns_hold_for_the_heads(fire: str, lookalike: str, real: str) -> None:
    heads = _AlwaysFires(fire)
    assert decide([user(lookalike)], heads=heads).escalate is False
    assert decide([user(real)], heads=heads).escalate is True


def test_replaying_a_transcript_escalates_on_the_third_ask() -> None:
    hedge = "Unfortunately I couldn't find that."
    turns = [user("a?"), bot(hedge), user("b?"), bot(hedge), user("c?"), bot(hedge)]
    assert first_escalation(turns, RULES).reason == "low_confidence"
    assert first_escalation(turns[:4], RULES).escalate is False


def user(text: str) -> Turn:
    return Turn(role="user", text=text)


def bot(text: str, confidence: float | None = None) -> Turn:
    return Turn(role="assistant", text=text, confidence=confidence)


@pytest.mark.parametrize(
    "text",
    [
        "Can I speak to someone in HR about my holiday allowance?",
        "Kan ik met iemand van HR praten over mijn vakantiedagen?",
        "Czy mogę porozmawiać z kimś z HR o moim urlopie?",
        "Does a real person review expense claims over 500 euros?",
        "Est-ce qu'une vraie personne vérifie les notes de frais ?",
        "Prüft ein echter Mensch die Spesenabrechnungen?",
        "¿Una persona real revisa los gastos grandes?",
        "Uma pessoa real verifica as despesas acima de 500 euros?",
    ],
)
def test_hr_and_a_person_as_a_step_of_a_process_are_not_requests_for_one(text: str) -> None:
    assert decide([user(text)], RULES).escalate is False


@pytest.mark.parametrize(
    "text",
    [
        "Can a real person check my account please?",
        "Will someone look at my case?",
        "Je voudrais qu'une vraie personne vérifie mon dossier.",
        "Quiero que una persona real revise mi caso.",
        "I want to talk to a real person, not a bot.",
    ],
)
def test_a_request_for_a_real_person_is_still_honoured(text: str) -> None:
    assert decide([user(text)], RULES).reason == "explicit_request"


def test_a_shouted_message_is_embedded_as_the_same_words_in_lower_case() -> None:
    from keel.escalation.heads import embedding_key

    assert embedding_key("WHY DOES THIS NEVER WORK WHEN I NEED IT") == embedding_key(
        "why does this never work when i need it"
    )
    assert embedding_key("My IBAN is wrong") == "My IBAN is wrong"  # a few capitals are not shouting
    assert embedding_key("OK") == "OK"  # too short to tell
