"""Prebuilt tables of the name lexicon, so that a cold start reads them instead of importing faker and its locales.

keel.privacy.names reads its first names and surnames from the person providers of the pinned `faker` package (MIT):
importing its 80-odd locale modules and folding their lists costs about 0.3 s of a cold start's first masked
message, and importing faker at all another 0.15 s. This module stores the folded result (the first names and
surnames of every Latin-script locale, the Polish first names, and for names typed in lower case in chat the given
names of each language's locales and the frequent words of faker's lorem lists) in one small .npz of plain arrays,
written by `python -m keel.privacy.name_tables` and checked in beside the code, keyed by faker's version. With another
version, or with no tables, the lexicon is read from faker as before. tests/unit/privacy/test_name_tables.py checks
that both give the same sets.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from pathlib import Path

from keel.errors import ConfigurationError
from keel.models.networks import (
    array_strings,
    installed_version,
    read_keyed_tables,
    strings_array,
    write_keyed_tables,
    write_tables_command,
)

logger = logging.getLogger(__name__)

TABLES = Path(__file__).with_name("data") / "faker_names.npz"
# The checked-in tables' sha256 (printed by `python -m keel.privacy.name_tables`; a unit test rebuilds them).
TABLES_SHA256 = "66a7b4f382f3bb712202e4d96f626298cd933df1997148d871bc189505415fef"


@dataclass(frozen=True)
class NameTables:
    """The folded name sets the lexicon is built from."""

    first: frozenset[str]
    last: frozenset[str]
    polish_first: frozenset[str]
    # The frequent words of faker's lorem lists, and by language the given names of its locales (chat_first_names).
    frequent: frozenset[str]
    chat_first: dict[str, frozenset[str]]


def faker_version() -> str:
    """The installed faker's version ('' when it is not installed)."""
    return installed_version("Faker")


def load_tables(tables: Path = TABLES, sha256: str = TABLES_SHA256) -> NameTables | None:
    """The name sets from the tables when they are intact and were written for the installed faker, else None (with
    a warning; the caller reads faker itself)."""
    try:
        arrays = read_keyed_tables(tables, sha256, "name tables", [faker_version()], "faker version")
    except ConfigurationError as exc:
        logger.warning("%s; reading the names from faker instead (python -m %s rewrites them)", exc, __name__)
        return None
    return NameTables(
        frozenset(array_strings(arrays["first"])),
        frozenset(array_strings(arrays["last"])),
        frozenset(array_strings(arrays["polish_first"])),
        frozenset(array_strings(arrays["frequent"])),
        {key[5:]: frozenset(array_strings(a)) for key, a in arrays.items() if key.startswith("chat_")},
    )


def write_tables(out: Path = TABLES) -> str:
    """Read the name sets from the installed faker and write them to out, byte for byte the same for the same
    faker; return their sha256."""
    from keel.privacy.names import chat_names_from_package, faker_names_from_package, polish_names_from_package

    first, last = faker_names_from_package()
    frequent, chat_first = chat_names_from_package()
    arrays = {
        "first": strings_array(sorted(first)),
        "last": strings_array(sorted(last)),
        "polish_first": strings_array(sorted(polish_names_from_package())),
        "frequent": strings_array(sorted(frequent)),
        **{f"chat_{language}": strings_array(sorted(names)) for language, names in sorted(chat_first.items())},
    }
    return write_keyed_tables(out, [faker_version()], arrays)


def main(argv: list[str] | None = None) -> int:
    """Write the name tables (after faker is upgraded, or to check the checked-in file)."""
    return write_tables_command(argv, "Write the prebuilt tables of the name lexicon.", TABLES, write_tables)


if __name__ == "__main__":
    sys.exit(main())
