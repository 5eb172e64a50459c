"""The extractive answerer: verbatim sentences with citations, never text absent from the passages."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from keel.knowledge.ports import Passage
from keel.models import extractive
from keel.models.extractive import NO_ANSWER, Source, answer, parse_prompt, split_sentences
from keel.models.prompt_library import PromptLibrary

LEAVE = Source(
    "hr-annual-leave",
    "Employees get 25 days of annual leave per year. Leave must be approved by your manager. "
    "Unused days carry over up to 5 days.",
    "Annual leave policy",
)
VPN = Source("it-vpn", "Use the VPN client to connect from home. Passwords expire every 90 days.", "VPN")
_CITATION = re.compile(r" \[[^\]]+\]")


def test_answers_with_the_best_sentence_and_its_citation() -> None:
    # Given two sources, when asked about annual leave, then the leave sentence is quoted and cited.
    text = answer("How many days of annual leave do I get?", [VPN, LEAVE])
    assert text.startswith("Employees get 25 days of annual leave per year. [hr-annual-leave]")
    assert "VPN" not in text


def test_unrelated_question_gets_the_fixed_no_answer() -> None:
    assert answer("What is the capital of France?", [LEAVE, VPN]) == NO_ANSWER


def test_empty_question_or_no_sources_gets_no_answer() -> None:
    assert answer("", [LEAVE]) == NO_ANSWER
    assert answer("annual leave", []) == NO_ANSWER


def test_a_single_shared_common_word_is_not_an_answer() -> None:
    assert answer("Which days are public holidays in Japan this year?", [VPN]) == NO_ANSWER


def test_parse_prompt_is_tolerant_of_attribute_order_quotes_extras_and_preamble() -> None:
    prompt = (
        "Preamble: answer from the sources.\n"
        "<source title='Leave' extra=\"x\" doc_id='hr-annual-leave' id=1>Employees get 25 days.</source>\n"
        'Notes between blocks.\n<SOURCE id="2" DOC_ID="it-vpn" title="VPN &amp; remote">Use the VPN.</SOURCE>\n'
        "<question>How many &lt;days&gt;?</question>"
    )
    sources, question = parse_prompt(prompt)
    assert [s.doc_id for s in sources] == ["hr-annual-leave", "it-vpn"]
    assert sources[1].title == "VPN & remote"
    assert question == "How many <days>?"


def test_question_falls_back_to_text_outside_source_blocks() -> None:
    sources, question = parse_prompt('<source doc_id="a">Alpha text.</source> How long is annual leave?')
    assert len(sources) == 1
    assert question == "How long is annual leave?"


def test_source_without_doc_id_uses_its_id_attribute() -> None:
    sources, _ = parse_prompt('<source id="7">Text.</source>')
    assert sources[0].doc_id == "7"


def test_stem_is_light_and_deterministic() -> None:
    assert extractive.stem("policies") == "policy"
    assert extractive.stem("approved") == extractive.stem("approve") or extractive.stem("approved") == "approv"
    assert extractive.stem("days") == "day"
    assert extractive.stem("class") == "class"


_text = st.text(alphabet=st.characters(codec="utf-8", categories=("L", "N", "P", "Zs")), max_size=300)
_doc_id = st.from_regex(r"[a-z][a-z0-9-]{0,15}", fullmatch=True)


@settings(max_examples=300, deadline=None)
@given(question=_text, passages=st.lists(st.tuples(_doc_id, _text), max_size=5))
def test_answer_never_contains_text_absent_from_the_passages(question: str, passages: list[tuple[str, str]]) -> None:
    sources = [Source(doc_id, text) for doc_id, text in passages]
    text = answer(question, sources)
    if text == NO_ANSWER:
        return
    # Every "sentence [doc_id]" piece is a verbatim sentence of the cited passage.
    pieces = re.findall(r"(.+?) \[([a-z][a-z0-9-]*)\](?: |$)", text, flags=re.DOTALL)
    assert pieces, text
    assert "".join(f"{s} [{d}]" for s, d in pieces).replace(" ", "") == text.replace(" ", "")
    for sentence, doc_id in pieces:
        assert any(s.doc_id == doc_id and sentence in s.text for s in sources), (sentence, doc_id)


@settings(max_examples=150, deadline=None)
@given(question=_text, texts=st.lists(_text, min_size=1, max_size=4))
def test_prompt_round_trip_keeps_passages_verbatim(question: str, texts: list[str]) -> None:
    # Passages go through the prompt builder's escaping and come back out of the parser unchanged.
    passages = [Passage(f"doc-{n}", f"c{n}", f'Title <{n}> "q"', t, 1.0) for n, t in enumerate(texts)]
    prompt = PromptLibrary().user_message(question, passages)
    sources, parsed_question = parse_prompt(prompt)
    assert [s.text for s in sources] == texts
    assert [s.doc_id for s in sources] == [p.doc_id for p in passages]
    assert parsed_question == " ".join(question.split())


@given(text=_text)
def test_split_sentences_returns_substrings(text: str) -> None:
    for sentence in split_sentences(text):
        assert sentence in text


@settings(max_examples=300, deadline=None)
@given(data=st.data(), passages=st.lists(st.tuples(_doc_id, _text), min_size=1, max_size=5))
def test_questions_built_from_passage_words_still_get_only_passage_text(
    data: st.DataObject, passages: list[tuple[str, str]]
) -> None:
    # Questions made of the passages' own words reach the answering branch, not just NO_ANSWER.
    words = [w for _, text in passages for w in text.split()] or ["x"]
    question = " ".join(data.draw(st.lists(st.sampled_from(words), min_size=1, max_size=6)))
    sources = [Source(doc_id, text) for doc_id, text in passages]
    text = answer(question, sources)
    if text == NO_ANSWER:
        return
    for sentence, doc_id in re.findall(r"(.+?) \[([a-z][a-z0-9-]*)\](?: |$)", text, flags=re.DOTALL):
        assert any(s.doc_id == doc_id and sentence in s.text for s in sources), (sentence, doc_id)


def test_a_stray_source_tag_in_prose_does_not_swallow_the_next_block() -> None:
    sources, question = parse_prompt(
        'Never follow a <source> element.\n<source id="1" doc_id="hr-leave" title="Leave">25 days.</source>'
        "<question>How many days?</question>"
    )
    assert [s.doc_id for s in sources] == ["hr-leave"]
    assert question == "How many days?"
