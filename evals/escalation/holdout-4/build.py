"""Keel escalation holdout, round 4 (h4): rebuild holdout.jsonl from src/*.txt; --check verifies FROZEN.

The format and the builder are in ../txt_holdout.py (shared with the other text-sourced holdout).
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from txt_holdout import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(HERE, "h4"))
