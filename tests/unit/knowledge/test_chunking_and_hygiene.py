"""Chunking keeps headings with text and stable ids; hygiene keeps one copy and the newest version."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from keel.knowledge.chunking import chunk_document
from keel.knowledge.documents import Document, Section
from keel.knowledge.hygiene import clean, subject_of
from keel.knowledge.parsing import parse_source
from tests.unit.knowledge.conftest import markdown

NOW = datetime(2026, 11, 1, tzinfo=UTC)
LEAVE = (
    "# Annual leave\nEveryone gets 28 days of paid leave a year, plus public holidays.\n\n"
    "## Carry over\nUp to 5 unused days may be carried into the next year and must be used by March.\n\n"
    "## Long service\nAfter five years of service the allowance rises by one day a year, up to 33 days.\n"
)


def doc(doc_id: str, body: str = LEAVE, **meta: object) -> Document:
    (document,) = parse_source(markdown(doc_id, body, **meta))
    return document


def test_chunk_ids_are_stable_and_numbered() -> None:
    first = chunk_document(doc("hr-leave"))
    again = chunk_document(doc("hr-leave"))
    assert [c.chunk_id for c in first] == [f"hr-leave#{n}" for n in range(len(first))]
    assert first == again


def test_long_section_is_split_with_overlap_and_each_piece_keeps_its_heading() -> None:
    words = " ".join(f"word{n}" for n in range(400))
    chunks = chunk_document(doc("long", f"# Policy\n{words}"), target_chars=300, overlap_chars=60)
    assert len(chunks) > 3
    for chunk in chunks:
        assert chunk.heading == "Policy" and chunk.text.startswith("Policy\n")
    for before, after in itertools.pairwise(chunks):
        assert before.text.split()[-1] in after.text.split()


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text("abcdefgh ", min_size=1, max_size=12),
            st.lists(st.text("xyz", min_size=1, max_size=9), max_size=120),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_every_word_of_the_document_lands_in_a_chunk(sections: list[tuple[str, list[str]]]) -> None:
    document = Document(
        meta=doc("p").meta,
        sections=tuple(Section(heading=h.strip() or None, text=" ".join(ws)) for h, ws in sections),
        origin_name="p.md",
    )
    chunks = chunk_document(document, target_chars=200, overlap_chars=40)
    words_in_chunks = {w for c in chunks for w in c.text.split()}
    for section in document.sections:
        assert set(section.text.split()) <= words_in_chunks


def test_exact_duplicate_keeps_the_newer_version() -> None:
    result = clean([doc("a", version=1), doc("b", version=2)], now=NOW)
    assert [d.id for d in result.keep] == ["b"]
    assert result.duplicates[0].doc_id == "a" and result.duplicates[0].kind == "exact"


def test_near_duplicate_paraphrase_is_detected() -> None:
    reworded = LEAVE.replace("Everyone gets", "All staff get").replace("must be used by", "have to be taken by")
    result = clean([doc("a"), doc("b", reworded)], now=NOW)
    assert len(result.keep) == 1
    assert result.duplicates[0].kind == "near" and result.duplicates[0].similarity >= 0.7


def test_duplicates_with_different_access_are_both_kept() -> None:
    result = clean([doc("a"), doc("b", acl_groups=["hr-admins"])], now=NOW)
    assert {d.id for d in result.keep} == {"a", "b"} and not result.duplicates


def test_supersedes_drops_the_old_version() -> None:
    old = doc("remote-2024", "# Remote\nThree office days.", title="Remote work (2024)")
    new = doc("remote", "# Remote\nTwo office days.", supersedes="remote-2024", title="Remote work", version=2)
    result = clean([old, new], now=NOW)
    assert [d.id for d in result.keep] == ["remote"]
    assert result.superseded[0].doc_id == "remote-2024" and result.superseded[0].by == "remote"
    assert not result.conflicts


def test_same_source_keeps_the_highest_version() -> None:
    v1 = doc("vpn-old", "# VPN\nUse Cisco.", source="wiki://vpn", version=1)
    v2 = doc("vpn", "# VPN\nUse GlobalProtect.", source="wiki://vpn", version=2)
    assert [d.id for d in clean([v1, v2], now=NOW).keep] == ["vpn"]


def test_retired_and_draft_documents_are_not_kept() -> None:
    result = clean([doc("r", status="retired"), doc("d", "# D\nother", status="draft")], now=NOW)
    assert not result.keep
    assert result.drafts == ["d"] and result.superseded[0].reason == "status is retired"


def test_stale_documents_are_flagged_but_kept() -> None:
    result = clean([doc("old", updated_at="2024-01-01")], stale_after_days=365, now=NOW)
    assert [d.id for d in result.keep] == ["old"]
    assert result.stale[0].doc_id == "old" and result.stale[0].age_days > 365


def test_same_subject_different_content_is_a_conflict() -> None:
    a = doc("exp-a", "# Expenses\nClaims within 30 days.", title="Expense policy")
    b = doc("exp-b", "# Expenses\nClaims within 90 days and receipts over 25 EUR.", title="Expense Policy (2025)")
    result = clean([a, b], now=NOW)
    assert result.conflicts[0].subject == "expense policy"
    assert result.conflicts[0].doc_ids == ("exp-a", "exp-b")


def test_subject_ignores_years_versions_and_parentheses() -> None:
    assert subject_of("Remote work policy (2024)") == subject_of("Remote Work Policy v2") == "remote work policy"
