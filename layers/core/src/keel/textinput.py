"""Reading operator text files line by line, with errors that name FILE:line and what is accepted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from keel.errors import InvalidRequest


def utf8_lines(path: Path, *, accepted: str = "a UTF-8 text file") -> Iterator[tuple[int, str]]:
    """(line number, text) of every line; a missing file or a line that is not UTF-8 raises InvalidRequest.

    The file is read as bytes and each line decoded on its own, so the error names the line and column
    of the first byte that is not UTF-8 instead of a decoder's traceback.
    """
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InvalidRequest(f"cannot read {path}: {exc.strerror}; pass {accepted}") from exc
    with handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InvalidRequest(
                    f"{path}:{number}: not UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1}); "
                    f"pass {accepted} (re-save it as UTF-8, e.g. `iconv -f latin1 -t utf-8`)"
                ) from None
            yield number, line.removeprefix("\ufeff") if number == 1 else line
