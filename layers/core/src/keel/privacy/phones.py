"""Phone numbers in free text through libphonenumber (the `phonenumbers` port, pinned in requirements.lock).

A cheap pattern finds runs of digits and separators with at least seven digits; only those windows go to
`PhoneNumberMatcher`, once per region of the eight supported languages, at `Leniency.VALID`: the number must
be valid for its region's numbering plan, and the matcher itself rejects numbers glued to letters, dates
written with slashes and timestamps. Look-alikes are kept out by three more rules: a bare run of digits
(no separator, no "+") is a phone only with a phone word nearby, since it is more often an order or account
number; nothing that overlaps a date or time is a phone; and a match inside a longer run of digits (a card
number, an IBAN) is not taken. A number written in international form ("+33 ...") with a known country code
is masked even when the national part is not a valid number, and so is a number in a layout only phone numbers
take (North American 3-3-4, an area code in brackets, a trunk "0" and digit groups) when its length is possible
in one of the regions: a mistyped or fictional number ("555-0142") is still someone's number as far as the
conversation is concerned.
"""

from __future__ import annotations

import re
from typing import Any

from keel.lazy import once
from keel.privacy.recognizers import Entity, luhn_ok

# en (US and GB), fr, de, es, it, nl, pl, pt: the regions whose national formats are tried, in this order.
REGIONS: tuple[str, ...] = ("US", "GB", "FR", "DE", "ES", "IT", "NL", "PL", "PT")
MIN_DIGITS = 7
MAX_DIGITS = 15
# Characters kept either side of a candidate so the matcher can see letters glued to it ("INC1234567").
_MARGIN = 3
CANDIDATE = re.compile(
    r"(?:\+|\(\+?)?\d[\d \t().\-/\u00a0]{4,26}\d(?:[ \t]?(?:x|ext\.?|#)[ \t]?\d{1,5})?", re.IGNORECASE
)
CUE = re.compile(
    r"\b(?:phone|mobile|mob|tel|telephone|call|ring|fax|cell|contact|office|whatsapp|sms|text me|reach me|"
    r"téléphone|portable|telefon|handy|rufnummer|teléfono|móvil|llama|telefono|cellulare|bel|mobiel|"
    r"telefoonnummer|komórka|telemóvel|telefone|ligue|"
    # Call, call back and reachable in the other languages ("dzwońcie na", "terugbellen op", "erreichbar unter").
    r"dzwo\w*|zadzwo\w*|oddzwo\w*|contacto|contato|contactar|terugbel\w*|bellen|bereikbaar|erreichbar|anruf\w*|"
    r"zurückruf\w*|rappel\w*|appel\w*|joignable|llam\w*|chiam\w*|richiam\w*|reperibile|ligar|liga)\b",
    re.IGNORECASE,
)
_DATETIME = re.compile(
    r"(?P<iso>\d{4}-(?P<im>\d{1,2})-(?P<id>\d{1,2}))(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?"
    r"|(?P<d>\d{1,2})(?:(?P<sep>[./])(?P<m>\d{1,2})(?P=sep)(?:\d{4}|\d{2})|-(?P<m2>\d{1,2})-\d{4})(?![./-]?\d)"
    r"(?:[ T]\d{1,2}[:.h]\d{2}(?::\d{2})?(?![.:]?\d))?|\b\d{1,2}:\d{2}(?::\d{2})?\b"
)
# An amount: a currency sign before, or decimals and a currency after ("6 494 137,80 zł", "€ 1 250 000").
_CURRENCY = r"(?:€|\$|£|zł|zl|eur|euro|euros|usd|gbp|pln|chf)"
_AMOUNT_BEFORE = re.compile(_CURRENCY + r"[ \t]?$", re.IGNORECASE)
_AMOUNT_AFTER = re.compile(r"^(?:[.,]\d{1,2}(?!\d))|^[ \t]?" + _CURRENCY + r"(?!\w)", re.IGNORECASE)

# Two numbers side by side in one candidate ("+33 6 12 34 56 78 / +33 1 42 68 53 00").
_SEPARATES_NUMBERS = re.compile(r"[ \t]/|/[ \t]|[ \t]{2,}|\+.*\+")
_EXTENSION = re.compile(r"[ \t]?(?:x|ext\.?|#)[ \t]?\d{1,5}$", re.IGNORECASE)
_SSN_SHAPE = re.compile(r"\d{3}-\d{2}-\d{4}")
_CARD_SHAPE = re.compile(r"\d{4}([ -]?)\d{4}\1\d{4}\1\d{1,7}")
_DECIMAL = re.compile(r"\d{4,}\.\d{1,3}")
_DOTTED_DIGITS = re.compile(r"(?<!\d)\d\.\d\.\d(?!\d)")
_RUN_BEFORE = re.compile(r"\d[ .\-\u00a0]?$")
_RUN_AFTER = re.compile(r"[ .\-\u00a0]?\d")


@once
def _library() -> Any:
    import phonenumbers

    return phonenumbers


def _date_spans(text: str) -> list[tuple[int, int]]:
    """Dates and times; "07.62.62.62" is no date (month 62), so it stays a phone candidate."""
    spans = []
    for m in _DATETIME.finditer(text):
        day, month = (m.group("id"), m.group("im")) if m.group("iso") else (m.group("d"), m.group("m") or m.group("m2"))
        if day is not None and not (1 <= int(day) <= 31 and 1 <= int(month) <= 31 and min(int(day), int(month)) <= 12):
            continue
        spans.append((m.start(), m.end()))
    return spans


def _digits(raw: str) -> int:
    return sum(ch.isdigit() for ch in raw)


def _international_fallback(raw: str) -> bool:
    """ "+CC ..." with a known country code and a plausible length, though not a valid number there."""
    pn = _library()
    stripped = raw.strip()
    if not stripped.startswith("+") or not MIN_DIGITS + 1 <= _digits(stripped) <= MAX_DIGITS:
        return False
    try:
        number = pn.parse(stripped, None)
    except pn.NumberParseException:
        return False
    return pn.region_code_for_country_code(number.country_code) != pn.UNKNOWN_REGION


# Phone layouts, for numbers that are not valid in a numbering plan (fictional "555" numbers, typos, generated test
# data): an optional "+CC", "00CC" or "001-" prefix, an area code (bracketed or not), digit groups, an optional
# extension (the layout the recognizer had before libphonenumber's matcher). The length must still be possible.
_LAYOUT = re.compile(
    r"(?<![\w+.:-])(?:\+\d{1,3}[ .-]?|00\d{1,3}[ .-]?|001-|1[ .-]?(?=\())?"
    r"(?:\(\d{1,5}\)[ .-]?|\d{1,5}[ .-]?)(?:\(0\)[ ]?)?"
    r"\d{2,5}(?:[ .-]?\d{2,5}){1,3}(?:[ \t]?(?:x|ext\.?)[ \t]?\d{1,5})?(?![\w.:]\d)",
    re.IGNORECASE,
)
# Where a number written without "+" may still be possible: the eight languages' regions and a few more whose
# numbers often appear in English text; "+" and the digits is tried too ("44 20 7946 0958").
_LAYOUT_REGIONS: tuple[str | None, ...] = (*REGIONS, "AU", "BE", "CH", "SE", "IN", None)


def _possible(raw: str) -> bool:
    pn = _library()
    digits = re.sub(r"\D", "", _EXTENSION.sub("", raw))
    for candidate in [raw] if raw.startswith("+") else [raw, "+" + digits]:
        for region in _LAYOUT_REGIONS:
            try:
                if pn.is_possible_number(pn.parse(candidate, region)):
                    return True
            except pn.NumberParseException:
                continue
    return False


def _phone_layouts(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Spans in a phone layout whose length libphonenumber finds possible in some region. Two digit groups joined by
    a hyphen, dot or slash ("2024-00123") read as well as an invoice or case number: those need a phone word nearby;
    three or more plain groups of four are left to the card and account readings."""
    spans = []
    for m in _LAYOUT.finditer(text, start, end):
        raw = m.group(0).rstrip(" .-")
        plain = not re.search(r"[+()x]|^00", raw, re.IGNORECASE)
        groups = [len(g) for g in re.findall(r"\d+", _EXTENSION.sub("", raw))]
        if not MIN_DIGITS <= sum(groups) <= MAX_DIGITS or (plain and len(groups) > 2 and set(groups) == {4}):
            continue
        hyphenated_pair = plain and len(groups) < 3 and not re.fullmatch(r"\d+[ \u00a0]\d+", raw)
        if hyphenated_pair and not CUE.search(text[max(0, m.start() - 40) : m.start()]):
            continue
        if len(set(re.sub(r"\D", "", raw))) >= 3 and _possible(raw):
            spans.append((m.start(), m.start() + len(raw)))
    return spans


def _in_window(window: str, digits: int, international: bool) -> list[tuple[int, int]]:
    """Spans the matcher finds in any region; stops once the found spans hold every digit of the candidate. A
    number in international form ("+49 ...") reads the same from every region: one pass is enough."""
    pn = _library()
    seen: set[tuple[int, int]] = set()
    for region in REGIONS[:1] if international else REGIONS:
        for match in pn.PhoneNumberMatcher(window, region, leniency=pn.Leniency.VALID):
            seen.add((match.start, match.end))
        covered = [s for s in seen if not any(o != s and o[0] <= s[0] and s[1] <= o[1] for o in seen)]
        if sum(_digits(window[s:e]) for s, e in covered) >= digits:
            break
    return sorted(seen)


def _look_alike(text: str, start: int, end: int, dates: list[tuple[int, int]], *, runs: bool = True) -> bool:
    """Whether a span is more likely a date, an amount, an id or (with `runs`, for the matcher's spans, which it
    may carve out of a longer number) part of a longer run of digits."""
    raw = _EXTENSION.sub("", text[start:end])
    if not MIN_DIGITS <= _digits(raw) <= MAX_DIGITS or any(start < e and s < end for s, e in dates):
        return True
    # Part of a longer run of digits (a card number, an IBAN's digits): not a phone on its own.
    if runs and (_RUN_BEFORE.search(text[max(0, start - 2) : start]) or _RUN_AFTER.match(text[end : end + 2])):
        return True
    if (start > 0 and text[start - 1] in "#/") or _skipped(text, start, end, []):
        return True
    return bool(_AMOUNT_BEFORE.search(text[max(0, start - 5) : start]) or _AMOUNT_AFTER.match(text[end : end + 5]))


def _skipped(text: str, start: int, end: int, dates: list[tuple[int, int]]) -> bool:
    """A candidate no phone can come out of: within a date, a bare run of digits without a phone word, or the tail
    of an id glued to letters by a hyphen ("INV-2024-00912", "ORD-4471203")."""
    raw = text[start:end]
    if any(s <= start and end <= e for s, e in dates):
        return True
    if raw.isdigit() and not CUE.search(text[max(0, start - 40) : end + 20]):
        return True
    # A decimal ("018734.2 kWh"), dotted single digits (an OBIS code "1.8.1 018244", an OID "1.3.6.1.2.1"), or the
    # tail of a dotted build or product code glued to what precedes it ("UP1A.231005.007").
    if _DECIMAL.fullmatch(raw) or _DOTTED_DIGITS.search(text[max(0, start - 2) : end]):
        return True
    if start >= 2 and text[start - 1] == "." and text[start - 2].isalnum():
        return True
    return start >= 2 and text[start - 1] == "-" and text[start - 2].isalpha()


def find_phones(text: str) -> list[Entity]:
    """PHONE spans: numbers libphonenumber finds valid in one of the supported regions, minus look-alikes."""
    dates = _date_spans(text)
    found: list[Entity] = []
    for candidate in CANDIDATE.finditer(text):
        raw = candidate.group(0)
        digits = _digits(_EXTENSION.sub("", raw))
        # Too few digits, or one long run (a card number, an IBAN's digits) that holds no second number.
        if digits < MIN_DIGITS or (digits > MAX_DIGITS + 2 and not _SEPARATES_NUMBERS.search(raw)):
            continue
        # Shapes of other numbers, decided by their own recognizers: a card (4-4-4-4, Luhn) or a US SSN (3-2-4).
        if _SSN_SHAPE.fullmatch(raw) or (_CARD_SHAPE.fullmatch(raw) and luhn_ok(re.sub(r"\D", "", raw))):
            continue
        # Cheap verdicts before the matcher runs: inside a date, a bare run with no phone word, part of an id.
        if _skipped(text, candidate.start(), candidate.end(), dates):
            continue
        international = raw.lstrip("(").startswith("+") and not _SEPARATES_NUMBERS.search(raw)
        offset = max(0, candidate.start() - _MARGIN)
        window = text[offset : candidate.end() + _MARGIN]
        spans = [(s + offset, e + offset) for s, e in _in_window(window, digits, international)]
        accepted = [(s, e) for s, e in spans if not _look_alike(text, s, e, dates)]
        if not accepted:
            # Not valid anywhere: a number in international form or in a phone layout of possible length.
            spans = [candidate.span()] if _international_fallback(raw) else []
            spans += _phone_layouts(text, candidate.start(), candidate.end())
            accepted = [(s, e) for s, e in spans if not _look_alike(text, s, e, dates, runs=False)][:1]
        found += [Entity("PHONE", s, e, 0.7) for s, e in accepted]
    return found
