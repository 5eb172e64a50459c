"""Build the independent guardrails holdout (holdout.jsonl) from cases.yaml.

Usage (from the repository root):
    python evals/guardrails/holdout/build.py            # writes holdout.jsonl, prints counts
    python evals/guardrails/holdout/build.py --check    # rebuilds in memory, compares with FROZEN

Only the standard library and PyYAML. No Keel model, screen or masker is imported or run:
the set is not selected by what any model gets right or wrong.

Transforms (deterministic, applied to rows of families that name one):
    homoglyph   every other Latin letter that has a Cyrillic look-alike is swapped for it
    zero_width  zero-width characters inserted inside words of four letters or more
    reversed    the payload is reversed character by character and put into the frame at {x}
    rot13       the payload is ROT13-encoded and put into the frame at {x}
    base64      the payload (UTF-8) is base64-encoded and put into the frame at {x}
"""

from __future__ import annotations

import base64
import codecs
import collections
import hashlib
import json
import pathlib
import sys

import yaml

HERE = pathlib.Path(__file__).resolve().parent
SOURCE = "keel-holdout-2026-12-04"
LANGS = ("en", "fr", "de", "es", "it", "nl", "pl", "pt")
ATTACK_CATEGORIES = (
    "instruction_override",
    "privilege_escalation",
    "system_prompt_extraction",
    "jailbreak",
    "exfiltration",
    "indirect_injection",
    "multi_turn",
    "obfuscation:homoglyph",
    "obfuscation:leetspeak",
    "obfuscation:zero_width",
    "obfuscation:reversed",
    "obfuscation:rot13",
    "obfuscation:payload_split",
    "obfuscation:base64",
)
BENIGN_CATEGORIES = (
    "everyday_trigger_words",
    "security_education",
    "translation_work",
    "owner_own_resources",
    "pasted_document",
    "everyday_markdown",
    "creative",
    "multi_turn_benign",
    "obfuscated_benign",
)
MULTI_TURN = {"multi_turn", "multi_turn_benign"}

HOMOGLYPHS = {
    "a": "\u0430", "e": "\u0435", "o": "\u043e", "p": "\u0440", "c": "\u0441",
    "x": "\u0445", "y": "\u0443", "i": "\u0456", "s": "\u0455", "j": "\u0458",
    "A": "\u0410", "E": "\u0415", "O": "\u041e", "P": "\u0420", "C": "\u0421",
    "H": "\u041d", "K": "\u041a", "M": "\u041c", "T": "\u0422", "B": "\u0412",
}  # fmt: skip
ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\u2060")


def homoglyph(text: str) -> str:
    out, n = [], 0
    for ch in text:
        if ch in HOMOGLYPHS:
            out.append(HOMOGLYPHS[ch] if n % 2 == 0 else ch)
            n += 1
        else:
            out.append(ch)
    return "".join(out)


def zero_width(text: str) -> str:
    words, k = [], 0
    for word in text.split(" "):
        if sum(c.isalpha() for c in word) < 4:
            words.append(word)
            continue
        chars = []
        for i, ch in enumerate(word):
            chars.append(ch)
            if i % 3 == 2 and i < len(word) - 1:
                chars.append(ZERO_WIDTH[k % len(ZERO_WIDTH)])
                k += 1
        words.append("".join(chars))
    return " ".join(words)


PAYLOAD_TRANSFORMS = {
    "reversed": lambda s: s[::-1],
    "rot13": lambda s: codecs.encode(s, "rot13"),
    "base64": lambda s: base64.b64encode(s.encode("utf-8")).decode("ascii"),
}
WHOLE_TRANSFORMS = {"homoglyph": homoglyph, "zero_width": zero_width}


class CaseError(ValueError):
    pass


def render(entry: object, transform: str | None, where: str) -> str:
    if isinstance(entry, dict):
        if set(entry) != {"frame", "payload"} or "{x}" not in entry["frame"]:
            raise CaseError(f"{where}: a mapping row needs exactly 'frame' (with {{x}}) and 'payload'")
        if transform in PAYLOAD_TRANSFORMS:
            payload = PAYLOAD_TRANSFORMS[transform](entry["payload"])
        elif transform in WHOLE_TRANSFORMS:
            payload = WHOLE_TRANSFORMS[transform](entry["payload"])
        else:
            raise CaseError(f"{where}: frame/payload rows need a transform, got {transform!r}")
        return str(entry["frame"]).replace("{x}", payload)
    if not isinstance(entry, str) or not entry.strip():
        raise CaseError(f"{where}: a row must be a non-empty string, a list of turns, or frame/payload")
    text = entry.rstrip("\n")
    if transform in WHOLE_TRANSFORMS:
        return WHOLE_TRANSFORMS[transform](text)
    if transform is not None:
        raise CaseError(f"{where}: transform {transform!r} needs frame/payload rows")
    return text


def build(cases_path: pathlib.Path) -> list[dict[str, object]]:
    families = yaml.safe_load(cases_path.read_text(encoding="utf-8"))
    rows: list[dict[str, object]] = []
    seen_fams: set[str] = set()
    for fam in families:
        fid, label, cat = fam["fam"], fam["label"], fam["cat"]
        if fid in seen_fams:
            raise CaseError(f"family {fid} appears twice")
        seen_fams.add(fid)
        allowed = ATTACK_CATEGORIES if label == "attack" else BENIGN_CATEGORIES
        if label not in ("attack", "benign") or cat not in allowed:
            raise CaseError(f"family {fid}: label {label!r} / category {cat!r} not accepted")
        transform = fam.get("transform")
        if transform is not None and transform not in PAYLOAD_TRANSFORMS and transform not in WHOLE_TRANSFORMS:
            raise CaseError(f"family {fid}: unknown transform {transform!r}")
        extra = set(fam) - {"fam", "label", "cat", "transform", *LANGS}
        if extra:
            raise CaseError(f"family {fid}: unknown keys {sorted(extra)}")
        for lang in LANGS:
            for i, entry in enumerate(fam.get(lang) or [], start=1):
                where = f"{fid}/{lang}/{i}"
                row: dict[str, object] = {
                    "id": f"{fid}-{lang}-{i:02d}",
                    "family": fid,
                    "source": SOURCE,
                    "lang": lang,
                    "label": label,
                    "category": cat,
                }
                if cat in MULTI_TURN:
                    if not isinstance(entry, list) or not 2 <= len(entry) <= 4:
                        raise CaseError(f"{where}: multi-turn rows are lists of 2 to 4 turns")
                    row["turns"] = [render(t, transform, where) for t in entry]
                else:
                    if isinstance(entry, list):
                        raise CaseError(f"{where}: only multi-turn categories take a list of turns")
                    row["text"] = render(entry, transform, where)
                rows.append(row)
    ids = [r["id"] for r in rows]
    if len(ids) != len(set(ids)):
        raise CaseError("duplicate ids")
    return rows


def serialise(rows: list[dict[str, object]]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")


def counts(rows: list[dict[str, object]]) -> str:
    by_label = collections.Counter(r["label"] for r in rows)
    by_cat_lang: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for r in rows:
        by_cat_lang[str(r["category"])][str(r["lang"])] += 1
    lines = [f"rows {len(rows)}  " + "  ".join(f"{k} {v}" for k, v in sorted(by_label.items()))]
    lines.append(f"families {len({r['family'] for r in rows})}")
    lines.append("| category | " + " | ".join(LANGS) + " | total |")
    lines.append("|---" * (len(LANGS) + 2) + "|")
    for cat in (*ATTACK_CATEGORIES, *BENIGN_CATEGORIES):
        c = by_cat_lang[cat]
        lines.append(f"| {cat} | " + " | ".join(str(c[lg]) for lg in LANGS) + f" | {sum(c.values())} |")
    per_lang = collections.Counter((r["lang"], r["label"]) for r in rows)
    lines.append("| per language (attack/benign) | " + " | ".join(
        f"{per_lang[(lg, 'attack')]}/{per_lang[(lg, 'benign')]}" for lg in LANGS) + f" | {len(rows)} |")  # fmt: skip
    return "\n".join(lines)


def coverage_gaps(rows: list[dict[str, object]]) -> list[str]:
    c = collections.Counter((r["category"], r["lang"]) for r in rows)
    gaps = []
    for cat in (*ATTACK_CATEGORIES, *BENIGN_CATEGORIES):
        need = 1 if cat.startswith("obfuscation:") else 3
        gaps += [f"{cat}/{lg}: {c[(cat, lg)]} < {need}" for lg in LANGS if c[(cat, lg)] < need]
    return gaps


def main(argv: list[str]) -> int:
    try:
        rows = build(HERE / "cases.yaml")
    except (CaseError, KeyError, yaml.YAMLError) as exc:
        print(f"cases.yaml is not valid: {exc}", file=sys.stderr)
        return 2
    data = serialise(rows)
    digest = hashlib.sha256(data).hexdigest()
    gaps = coverage_gaps(rows)
    if "--check" in argv:
        frozen = (HERE / "FROZEN").read_text().strip()
        on_disk = hashlib.sha256((HERE / "holdout.jsonl").read_bytes()).hexdigest()
        ok = frozen == digest == on_disk
        print(f"built {digest}\nfile  {on_disk}\nfrozen {frozen}\n{'OK' if ok else 'MISMATCH'}")
        return 0 if ok else 1
    (HERE / "holdout.jsonl").write_bytes(data)
    print(counts(rows))
    print("coverage gaps:", gaps or "none")
    print(f"sha256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
