"""Rebuild holdout.jsonl from src/<lang>.yaml (deterministic); --check verifies FROZEN.

    /work/main/.venv/bin/python build.py          # write holdout.jsonl
    /work/main/.venv/bin/python build.py --check  # rebuild in memory, compare with holdout.jsonl and FROZEN

Source format (src/<lang>.yaml): a list of families, each
  {family: slug, reason: ..., intent: ..., subkind: optional, rows: [...]}
where a row is either a plain string (a single user message) or a list of turns
  [role, text] / [role, text, confidence]  with role in user|assistant|event.
A row may also be a mapping {subkind: ..., turns: [...]} to override the family's subkind.
Only stdlib + PyYAML.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
LANGS = ("en", "fr", "de", "es", "it", "nl", "pl", "pt")


def turn(t):
    if isinstance(t, str):
        return {"role": "user", "text": t.strip()}
    role, text = t[0], t[1]
    out = {"role": role, "text": str(text).strip()}
    if len(t) > 2:
        out["confidence"] = float(t[2])
    return out


def build() -> bytes:
    lines = []
    for lang in LANGS:
        src = HERE / "src" / f"{lang}.yaml"
        if not src.is_file():
            continue
        fams = yaml.safe_load(src.read_text(encoding="utf-8")) or []
        seen = set()
        for fam in fams:
            fid = f"h2-{lang}-{fam['family']}"
            if fid in seen:
                raise SystemExit(f"duplicate family {fid}")
            seen.add(fid)
            for n, entry in enumerate(fam["rows"], 1):
                subkind = fam.get("subkind")
                row = entry
                if isinstance(entry, dict):
                    subkind = entry.get("subkind", subkind)
                    row = entry["turns"]
                turns = [turn(row)] if isinstance(row, str) else [turn(t) for t in row]
                rec = {
                    "id": f"{fid}-{n:02d}",
                    "family": fid,
                    "language": lang,
                    "intent": fam["intent"],
                }
                if subkind:
                    rec["subkind"] = subkind
                rec["expected"] = {"escalate": fam["reason"] != "none", "reason": fam["reason"]}
                rec["turns"] = turns
                lines.append(json.dumps(rec, ensure_ascii=False, sort_keys=False))
    return ("\n".join(lines) + "\n").encode("utf-8")


def main() -> int:
    data = build()
    out = HERE / "holdout.jsonl"
    if "--check" in sys.argv:
        digest = hashlib.sha256(data).hexdigest()
        ok = out.is_file() and out.read_bytes() == data
        frozen = (HERE / "FROZEN").read_text(encoding="utf-8").strip() if (HERE / "FROZEN").is_file() else ""
        print(f"rebuild sha256 {digest}; matches holdout.jsonl: {ok}; matches FROZEN: {digest == frozen}")
        return 0 if ok and digest == frozen else 1
    out.write_bytes(data)
    print(f"wrote {out} sha256 {hashlib.sha256(data).hexdigest()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
