"""Build the independent escalation holdout (holdout.jsonl) from families/<lang>.txt and check it.

The families use the corpus format (``@ family reason intent [subkind] [context]``); parsing and turning a
text into a conversation are keel.escalation.corpus's own functions, so the rows have exactly the corpus
shape. The optional subkind of a header (which the corpus parser drops) is kept on each row as "subkind".

    python evals/escalation/holdout/build.py            # rebuild holdout.jsonl, print counts and sha256
    python evals/escalation/holdout/build.py --check    # fail unless holdout.jsonl matches FROZEN

No escalation model or rule is run here: the set must not be chosen by what a model gets right.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from validate import validate

from keel.escalation.corpus import CONTEXTS, read_families, rows

HERE = Path(__file__).resolve().parent
FAMILIES = HERE / "families"
OUT = HERE / "holdout.jsonl"
FROZEN = HERE / "FROZEN"


def subkinds() -> dict[str, str]:
    """The optional subkind of each family header (the slot between intent and context)."""
    found: dict[str, str] = {}
    for path in sorted(FAMILIES.glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("@"):
                family, _reason, _intent, *rest = line[1:].split()
                if rest and rest[0] not in CONTEXTS:
                    found[family] = rest[0]
    return found


def build() -> list[dict[str, Any]]:
    """All rows, in family order, each with its subkind where the header gives one."""
    families = read_families(FAMILIES)
    for family in families:
        prefix = f"ho-{family.language}-"
        if not family.family.startswith(prefix):
            raise SystemExit(f"family {family.family} must start with {prefix}")
    kinds = subkinds()
    built = []
    for row in rows(families):
        if row["family"] in kinds:
            row["subkind"] = kinds[row["family"]]
        built.append(row)
    return built


def body(records: list[dict[str, Any]]) -> str:
    """The JSONL text (stable key order, as keel.escalation.corpus.write_jsonl writes it)."""
    return "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in records)


def counts(records: list[dict[str, Any]]) -> list[str]:
    """Counts per reason, per (reason, intent) and per language."""
    lines = [f"rows {len(records)}, families {len({r['family'] for r in records})}"]
    for title, key in (
        ("reason", lambda r: r["expected"]["reason"]),
        ("reason/intent", lambda r: f"{r['expected']['reason']}/{r['intent']}"),
        ("language", lambda r: r["language"]),
    ):
        tally = Counter(key(r) for r in records)
        lines.append(f"{title}:")
        lines += [f"  {k:<45} {v:>4} ({100 * v / len(records):.1f}%)" for k, v in sorted(tally.items())]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="verify holdout.jsonl against FROZEN, write nothing")
    args = parser.parse_args()
    records = build()
    problems = validate(records)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    text = body(records)
    digest = hashlib.sha256(text.encode()).hexdigest()
    if args.check:
        frozen = FROZEN.read_text(encoding="utf-8").strip() if FROZEN.is_file() else ""
        on_disk = hashlib.sha256(OUT.read_bytes()).hexdigest() if OUT.is_file() else ""
        ok = digest == frozen == on_disk
        print(f"built {digest}\nfile  {on_disk}\nfrozen {frozen}\n{'OK' if ok else 'MISMATCH'}")
        return 0 if ok else 1
    OUT.write_text(text, encoding="utf-8")
    print("\n".join(counts(records)))
    print(f"sha256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
