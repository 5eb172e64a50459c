"""Parsing: every supported format yields sections and validated metadata; bad input is rejected with a reason."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keel.knowledge.documents import RejectedDocument, SourceFile, build_meta
from keel.knowledge.parsing import markdown_sections, parse_jsonl_rows, parse_source
from keel.knowledge.ports import CLASSIFICATIONS
from tests.unit.knowledge.conftest import markdown


def minimal_pdf(text: str) -> bytes:
    """A one-page PDF with one line of Helvetica text (built by hand, offsets computed)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def test_markdown_front_matter_becomes_metadata_and_headings_split_sections() -> None:
    source = markdown("hr-leave", "# Leave\nIntro.\n\n## Carry over\nUp to 5 days.\n", version=3)
    (doc,) = parse_source(source)
    assert doc.meta.id == "hr-leave" and doc.meta.version == 3
    assert doc.meta.acl_groups == ("all-staff",) and doc.meta.classification == "internal"
    assert [s.heading for s in doc.sections] == ["Leave", "Carry over"]
    assert doc.sections[1].text == "Up to 5 days."


def test_headings_inside_code_fences_are_text() -> None:
    sections = markdown_sections("# Real\n```\n# not a heading\n```\n")
    assert [s.heading for s in sections] == ["Real"]
    assert "# not a heading" in sections[0].text


def test_document_without_acl_is_rejected_with_the_reason() -> None:
    with pytest.raises(RejectedDocument, match="missing ACL metadata"):
        parse_source(markdown("it-drives", "# Drives\ntext", acl_groups=None))


def test_empty_acl_list_is_rejected() -> None:
    with pytest.raises(RejectedDocument, match="acl_groups is absent or empty"):
        parse_source(markdown("it-drives", "# Drives\ntext", acl_groups=[]))


@given(st.text(min_size=1, max_size=20).filter(lambda s: s.strip().lower() not in CLASSIFICATIONS))
def test_any_unknown_classification_is_rejected(classification: str) -> None:
    raw = {"id": "d", "acl_groups": ["all-staff"], "classification": classification}
    with pytest.raises(RejectedDocument, match="classification"):
        build_meta("d.md", raw, fallback_title=None)


def test_missing_classification_is_rejected() -> None:
    with pytest.raises(RejectedDocument, match="missing classification"):
        parse_source(markdown("d", "# T\nx", classification=None))


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"status": "maybe"}, "unknown status"),
        ({"version": "two"}, "invalid version"),
        ({"version": 0}, "invalid version"),
        ({"updated_at": "last tuesday"}, "invalid updated_at"),
        ({"id": "has space"}, "invalid id"),
        ({"acl_groups": ["ok", "no spaces allowed"]}, "invalid acl_groups"),
    ],
)
def test_bad_metadata_values_are_rejected(override: dict[str, object], message: str) -> None:
    with pytest.raises(RejectedDocument, match=message):
        parse_source(markdown("d", "# T\nx", **override))


def test_invalid_yaml_front_matter_is_rejected() -> None:
    source = SourceFile("bad.md", b"---\nid: [unclosed\n---\n# T\n")
    with pytest.raises(RejectedDocument, match="not valid YAML"):
        parse_source(source)


def test_sidecar_supplies_metadata_and_tags_override_it() -> None:
    sidecar = {"acl_groups": ["finance"], "classification": "confidential", "department": "finance"}
    tags = {"classification": "restricted", "acl_groups": "finance+payroll-admins"}
    (doc,) = parse_source(SourceFile("notes.txt", b"Budget rules\nAll spend needs a PO.", sidecar, tags))
    assert doc.meta.id == "notes" and doc.meta.title == "Budget rules"
    assert doc.meta.classification == "restricted"
    assert doc.meta.acl_groups == ("finance", "payroll-admins")
    assert doc.meta.department == "finance"


def test_html_meta_tags_title_and_headings() -> None:
    html = (
        "<html><head><title>VPN guide</title><meta name='acl_groups' content='all-staff'>"
        "<meta name='keel:classification' content='internal'></head><body><nav>menu</nav>"
        "<h1>VPN</h1><p>Use <b>GlobalProtect</b>.</p><script>evil()</script>"
        "<h2>Install</h2><ul><li><p>Open the portal</p></li></ul></body></html>"
    )
    (doc,) = parse_source(SourceFile("vpn.html", html.encode()))
    assert doc.meta.title == "VPN guide"
    assert [s.heading for s in doc.sections] == ["VPN", "Install"]
    assert doc.sections[0].text == "Use GlobalProtect ."
    assert doc.sections[1].text == "- Open the portal"
    assert "evil" not in doc.body and "menu" not in doc.body


def test_pdf_text_is_extracted_page_by_page() -> None:
    meta = {"acl_groups": ["all-staff"], "classification": "internal", "title": "Guide"}
    (doc,) = parse_source(SourceFile("guide.pdf", minimal_pdf("Hello PDF world"), meta))
    assert doc.sections[0].heading == "Page 1"
    assert "Hello PDF world" in doc.sections[0].text


def test_unparseable_pdf_is_rejected() -> None:
    meta = {"acl_groups": ["all-staff"], "classification": "internal"}
    with pytest.raises(RejectedDocument, match=r"PDF|no text"):
        parse_source(SourceFile("broken.pdf", b"%PDF-1.4 this is not a pdf", meta))


def test_unsupported_type_and_binary_text_are_rejected() -> None:
    with pytest.raises(RejectedDocument, match=r"unsupported file type '\.docx'"):
        parse_source(SourceFile("a.docx", b"PK"))
    with pytest.raises(RejectedDocument, match="not valid UTF-8"):
        parse_source(SourceFile("a.txt", b"\xff\xfe\xfa"))


def test_empty_file_is_rejected() -> None:
    with pytest.raises(RejectedDocument, match="no text"):
        parse_source(SourceFile("a.txt", b"  \n", {"acl_groups": ["x"], "classification": "internal"}))


def test_jsonl_rows_each_become_a_document_and_bad_rows_are_rejected() -> None:
    good = {"id": "faq-1", "title": "FAQ", "text": "# Q\nA.", "acl_groups": ["public"], "classification": "public"}
    no_acl = {"id": "faq-2", "text": "x", "classification": "internal"}
    public_no_acl = {"id": "faq-5", "body": "# Q\nB.", "classification": "public"}
    lines = [json.dumps(good), "{not json", json.dumps(no_acl), json.dumps({"id": "faq-3"}), json.dumps(public_no_acl)]
    results = parse_jsonl_rows(SourceFile("faq.jsonl", "\n".join(lines).encode()))
    docs = [r for r in results if not isinstance(r, RejectedDocument)]
    rejected = {r.name: r.reason for r in results if isinstance(r, RejectedDocument)}
    # A public row needs no acl_groups (everyone may read it); any other row without them is refused.
    assert [d.id for d in docs] == ["faq-1", "faq-5"]
    assert docs[1].meta.acl_groups == ("public",)
    assert "not valid JSON" in rejected["faq.jsonl:2"]
    assert "missing ACL" in rejected["faq.jsonl:3"]
    assert "non-empty 'text'" in rejected["faq.jsonl:4"]
