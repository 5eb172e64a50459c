"""Build a text-sourced escalation holdout (holdouts 3 and 4): holdout.jsonl from its src/*.txt families.

Each holdout folder's build.py calls main() with its folder and id prefix; --check verifies the sha256 in FROZEN.

Source format (one file per language, src/<lang>.txt):
  ## slug | reason | intent | subkind      starts a family (id <prefix>-<lang>-<slug>)
  u: text / a: text / a@0.3: text / e: text    a turn (user, assistant, assistant with confidence, event)
  --                                        ends a conversation (row)
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

LANGS = ("en", "fr", "de", "es", "it", "nl", "pl", "pt")
ROLE = {"u": "user", "a": "assistant", "e": "event"}


def parse(folder: Path, prefix: str, lang: str) -> list[dict]:
    rows: list[dict] = []
    fam = None
    turns: list[dict] = []
    count = 0

    def flush() -> None:
        nonlocal turns, count
        if turns:
            count += 1
            reason, intent, subkind = fam[1], fam[2], fam[3]
            row = {"id": f"{fam[0]}-{count:02d}", "family": fam[0], "language": lang, "intent": intent}
            if subkind:
                row["subkind"] = subkind
            row["expected"] = {"escalate": reason != "none", "reason": reason}
            row["turns"] = turns
            rows.append(row)
        turns = []

    for raw in (folder / "src" / f"{lang}.txt").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#!"):
            continue
        if line.startswith("## "):
            flush()
            parts = [p.strip() for p in line[3:].split("|")]
            parts += [""] * (4 - len(parts))
            fam = (f"{prefix}-{lang}-{parts[0]}", parts[1], parts[2], parts[3])
            count = 0
            continue
        if line == "--":
            flush()
            continue
        head, _, text = line.partition(": ")
        conf = None
        if "@" in head:
            head, c = head.split("@")
            conf = float(c)
        turn = {"role": ROLE[head], "text": text.strip()}
        if conf is not None:
            turn["confidence"] = conf
        turns.append(turn)
    flush()
    return rows


def build(folder: Path, prefix: str) -> bytes:
    rows = [r for lang in LANGS for r in parse(folder, prefix, lang)]
    return "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows).encode("utf-8")


def main(folder: Path, prefix: str) -> int:
    """Write the folder's holdout.jsonl, or with --check compare a rebuild with it and with FROZEN."""
    data = build(folder, prefix)
    digest = hashlib.sha256(data).hexdigest()
    if "--check" in sys.argv:
        frozen = (folder / "FROZEN").read_text(encoding="utf-8").strip()
        on_disk = hashlib.sha256((folder / "holdout.jsonl").read_bytes()).hexdigest()
        ok = digest == frozen == on_disk
        print(f"rebuilt {digest}, on disk {on_disk}, FROZEN {frozen}: {'OK' if ok else 'MISMATCH'}")
        return 0 if ok else 1
    (folder / "holdout.jsonl").write_bytes(data)
    print(f"{data.count(10)} rows, sha256 {digest}")
    return 0
