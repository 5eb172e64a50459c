"""Parsers: Markdown (YAML front matter), HTML, plain text, PDF and JSONL rows into validated Documents."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import yaml

from keel.knowledge.documents import (
    METADATA_KEYS,
    Document,
    RejectedDocument,
    Section,
    SourceFile,
    build_meta,
)

SUPPORTED_SUFFIXES: tuple[str, ...] = (".md", ".markdown", ".html", ".htm", ".txt", ".pdf", ".jsonl")
SIDECAR_SUFFIX = ".meta.json"
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*(?:\n|\Z)", re.DOTALL)
_BLOCK_TAGS = "h1,h2,h3,h4,h5,h6,p,li,pre,td,th,blockquote,dt,dd,figcaption"
_HEADING_TAGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROW_BYTES = 1024 * 1024


def size_problem(size: int, *, limit: int, what: str) -> str | None:
    """Why something of `size` bytes is refused (the limit named), or None when it fits."""
    if size <= limit:
        return None
    return f"{what} is {_human(size)}; the limit is {_human(limit)} per {what}"


def _human(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    return f"{size / 1024:.1f} KB"


def suffix_of(name: str) -> str:
    """The lower-case suffix that picks the parser ('' when there is none)."""
    base = name.rsplit("/", 1)[-1].lower()
    return "." + base.rsplit(".", 1)[-1] if "." in base else ""


def is_sidecar(name: str) -> bool:
    """True for `<file>.meta.json` metadata files, which are not documents themselves."""
    return name.lower().endswith(SIDECAR_SUFFIX)


def parse_source(source: SourceFile) -> list[Document]:
    """Parse one file into documents (JSONL gives several); raise RejectedDocument when it cannot."""
    suffix = suffix_of(source.name)
    if suffix not in SUPPORTED_SUFFIXES:
        raise RejectedDocument(
            source.name, f"unsupported file type {suffix or '(none)'!r}; accepted: {', '.join(SUPPORTED_SUFFIXES)}"
        )
    too_big = size_problem(source.byte_size, limit=MAX_FILE_BYTES, what="file")
    if too_big:
        raise RejectedDocument(source.name, too_big)
    if suffix == ".jsonl":
        raise RejectedDocument(source.name, "JSONL files hold many documents; use parse_jsonl_rows")
    if suffix == ".pdf":
        embedded: dict[str, Any] = {}
        sections = _pdf_sections(source)
    else:
        text = _decode(source)
        if suffix in (".md", ".markdown"):
            embedded, body = _front_matter(source.name, text)
            sections = markdown_sections(body)
        elif suffix in (".html", ".htm"):
            embedded, sections = _html(source.name, text)
        else:
            embedded, sections = {}, _plain_sections(text)
    if not any(section.text.strip() or section.heading for section in sections):
        raise RejectedDocument(source.name, "no text could be extracted (empty or image-only file)")
    raw = merge_metadata(embedded, source.sidecar, source.tags)
    meta = build_meta(source.name, raw, fallback_title=_first_heading(sections))
    return [Document(meta=meta, sections=tuple(sections), origin_name=source.name)]


def parse_jsonl_rows(source: SourceFile) -> list[Document | RejectedDocument]:
    """Each line of a JSONL file is one document {id,title,text,acl_groups,classification,...}."""
    too_big = size_problem(source.byte_size, limit=MAX_FILE_BYTES, what="file")
    if too_big:
        return [RejectedDocument(source.name, too_big)]
    results: list[Document | RejectedDocument] = []
    text = _decode(source)
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name = f"{source.name}:{number}"
        row_too_big = size_problem(len(line.encode()), limit=MAX_ROW_BYTES, what="row")
        if row_too_big:
            results.append(RejectedDocument(name, row_too_big))
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            results.append(RejectedDocument(name, f"line is not valid JSON ({exc.msg})"))
            continue
        body = _row_text(row)
        if body is None:
            results.append(
                RejectedDocument(name, "a row must be a JSON object with a non-empty 'text' (or 'body', 'content')")
            )
            continue
        try:
            raw = merge_metadata(row, source.sidecar, source.tags)
            sections = markdown_sections(body)
            meta = build_meta(name, raw, fallback_title=_first_heading(sections))
        except RejectedDocument as exc:
            results.append(exc)
            continue
        results.append(Document(meta=meta, sections=tuple(sections), origin_name=name))
    return results


def _row_text(row: Any) -> str | None:
    if not isinstance(row, dict):
        return None
    for key in ("text", "body", "content"):
        value = row.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return None


def merge_metadata(embedded: dict[str, Any], sidecar: dict[str, Any] | None, tags: dict[str, str]) -> dict[str, Any]:
    """Embedded metadata, overridden by the sidecar, overridden by object tags (set by the bucket owner)."""
    merged: dict[str, Any] = {}
    for layer in (embedded, sidecar or {}, tags):
        for key in METADATA_KEYS:
            if key in layer and layer[key] is not None:
                merged[key] = layer[key]
    return merged


def markdown_sections(body: str) -> list[Section]:
    """Split Markdown at headings; each section keeps its heading (code fences are not split)."""
    sections: list[Section] = []
    heading: str | None = None
    level = 0
    lines: list[str] = []
    in_fence = False
    for line in body.splitlines():
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(line)
        if match:
            if heading is not None or "".join(lines).strip():
                sections.append(Section(heading=heading, text="\n".join(lines).strip(), level=level))
            heading, level, lines = match.group(2).strip(), len(match.group(1)), []
        else:
            lines.append(line)
    if heading is not None or "".join(lines).strip():
        sections.append(Section(heading=heading, text="\n".join(lines).strip(), level=level))
    return sections


def _decode(source: SourceFile) -> str:
    try:
        return source.data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RejectedDocument(source.name, "file is not valid UTF-8 text") from None


def _front_matter(name: str, text: str) -> tuple[dict[str, Any], str]:
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError as exc:
        raise RejectedDocument(name, f"front matter is not valid YAML ({exc.__class__.__name__})") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise RejectedDocument(name, "front matter must be a YAML mapping of key: value")
    return data, text[match.end() :]


def _html(name: str, text: str) -> tuple[dict[str, Any], list[Section]]:
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(text)
    embedded: dict[str, Any] = {}
    for node in tree.css("meta"):
        key = (node.attributes.get("name") or "").strip().lower().removeprefix("keel:")
        if key in METADATA_KEYS and node.attributes.get("content") is not None:
            embedded[key] = node.attributes["content"]
    title_node = tree.css_first("title")
    if title_node is not None and "title" not in embedded and title_node.text(strip=True):
        embedded["title"] = title_node.text(strip=True)
    for node in tree.css("script,style,nav,noscript,template"):
        node.decompose()
    sections: list[Section] = []
    heading: str | None = None
    level = 0
    lines: list[str] = []
    for node in tree.css(_BLOCK_TAGS):
        if _inside_block(node):
            continue
        content = node.text(separator=" ", strip=True)
        if not content:
            continue
        if node.tag in _HEADING_TAGS:
            if heading is not None or lines:
                sections.append(Section(heading=heading, text="\n".join(lines), level=level))
            heading, level, lines = content, _HEADING_TAGS[node.tag], []
        else:
            lines.append(f"- {content}" if node.tag == "li" else content)
    if heading is not None or lines:
        sections.append(Section(heading=heading, text="\n".join(lines), level=level))
    return embedded, sections


def _inside_block(node: Any) -> bool:
    # A <p> inside an <li> or <td> is already part of its parent's text.
    parent = node.parent
    while parent is not None:
        if parent.tag in ("li", "td", "th", "blockquote", "pre", "dd"):
            return True
        parent = parent.parent
    return False


def _plain_sections(text: str) -> list[Section]:
    return [Section(heading=None, text=text.strip())] if text.strip() else []


def _pdf_sections(source: SourceFile) -> list[Section]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(source.data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise RejectedDocument(source.name, f"unparseable PDF ({exc.__class__.__name__})") from None
    return [
        Section(heading=f"Page {number}", text=text.strip(), level=1)
        for number, text in enumerate(pages, start=1)
        if text.strip()
    ]


def _first_heading(sections: list[Section]) -> str | None:
    for section in sections:
        if section.heading:
            return section.heading
    for section in sections:
        first = section.text.strip().splitlines()[0] if section.text.strip() else ""
        if first:
            return first[:120]
    return None
