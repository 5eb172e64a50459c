"""Checksum-validated, regex-based PII and secret recognizers (pure Python, no model needed)."""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass

ENTITY_TYPES: tuple[str, ...] = (
    "EMAIL", "IBAN", "CREDIT_CARD", "PASSPORT", "US_SSN", "IP_ADDRESS", "AWS_ACCESS_KEY", "SECRET",
    "DATE_OF_BIRTH", "ADDRESS", "PHONE", "PERSON", "LOCATION",
)  # fmt: skip
# When spans overlap, the more specific (checksummed) type wins.
PRIORITY = {t: i for i, t in enumerate(ENTITY_TYPES)}


@dataclass(frozen=True)
class Entity:
    """A detected span: type and character offsets into the original text."""

    type: str
    start: int
    end: int
    score: float = 1.0


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum used by payment cards."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18,
    "EE": 20, "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IS": 26,
    "IT": 27, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MT": 31, "NL": 18, "NO": 15, "PL": 28,
    "PT": 25, "RO": 24, "SA": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "TR": 26,
}  # fmt: skip


def iban_ok(raw: str) -> bool:
    """ISO 13616 mod-97 check with the country's length."""
    iban = re.sub(r"\s", "", raw).upper()
    expected = _IBAN_LENGTHS.get(iban[:2])
    if expected is not None and len(iban) != expected:
        return False
    if not 15 <= len(iban) <= 34:
        return False
    digits = "".join(str(int(ch, 36)) for ch in iban[4:] + iban[:4])
    return int(digits) % 97 == 1


def ssn_ok(raw: str) -> bool:
    """US SSN rules: area not 000, 666 or 9xx; group not 00; serial not 0000."""
    digits = re.sub(r"\D", "", raw)
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    return not (area in ("000", "666") or area.startswith("9") or group == "00" or serial == "0000")


_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,24}(?![\w-])")
_CARD = re.compile(r"(?<![\w-])(?:\d[ -]?){11,18}\d(?![\w-])")
_CARD_CONTEXT = re.compile(r"\b(?:card|cc|credit|debit|visa|mastercard|maestro|amex|pan)\b", re.IGNORECASE)
_IBAN = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?:[A-Za-z0-9]{11,30}|(?: [A-Za-z0-9]{4}){2,7}(?: [A-Za-z0-9"
    r"]{1,3})?)(?![A-Za-z0-9])"
)
_SSN = re.compile(r"(?<![\d-])\d{3}([- ]?)\d{2}\1\d{4}(?![\d-])")
_SSN_CUE = re.compile(
    r"\b(?:ssns?|social security|soc\.? sec|tin|taxpayer|(?:my|his|her|their|your) social)\b", re.IGNORECASE
)
# Further back, an SSN word or an SSN already written out makes a bare nine-digit number one too ("my ssn is
# 387-44-2910 and my wife's is 387510736"), unless an identifier word stands right before it.
_SSN_EARLIER = re.compile(
    r"\b(?:ssns?|social security|soc\.? sec|socials?)\b|(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-])", re.IGNORECASE
)
# A full stop after the last group ends the sentence ("... from 203.0.113.7."); a digit after it makes a longer dotted
# number.
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?!\d|\.\d)")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){2,7}[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{1,4}){0,6}(?![\w:])")
_VERSION_CUE = re.compile(r"(?:\bversion|\bv|\bver\.?|\brelease)\s*$", re.IGNORECASE)
_AWS_KEY = re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}(?![A-Z0-9])")
_SECRET = re.compile(
    r"(?<![\w-])(?:sk-[A-Za-z0-9_-]{20,}|ghp_[A-Za-z0-9]{36}|gh[ousr]_[A-Za-z0-9]{36}|xox[abposr]-"
    r"[A-Za-z0-9-]{10,}|"
    r"AIza[0-9A-Za-z_-]{35}|glpat-[A-Za-z0-9_-]{20}|eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-"
    r"Za-z0-9_-]{10,})"
    r"|(?i:(?:api[_ -]?key|secret(?:[_ -]?key)?|access[_ -]?token|auth[_ -]?token|password|passwd|pwd|"
    r"aws_secret_access_key)\s*[:=]\s*[\"']?)(?P<value>[^\s\"',;]{8,})"
)
_DATE = re.compile(
    r"\b(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\d{1,2}\s+(?:jan|feb|mar|apr|may|"
    r"jun|jul|aug|sep|"
    r"oct|nov|dec)[a-z]*\.?\s+\d{4}|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s"
    r"+\d{1,2},?\s+\d{4})\b",
    re.IGNORECASE,
)
_DOB_CONTEXT = re.compile(r"\b(?:born|birth|dob|d\.o\.b|birthday|date of birth)\b", re.IGNORECASE)
_STREET_SUFFIX = (
    r"(?:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|place|pl|square|sq|"
    r"terrace|way|"
    r"parkway|pkwy|highway|hwy|route|pass|bridge|crescent|close|gardens|row|alley|trail|circle|cir|plaza|"
    r"loop|mews|grove|walk|hill|"
    r"straße|strasse|str|gasse|weg|utca|u|gata|gatan|gade|vej|vegen|veien|rue|via|calle|avenida|ru"
    r"a|rúa|laan|tér|"
    r"straat|plein|ulica|ul|tie|katu)\.?"
)
_ADDRESS = re.compile(
    r"(?:\b(?:\d{1,6}[ \t]+)?\d{1,6}[A-Za-z]?[ \t]+(?:[A-Z\u00C0-\u024F][\w\u00C0-\u024F'.-]*[ \t]+){0,4}"
    + _STREET_SUFFIX
    + r"(?![\w])(?-i:[ \t]+(?:NE|NW|SE|SW|N|S|E|W)(?![\w]))?"  # a US quadrant ("Pennsylvania Avenue NW")
    r"|\b[A-Z\u00C0-\u024F][\w\u00C0-\u024F'-]*(?:"
    r"straße|strasse|gasse|weg|allee|platz|damm|ufer|gata|gatan|gade|vej|vegen|veien|laan|straat|plein|gracht|"
    r"singel|kade|dijk|markt|haven|steeg|katu)\s+\d{1,5}"
    # A meeting room ("room 4.12") is no postal address: rooms are left out, and a decimal is no unit number.
    r"|\b(?:apt|apartment|suite|ste|unit|flat|box|psc|cmr|p\.?\s?o\.?\s?box|postbus)\.?\s*#?\d{1,6}\b(?![.,]\d)"
    r"|\bthe corner of\s+[^,.\n]{3,60}?\s+and\s+\w[\w'-]*(?:\s+[A-Z\u00C0-\u024F][\w'-]*){0,2}"
    r"|\b[A-Z]{3,}\s+(?:AA|AE|AP)\s+\d{5}\b"
    r"|\b[A-Z][a-z]+,\s+[A-Z]{2}\s+\d{5}(?:-\d{4})?\b)",
    re.IGNORECASE,
)
# Continental style: postcode or house number, a capitalised street name, a number ("30102 Kaevu 94").
_ADDRESS_EU = re.compile(
    r"\b\d{3,6}[ \t]+[A-Z\u00C0-\u00DE\u0100-\u024F][\w\u00C0-\u024F'-]+(?:[ \t]+[\w\u00C0-\u024F'"
    r"-]+){0,2}[ \t]+\d{1,4}[a-z]?\b\.?"
)
# European "street number, postcode town": the postcode shape says address even without a street suffix
# (DE/FR/ES/IT 5 digits, NL 1234 AB, PL 12-345, PT 1234-567, UK SW1A 2AA).
_POSTCODE = r"(?:\d{5}|\d{4}[ ]?[A-Z]{2}|\d{2}-\d{3}|\d{4}-\d{3}|[A-Z]{1,2}\d[A-Z\d]?[ ]\d[A-Z]{2})"
_ADDRESS_POSTCODE = re.compile(
    r"\b(?:(?:ul|al|pl|os)\.[ \t]*)?[A-Z\u00C0-\u00DE\u0100-\u024F][\w\u00C0-\u024F'.-]*"
    r"(?:[ \t]+[\w\u00C0-\u024F'.-]+){0,4}"
    r"[ \t]+\d{1,5}[a-zA-Z]?(?:/\d{1,4})?(?:,[ \t]*[^,\n]{1,20})?,[ \t]*"
    + _POSTCODE
    + r"[ \t]+[A-Z\u00C0-\u024F][\w\u00C0-\u024F'-]+"
    r"(?:[ \t]+[A-Z\u00C0-\u024F][\w\u00C0-\u024F'-]+)?"
)
# A street-type word first, then a capitalised name ("rue des Lilas", "Corso Vittorio Emanuele II 83",
# "ul. Świętojańska 212/2", "C/ Mayor 12"). Words that are also everyday English or French ("via", "avenue",
# "route", "place", "plaza") count only with a house number before or after them ("via email" is no address).
_LEAD_ALWAYS = (
    r"rue|calle|rua|rúa|chemin|piazza|piazzale|corso|viale|vicolo|largo|paseo|carrer|travessa|travesía|praça|"
    r"praca|alameda|estrada|avenida|avda\.?|impasse|allée|quai|ul\.|al\.|os\.|ulica|aleja|pl\."
)
_LEAD_NUMBERED = r"via|vía|avenue|boulevard|bd\.?|route|plaza|place|cours|av\.|c/"
_NAME_PART = r"(?:[A-Z\u00C0-\u00DE\u0100-\u024F][\w\u00C0-\u024F'.-]*|[IVX]+)"
_LINK = r"(?:de|del|de la|della|dello|dei|degli|delle|la|le|les|des|du|da|das|do|dos|di|van|von|der|d')"
_ADDRESS_LEAD = re.compile(
    r"(?<![\w\u00C0-\u024F])(?P<lead>(?i:" + _LEAD_ALWAYS + "|" + _LEAD_NUMBERED + r"))(?![A-Za-z0-9])[ \t]*"
    r"(?:(?i:" + _LINK + r")[ \t]*)*" + _NAME_PART + r"(?:[ \t]+(?:(?i:" + _LINK + r")[ \t]+)*" + _NAME_PART + r"){0,4}"
    r"(?P<number>,?[ \t]*\d{1,5}[a-zA-Z]?(?:/\d{1,4})?(?![\d.,]\d))?"
)
# A street written in any case, as people type it in chat ("via garibaldi 44, 16124 genova", "ringstr. 9, 45127
# essen", "ul. kwiatowa 7/3, 80-180 gdansk"), or a post-office box ("skr. poczt. 45, 60-001 Poznań"): a street-type
# word or a compound ending in one, a house number (flat and floor parts, "bis", a Belgian "bus 5"), then a postcode
# and a town. The postcode after the number is what makes it an address; four-digit postcodes (AT, BE, CH, DK, NO)
# count here, where a street word leads.
_ADDRESS_ANY_CASE = re.compile(
    r"(?<![\w\u00C0-\u024F])(?:(?:Avenue|Boulevard|Bd\.?|Route|Plaza|Place|Cours|(?i:"
    + _LEAD_ALWAYS
    + r"|via|vía|av\.|c/|postbus|postfach|apartado|"
    r"skr\.[ \t]*poczt\.|skrytka[ \t]+pocztowa|casella[ \t]+postale|caixa[ \t]+postal|boîte[ \t]+postale))"
    r"(?![A-Za-z0-9])[ \t]*(?:[^\W\d_][\w\u00C0-\u024F'.-]*[ \t]+){0,4}"
    # A compound in any case ("ringstr.", "Bahnhofstraße"), or the word alone capitalised ("Mariahilfer Straße").
    r"|(?:[A-Z\u00C0-\u00DE\u0100-\u024F][\w\u00C0-\u024F'-]*[ \t]+)?"
    r"(?:[^\W\d_][\w\u00C0-\u024F-]*(?i:straße|strasse|str\.|gasse|weg|straat|laan|gracht|plein|kade|allee|platz)"
    r"|(?:Straße|Strasse|Str\.|Gasse|Weg|Straat|Laan|Gracht|Plein|Kade|Allee|Platz))[ \t]*)"
    # A house number of one to three digits (a four-digit one here is more often a year: "via email 2024, ...").
    r"\d{1,3}[a-zA-Z]?(?:/\d{1,4}){0,2}(?:[ \t]+(?i:bis|ter)|[ \t]+(?i:bus|bte\.?|boîte)[ \t]+\d{1,4})?"
    r",?[ \t]*(?i:" + _POSTCODE + r"|\d{4})[ \t]+[^\W\d_][\w\u00C0-\u024F'-]*"
    r"(?:[ \t]+[A-Z\u00C0-\u00DE\u0100-\u024F][\w\u00C0-\u024F'-]*)?"
)
# The tail of a phone number or a code ("+1-787-555-0164, Calle Luna 154") is not a house number before a street.
_NUMBER_BEFORE = re.compile(r"(?<![\w+./-])\d{1,5}[a-zA-Z]?,?[ \t]+(?:bis[ \t]+|ter[ \t]+)?$")
_ADDRESS_UK = re.compile(
    r"\b\d{1,5}[A-Za-z]?[ \t]+[A-Z][\w'-]+(?:[ \t]+[A-Z][\w'-]+){0,3},[ \t]*(?:[A-Z][\w'-]+[ \t]+){1,2}"
    r"[A-Z]{1,2}\d[A-Z\d]?[ \t]\d[A-Z]{2}\b"
)
_ADDRESS_JOIN = re.compile(r"^[\s,]{0,3}$")
# A following line that continues a postal address: short, no label, no e-mail, letters or a postcode.
_ADDRESS_LINE = re.compile(r"^[ \t]*(?!.*[@:])(?=.*\w)[\w\u00C0-\u024F\u0370-\u03FF .,'()/#-]{2,60}$")


_URL_USER = re.compile(r"://[^\s/@]*$")


def _emails(text: str) -> Iterator[Entity]:
    for m in _EMAIL.finditer(text):
        # "scheme://user:password@host" holds credentials, not an e-mail address (the secret finder masks them).
        if _URL_USER.search(text[max(0, m.start() - 200) : m.start()]):
            continue
        yield Entity("EMAIL", m.start(), m.end())


def _cards(text: str) -> Iterator[Entity]:
    for m in _CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group(0))
        if not (12 <= len(digits) <= 19 and luhn_ok(digits) and len(set(digits)) > 1):
            continue
        # Cards are written in groups of four (Amex 4-6-5); "978-7-57-608236-9" is an ISBN, not a card.
        # Digit groups after a two-letter, two-digit group ("BC68 3422 0200 ...") continue an account reference.
        if re.search(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}[ ]$", text[max(0, m.start() - 6) : m.start()]):
            continue
        groups = [len(g) for g in re.split(r"[ -]", m.group(0))]
        if len(groups) > 1 and groups not in ([4, 6, 5], [4, 6, 4]) and any(g != 4 for g in groups[:-1]):
            continue
        # Twelve digits pass Luhn one time in ten by chance: only with a card word nearby.
        if len(digits) == 12 and not _CARD_CONTEXT.search(text[max(0, m.start() - 40) : m.start()]):
            continue
        yield Entity("CREDIT_CARD", m.start(), m.end())


def _ibans(text: str) -> Iterator[Entity]:
    """Valid IBANs. A grouped match may run on into the next word ("BE15 4701 6456 1130 au nom de", "... 1130 pour"):
    the groups are given back from the end until the country's length and the check digits agree, and the scan goes
    on after the IBAN found, so a word or a second IBAN behind it is read again."""
    pos = 0
    while (m := _IBAN.search(text, pos)) is not None:
        groups = m.group(0).rstrip().split(" ")
        for keep in range(len(groups), 0, -1):
            value = " ".join(groups[:keep])
            if iban_ok(value):
                yield Entity("IBAN", m.start(), m.start() + len(value))
                pos = m.start() + len(value)
                break
        else:
            pos = m.end()


def _ssns(text: str) -> Iterator[Entity]:
    for m in _SSN.finditer(text):
        # Nine bare digits are an SSN only with a cue; after "#" or a ticket cue they are an id.
        if not m.group(1) and not _ssn_cued(text, m.start()):
            continue
        if ssn_ok(m.group(0)):
            yield Entity("US_SSN", m.start(), m.end(), 0.9)


def _ssn_cued(text: str, start: int) -> bool:
    """Whether nine bare digits at start are an SSN: an SSN word just before them, or one (or an SSN written out)
    further back with no identifier word right before them."""
    if _SSN_CUE.search(text[max(0, start - 40) : start]):
        return True
    return bool(_SSN_EARLIER.search(text[max(0, start - 160) : start])) and not identifier_context(text, start)


def _ips(text: str) -> Iterator[Entity]:
    for pattern in (_IPV4, _IPV6):
        for m in pattern.finditer(text):
            try:
                ipaddress.ip_address(m.group(0))
            except ValueError:
                continue
            if _VERSION_CUE.search(text[max(0, m.start() - 12) : m.start()]):
                continue
            yield Entity("IP_ADDRESS", m.start(), m.end())


def _secrets(text: str) -> Iterator[Entity]:
    from keel.privacy.secrets import find_passports, find_secrets, is_placeholder

    yield from find_secrets(text)
    yield from find_passports(text)
    for m in _AWS_KEY.finditer(text):
        if not is_placeholder(m.group(0)):
            yield Entity("AWS_ACCESS_KEY", m.start(), m.end())
    for m in _SECRET.finditer(text):
        start, end = (m.start("value"), m.end("value")) if m.group("value") else (m.start(), m.end())
        if not is_placeholder(text[start:end].rstrip("`'\".,;")):
            yield Entity("SECRET", start, end)


def _phones(text: str) -> Iterator[Entity]:
    from keel.privacy.phones import find_phones

    yield from find_phones(text)


def _dates_of_birth(text: str) -> Iterator[Entity]:
    for m in _DATE.finditer(text):
        if _DOB_CONTEXT.search(text[max(0, m.start() - 40) : m.start()]):
            yield Entity("DATE_OF_BIRTH", m.start(), m.end())


def _lead_streets(text: str) -> Iterator[tuple[int, int]]:
    for m in _ADDRESS_LEAD.finditer(text):
        lead = m.group("lead").lower()
        before = _NUMBER_BEFORE.search(text[max(0, m.start() - 12) : m.start()])
        if re.fullmatch(_LEAD_NUMBERED, lead, re.IGNORECASE) and not (m.group("number") or before):
            continue
        # "5 allée des Roses": the house number before the street word belongs to the address.
        yield (m.start() - len(before.group(0)) if before else m.start()), m.end()


def _addresses(text: str) -> Iterator[Entity]:
    spans = sorted(
        [
            (m.start(), m.end())
            for p in (_ADDRESS, _ADDRESS_EU, _ADDRESS_POSTCODE, _ADDRESS_UK, _ADDRESS_ANY_CASE)
            for m in p.finditer(text)
        ]
        + list(_lead_streets(text))
    )
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and (start <= merged[-1][1] or _ADDRESS_JOIN.match(text[merged[-1][1] : start])):
            merged[-1][1] = max(end, merged[-1][1])
        else:
            merged.append([start, end])
    for first, end in merged:
        # A pattern led by any capitalised word may take in the sentence before the street ("Deliver to ...").
        # So may "my address is" or "I live at" in any of the eight languages ("Meine Adresse ist Hauptstraße 5").
        # Both end in a look-ahead, which cannot see past `end`: a lead-in always leaves some of the span.
        start = max([first, *(m.end() for p in (_LEAD_IN, _ADDRESS_INTRO) for m in p.finditer(text, first, end))])
        stop = _extend_lines(text, _extend_town(text, start, end))
        # An address names a street or a town: a span of digits alone ("al 30", "at 14") is a date or a time.
        if _HAS_WORD.search(text, start, stop):
            yield Entity("ADDRESS", start, stop, 0.7)


_HAS_WORD = re.compile(r"[^\W\d_]{2}")
# Prepositions that introduce an address in the eight languages and rarely sit inside a street name.
_LEAD_IN = re.compile(
    r"(?<![\w\u00C0-\u024F])(?i:to|at|into|from|naar|op|bei|nach|an|à|au|aux|al|alla|przy|na|em|para|en|in|a)"
    r"[ \t]+(?=[A-Z\u00C0-\u00DE\u0100-\u024F0-9])"
)
# "My address is", "I live at" and their like in the eight languages, when they end inside an address span.
_ADDRESS_INTRO = re.compile(
    r"(?<![\w\u00C0-\u024F])(?i:"
    r"(?:address|adresse|anschrift|wohnadresse|dirección|direccion|domicilio|indirizzo|adres|morada|endereço"
    r"|endereco)(?:[ \t]*(?::|-|(?:is|ist|lautet|est|es|è|e|to|é)(?![\w\u00C0-\u024F])))?"
    r"|(?:live|living|wohne|habite|vivo|abito|woon|mieszkam|moro)(?:[ \t]+(?:at|in|on|im|in der|au|à la|à|en|a|"
    r"op|aan|in de|przy|na|em|no)(?![\w\u00C0-\u024F]))?"
    r")[ \t]*(?=[\w\u00C0-\u024F])"
)
_POSTCODE_END = re.compile(_POSTCODE + r"$")
# A town is letters (with inner apostrophes and hyphens), never a field label that follows an address in a contact
# block (", IBAN IT84 ...", ", Tel. ..."), and never holds a digit.
_TOWN = (
    r"(?!(?i:iban|bic|swift|tel|tél|phone|fax|e-?mail|mobile|nif|nie|vat|cif|nip|pesel|regon|kvk|btw|siret|tva|"
    r"ust|ssn|name|naam|nom|nome|nombre|imię|nazwisko)(?![^\W\d_]))[A-Z\u00C0-\u024F](?:[^\W\d_]|['-](?=[^\W\d_]))+"
)
_TAIL_POSTCODE = re.compile(r",?[ \t]*" + _POSTCODE + r"[ \t]+" + _TOWN)
_TAIL_COMMA_TOWN = re.compile(
    r",[ \t]*" + _TOWN + r"(?:[ \t]+" + _TOWN + r")?(?:,[ \t]*(?:[A-Z]{2}\b|" + _TOWN + r"))?"
    r"(?:[ \t]+(?:\d{5}(?:-\d{4})?|" + _POSTCODE + r")\b)?"
)
# A US address ends with its state and ZIP code; the word after it is not a town.
_US_ZIP_END = re.compile(r"\b[A-Z]{2}[ \t]+\d{5}$")
_TAIL_TOWN = re.compile(r"[ \t]+" + _TOWN)


def _extend_town(text: str, start: int, end: int) -> int:
    """Take in the town after a postcode ("..., 69007" + " Lyon"), a ", postcode town" tail, or a ", Town" tail
    with an optional region and postcode ("742 Evergreen Terrace" + ", Springfield, OR 97403")."""
    tail = _TAIL_POSTCODE.match(text, end) or _TAIL_COMMA_TOWN.match(text, end)
    if tail:
        return tail.end()
    if _POSTCODE_END.search(text[start:end]) and not _US_ZIP_END.search(text[start:end]):
        town = _TAIL_TOWN.match(text, end)
        if town:
            return town.end()
    return end


def _line_after(text: str, newline: int) -> tuple[str, int]:
    """The line that starts after the line break at `newline`, and where it ends (its own break, or the text's end)."""
    stop = text.find("\n", newline + 1)
    stop = len(text) if stop == -1 else stop
    return text[newline + 1 : stop], stop


def _extend_lines(text: str, end: int, max_lines: int = 4) -> int:
    """Grow an address span over the next short lines (town, region, country, postcode), only when the address
    ends its line: in running text the words after an address are not part of it."""
    line_end = text.find("\n", end)
    line_end = len(text) if line_end == -1 else line_end
    if text[end:line_end].strip(" \t,.;"):
        return end
    end = line_end
    for _ in range(max_lines):
        if end >= len(text) or text[end] != "\n":
            break
        line, nxt = _line_after(text, end)
        if not line.strip() and nxt < len(text):
            # One blank line may separate the town from the country line.
            line, nxt = _line_after(text, nxt)
        digits = sum(ch.isdigit() for ch in line)
        if not line.strip() or not _ADDRESS_LINE.match(line) or digits > 6 or len(line.split()) > 6:
            break
        # A closing formula ends the address block; the signature after it is a name, not a town.
        if _CLOSING_LINE.match(line):
            break
        # Once the block has its postcode and town (or state and ZIP), only a country line may follow it (a region
        # line only with the country under it), or a CEDEX, PO box or c/o line: a job title or "Merci d'avance"
        # under a signature's address is not part of it. A country line closes the block.
        if _block_complete(text[text.rfind("\n", 0, end) + 1 : end]):
            if _COUNTRY_LINE.match(line):
                end = nxt
                break
            if _BOX_LINE.match(line):
                end = nxt
                continue
            following, after = _line_after(text, nxt) if nxt < len(text) else ("", nxt)
            if _REGION_LINE.match(line) and _COUNTRY_LINE.match(following):
                end = after
            break
        end = nxt
    end = len(text[:end].rstrip())
    # The sentence's full stop is not part of the address; an abbreviation's ("Main St.") may be.
    return end - 1 if _SENTENCE_STOP.search(text, 0, end) else end


_SENTENCE_STOP = re.compile(r"(?:\d|[^\W\d_]{4,})\.$")
# A line that ends a postal address: postcode and town, a US state and ZIP code, or a UK postcode.
_COMPLETE_LINE = re.compile(
    r"(?:(?:^|,)[ \t]*\b" + _POSTCODE + r"[ \t]+(?P<town>" + _TOWN + r"(?:[ \t]+" + _TOWN + r")?)"
    r"|\b[A-Z]{2}[ \t]+\d{5}(?:-\d{4})?|\b[A-Z]{1,2}\d[A-Z\d]?[ \t]\d[A-Z]{2})[ \t,.]*$"
)
_STREET_WORD = re.compile(r"(?i)(?<![\w\u00C0-\u024F])" + _STREET_SUFFIX + r"(?![\w\u00C0-\u024F])")


def _block_complete(line: str) -> bool:
    """Whether an address line ends the block: "10115 Berlin", "Springfield, IL 62704", "London SW1A 2AA"; a house
    number and a street ("12345 Elm Street") is not a postcode and a town."""
    m = _COMPLETE_LINE.search(line)
    return m is not None and not (m.group("town") and _STREET_WORD.search(m.group("town")))


# Lines that may follow a complete block: a CEDEX, a PO box or a care-of line, and a region (only with a country
# line under it: "Bayern\nDeutschland", "Greater London\nUK").
_BOX_LINE = re.compile(
    r"(?i)[ \t]*(?:cedex|postfach|p\.?[ \t]?o\.?[ \t]?box|c/o|bp|apartado|skrytka|casella postale|caixa postal|"
    r"postbus)\b.{0,40}$"
)
_REGION_LINE = re.compile(
    r"[ \t]*(?:woj\.[ \t]*)?[^\W\d_][\w\u00C0-\u024F.'-]*(?:[ \t]+[^\W\d_][\w\u00C0-\u024F.'-]*){0,2}[ \t]*$"
)
# Country names that close an address block, in the eight languages, and two- or three-letter codes in capitals.
_COUNTRIES = (
    r"germany|deutschland|allemagne|alemania|germania|duitsland|niemcy|alemanha|france|frankreich|francia|frankrijk|"
    r"francja|frança|spain|spanien|espagne|españa|espana|spagna|spanje|hiszpania|espanha|italy|italien|italie|italia|"
    r"italië|włochy|itália|(?:the )?netherlands|niederlande|pays-bas|países bajos|paesi bassi|nederland|holandia|"
    r"holanda|países baixos|holland|poland|polen|pologne|polonia|polska|polónia|polônia|portugal|portogallo|"
    r"portugalia|belgium|belgien|belgique|bélgica|belgio|belgië|belgia|austria|österreich|autriche|oostenrijk|"
    r"áustria|switzerland|schweiz|suisse|suiza|svizzera|zwitserland|szwajcaria|suíça|luxembourg|luxemburg|"
    r"lussemburgo|luksemburg|ireland|irland|irlande|irlanda|ierland|united kingdom|great britain|england|scotland|"
    r"wales|royaume-uni|reino unido|regno unito|verenigd koninkrijk|vereinigtes königreich|wielka brytania|"
    r"united states(?: of america)?|états-unis|etats-unis|estados unidos|stati uniti|verenigde staten|"
    r"vereinigte staaten|stany zjednoczone|canada|kanada|denmark|dänemark|danemark|dinamarca|danimarca|denemarken|"
    r"dania|sweden|schweden|suède|suecia|svezia|zweden|szwecja|suécia|norway|norwegen|norvège|noruega|norvegia|"
    r"noorwegen|norwegia|finland|finnland|finlande|finlandia|finlândia|czech republic|czechia|tschechien|greece|"
    r"griechenland|grèce|grecia|grecja|grécia|brazil|brasil|brasilien|brésil|brasile|brazilië|brazylia|japan|japon|"
    r"japón|giappone|japonia|japão|australia|australien|australie|austrália|australië|mexico|méxico|mexique|messico|"
    r"meksyk|mexiko"
)
_COUNTRY_LINE = re.compile(r"[ \t]*(?:(?i:" + _COUNTRIES + r")|[A-Z]{2,3}|U\.S\.A\.|U\.S\.|U\.K\.)[ \t]*[,.]?[ \t]*$")
_CLOSINGS = (
    r"thanks|thank you|many thanks|cheers|best|best regards|kind regards|regards|sincerely|cordialement|"
    r"bien à vous|bien cordialement|salutations|amitiés|bises|viele grüße|viele grüsse|beste grüße|mit freundlichen "
    r"grüßen|freundliche grüße|grüße|gruß|lg|vg|met vriendelijke groet|vriendelijke groet|groeten|groetjes|saludos|"
    r"un saludo|atentamente|cordiali saluti|distinti saluti|saluti|un saluto|pozdrawiam|z poważaniem|pozdrowienia|"
    r"cumprimentos|atenciosamente|com os melhores cumprimentos|abraço|obrigad[oa]"
)
_CLOSING_LINE = re.compile(r"(?i)[ \t]*(?:" + _CLOSINGS + r")[ \t]*[,!.]?[ \t]*$")


# Words that make a capitalised span an organisation, not a person.
ORG_WORDS = frozenset(
    (
        "inc", "incorporated", "llc", "ltd", "plc", "gmbh", "ag", "sa", "bv", "nv", "co", "corp", "corporation",
        "company", "companies", "group", "holdings", "multibanco", "technologies", "technology", "tech", "systems",
        "solutions", "services", "service", "software", "labs", "laboratories", "bioscience", "biosciences",
        "pharmaceuticals", "pharma", "partners", "associates", "consulting", "bank", "capital", "ventures",
        "industries", "international", "global", "enterprises", "foundation", "institute", "university",
        "college", "school", "agency", "media", "network", "networks", "studios", "entertainment", "airlines",
        "motors", "energy", "insurance", "financial", "analytics", "data", "digital", "web", "online", "store",
        "shop", "market", "foods", "hotel", "hotels", "restaurant", "club", "association", "council",
        "ministry", "department", "hospital", "clinic", "church", "team", "logistics", "traders", "retail",
        "operations", "desk", "helpdesk", "portal", "cloud", "platform", "payroll", "procurement",
        # Departments and services in the other seven languages ("Departamento de Compras", "Dział Kadr").
        "abteilung", "departement", "département", "departamento", "dipartimento", "afdeling", "dział", "działu",
        "direction", "dirección", "direzione", "direção", "ufficio", "servicio", "serviço", "servizio", "dienst",
        "secretaría", "segreteria", "secretaria", "sekretariat", "gruppe", "grupo", "gruppo", "groep", "grupa",
        "équipe", "equipo", "equipa", "zespół",
        # Projects and programmes ("Project Falcon", "Projekt Falke").
        "project", "projekt", "projet", "proyecto", "progetto", "projeto", "program", "programme", "initiative"
    )
)  # fmt: skip
# Capitalised words of the eight languages that open or sit beside names but are never one: weekdays, months,
# greetings and sign-offs, office and team words, sentence-initial prepositions that are also rare given names
# ("Dalla", "Desde"), and label words ("Número", "Angebot", "Rabatt"). Matched folded (accents dropped).
_NOT_NAME_TEXT = """
monday tuesday wednesday thursday friday saturday sunday montag dienstag mittwoch donnerstag freitag samstag sonntag
lundi mardi mercredi jeudi vendredi samedi dimanche lunes martes miercoles jueves viernes sabado lunedi
martedi mercoledi giovedi venerdi sabato domenica maandag dinsdag woensdag donderdag vrijdag zaterdag zondag
poniedzialek wtorek sroda czwartek piatek sobota niedziela segunda terca quarta quinta sexta
january february march july september october november december januar februar marz juni
juli oktober dezember janvier fevrier mars avril mai juin juillet aout septembre octobre novembre decembre enero
febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre gennaio febbraio aprile maggio
giugno luglio settembre ottobre dicembre januari februari maart mei augustus stycznia lutego marca kwietnia maja
czerwca lipca sierpnia wrzesnia pazdziernika listopada grudnia janeiro fevereiro maio junho julho setembro
outubro novembro dezembro
hi hello dear hey good morning afternoon evening regards kind thanks cheers hallo zusammen liebe lieber viele
grusse gruss bonjour bonsoir salut cordialement tous toutes hola buenos buenas dias saludos equipo ciao buongiorno
salve tutti cordiali saluti hoi allemaal beste groet groeten vriendelijke dzien dobry pozdrawiam witam czesc ola
olá bom dia equipa cumprimentos obrigado obrigada team support
office buro bureau oficina sede ufficio kantoor biuro escritorio
segunda-feira terca-feira quarta-feira quinta-feira sexta-feira poniedzialku wtorku srody czwartku piatku soboty
niedzieli noel navidad natale kerstmis weihnachten ostern pasqua pascua paques pascoa easter christmas wielkanoc
sie ihr ich wir vous usted ustedes lei voi jullie pan pani panstwo voce je yo io ik ja eu
numero nummer numer angebot rabatt betrag summe total importe montant importo bedrag kwota valor
"""
NOT_NAME_WORDS = frozenset(_NOT_NAME_TEXT.split())
# Words that are never a name only as written with their accent: Portuguese "março" (March) folds to "marco", and Marco
# is one of the commonest Italian given names.
_NOT_NAME_ACCENTED = frozenset(("março",))


def fold(word: str) -> str:
    """Lower-case ASCII form used for lexicon look-ups ("Miklós" -> "miklos")."""
    # "ł" has no decomposition and would vanish ("Paweł" -> "pawe"); it folds to "l" like the other marked letters.
    word = word.replace("ł", "l").replace("Ł", "L")
    return unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode().lower().strip(".'’-")


def never_a_name(word: str) -> bool:
    """A word that opens, closes or sits beside names but is never one (weekdays, months, greetings, office words),
    compared folded, and the accented words compared as written."""
    low = word.lower().strip(".,;:!?'’-")
    return fold(low) in NOT_NAME_WORDS or low in _NOT_NAME_ACCENTED


# Sentence-initial prepositions that are also given names or surname particles ("Dalla versione ..." but "Dalla
# Costa"): not a name when the word after them is lower-case.
PREPOSITIONS = frozenset(
    [
        "dalla",
        "della",
        "dal",
        "desde",
        "seit",
        "sinds",
        "depuis",
        "com",
        "para",
        "per",
        "pour",
        "sur",
        "mit",
        "met",
        "voor",
        "przy",
        "dla",
        "con",
    ]
)
_NAME_WORD = r"[A-Z\u00C0-\u00DE\u0100-\u024F][\w\u00C0-\u024F'-]+"
_NAME_CUE = re.compile(
    r"(?:\b(?:hi|hello|dear|hey|ms|mr|mrs|miss|dr|prof|name is|name:|names are|i am|i'm|this is|si"
    r"gned|regards,|"
    r"thanks,|contact|ask for|called|calls me|call me|named|change it to|by:|tribute to|follow up "
    r"with|user:|"
    # Titles of the other supported languages (salutations like "Liebe" also open "Liebe Grüße": left out).
    r"frau|herr|herrn|madame|monsieur|mme|mlle|señor|señora|sra|srta|signor|signora|sig\.ra|dott|dott\.ssa|mevrouw|"
    r"meneer|mevr|dhr|pani|panią|pana|panu|panem|pan|senhor|senhora|m\.|sig|dra|avv|sr|"
    # "Ask for ..." in the other languages.
    r"perguntar pela|perguntar pelo|pergunte pela|pergunte pelo|preguntar por|pregunte por|chiedere di|chieda di|"
    r"chiedi di|demandez|demander|vraag naar|vragen naar|pytać o|zapytać o|zapytaj o)\.?[ \t]+)"
    r"(?:(?:dr|mr|mrs|ms|miss|prof)\.?[ \t]+)?"
    # An initial is a lone capital ("R", "R."), never the first letter of the next word.
    r"(?P<name>" + _NAME_WORD + r"(?:[ \t]+(?:[A-Z](?:\.|(?!\w))|" + _NAME_WORD + r")){0,3})",
    re.IGNORECASE,
)
# A signature: a closing formula of the eight languages, then the name on the same line after a comma or on the next
# line ("Viele Grüße, Jan-Hendrik Voß", "Cordialement,\nAnne de La Roche", "Met vriendelijke groet,\n\nAnnemiek van
# den Berg-Smits").
SIGNATURE = re.compile(
    r"(?im:(?:^|(?<=[.!?])[ \t]+)[ \t]*(?:" + _CLOSINGS + r")[ \t]*[,!.]?[ \t]*(?:\n[ \t]*)*)"
    r"(?P<name>(?:(?:Dr|Prof|Maître|Me|dott|dott\.ssa|ing|mgr|r\.pr)\.?[ \t]+)?"
    r"[A-Z\u00C0-\u00DE\u0100-\u024F][\w\u00C0-\u024F'-]+"
    r"(?:[ \t]+(?:(?:de|da|das|do|dos|du|di|del|della|van|von|der|den|ter|ten|la|le|zu)[ \t]+){0,3}"
    r"[A-Z\u00C0-\u00DE\u0100-\u024F][\w\u00C0-\u024F'-]+){0,3})[ \t]*$",
    re.MULTILINE,
)
# Particles, then a capitalised surname: a name after a title even though it opens in lower case ("von der Heydt",
# "van den Berg", "de la Cruz", "d'Almeida"). A lone article ("le", "la", "der", "den") opens no name: "Monsieur le
# Maire", "Herr der Lage".
_PARTICLE_LED = re.compile(
    r"(?:(?:van|von|de|del|della|delle|dello|dei|des|di|da|das|do|dos|du|ten|ter|zu|zum|zur)"
    r"(?:[ \t]+(?:der|den|de|la|las|los|le|und[ \t]+zu))?[ \t]+|d['’])"
    r"(?:(?:La|Le|Van|Von|De|Da|Di|Du|Del|Della|Des|Ter|Ten)[ \t]+)?(?P<surname>" + _NAME_WORD + r")"
)
# A title right before the name (not "contact" or "ask for": "vraag naar de Manager" is no person). Polish titles are
# left out (Polish surnames take no particles; "Pan de Azúcar" is a mountain), and the French "M." needs its dot.
_TITLE_BEFORE = re.compile(
    r"(?i)(?<![\w\u00C0-\u024F'’])(?:(?:mr|mrs|ms|dr|prof|dear|frau|herr|herrn|madame|monsieur|mme|mlle|señor|"
    r"señora|sra|srta|signor|signora|sig\.ra|sig|dott|dott\.ssa|mevrouw|meneer|mevr|dhr|senhor|senhora|sr|dra|avv)\.?"
    r"|m\.)[ \t]+$"
)
# Offices addressed with a title and an article ("Mevrouw de Voorzitter", "Madame la Directrice"): never a surname.
_OFFICES_TEXT = """
    voorzitter burgemeester directeur directrice président presidente president präsident maire préfet prefetto
    ministre minister ministro sindaco alcalde alcaldesa bürgermeister vorsitzende vorsitzender rector recteur rettore
    rektor dekan doyen decano decaan juge juez giudice rechter richter notaire notaio notario notaris
"""
_OFFICES = frozenset(fold(w) for w in _OFFICES_TEXT.split())
_NAME_CUE_LOWER = re.compile(
    r"\b(?:my name is|call me|follow up with)[ \t]+(?P<name>[a-z\u00C0-\u024F'-]{2,}(?:[ \t]+[a-z"
    r"\u00C0-\u024F'-]{2,}){0,2})"
)
_FIRST_LINE = re.compile(
    r"^[ \t]*(?P<name>" + _NAME_WORD + r"(?:[ \t]+(?:[A-Z](?:\.|(?!\w))|" + _NAME_WORD + r")){1,3})[ \t]*\n"
)
_NOT_NAMES = frozenset(
    [
        "i",
        "the",
        "a",
        "an",
        "you",
        "we",
        "they",
        "he",
        "she",
        "it",
        "there",
        "here",
        "please",
        "thanks",
        "thank",
        "sir",
        "madam",
        "team",
        "all",
        "everyone",
        "customer",
        "support",
        "service",
        "sales",
        "my",
        "our",
        "your",
        "this",
        "that",
        # Titles precede a name; the cue for the title itself matches the name after it.
        "dr",
        "mr",
        "mrs",
        "ms",
        "miss",
        "prof",
        # After "call me" a preposition or time word, not a name ("call me on 0494...", "call me when").
        "on",
        "at",
        "when",
        "back",
        "later",
        "now",
        "tomorrow",
        "today",
        "tonight",
        "asap",
        "anytime",
        "if",
        "as",
        "soon",
        "again",
        "after",
        "before",
        "about",
        "in",
        "for",
        "by",
        "to",
    ]
)


def _is_name(candidate: str) -> bool:
    words = candidate.split()
    return (
        bool(words)
        and words[0].lower() not in _NOT_NAMES
        and not any(never_a_name(w) for w in words)
        and not any(w.lower().strip(".,") in ORG_WORDS for w in words)
    )


def _has_phone_shape(text: str) -> bool:
    from keel.privacy.phones import CANDIDATE

    return any(sum(ch.isdigit() for ch in m.group(0)) >= 7 for m in CANDIDATE.finditer(text))


# "MS" in capitals right before the name: Microsoft, not the title Ms.
_MICROSOFT = re.compile(r"(?<![\w\u00C0-\u024F])MS[ \t]+$")


def _cue_matches(pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """Every cue match, where a cue's lower-case "name" may itself be the next cue ("pytać o panią Ewę"), and the words
    after "MS" (Microsoft) may hold one ("set up MS Teams with Dr. Smith")."""
    pos = 0
    while (m := pattern.search(text, pos)) is not None:
        yield m
        reread = m.group("name")[:1].islower() or _MICROSOFT.search(text, m.start(), m.start("name"))
        pos = m.start("name") if reread else m.end()


def _cue_name(pattern: re.Pattern[str], m: re.Match[str], text: str) -> Entity | None:
    """The name a cue introduces, or None when what follows the cue is no name."""
    name = m.group("name")
    if pattern is _NAME_CUE_LOWER:
        # Lower-case names are only expected in text written all in lower case.
        return None if any(ch.isupper() for ch in text) else _cue_entity(name, m.start("name"), m.end("name"))
    # "MS" in capitals is Microsoft ("an MS Teams call", "contact MS Teams support"), not the title Ms.
    if _MICROSOFT.search(text, m.start(), m.start("name")):
        return None
    # A surname led by particles after a title ("Herrn von der Heydt", "Mr. van den Berg").
    if _TITLE_BEFORE.search(text, m.start(), m.start("name")) is not None:
        led = _PARTICLE_LED.match(text, m.start("name"))
        if led is not None:
            surname = led.group("surname")
            if fold(surname) in _OFFICES or not _is_name(surname):
                return None
            return Entity("PERSON", led.start(), led.end(), 0.6)
    # Case-insensitive cues match capitalised words loosely; keep only capitalised name words.
    if not name[0].isupper():
        return None
    # The cue matches case-insensitively; the name stops at its first lower-case word ("Marta Ruiz aus").
    lower = re.search(r"[ \t]+[a-z\u00df-\u00ff]", name)
    end = m.start("name") + lower.start() if lower else m.end("name")
    return _cue_entity(name[: end - m.start("name")], m.start("name"), end)


def _cue_entity(name: str, start: int, end: int) -> Entity | None:
    return Entity("PERSON", start, end, 0.6) if _is_name(name) else None


def _names(text: str) -> Iterator[Entity]:
    """Names from cues (salutations, "my name is"), contact-card first lines and e-mail local parts."""
    for pattern in (_NAME_CUE, _NAME_CUE_LOWER):
        for m in _cue_matches(pattern, text):
            entity = _cue_name(pattern, m, text)
            if entity is not None:
                yield entity
    first = _FIRST_LINE.match(text)
    if first and (_EMAIL.search(text) or _has_phone_shape(text)) and _is_name(first.group("name")):
        yield Entity("PERSON", first.start("name"), first.end("name"), 0.5)
    for email in _EMAIL.finditer(text):
        local = re.sub(r"[^a-z]", "", email.group(0).split("@")[0].lower())
        for m in re.finditer(r"[^\W\d_]{2,}(?:[ \t]+[^\W\d_]\.?)?(?:[ \t]+[^\W\d_]{2,}){1,2}", text):
            words = [w for w in re.findall(r"[^\W\d_]{2,}", m.group(0).lower())]
            folded = [unicodedata.normalize("NFKD", w).encode("ascii", "ignore").decode() for w in words]
            if len(folded) >= 2 and all(w and w in local for w in folded) and m.end() <= email.start():
                yield Entity("PERSON", m.start(), m.end(), 0.7)


# Identifier words of the eight languages: a number right after one of them names a version, a build, a part, an
# order, an invoice, a ticket, a shipment, a contract or a cost centre, not a person's phone, SSN or host. Whole
# words, and stems that begin compounds ("Bestellnummer", "Rechnungsnummer", "Sendungsnummer", "klantnummer").
_ID_WORDS_TEXT = """
    version ver v build release firmware patch agent os kernel bios driver sku part pn model serial sn s/n asset tag
    order invoice ticket case incident inc ref réf po rma contract customer client cost centre center code id hash
    commit checksum digest request correlation instance item lot batch job run pipeline kb tracking shipment parcel
    package waybill awb quote quotation receipt transaction booking reservation confirmation claim
    versão versión versione versie wersja wersji compilación compilação compilazione kompilacja
    artikel articolo modell modèle modelo modello pieza peça części onderdeel teil teile
    commande facture factura fattura factuur faktura fatura suivi seguimiento tracciamento rastreio przesyłki
    pedido encomenda ordine zamówienie zamówienia zlecenie bestelling auftrag vorgang dossier expediente pratica
    zaak sprawa zgłoszenie zgłoszenia incidencia chamado référence referencia referência riferimento referentie
    referenz contrat contrato contratto umowa umowy vertrag cliente klienta klant kunde costo coste custo kosztów
    identifiant identificador identyfikator identificativo prüfsumme transazione transação transacción
    rechnung lieferschein sendung kostenstelle kostenplaats codice código nr
    treiber treibers pilote pilotes sterownik sterownika stuurprogramma p/n
    policy polis polisa polisy póliza poliza polizza apólice apolice versicherungsschein police
    pce prm pdl pdr cups zählpunkt meter compteur contatore licznik contador
    część czesc zamiennik zamienna sostitutivo ricambio ersatzteil replacement pièce pieza peça
    demande aanvraag solicitud richiesta wniosek antrag kod kodu
    siret siren nif cif nip regon krs kvk vat tva ust
    account konto conto rekening rachunek
    seryjny seryjnego serie série seriale vettura szkoda szkody siniestro sinistro schademelding bill
    cod localizador kassenzeichen kenmerk betalingskenmerk processo proceso billete bilhete biglietto reklamacji
    adhérent adherent mitglied socio documento document dokument ricambio
    sprawy matricola contatore compteur zähler zählernummer contador licznika licznik meterstand abonnement
    ersatzteil material materiaal materiale pozycja katalogowa katalogowy catalogue catálogo catalogo katalog lote
    segnacollo spedizione envoi colis expédition envío remessa paczki przesyłka sinistre prüfprotokoll protokoll
    protocollo protocolo protocole isbn ean gtin oid pdl pdr cups nipc nie reclamação réclamation reclamación
    reklamation reclamo storingsmelding störungsmeldung meldung aktenzeichen az
    meter indeks index fascicolo parts onderdelen peças pièces piezas pezzi ricambi ersatzteile
"""
_ID_WORDS = frozenset(_ID_WORDS_TEXT.split())
# Words between an identifier word and its number ("Serial no.", "numero di tracciamento", "Ordine n.").
_FILLER = frozenset(
    [
        "no",
        "n",
        "nº",
        "n°",
        "n.º",
        "num",
        "number",
        "nummer",
        "numer",
        "numero",
        "número",
        "numéro",
        "de",
        "di",
        "du",
        "da",
        "do",
        "of",
        "the",
        "my",
        "our",
        # Articles, copulas and short prepositions of the eight languages ("el número de seguimiento de la agencia es
        # ...", "unter der Nummer ...", "il numero della pratica è ...").
        "a",
        "an",
        "is",
        "el",
        "la",
        "le",
        "les",
        "l",
        "los",
        "las",
        "lo",
        "il",
        "es",
        "est",
        "è",
        "é",
        "ist",
        "to",
        "jest",
        "der",
        "die",
        "das",
        "des",
        "del",
        "della",
        "dello",
        "dei",
        "het",
        "van",
        "o",
        "os",
        "as",
        "al",
        "au",
        "unter",
        "con",
        "with",
        "under",
    ]
)
_ID_STEMS = ("schade", "bestell", "rechnung", "sendung", "kunden", "vertrag", "kosten", "artikel", "teilenummer",
             "onderdeel", "klant", "bestel", "tracking", "referen", "serien", "auftrag", "ticket", "order", "invoice",
             "factur", "faktur", "versi", "wersj", "firmware", "build", "seriennr", "modellnr", "track")  # fmt: skip
# Words for a phone in the eight languages, shared by the two checks below.
_PHONE_WORDS = (
    r"phone|mobile|tel|telephone|call|ring|fax|cell|whatsapp|sms|téléphone|portable|telefon\w*|handy\w*|"
    r"teléfono|móvil|telefono|cellulare|bel|mobiel|telefoon\w*|komórk\w*|telemóvel|telefone|ligue"
)
# Compounds that name a phone number ("Faxnummer", "mobielnummer", "gsm-nummer"): not identifier words, though they end
# in "nummer".
_PHONE_STEMS = ("tel", "fax", "mobil", "mobiel", "handy", "gsm", "ruf", "phone", "cell", "whatsapp", "komór", "celul",
                "contact", "kontakt", "notruf", "notfall", "festnetz", "vast", "servic", "hotline", "storing", "nood",
                "support", "help", "info", "spoed", "sozialversicherung", "social", "sécurité", "seguridad", "securit",
                "previdenza")  # fmt: skip
# Words that say the number is a phone, an SSN or a host after all ("ticket, tel 0612 ...", "IP of build server").
# Words for a machine or its address, shared by the two checks below and the IP checks further down.
_HOST_TERMS = (
    r"ip|ipv4|host|hostname|server|gateway|router|proxy|firewall|vpn|nas|printer|laptop|pc|workstation|vm|ping|ssh|"
    r"rdp|endpoint|dhcp|nat|lan|wan|wifi|interface|dns|subnet|address|adresse|dirección|indirizzo|adres"
)
_KEEP_WORDS = re.compile(
    r"^(?:" + _PHONE_WORDS + r"|mob|rufnummer|llama\w*|ssn|tin|" + _HOST_TERMS + r")$", re.IGNORECASE
)
# A phone word anywhere in the clause before the number ("my phone for order questions is ...").
# Calls themselves count too ("the itemised bill of the calls of number ..."): "chamadas", "chiamate", "Anrufe".
# An SSN word anywhere in the clause says the same of an SSN's shape ("my ssn on the claim form is ...", "US tax id:").
_PHONE_OR_SSN_CUE = re.compile(
    r"\b(?:" + _PHONE_WORDS + r"|llam\w*|chamad\w*|chiamat\w*|anruf\w*|połącze\w*|gesprekken|"
    r"ssn|social security|tax id|taxpayer id|itin)\b"
    # "My number" right before the number is a phone ("mój nr 601 234 567"; "mon numéro de commande" is not).
    r"|(?<![\w\u00C0-\u024F])(?:my|mój|moj|mijn|meine|mein|mon|mi|mio|meu)[ \t]+"
    r"(?:number|nr\.?|numer|nummer|numéro|numero|número)[ \t]*(?::|is|to|es|è|é|ist|est)?[ \t]*$",
    re.IGNORECASE,
)
# Identifier words that say only "number" or "customer": a call or contact word before them in the clause says the
# number is one to call (identifier_context).
_WEAK_ID_WORDS = frozenset(
    ("nr", "nr.", "customer", "client", "cliente", "klient", "klienta", "klant", "kunde", "kunden")
)
_CALL_BEFORE = re.compile(
    r"(?<![\w\u00C0-\u024F])(?i:" + _PHONE_WORDS + r"|contact\w*|kontakt\w*|contatt\w*|contacto|contato|rückruf\w*|"
    r"rueckruf\w*|zurückruf\w*|anruf\w*|erreichbar|bereikbaar|terugbel\w*|bellen|joignable|rappel\w*|appel\w*|"
    r"reperibile|chiam\w*|richiam\w*|llam\w*|ligar|liga|dzwo\w*|zadzwo\w*|oddzwo\w*)(?![\w\u00C0-\u024F])"
)
_TOKEN = re.compile(r"[\w\u00C0-\u024F/]+(?:\.[\w\u00C0-\u024F/]+)*")
# Verbs that put a version after them, for dotted quads only ("upgraded to", "aktualisiert auf", "aggiornato a").
_VERSION_VERBS = ("upgrad", "updat", "downgrad", "install", "roll", "patch", "deploy", "aktualisier", "actualiz",
                  "aggiorn", "bijgewerkt", "geüpdatet", "zaktualizow", "aktualizacj", "atualiz", "bump", "pinn",
                  "dependenc")  # fmt: skip
# French says "update" in three words ("la mise à jour 10.4.2.1"), or "MAJ".
_VERSION_PHRASE = re.compile(r"(?i:\bmise[ \t]+[àa][ \t]+jour|\bmaj)[ \t]*$")
# Words that make a dotted quad a machine's address when they come just before it ("the thin client on 10.0.3.4"):
# for numbers in general they are customer or identifier words, so they count for IP addresses only.
_HOST_WORDS = frozenset(
    ("client", "clients", "terminal", "device", "appareil", "ordinateur", "gerät", "rechner", "apparaat", "computer",
     "komputer", "urządzenie", "dispositivo", "machine", "maschine", "source", "destination", "quelle", "ziel",
     "origen", "destino", "origine", "bron", "źródło", "origem")
)  # fmt: skip
# Spans an identifier word can turn into a look-alike; checksummed types (IBAN, card) and keys are left alone.
_ID_SENSITIVE = frozenset(("PHONE", "US_SSN", "IP_ADDRESS"))


_ID_ENDINGS = ("nummer", "number", "numer", "treiber", "nr", "nr.", "code")


def identifier_word(word: str) -> bool:
    """Whether a word names an identifier ("Rechnungsnummer", "invoice", "Zamówienie") in one of the languages."""
    w = word.lower().strip(".:")
    return w in _ID_WORDS or w.startswith(_ID_STEMS) or w.endswith(_ID_ENDINGS)


def _says_phone_or_host(word: str) -> bool:
    """A phone, SSN or host word, or a compound naming a phone number ("Faxnummer"): the number after it is one."""
    return bool(_KEEP_WORDS.match(word)) or word.startswith(_PHONE_STEMS)


def identifier_context(text: str, start: int, words: int = 3, *, versions: bool = False) -> bool:
    """Whether one of the few words before `start`, on the same line and in the same clause, is an identifier word
    and none nearer is a phone, SSN or host word. With `versions` (for dotted quads), upgrade and install verbs
    count too ("upgraded from 4.12.0.3 to 4.12.1.0"), and dotted numbers in between are passed over."""
    line_start = text.rfind("\n", 0, start) + 1
    # A sentence ends at a full stop with more words after it; a dot right before the number ends an abbreviation
    # ("Artikelnr. 98-2231-04", "Bill no. 3004-118-772").
    before = re.split(r"(?<=\w{3})[.!?]\s+(?=\S)|[;()\[\]]|\s[-–]\s", text[max(line_start, start - 48) : start])[-1]
    if _PHONE_OR_SSN_CUE.search(before):
        return False
    tokens = [t.lower() for t in _TOKEN.findall(before) if t.lower() not in _FILLER]
    if versions:
        if _VERSION_PHRASE.search(before):
            return True
        tokens = [t for t in tokens if not re.fullmatch(r"v?\d+(?:\.\d+)+", t)]
    for back, word in enumerate(reversed(tokens[-words:]), 1):
        # A number in between takes the identifier word ("ticket 4471, call 0612 ..."); a phone or host word
        # says the number is one.
        if _says_phone_or_host(word) or any(ch.isdigit() for ch in word):
            return False
        if versions and word in _HOST_WORDS:
            return False
        if word in _WEAK_ID_WORDS and _CALL_BEFORE.search(before) and not _named_id_before(tokens, back):
            # "Proszę o kontakt pod nr 75 642 18 90", "Rückruf an den Kunden unter 0341 ...": a call or contact word
            # earlier in the clause makes a bare "number" or "customer" the number to call ("call about order nr ..."
            # stays an order number).
            return False
        if identifier_word(word) or (versions and word.startswith(_VERSION_VERBS)):
            return True
    return False


def _named_id_before(tokens: list[str], back: int) -> bool:
    """Whether the token before the one `back` places from the end names an identifier ("order" in "order nr")."""
    return len(tokens) > back and identifier_word(tokens[-back - 1])


def _version_shaped(text: str, entity: Entity) -> bool:
    """A dotted quad read as a version: a build code in brackets after it ("4.12.0.3 (H99N994)"), or a product
    name right before it ("Google Workspace 5.13.8.219"), unless a host word is near."""
    if entity.type != "IP_ADDRESS" or ":" in text[entity.start : entity.end]:
        return False
    if re.match(r"[ \t]*\([A-Z0-9]{4,10}\)", text[entity.end : entity.end + 14]):
        return True
    previous = _TOKEN.findall(text[max(0, entity.start - 30) : entity.start])
    if not previous or not text[: entity.start].endswith(" "):
        return False
    word = previous[-1]
    # A label ("Verdacht: 192.0.2.46") or a word opening the sentence ("Bitte 192.0.2.45 sperren") is no product name.
    head = text[: entity.start].rstrip()
    if head.endswith(":") or re.search(r"(?:^|[.!?\n])[ \t]*$", head[: len(head) - len(word)]):
        return False
    return word[0].isupper() and not word.isupper() and not _KEEP_WORDS.match(word) and word.lower() not in _HOST_WORDS


RECOGNIZERS: tuple[Callable[[str], Iterator[Entity]], ...] = (
    _emails, _cards, _ibans, _ssns, _ips, _secrets, _phones, _dates_of_birth, _addresses, _names,
)  # fmt: skip


def find_structured(text: str) -> list[Entity]:
    """Every structured entity found by the regex recognizers (may overlap; see resolve). A phone, SSN or IP shape
    read as an identifier or a version is left out, and so is a number of the same shape in the same sentence with no
    phone or host word of its own ("part 512-44-9031 is out; the substitute is 512-44-9032")."""
    found = [entity for recognizer in RECOGNIZERS for entity in recognizer(text)]
    looks = [
        e
        for e in found
        if e.type in _ID_SENSITIVE
        and not _plainly_ipv6(text[e.start : e.end])
        and not _international(text, e)
        and not _plainly_an_address(text, e)
        and (
            identifier_context(text, e.start, versions=e.type == "IP_ADDRESS")
            or _version_shaped(text, e)
            or _part_of_code(text, e)
            or _version_talk(text, e)
            or _beside_a_version(text, e)
            or _updated_to(text, e)
            or _image_tag(text, e)
        )
    ]
    return [
        e
        for e in found
        if e.type not in _ID_SENSITIVE or not (e in looks or any(_same_kind(text, e, other) for other in looks))
    ]


# Words that make the talk about versions (eight languages): a dotted quad near them is a version unless a host word
# stands right before it.
_VERSION_TALK = re.compile(
    r"(?i:\b(?:version|versions|versión|versiones|versione|versioni|versie|wersj\w*|versão|versões|firmware|release|"
    r"releases|update|updates|upgrade|patch|build|driver|treiber|pilote|sterownik\w*|aggiorn\w*|actualiz\w*|app|"
    r"apps|application|aplicación|applicazione|aplicação|aplikacj\w*|"
    r"atualiz\w*|aktualiz\w*|mise à jour|changelog|poprzednio|vorher)\b)"
)


# A full stop, question or exclamation mark after a word and before a space or the end, or a line break.
_SENTENCE_END = re.compile(r"(?<=\w)[.!?](?:\s+|$)|\n")


def _version_talk(text: str, entity: Entity) -> bool:
    """A dotted quad in or just after a sentence about versions, when it looks like one: its first number under 10
    ("4.11.3.202"), or another dotted quad of the text sharing its first two numbers ("7.70.3.117" and "7.70.2.201")."""
    value = text[entity.start : entity.end]
    if entity.type != "IP_ADDRESS" or ":" in value or _host_word_before(text, entity.start):
        return False
    sentences = _SENTENCE_END.split(text[: entity.start])
    window = " ".join(sentences[-2:])
    if not _VERSION_TALK.search(window):
        return False
    head = value.split(".")[:2]
    siblings = [m for m in _IPV4.finditer(text) if m.start() != entity.start and m.group(0).split(".")[:2] == head]
    return int(head[0]) < 10 or bool(siblings)


def _beside_a_version(text: str, entity: Entity) -> bool:
    """A dotted quad in the same sentence as a dotted number that cannot be an address (a part over 255, or three or
    five and more parts: "de la 8.2.0.1344 à la 8.3.1.27"), with no host word before it: both are versions."""
    value = text[entity.start : entity.end]
    if entity.type != "IP_ADDRESS" or ":" in value or _host_word_before(text, entity.start):
        return False
    # The sentence ends include line breaks, so the last one before the quad also ends its line.
    start = max((m.end() for m in _SENTENCE_END.finditer(text, 0, entity.start)), default=0)
    after = _SENTENCE_END.search(text, entity.end)
    end = after.start() if after else len(text)
    for m in _DOTTED.finditer(text, start, end):
        parts = m.group(0).split(".")
        if m.start() != entity.start and (len(parts) != 4 or any(int(p) > 255 for p in parts)):
            return True
    return False


# "Updating the VPN client to 10.4.2.17", "aggiornato il NAS alla 10.4.2.17", "bijgewerkt naar": what something is
# updated to is a version; the clause's object is not a network setting ("updated the gateway to 10.0.0.254").
_UPDATED_TO = re.compile(
    r"(?i:\b(?:updat\w*|upgrad\w*|downgrad\w*|aggiorn\w*|actualiz\w*|atualiz\w*|aktualisier\w*|zaktualizow\w*|"
    r"bijgewerkt|geüpdatet|geupdatet|ge-?upgraded?|mise?[ \t]+à[ \t]+jour|maj|bump\w*|rolled[ \t]+back|pinned)"
    r"(?P<object>[^.;!?\n]{0,40}?)[ \t]+"
    r"(?:to|naar|auf|à[ \t]+la|à|vers(?:[ \t]+la)?|en|alla|all'|al|a[ \t]+la|a|para[ \t]+a|para|na|do)[ \t]*)$"
)
_NETWORK_SETTING = re.compile(
    r"\b(?:ip|ips|address|addresses|adresse|adres|dirección|indirizzo|endereço|dns|record|gateway|router|proxy|subnet|"
    r"route|dhcp|nat|interface|endpoint|host|hostname|server|servers)\s*$",
    re.IGNORECASE,
)


def _updated_to(text: str, entity: Entity) -> bool:
    """A dotted quad that something was updated or upgraded to, in the eight languages, unless that something is a
    network setting or a server."""
    if entity.type != "IP_ADDRESS" or ":" in text[entity.start : entity.end]:
        return False
    m = _UPDATED_TO.search(text[max(0, entity.start - 80) : entity.start])
    return m is not None and not _NETWORK_SETTING.search(m.group("object"))


# An image or package tag ("registry.local/payments:10.4.2.17", "polizas-api:10.4.2.17"): a name with a slash or a
# hyphen glued to the dotted quad by a colon (an address is followed by its port, not preceded by a name).
_TAGGED = re.compile(r"(?<![\w./-])(?P<name>[A-Za-z][\w.-]*[/-][\w./-]*):$")


def _image_tag(text: str, entity: Entity) -> bool:
    """A dotted quad that is the tag of an image or package name, which names no host."""
    if entity.type != "IP_ADDRESS":
        return False
    m = _TAGGED.search(text[max(0, entity.start - 80) : entity.start])
    return m is not None and not re.search(r"host|server|addr|ip\b|gateway|proxy|dns", m.group("name"), re.IGNORECASE)


_DOTTED = re.compile(r"(?<![\w.])v?\d+(?:\.\d+){2,}(?![\w]|\.\d)")


def _host_word_before(text: str, start: int) -> bool:
    """A host or address word among the few words before, in the same clause ("Sus IP de salida son ...")."""
    line_start = text.rfind("\n", 0, start) + 1
    clause = re.split(r"[.;!?]\s", text[max(line_start, start - 40) : start])[-1]
    words = [t.lower() for t in _TOKEN.findall(clause)][-4:]
    return any(_IP_WORDS.match(w) or w in _HOST_WORDS for w in words)


_IP_WORDS = re.compile(r"^(?:ips|servers|endereço|" + _HOST_TERMS + r")$", re.IGNORECASE)


_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in ("192.168.0.0/16", "172.16.0.0/12", "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "100.64.0.0/10",
              "169.254.0.0/16")
)  # fmt: skip


def _network_range(value: str) -> bool:
    """Private, shared and documentation ranges other than 10/8 ("192.168.14.23", "203.0.113.50"): addresses, not
    versions, whatever the talk around them (10.x is as common a version as an address)."""
    address = ipaddress.ip_address(value)
    return any(address in network for network in _NETWORKS)


def _plainly_an_address(text: str, entity: Entity) -> bool:
    """An IPv4 address in a private, shared or documentation range other than 10/8, or followed by a port, is an
    address whatever words come before it ("Failed publickey for deploy from 192.168.14.23 port 51122")."""
    if entity.type != "IP_ADDRESS" or ":" in text[entity.start : entity.end]:
        return False
    return _network_range(text[entity.start : entity.end]) or bool(
        re.match(r"[ \t]*(?::\d|port\b)", text[entity.end :], re.IGNORECASE)
    )


def _international(text: str, entity: Entity) -> bool:
    """A phone written with "+" and its country code ("+31 20 ...") is a phone whatever word precedes it (a number
    that opens with 00 is as often a receipt or part number: "transaction 0047-118-2290")."""
    return entity.type == "PHONE" and text.startswith("+", entity.start)


# A phone shape that is part of something else: the tail of a code whose earlier groups hold letters ("tracking 1Z 9A4
# E71 03 4418 2297", an account "GB44 BARC 2004 1538 4735 16"), a Portuguese postcode ("3030-175"), an IPv4 address.
_CODE_BEFORE = re.compile(
    r"(?:(?<![\w-])(?=[A-Za-z0-9]*[A-Za-z])(?=[A-Za-z0-9]*\d)[A-Za-z0-9]{2,6}"
    r"|(?<![\w-])[A-Z]{2}\d{2}(?:[ ][A-Z0-9]{4})*)[ ]$"
)


def _part_of_code(text: str, entity: Entity) -> bool:
    if entity.type != "PHONE":
        return False
    value = text[entity.start : entity.end]
    # Portuguese and Brazilian postcodes ("3030-175", "01426-001").
    if re.fullmatch(r"\d{4,5}-\d{3}", value) or _IPV4.fullmatch(value):
        return True
    return bool(_CODE_BEFORE.search(text[max(0, entity.start - 40) : entity.start]))


def _shape(text: str, entity: Entity) -> str:
    value = text[entity.start : entity.end]
    if entity.type == "IP_ADDRESS":
        return "ipv6" if ":" in value else "ipv4"
    return re.sub(r"\d", "9", value)


def _plainly_ipv6(value: str) -> bool:
    """An IPv6 address ("2001:db8:1234:ab::17") has no identifier's or version's shape, whatever word is before it;
    colon-separated byte pairs ("04:7A:1C:9E:33:B2:0F:5D", a serial number or a MAC address) may be either."""
    groups = value.split(":")
    return len(groups) > 1 and not all(len(g) == 2 for g in groups)


def _same_kind(text: str, entity: Entity, look: Entity) -> bool:
    """Whether `entity` repeats the shape of `look` (an identifier or version) in the same sentence, close by, with no
    phone, SSN or host word in the words just before it."""
    if entity.type != look.type or entity == look or _shape(text, entity) != _shape(text, look):
        return False
    first, last = sorted((look, entity), key=lambda e: e.start)
    between = text[first.end : last.start]
    if len(between) > 120 or "\n" in between or re.search(r"(?<=\w{2})[.!?](?:\s|$)", between):
        return False
    line_start = text.rfind("\n", 0, entity.start) + 1
    clause = re.split(r"[,;:()]", text[max(line_start, entity.start - 40) : entity.start])[-1]
    words = [t.lower() for t in _TOKEN.findall(clause)]
    return not (_PHONE_OR_SSN_CUE.search(clause) or any(_says_phone_or_host(w) or w in _HOST_WORDS for w in words))


def resolve(entities: list[Entity], text: str | None = None) -> list[Entity]:
    """Non-overlapping spans, preferring specific types, then longer spans. Given the text, a street address that runs
    into a more specific span after it ("Via Roma 210, 90133 Palermo, IBAN IT84 ...") keeps its part before that
    span instead of being dropped whole."""
    ranked = sorted(entities, key=lambda e: (PRIORITY.get(e.type, 99), -(e.end - e.start), e.start))
    phones = [e for e in entities if e.type == "PHONE"]
    chosen: list[Entity] = []
    for candidate in ranked:
        entity = candidate
        if text is not None and candidate.type == "ADDRESS":
            entity = _clear_of_later(_after_a_phone(candidate, phones, text), chosen, text)
        if entity.end <= entity.start:
            continue
        if all(entity.end <= c.start or entity.start >= c.end for c in chosen):
            chosen.append(entity)
    return sorted(chosen, key=lambda e: e.start)


def _after_a_phone(entity: Entity, phones: list[Entity], text: str) -> Entity:
    """An address that starts inside a phone number took the phone's last digits for a house number ("call me on
    (312) 555-0148 if u ...", "+48 22 123 45 67, al. Jerozolimskie 123A"): it starts after the phone, when a street
    with a number is left, and is dropped otherwise."""
    inside = [p.end for p in phones if p.start < entity.start < p.end]
    if not inside:
        return entity
    start = max(inside)
    start += len(text[start : entity.end]) - len(text[start : entity.end].lstrip(" \t,;:-/"))
    lead_in = _LEAD_IN.match(text, start, entity.end)
    start = lead_in.end() if lead_in else start
    kept = text[start : entity.end]
    if len(kept) < 8 or not any(ch.isdigit() for ch in kept) or not re.search(r"[^\W\d_]{2}", kept):
        return Entity(entity.type, entity.start, entity.start, entity.score)
    return Entity(entity.type, start, entity.end, entity.score)


def _clear_of_later(entity: Entity, chosen: list[Entity], text: str) -> Entity:
    """The address cut before the first chosen span that starts inside it, when at least a street and number stay."""
    cuts = [c.start for c in chosen if entity.start < c.start < entity.end]
    if not cuts or any(c.start <= entity.start < c.end for c in chosen):
        return entity
    kept = text[entity.start : min(cuts)].rstrip(" \t,;:-")
    if len(kept) < 8 or not any(ch.isdigit() for ch in kept):
        return entity
    return Entity(entity.type, entity.start, entity.start + len(kept), entity.score)
