"""Check holdout.jsonl: schema, unique ids, valid reasons and labels, and the frozen sha256.

    python evals/escalation/holdout/validate.py [FOLDER]   (default: this folder; holdout-2 is checked the same way)

Only the row schema is checked (with the same pydantic model `keel escalation report` reads); no escalation
rule, head or model is run on the rows.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any, get_args

from keel.escalation.decision import Reason
from keel.escalation.evaluation import TranscriptRow

HERE = Path(__file__).resolve().parent
REASONS = get_args(Reason)  # the decision's own reasons, one list for both
INTENTS = {
    "explicit_request": {"general"},
    "high_risk_intent": {"fraud", "account_closure", "compliance", "billing_dispute", "legal_threat"},
    "vulnerable_customer": {
        "self_harm",
        "hardship",
        "coercive_control",
        "cognitive_impairment",
        "bereavement",
        "safety",
    },
    "negative_sentiment": {"general"},
    "low_confidence": {"general"},
    "system_failure": {"general"},
    "none": {"lookalike", "routine"},
}
LANGUAGES = ("en", "fr", "de", "es", "it", "nl", "pl", "pt")
KEYS = {"id", "turns", "expected", "language", "intent", "family", "subkind"}


def validate(records: list[dict[str, Any]]) -> list[str]:
    """Every problem found, as 'id: what is wrong'; empty when the set is sound."""
    problems = [f"duplicate id {i}" for i, n in Counter(r.get("id") for r in records).items() if n > 1]
    for r in records:
        where = r.get("id", "?")
        if set(r) - KEYS or not {"id", "turns", "expected", "language", "intent", "family"} <= set(r):
            problems.append(f"{where}: keys {sorted(r)}, expected {sorted(KEYS)}")
            continue
        try:
            TranscriptRow.model_validate(r)
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
            continue
        reason = r["expected"]["reason"]
        if reason not in REASONS:
            problems.append(f"{where}: reason {reason!r} not in {REASONS}")
        elif r["intent"] not in INTENTS[reason]:
            problems.append(f"{where}: intent {r['intent']!r} not one of {sorted(INTENTS[reason])} for {reason}")
        if r["expected"]["escalate"] is not (reason != "none"):
            problems.append(f"{where}: escalate does not follow from reason {reason}")
        if r["language"] not in LANGUAGES or r["family"].split("-")[1:2] != [r["language"]]:
            problems.append(f"{where}: language {r['language']!r} / family {r['family']!r}")
        if not r["id"].startswith(r["family"] + "-"):
            problems.append(f"{where}: id does not start with its family")
        turns = r["turns"]
        if not any(t["role"] == "user" for t in turns) or turns[-1]["role"] not in ("user", "event"):
            problems.append(f"{where}: must end with a user message (or a system event after it)")
        if any(not t["text"].strip() for t in turns):
            problems.append(f"{where}: empty turn text")
    return problems


def main() -> int:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    path = folder / "holdout.jsonl"
    raw = path.read_bytes()
    records = [json.loads(line) for line in raw.decode("utf-8").splitlines() if line.strip()]
    problems = validate(records)
    digest = hashlib.sha256(raw).hexdigest()
    frozen = (folder / "FROZEN").read_text(encoding="utf-8").strip() if (folder / "FROZEN").is_file() else None
    if frozen is not None and frozen != digest:
        problems.append(f"holdout.jsonl sha256 {digest} differs from FROZEN {frozen}")
    for problem in problems:
        print(problem, file=sys.stderr)
    print(
        f"{len(records)} rows, {len({r.get('family') for r in records})} families, sha256 {digest}: "
        + ("OK" if not problems else f"{len(problems)} problems")
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
