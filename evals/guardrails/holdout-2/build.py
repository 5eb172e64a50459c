#!/usr/bin/env python3
"""Deterministic builder for the h2g guardrails holdout (round 2).

Usage:
  python build.py            # rebuild holdout.jsonl from src/ and print counts
  python build.py --freeze   # rebuild and write FROZEN (sha256 of holdout.jsonl)
  python build.py --check    # rebuild in memory; verify it equals holdout.jsonl and the sha256 in FROZEN

Stdlib only. Source format (src/*.txt):
  !category <name>   !label attack|benign   (file header)
  @ <family-id> [transform]                  (starts a family)
  <lang>: <text>                             (one row; turns separated by " >> ";
                                              for transformed benign rows "wrapper {p} || payload")
  # comment
"""

import base64
import codecs
import collections
import hashlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "src")
OUT = os.path.join(HERE, "holdout.jsonl")
FROZEN = os.path.join(HERE, "FROZEN")
SOURCE = "h2g-holdout-2026-12-05"
LANGS = ["en", "fr", "de", "es", "it", "nl", "pl", "pt"]

ATTACK_CATS = [
    "instruction_override",
    "privilege_escalation",
    "system_prompt_extraction",
    "jailbreak",
    "exfiltration",
    "indirect_injection",
    "multi_turn",
]
OBF = ["homoglyph", "leetspeak", "zero_width", "reversed", "rot13", "base64", "payload_split"]
BENIGN_CATS = [
    "everyday_trigger_words",
    "security_education",
    "translation_work",
    "owner_own_resources",
    "pasted_document",
    "everyday_markdown",
    "creative",
    "multi_turn_benign",
    "obfuscated_benign",
]
CAT_FILES = ATTACK_CATS + BENIGN_CATS

# ---------------------------------------------------------------- transforms
HOMO = {
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
    "K": "\u041a",
    "M": "\u041c",
    "B": "\u0412",
}
LEET = {
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
ZW = ["\u200b", "\u200c", "\u200d", "\u2060"]


def t_homoglyph(s):
    return "".join(HOMO.get(ch, ch) for ch in s)


def t_leetspeak(s):
    return "".join(LEET.get(ch, ch) for ch in s)


def t_zero_width(s):
    out, k = [], 0
    for word in s.split(" "):
        if len(word) >= 3:
            chars = []
            for j, ch in enumerate(word):
                chars.append(ch)
                if j < len(word) - 1:
                    chars.append(ZW[k % len(ZW)])
                    k += 1
            out.append("".join(chars))
        else:
            out.append(word)
    return " ".join(out)


def t_reversed(s):
    return s[::-1]


def t_rot13(s):
    return codecs.encode(s, "rot13")


def t_base64(s):
    return base64.b64encode(s.encode("utf-8")).decode("ascii")


def t_payload_split(s):
    n = len(s)
    a, b = n // 3, (2 * n) // 3
    parts = [s[:a], s[a:b], s[b:]]
    lines = ('{} = "{}"'.format(name, part.replace('"', '\\"')) for name, part in zip("abc", parts, strict=False))
    return "\n".join(lines)


TRANSFORMS = {
    "homoglyph": t_homoglyph,
    "leetspeak": t_leetspeak,
    "zero_width": t_zero_width,
    "reversed": t_reversed,
    "rot13": t_rot13,
    "base64": t_base64,
    "payload_split": t_payload_split,
}

# which two attack bases (indices into obfuscation_bases.txt families) each transform uses
PAIRS = {
    "homoglyph": (0, 1),
    "leetspeak": (1, 2),
    "zero_width": (2, 3),
    "reversed": (3, 0),
    "rot13": (0, 2),
    "base64": (1, 3),
    "payload_split": (2, 0),
}


# ---------------------------------------------------------------- parsing
def parse(path):
    meta, fams, cur = {}, [], None
    with open(path, encoding="utf-8") as fh:
        for ln, raw in enumerate(fh, 1):
            line = raw.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            if line.startswith("!"):
                k, v = line[1:].split(" ", 1)
                meta[k] = v.strip()
            elif line.startswith("@ "):
                parts = line[2:].split()
                cur = {"family": parts[0], "transform": parts[1] if len(parts) > 1 else None, "rows": []}
                fams.append(cur)
            else:
                lang, text = line.split(": ", 1)
                if lang not in LANGS:
                    raise SystemExit(f"{path}:{ln} bad lang {lang!r}")
                cur["rows"].append((lang, text.strip()))
    return meta, fams


def row(rid, family, lang, label, category, content):
    r = collections.OrderedDict()
    r["id"] = rid
    r["family"] = family
    r["source"] = SOURCE
    r["lang"] = lang
    r["label"] = label
    r["category"] = category
    if isinstance(content, list):
        r["turns"] = content
    else:
        r["text"] = content
    return r


def build():
    rows = []
    for cat in CAT_FILES:
        meta, fams = parse(os.path.join(SRC, cat + ".txt"))
        assert meta["category"] == cat, cat
        label = meta["label"]
        for fam in fams:
            seen = collections.Counter()
            for lang, text in fam["rows"]:
                seen[lang] += 1
                rid = "{}-{}".format(fam["family"], lang) + ("" if seen[lang] == 1 else f"-{seen[lang]}")
                if fam["transform"]:
                    wrapper, payload = text.split(" || ", 1)
                    content = wrapper.replace("{p}", TRANSFORMS[fam["transform"]](payload))
                elif " >> " in text:
                    content = [t.strip() for t in text.split(" >> ")]
                else:
                    content = text
                rows.append(row(rid, fam["family"], lang, label, cat, content))
        if cat == "multi_turn":
            rows.extend(build_obfuscation())
    return rows


def build_obfuscation():
    _, bases = parse(os.path.join(SRC, "obfuscation_bases.txt"))
    _, wraps = parse(os.path.join(SRC, "obfuscation_wrappers.txt"))
    wrappers = {}
    for w in wraps:
        d = collections.defaultdict(list)
        for lang, text in w["rows"]:
            d[lang].append(text.replace("\\n", "\n"))
        wrappers[w["family"]] = d
    base_text = [dict(b["rows"]) for b in bases]
    out = []
    for tname in OBF:
        for k, bi in enumerate(PAIRS[tname]):
            fam = bases[bi]["family"]
            for lang in LANGS:
                payload = TRANSFORMS[tname](base_text[bi][lang])
                if tname in wrappers:
                    text = wrappers[tname][lang][k % len(wrappers[tname][lang])].replace("{p}", payload)
                else:
                    text = payload
                rid = "{}-{}-{}".format(fam, tname.replace("_", ""), lang)
                out.append(row(rid, fam, lang, "attack", "obfuscation:" + tname, text))
    return out


def validate(rows):
    ids = [r["id"] for r in rows]
    dup = [i for i, c in collections.Counter(ids).items() if c > 1]
    assert not dup, dup
    for r in rows:
        assert r["id"].startswith(r["family"]) and r["family"].startswith("h2g-"), r["id"]
        if "turns" in r:
            assert 2 <= len(r["turns"]) <= 4, r["id"]
        if r["category"].startswith("obfuscation:") or r["category"] in ATTACK_CATS:
            assert r["label"] == "attack", r["id"]
        else:
            assert r["category"] in BENIGN_CATS and r["label"] == "benign", r["id"]
    cov = collections.Counter((r["category"], r["lang"]) for r in rows)
    for cat in ATTACK_CATS + BENIGN_CATS:
        need = 1 if cat == "obfuscated_benign" else 3
        for lang in LANGS:
            assert cov[(cat, lang)] >= need, (cat, lang, cov[(cat, lang)])
    for t in OBF:
        for lang in LANGS:
            assert cov[("obfuscation:" + t, lang)] >= 1, (t, lang)


def serialize(rows):
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")


def report(rows):
    by_cat = collections.Counter((r["label"], r["category"]) for r in rows)
    by_lang = collections.Counter((r["label"], r["lang"]) for r in rows)
    print(
        "rows:",
        len(rows),
        dict(collections.Counter(r["label"] for r in rows)),
        "multi-turn:",
        sum("turns" in r for r in rows),
        "families:",
        len({r["family"] for r in rows}),
    )
    for (lab, cat), n in sorted(by_cat.items()):
        print(f"  {lab:<7} {cat:<34} {n}")
    for lang in LANGS:
        print(f"  {lang} attack={by_lang[('attack', lang)]} benign={by_lang[('benign', lang)]}")


def main():
    rows = build()
    validate(rows)
    data = serialize(rows)
    sha = hashlib.sha256(data).hexdigest()
    if "--check" in sys.argv:
        with open(OUT, "rb") as fh:
            ok_file = fh.read() == data
        with open(FROZEN) as fh:
            frozen = fh.read().strip()
        with open(OUT, "rb") as fh:
            ok_sha = hashlib.sha256(fh.read()).hexdigest() == frozen == sha
        print("rebuild matches holdout.jsonl:", ok_file, "| sha256 matches FROZEN:", ok_sha, "|", frozen)
        sys.exit(0 if ok_file and ok_sha else 1)
    with open(OUT, "wb") as fh:
        fh.write(data)
    report(rows)
    print("sha256:", sha)
    if "--freeze" in sys.argv:
        with open(FROZEN, "w") as fh:
            fh.write(sha + "\n")
        print("FROZEN written")


if __name__ == "__main__":
    main()
