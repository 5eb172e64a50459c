#!/usr/bin/env python3
"""Deterministic builder for the h3g guard holdout. stdlib + PyYAML only.
usage: build.py          -> rebuild holdout.jsonl from src/*.yaml
       build.py --check  -> rebuild in memory, verify sha256 equals FROZEN
"""

import base64
import codecs
import hashlib
import json
import sys
from collections import Counter
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
SOURCE = "h3g-holdout-2026-12-05"
LANGS = ["en", "fr", "de", "es", "it", "nl", "pl", "pt"]
ATTACK = {
    "instruction_override",
    "privilege_escalation",
    "system_prompt_extraction",
    "jailbreak",
    "exfiltration",
    "indirect_injection",
    "multi_turn",
} | {
    "obfuscation:" + k for k in ["homoglyph", "leetspeak", "zero_width", "reversed", "rot13", "base64", "payload_split"]
}
BENIGN = {
    "everyday_trigger_words",
    "security_education",
    "translation_work",
    "owner_own_resources",
    "pasted_document",
    "everyday_markdown",
    "creative",
    "multi_turn_benign",
    "obfuscated_benign",
}

HOMO = str.maketrans(
    {
        "a": "\u0430",
        "e": "\u0435",
        "o": "\u043e",
        "p": "\u0440",
        "c": "\u0441",
        "x": "\u0445",
        "y": "\u0443",
        "i": "\u0456",
        "A": "\u0410",
        "E": "\u0415",
        "O": "\u041e",
        "P": "\u0420",
        "C": "\u0421",
        "T": "\u0422",
        "H": "\u041d",
    }
)
LEET = str.maketrans(
    {
        "a": "4",
        "e": "3",
        "i": "1",
        "o": "0",
        "s": "5",
        "t": "7",
        "A": "4",
        "E": "3",
        "I": "1",
        "O": "0",
        "S": "5",
        "T": "7",
    }
)


def zero_width(s):
    out = []
    for word in s.split(" "):
        out.append("\u200b".join(word[i : i + 2] for i in range(0, len(word), 2)) if len(word) > 3 else word)
    return " ".join(out)


TRANSFORMS = {
    "homoglyph": lambda s: s.translate(HOMO),
    "leetspeak": lambda s: s.translate(LEET),
    "zero_width": zero_width,
    "reversed": lambda s: s[::-1],
    "rot13": lambda s: codecs.encode(s, "rot13"),
    "base64": lambda s: base64.b64encode(s.encode("utf-8")).decode("ascii"),
}


def render(item, transform):
    """item is a str, a list (turns), or a dict {tpl, p} where {P} in tpl is replaced by transform(p)."""
    if isinstance(item, dict):
        t = TRANSFORMS[transform](item["p"]) if transform else item["p"]
        return item.get("tpl", "{P}").replace("{P}", t)
    if isinstance(item, str) and transform:
        return TRANSFORMS[transform](item)
    return item


def build():
    rows, seen = [], set()
    for f in sorted((HERE / "src").glob("*.yaml")):
        doc = yaml.safe_load(f.read_text(encoding="utf-8"))
        for fam in doc["families"]:
            name, label, cat = fam["family"], fam["label"], fam["category"]
            assert name.startswith("h3g-"), name
            assert (cat in ATTACK) if label == "attack" else (cat in BENIGN), (name, cat)
            tr = fam.get("transform")
            for lang in LANGS:
                for n, item in enumerate(fam["rows"].get(lang) or [], 1):
                    rid = f"{name}-{lang}-{n:02d}"
                    assert rid not in seen, rid
                    seen.add(rid)
                    row = {"id": rid, "family": name, "source": SOURCE, "lang": lang, "label": label, "category": cat}
                    if isinstance(item, list):
                        turns = [render(t, tr) for t in item]
                        assert 2 <= len(turns) <= 4 and all(isinstance(t, str) and t.strip() for t in turns), rid
                        row["turns"] = turns
                    else:
                        text = render(item, tr)
                        assert isinstance(text, str) and text.strip(), rid
                        row["text"] = text
                    rows.append(row)
            assert set(fam["rows"]) <= set(LANGS), name
    texts = [r.get("text") or "\n".join(r["turns"]) for r in rows]
    dup = [t for t, c in Counter(texts).items() if c > 1]
    assert not dup, dup[:3]
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), rows


def main():
    data, rows = build()
    sha = hashlib.sha256(data.encode("utf-8")).hexdigest()
    if "--check" in sys.argv:
        frozen = (HERE / "FROZEN").read_text().strip()
        disk = hashlib.sha256((HERE / "holdout.jsonl").read_bytes()).hexdigest()
        ok = sha == frozen == disk
        print("OK" if ok else "MISMATCH", sha, frozen, disk)
        sys.exit(0 if ok else 1)
    (HERE / "holdout.jsonl").write_text(data, encoding="utf-8")
    print(len(rows), "rows", sha)
    print(Counter(r["label"] for r in rows))
    print(sorted(Counter(r["category"] for r in rows).items()))
    print(sorted(Counter(r["lang"] for r in rows).items()))
    print("multi-turn", sum("turns" in r for r in rows))


if __name__ == "__main__":
    main()
