"""Build the independent PII holdout (holdout.jsonl) from cases.txt, and validate it.

Usage (from the repository root):
    python evals/pii/holdout/build.py            # validates, writes holdout.jsonl, prints counts
    python evals/pii/holdout/build.py --check    # rebuilds in memory, compares with FROZEN

Standard library only. No Keel model or masker is imported or run: the set is not selected by
what any model gets right or wrong.

cases.txt: one row per line, "family | lang | flags | text"; flags is "LA" for look-alike rows
(which must carry no entity) or "-". Entities are marked inline as [[TYPE|value]]; a literal
backslash-n in text is a line break. Spans are [start, end) offsets in Python str (code point) units.
"""

from __future__ import annotations

import collections
import hashlib
import itertools
import json
import pathlib
import re
import sys

HERE = pathlib.Path(__file__).resolve().parent
LANGS = ("en", "fr", "de", "es", "it", "nl", "pl", "pt")
TYPES = (
    "SECRET", "PASSPORT", "ADDRESS", "PERSON", "EMAIL", "PHONE",
    "IBAN", "CREDIT_CARD", "US_SSN", "IP_ADDRESS",
)  # fmt: skip
MARKUP = re.compile(r"\[\[([A-Z_]+)\|(.*?)\]\]", re.DOTALL)
EXAMPLE_EMAIL = re.compile(r"[\w.+-]+@([\w-]+\.)*example(\.[a-z]{2,3})+")
IBAN_LENGTHS = {"DE": 22, "FR": 27, "ES": 24, "IT": 27, "NL": 18, "PL": 28, "PT": 25, "GB": 22}


class CaseError(ValueError):
    pass


def iban_ok(value: str) -> bool:
    s = value.replace(" ", "")
    if IBAN_LENGTHS.get(s[:2]) != len(s):
        return False
    moved = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def luhn_ok(value: str) -> bool:
    digits = [int(c) for c in value if c.isdigit()]
    total = 0
    for i, d in enumerate(reversed(digits)):
        total += (d * 2 - 9 if d > 4 else d * 2) if i % 2 == 1 else d
    return 13 <= len(digits) <= 19 and total % 10 == 0


def ssn_ok(value: str) -> bool:
    m = re.fullmatch(r"(\d{3})-(\d{2})-(\d{4})", value)
    if not m:
        return False
    area, group, serial = m.groups()
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


def check_value(kind: str, value: str, where: str) -> None:
    if value != value.strip() or not value:
        raise CaseError(f"{where}: {kind} value {value!r} has surrounding spaces or is empty")
    if kind == "IBAN" and not iban_ok(value):
        raise CaseError(f"{where}: IBAN {value} fails its length or mod-97 check")
    if kind == "CREDIT_CARD" and not luhn_ok(value):
        raise CaseError(f"{where}: card {value} fails the Luhn check")
    if kind == "US_SSN" and not ssn_ok(value):
        raise CaseError(f"{where}: SSN {value} is not in the issued NNN-NN-NNNN shape")
    if kind == "EMAIL" and not EXAMPLE_EMAIL.fullmatch(value):
        raise CaseError(f"{where}: email {value} must use an example domain")
    if kind == "SECRET" and value.startswith("AKIA") and not re.fullmatch(r"AKIA[A-Z0-9]{16}", value):
        raise CaseError(f"{where}: AWS access key id {value} must be AKIA + 16 upper-case alphanumerics")
    if kind == "IP_ADDRESS" and "." in value:
        parts = value.split(".")
        if len(parts) != 4 or not all(p.isdigit() and int(p) < 256 for p in parts):
            raise CaseError(f"{where}: {value} is not a dotted IPv4 address")


def parse_row(line: str, lineno: int) -> dict[str, object]:
    parts = line.split(" | ", 3)
    if len(parts) != 4:
        raise CaseError(f"line {lineno}: expected 'family | lang | flags | text'")
    family, lang, flags, marked = (p.strip() for p in parts)
    where = f"line {lineno} ({family})"
    if lang not in LANGS:
        raise CaseError(f"{where}: language {lang!r} not in {LANGS}")
    if flags not in ("LA", "-"):
        raise CaseError(f"{where}: flags must be 'LA' or '-', got {flags!r}")
    marked = marked.replace("\\n", "\n")
    text, entities, pos = [], [], 0
    length = 0
    for m in MARKUP.finditer(marked):
        kind, value = m.group(1), m.group(2)
        if kind not in TYPES:
            raise CaseError(f"{where}: entity type {kind!r} not in {TYPES}")
        check_value(kind, value, where)
        before = marked[pos : m.start()]
        text.append(before)
        length += len(before)
        entities.append({"type": kind, "start": length, "end": length + len(value)})
        text.append(value)
        length += len(value)
        pos = m.end()
    text.append(marked[pos:])
    plain = "".join(text)
    if "[[" in plain or "]]" in plain:
        raise CaseError(f"{where}: unbalanced [[...]] markup")
    if flags == "LA" and entities:
        raise CaseError(f"{where}: a look-alike row must carry no entities")
    if flags == "-" and not entities:
        raise CaseError(f"{where}: a non-look-alike row needs at least one entity")
    row: dict[str, object] = {"family": family, "lang": lang, "text": plain, "entities": entities}
    if flags == "LA":
        row["lookalike"] = True
    return row


def build(path: pathlib.Path) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    per_lang: collections.Counter[str] = collections.Counter()
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        row = parse_row(line, lineno)
        per_lang[str(row["lang"])] += 1
        rows.append({"id": f"pii-{row['lang']}-{per_lang[str(row['lang'])]:03d}", **row})
    ids = [r["id"] for r in rows]
    texts = [r["text"] for r in rows]
    if len(set(ids)) != len(ids) or len(set(texts)) != len(texts):
        raise CaseError("duplicate ids or duplicate texts")
    return rows


def serialise(rows: list[dict[str, object]]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")


def verify_spans(data: bytes, rows: list[dict[str, object]]) -> None:
    """Re-read the serialised JSONL and check every span against the value marked in cases.txt."""
    marked = [
        [m.group(2).replace("\\n", "\n") for m in MARKUP.finditer(line.split(" | ", 3)[3])]
        for line in (HERE / "cases.txt").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    reread = [json.loads(line) for line in data.decode("utf-8").splitlines()]
    assert len(reread) == len(rows) == len(marked)
    for row, values in zip(reread, marked, strict=True):
        got = [row["text"][e["start"] : e["end"]] for e in row["entities"]]
        if got != values:
            raise CaseError(f"{row['id']}: spans {got} differ from marked values {values}")
        ends = [(e["start"], e["end"]) for e in row["entities"]]
        if ends != sorted(ends) or any(a[1] > b[0] for a, b in itertools.pairwise(ends)):
            raise CaseError(f"{row['id']}: spans overlap or are out of order")


def counts(rows: list[dict[str, object]]) -> str:
    by_type: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    rows_with: dict[str, set[str]] = collections.defaultdict(set)
    for r in rows:
        for e in r["entities"]:  # type: ignore[attr-defined]
            by_type[e["type"]][str(r["lang"])] += 1
            rows_with[e["type"]].add(str(r["id"]))
    la = collections.Counter(str(r["lang"]) for r in rows if r.get("lookalike"))
    n = collections.Counter(str(r["lang"]) for r in rows)
    lines = [
        f"rows {len(rows)}  look-alike rows {sum(la.values())}  "
        f"entities {sum(sum(c.values()) for c in by_type.values())}",
        "| entities of type | " + " | ".join(LANGS) + " | total | rows with it |",
        "|---" * (len(LANGS) + 3) + "|",
    ]
    for t in TYPES:
        c = by_type[t]
        cells = " | ".join(str(c[lg]) for lg in LANGS)
        lines.append(f"| {t} | {cells} | {sum(c.values())} | {len(rows_with[t])} |")
    lines.append("| look-alike rows | " + " | ".join(str(la[lg]) for lg in LANGS) + f" | {sum(la.values())} | |")
    lines.append("| all rows | " + " | ".join(str(n[lg]) for lg in LANGS) + f" | {len(rows)} | |")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    try:
        rows = build(HERE / "cases.txt")
        data = serialise(rows)
        verify_spans(data, rows)
    except CaseError as exc:
        print(f"cases.txt is not valid: {exc}", file=sys.stderr)
        return 2
    digest = hashlib.sha256(data).hexdigest()
    if "--check" in argv:
        frozen = (HERE / "FROZEN").read_text().strip()
        on_disk = hashlib.sha256((HERE / "holdout.jsonl").read_bytes()).hexdigest()
        ok = frozen == digest == on_disk
        print(f"built {digest}\nfile  {on_disk}\nfrozen {frozen}\n{'OK' if ok else 'MISMATCH'}")
        return 0 if ok else 1
    (HERE / "holdout.jsonl").write_bytes(data)
    print(counts(rows))
    print(f"sha256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
