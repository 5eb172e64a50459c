"""Person names beyond the NER model: a name lexicon, grammatical cues, and suppression of look-alikes.

The small spaCy model misses rare or foreign names and calls organisations, places and capitalised
words PERSON. This module adds evidence it lacks:
- a multilingual first-name/surname lexicon read from the installed `faker` package (MIT; its
  per-locale name lists ship offline) and a common-English-word list read from the WordNet index
  shipped inside the spaCy model's lemmatizer, both loaded lazily, once;
- cues that only people take ("X lives at", "said X", "my son X", "X's daughter", dialogue speaker
  labels, the first line of a contact card, "our founders: A, B and C");
- suppression of spans that look like organisations ("Inc", "Technologies", "A, B and C" company
  names), places after a locative preposition, and spans made only of common words.
Every accepted name string is then found again wherever it recurs in the same text.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from keel.errors import ConfigurationError
from keel.lazy import once
from keel.privacy.recognizers import (
    ORG_WORDS,
    PREPOSITIONS,
    SIGNATURE,
    Entity,
    fold,
    identifier_word,
    never_a_name,
)

if TYPE_CHECKING:
    from keel.privacy.name_tables import NameTables

_UPPER = "A-Z\u00c0-\u00d6\u00d8-\u00de\u0100-\u024f"
_WORD_CHARS = r"[\w\u00C0-\u024F'’-]"
# A capitalised name word ("Miklós", "O'Neil", "Jean-Luc") or an initial ("P", "P.").
_CAP = rf"[{_UPPER}]{_WORD_CHARS}+"
_INITIAL = rf"[{_UPPER}]\.?(?!{_WORD_CHARS})"
_LOW = r"[a-z\u00df-\u00f6\u00f8-\u00ff\u0100-\u024f][\w\u00C0-\u024F'’-]+"
_RUN_CAP = re.compile(rf"(?<!{_WORD_CHARS})(?:{_CAP}|{_INITIAL})(?:[ \t]+(?:{_CAP}|{_INITIAL}))*")
_RUN_LOW = re.compile(rf"(?<!{_WORD_CHARS}){_LOW}(?:[ \t]+(?:{_LOW}|[a-z]\.?(?![\w])))*")

TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "madam", "dame", "lord", "lady", "rev"})
# Words that make a capitalised span a place ("Victoria Station", "Rose Garden").
PLACE_WORDS = frozenset(
    (
        "station", "airport", "park", "garden", "gardens", "bridge", "tower", "square", "hall", "harbour",
        "harbor", "port", "lake", "river", "mount", "mountain", "valley", "beach", "island", "islands",
        "street", "road", "avenue", "lane", "bay", "county", "province", "district"
    )
)  # fmt: skip
_LOCATIVE = re.compile(
    r"\b(?:at|in|into|to|from|near|toward|towards|via|city|town|village|visit|visited|nach|aus|im|à|au|en|naar|"
    r"uit|w|we|em|no|na)[ \t]+$"
)
# An office, site or campus word (eight languages) before a single capitalised word: the word is a place.
_OFFICE_BEFORE = re.compile(
    r"\b(?i:office|site|campus|hub|büro|standort|bureau|agence|oficina|sede|ufficio|filiale|kantoor|vestiging|"
    r"biuro|biurze|oddział|escritório|escritorio|filial)(?:[ \t]+(?:of|in|de|di|do|da|du|van|w|em|en|in))?[ \t]+$"
)
_SAINT_BEFORE = re.compile(
    r"(?<![\w\u00C0-\u024F])(?:São|Sao|San|Santa|Santo|Saint|Sainte|St\.?|Ste\.?|Sankt|Sint)[ \t-]+$"
)
_PEOPLE_LIST = re.compile(
    r"\b(?:founders|co-founders|cofounders|partners|friends|colleagues|members|authors|siblings|children|"
    r"kids|parents|guests|speakers|hosts|winners|brothers|sisters|people|students|employees)\b[^.\n]{0,20}$",
    re.IGNORECASE,
)
_KIN = (
    r"(?:kid|kids|son|daughter|child|wife|husband|spouse|friend|brother|sister|mother|father|mom|mum|dad|"
    r"boss|colleague|manager|partner|cousin|uncle|aunt|grandson|granddaughter|grandmother|grandfather|"
    r"nephew|niece|fiancé|fiancée|boyfriend|girlfriend|neighbour|neighbor|coworker|co-worker)"
)
_AFTER_VERBS = (
    r"(?:lives|lived|said|says|shouted|whispered|replied|asked|told|began|begins|started|wrote|writes|works|"
    r"worked|was born|is from|comes from|came from|is very|was very|has been|had been|thinks|thought|"
    r"wants|wanted|likes|liked|loves|loved|married|called|emailed|phoned|joined|left|moved)"
)
_BEFORE_VERBS = (
    r"(?:said|told|asked|shouted at|shouted to|yelled at|replied to|whispered to|thanked|married|met|"
    r"add|added|adding|remove|removed|removing|invite|invited|introduce|introduced|hire|hired|cc|"
    r"between him and|between her and|between me and)"
)


# Cues of the eight languages after which a person's name follows, written in any case: a writer introducing
# themselves ("sono giulia", "ich heiße mehmet yilmaz", "je suis kevin nguyen", "sou o tiago"), the holder of an
# account or a payment ("account holder is jerome baptiste", "a nome di chiara rinaldi", "t.n.v. R. de Vries"), and
# a name alone after a closing word at the end of a line ("groetjes femke", "gruß steffi", "thx bram").
_SELF_CUE = (
    # Longer cues first: at one position the first alternative that lets a name follow wins ("bin der kevin").
    r"ich bin der|ich bin die|bin der|bin die|hier ist|c'est moi|c moi|aqui é [oa]|"
    r"i'?m|i am|it'?s|this is|my name is|my name'?s|je m'appelle|je m’appelle|je suis|c'est|c’est|moi c'est|"
    r"ich heiße|ich heisse|ich bin|mein name ist|hier spricht|me llamo|soy|mi nombre es|mi chiamo|sono|"
    r"il mio nome è|ik ben|ik heet|mijn naam is|jestem|nazywam się|mam na imię|z tej strony|sou o|sou a|"
    r"chamo-me|me chamo|meu nome é|o meu nome é|bin|met|"
    # Chat shorthand: German without "ich" ("bin lukas btw"), Portuguese "é o/a" after a greeting ("olá é o diogo"),
    # Polish "tu" after a greeting ("hej tu kuba z księgowości").
    r"(?:olá|ola|oi|bom dia|boa tarde|boa noite)[ \t]*,?[ \t]+é[ \t]+[oa]|"
    r"(?:hej|cześć|czesc|siema|dzień dobry|dzien dobry)[ \t]*,?[ \t]+tu"
)
_HOLDER_CUE = (
    # Longer cues before their prefixes ("titular é o gonçalo", not "titular" reading "é o gonçalo").
    r"titular é [oa]|titular es|il titolare è|titulaire est|"
    r"account holder is|account holder|holder is|in the name of|au nom de|au nom d'|titulaire|läuft auf|"
    r"lautet auf|auf den namen|a nombre de|titular|a nome di|intestat[oa] a|t\.n\.v\.|ten name van|op naam van|"
    r"na nazwisko|em nome de|em nome d[oa]|no nome d[eoa]|registered to|registered in the name of|"
    r"jest na|zarejestrowan[aey] na|staat op|"
    r"card ?holder|name on (?:the )?(?:card|account)(?: is)?|karteninhaber(?:in)?|kontoinhaber(?:in)?|"
    r"intestatari[oa]|abonent(?:em|ką|ka)? jest|employee|contractor is|contact is|session ouverte pour|"
    # Field labels written in lower case ("name tamika brooks", "naam sanne kok", "name: shannon o'reilly").
    r"name|naam|nom|nome|nombre|imię|imie"
)
# Kin and people words of the seven other languages before a name ("mon fils Hugo", "mia moglie chiara rinaldi",
# "meine frau, katrin petersen", "dla syna, Antoniego Jankowskiego"), and greetings that open a message to someone
# ("hola Inma", "hoi lotte", "Kasiu,"), and asking for someone ("chiedete di gianni").
_KIN_CUE = (
    r"fils|fille|femme|mari|épouse|époux|frère|sœur|soeur|mère|père|copain|copine|collègue|voisin|voisine|"
    r"sohn|tochter|frau|mann|ehefrau|ehemann|bruder|schwester|mutter|vater|freund|freundin|kollege|kollegin|"
    r"hijo|hija|esposa|esposo|mujer|marido|hermano|hermana|madre|padre|compañero|compañera|compi|novio|novia|"
    r"figlio|figlia|moglie|marito|fratello|sorella|amico|amica|collega|"
    r"zoon|dochter|vrouw|broer|zus|moeder|vader|vriend|vriendin|buurman|buurvrouw|"
    r"syn|syna|synem|córka|córki|żona|żony|żonę|mąż|męża|brat|brata|siostra|siostry|kolega|koleżanka|"
    r"filho|filha|irmão|irmã|mãe|pai|amigo|amiga|colega|vizinho|vizinha"
)
# A kin word is never the name after a cue ("umowa jest na tatę, Zbigniewa Mazura"; "tate" is also a given name).
_KIN_WORD = re.compile(rf"(?:{_KIN}|{_KIN_CUE}|tata|taty|tacie|tatę|tate|mama|mamy|mamie|mamę|mame)", re.IGNORECASE)
_GREETING_CUE = (
    r"hola|hoi|hey|hi|hello|oye|ciao|salut|slt|hallo|moin|servus|bonjour|buongiorno|olá|ola|oi|cześć|czesc|hej|"
    r"chiedete di|chiedi di|chiedere di|preguntad por|preguntar por|pregunte por|ask for|vraag naar"
)
_CLOSE_CUE = (
    r"thx|thanks|ty|cheers|bye|ciao|grazie|merci|bises|bisous|obg|obrigad[oa]|tchau|bjs|dzięki|dzieki|dank je|"
    r"dankjewel|bedankt|danke|gracias|besos|saludos|un saludo|groetjes|groeten|gr|mvg|gruß|gruss|grüße|lg|vg|"
    r"pozdrawiam|pozdro|pozdr|saluti|un saluto|cumprimentos|abraço|abraços"
)
# Second-person words of the eight languages: a given name opening a message before one of them is the person
# spoken to ("pablo tu token está en el repo", "bram je gitlab token", "tiago o teu token").
_SECOND_PERSON = (
    r"you|your|ur|u|tu|ton|ta|tes|te|vous|votre|vos|du|dein|deine|deinen|deinem|dir|dich|tú|tus|tuo|tua|tuoi|ti|"
    r"je|jij|jouw|jullie|ty|twój|twoja|twoje|twojego|twoim|ci|o teu|a tua|os teus|você|teu|tua"
)
_VOCATIVE_OPENING = re.compile(
    rf"(?im)^[ \t]*(?P<name>[^\W\d_][\w'’-]*)[ \t]*[,:]?[ \t]+(?:{_SECOND_PERSON})(?![\w\u00C0-\u024F])"
)
# A chat mention of a known given name ("@kev you pasted your token", "@mathieu ton token"); bots, teams and channels
# ("@helpdesk-bot", "@devops", "@here") are mentioned too, so an unknown handle is left alone, and so are an e-mail
# address, a package scope ("@types/node", "@kassa:registry") and a host after credentials ("user:pw@db-prod").
_MENTION = re.compile(r"(?<![\w.@])@(?P<name>[^\W\d_]{2,30})(?![\w/(@:-])")
# Field labels and the doorbell in the eight languages, and Dutch titles: the capitalised words after them are a
# name, known or not ("surname Ashworth", "interphone Rochas", "citofono Lombardo", "t.a.v. de heer Mulder").
_NAME_LABEL = re.compile(
    r"(?<![\w\u00C0-\u024F])(?i:full[ \t]+name|surname|last[ \t]+name|family[ \t]+name|first[ \t]+name|"
    r"given[ \t]+name|name|prénom|nom[ \t]+de[ \t]+famille|nom|vorname|nachname|familienname|nombre|apellidos|"
    r"apellido|cognome|nome|voornaam|achternaam|naam|imię|imie|nazwisko|sobrenome|apelido|interphone|citofono|"
    r"klingel|timbre|telefonillo|interfone|domofon|de[ \t]+heer|mevrouw|mevr\.|dhr\.)"
    r"[ \t]*[:=]?[ \t]+(?P<name>" + _CAP + r"(?:[ \t]+" + _CAP + r"){0,2})"
)
# Nouns before "name" that make it some other thing's name ("the file name Report", "product name Contoso Cloud").
_THING_BEFORE_LABEL = re.compile(
    r"(?i:\b(?:file|product|company|user|host|domain|project|team|bot|brand|device|display|app|server|queue|group|"
    r"channel|field|column|network|wifi|printer|model|package|bucket|repo|repository|branch|store|shop|site|"
    r"account|variable|folder|table|plan|de[ \t]+(?:l['’])?(?:entreprise|fichier|domaine|société|produit)))"
    r"[ \t]*$"
)
# A given name alone closing a message after a sentence or a dash ("... ich komme nicht rein? jonas").
_FINAL_NAME = re.compile(
    r"(?:[.!?…]|[—–]|(?<=\s)-|\n)[ \t]*\n?[ \t]*"
    r"(?P<name>[^\W\d_][\w'’-]*\.?(?:[ \t]+[^\W\d_][\w'’-]*){0,2})[ \t]*[.!]?[ \t]*\Z"
)
_MONTH_NAMES = frozenset(("april", "may", "june", "august"))
# A word or a comma, then spaces, right before a position: it is inside a sentence, not opening one.
_INSIDE_SENTENCE = re.compile(r"[\w,][ \t]+\Z")
_ANY_WORD = r"[^\W\d_][\w'’-]*"
_CUED_NAME = rf"(?P<name>{_ANY_WORD}(?:[ \t]+(?:[^\W\d_]\.[ \t]*)?{_ANY_WORD}){{0,2}})"
_INTRO = re.compile(
    rf"(?<![\w\u00C0-\u024F])(?:{_SELF_CUE}|{_HOLDER_CUE}|{_KIN_CUE}|{_GREETING_CUE})[ \t]*[:,]?[ \t]+{_CUED_NAME}",
    re.IGNORECASE,
)
_CLOSING_NAME = re.compile(
    rf"(?im)(?:^|(?<=[.!?,;])|(?<=\s))(?:{_CLOSE_CUE})(?:[ \t]*[,!.][ \t]*\n?[ \t]*|[ \t]*\n[ \t]*|[ \t]+)"
    rf"(?P<name>{_ANY_WORD}(?:[ \t]+{_ANY_WORD})?)[ \t]*[.!]?[ \t]*$"
)


# Accented function words of the other languages: folded, some are given names in faker's lists ("Está" -> "esta",
# "Así" -> "asi"), but with their accents they are never a name ("Está disponible el plan ...?").
_ACCENTED_FUNCTION_TEXT = """
está están estás qué cómo cuándo dónde también así más sí después
où là déjà très après voilà
für über während
è perché più già così
się że też już może więc jeszcze także
não são também já até após então você
"""
ACCENTED_FUNCTION_WORDS = frozenset(_ACCENTED_FUNCTION_TEXT.split())


@dataclass(frozen=True)
class Lexicon:
    """Folded first names, surnames and common English words."""

    first: frozenset[str]
    last: frozenset[str]
    common: frozenset[str]
    # Function words of the seven other languages (spaCy's stop-word lists), lower case: never a name after a cue.
    stop: frozenset[str] = frozenset()
    # Polish given names (faker's pl_PL and the Polish short forms), folded: a case form counts alone only for them
    # ("z Tomaszem", "do Magdy"), not for any locale's name its ending may hide ("w Berlinie", "do Indii").
    polish_first: frozenset[str] = frozenset()
    # Given names of the eight languages' own locales and everyday short forms that are no dictionary or function word
    # of any of them, folded: in chat typed in lower case they are names where they stand ("works for kevin").
    # By the language a message is read in (en, fr, de, es, it, nl, pl, pt); see chat_first_names.
    chat_first: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def is_first(self, word: str) -> bool:
        """A known given name, or a double one whose parts all are ("Jan-Hendrik", "Mia-Sophie")."""
        folded = fold(word)
        return folded in self.first or ("-" in folded and all(p in self.first for p in folded.split("-") if p))

    def is_last(self, word: str) -> bool:
        """A known family name, or a double-barrelled one whose parts are names ("Vasseur-Blanc")."""
        folded = fold(word)
        if folded in self.last:
            return True
        parts = [p for p in folded.split("-") if p]
        return len(parts) > 1 and all(p in self.last or p in self.first for p in parts)

    def is_first_inflected(self, word: str) -> bool:
        """A known given name, or one in a Polish case form ("Krzysztofa", "Agnieszkę", "Tomkowi", "Helenie")."""
        return self.is_first(word) or any(base in self.first for base in polish_bases(word))

    def is_polish_first_inflected(self, word: str) -> bool:
        """A Polish given name in a case form ("Tomaszem", "Magdy", "Piotrka", "Kasi")."""
        return any(base in self.polish_first for base in polish_bases(word))

    def is_last_inflected(self, word: str) -> bool:
        """A known family name, or one in a Polish case form ("Wiśniewskiego", "Kamińską", "Mazura", "Wróbla")."""
        return self.is_last(word) or any(base in self.last for base in polish_bases(word))

    def is_common(self, word: str) -> bool:
        """An English dictionary word (plural and possessive forms included)."""
        w = word.lower().strip(".'’-")
        if w.endswith(("'s", "’s")):
            w = w[:-2]
        if w in self.common:
            return True
        if w.endswith("ies") and w[:-3] + "y" in self.common:
            return True
        return (w.endswith("es") and w[:-2] in self.common) or (w.endswith("s") and w[:-1] in self.common)


# Polish case endings of names, longest first (genitive, dative, accusative, instrumental, locative, vocative).
_POLISH_ENDINGS = ("iego", "owi", "ego", "emu", "iej", "em", "ie", "iu", "e", "a", "y", "u", "i", "ą", "ę")


def polish_bases(word: str) -> list[str]:
    """Folded nominative forms a Polish case form may come from: the ending replaced by nothing, "a" or "i", and a
    dropped "e" put back ("Marka" -> "marek", "Wróbla" -> "wrobel", "Tomkowi" -> "tomek"). Only Polish words carry
    "ą" or "ę"; the others fold to their vowels, so the folded endings are tried too."""
    raw = word.lower().strip(".,;:!?'’-")
    out: list[str] = []
    for ending in _POLISH_ENDINGS:
        if not raw.endswith(ending) or len(raw) - len(ending) < 3:
            continue
        stem = fold(raw[: -len(ending)])
        if len(stem) < 3:
            continue
        out += [stem, stem + "a", stem + "i"]
        # Soft stems keep their "i" before the ending only in some forms ("Kasi", "Kasiu", "Kasię" -> "kasia").
        if ending[0] in "iąę" or ending == "u":
            out.append(stem + "ia")
        if stem[-1] not in "aeiouy" and stem[-2] not in "aeiouy":
            out.append(stem[:-1] + "e" + stem[-1])
    return out


# Letters of the Latin blocks (below U+0250) and the apostrophe and hyphen names carry.
_LATIN_NAME_CHARS = frozenset(chr(c) for c in range(0x250) if chr(c).isalpha() or chr(c) in "'-")


def _latin(name: str) -> bool:
    return bool(name) and set(name) <= _LATIN_NAME_CHARS


def polish_first_names() -> frozenset[str]:
    """Folded Polish given names: faker's pl_PL lists and the Polish short forms among NICKNAMES."""
    tables = _name_tables()
    names = tables.polish_first if tables is not None else polish_names_from_package()
    return names | frozenset(fold(n) for n in _POLISH_NICKNAMES.split())


def polish_names_from_package() -> frozenset[str]:
    """Folded given names of faker's pl_PL lists, read from the package."""
    from faker.providers.person.pl_PL import Provider

    return frozenset(fold(n) for n in {*Provider.first_names_male, *Provider.first_names_female})


@once
def _name_tables() -> NameTables | None:
    from keel.privacy.name_tables import load_tables

    return load_tables()


@once
def faker_names() -> tuple[frozenset[str], frozenset[str]]:
    """First names and surnames of every Latin-script locale in the installed faker package (from the checked-in
    tables, keel.privacy.name_tables, when they were written for this faker)."""
    tables = _name_tables()
    return (tables.first, tables.last) if tables is not None else faker_names_from_package()


def faker_names_from_package() -> tuple[frozenset[str], frozenset[str]]:
    """First names and surnames of every Latin-script locale, read from the installed faker package."""
    try:
        import faker.providers.person as people
    except ModuleNotFoundError as exc:
        raise ConfigurationError("PII full mode needs the package faker (pinned) for its name lists") from exc
    first: set[str] = set()
    last: set[str] = set()
    for module in pkgutil.iter_modules(people.__path__):
        provider = importlib.import_module(f"{people.__name__}.{module.name}").Provider
        for attr in dir(provider):
            # pl_PL keeps its surnames in male_last_names and unisex_last_names ("last_names" holds one placeholder).
            if not attr.startswith(("first_names", "last_names")) and not attr.endswith("_last_names"):
                continue
            values = getattr(provider, attr)
            if not isinstance(values, (tuple, list, dict)):
                continue
            target = first if attr.startswith("first_names") else last
            # Multi-word entries ("van der Berg") contribute their parts; the locales share most names, so the
            # parts are gathered first and filtered once (a cold start's first masked message pays for this).
            for value in values:
                target.update(str(value).split())

    def names(parts: set[str]) -> frozenset[str]:
        return frozenset(fold(p) for p in parts if len(p) >= 2 and p[0].isupper() and _latin(p))

    return names(first), names(last)


# Everyday short forms of given names that faker's lists leave out (people sign and are addressed by them in chat:
# "hej tu kuba", "staat op naam van kees", "@kev"). Words that are also common words are left out ("pino", "fede").
_POLISH_NICKNAMES = """
    magda magdalena ola ela ula iza aga asia basia
    kasia gosia madzia zosia ania kuba tomek piotrek wojtek franek staszek józek zbyszek krzysiek maciek janek kazik
    antek jasiek grzesiek mietek rysiek władek wiesiek heniek
"""
NICKNAMES = frozenset(
    f"""
    kev jen maddie raj
    {_POLISH_NICKNAMES}
    kees joop sjaak ruud
    jojo loulou jupp hansi pepa conchi bepi peppe richi quim guto
    """.split()
)


def _words(span: str) -> list[str]:
    return [w for w in re.split(r"[ \t]+", span.strip()) if w]


class PersonFinder:
    """Combines NER PERSON spans with lexicon and cue evidence, then suppresses look-alikes."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lex = lexicon

    # --- evidence -------------------------------------------------------------------------------------
    def _plausible(self, span: str, cued: bool) -> bool:
        """A span can be a name: not only common words, unless a given name or a cue vouches for it."""
        words = [w for w in _words(span) if len(w.rstrip(".")) > 1]
        if not words or fold(words[0]) in TITLES:
            return False
        # An all-capitals word is an acronym or a shouted place ("IBAN", "ESPOO"), not a name.
        if any(w.isupper() for w in words):
            return False
        if any(fold(w) in ORG_WORDS or w.lower() in ORG_WORDS or fold(w) in PLACE_WORDS for w in words):
            return False
        if self.lex.is_first(words[0]) and (cued or not self.lex.is_common(words[0]) or len(words) > 1):
            return True
        return any(not self.lex.is_common(w) for w in words)

    def _lexicon_runs(self, text: str, lower: bool, polish: bool = False) -> Iterator[Entity]:
        pattern = _RUN_LOW if lower else _RUN_CAP
        for m in pattern.finditer(text):
            tokens = list(re.finditer(r"\S+", m.group(0)))
            for i, tok in enumerate(tokens):
                word = tok.group(0)
                # A given and a family name both in a Polish case form count as a pair ("dla Piotra Zielińskiego").
                pair = (
                    not lower
                    and i + 1 < len(tokens)
                    and self.lex.is_first_inflected(word)
                    and self.lex.is_last_inflected(tokens[i + 1].group(0))
                )
                # In Polish text a capitalised given name in a case form inside a sentence ("z Tomaszem", "do Magdy").
                inflected = (
                    polish
                    and not lower
                    and self.lex.is_polish_first_inflected(word)
                    and _INSIDE_SENTENCE.search(text, 0, m.start() + tok.start()) is not None
                )
                if (
                    len(word) < 2
                    or not (self.lex.is_first(word) or pair or inflected)
                    or fold(word) in TITLES
                    or word.lower() in ACCENTED_FUNCTION_WORDS
                ):
                    continue
                rest = [t for t in tokens[i + 1 : i + 4]]
                # Keep following words that can be part of a name (initials, surnames, unknown words).
                kept = []
                for t in rest:
                    w = t.group(0)
                    if len(w.rstrip(".")) == 1 or self.lex.is_last(w) or not self.lex.is_common(w):
                        if fold(w) in ORG_WORDS:
                            break
                        kept.append(t)
                    else:
                        break
                strong = not self.lex.is_common(word) or (inflected and not self.lex.is_first(word))
                # A given name that is also a dictionary word ("Will", "Rose") needs a surname after it.
                if not strong and not any(len(t.group(0).rstrip(".")) > 1 for t in kept):
                    break
                if lower and not strong:
                    break
                end = kept[-1].end() if kept else tok.end()
                yield Entity("PERSON", m.start() + tok.start(), m.start() + end, 0.6)
                break

    def _cued(self, text: str, lower: bool) -> Iterator[tuple[int, int]]:
        name = _LOW if lower else _CAP
        one = rf"(?P<name>{name}(?:[ \t]+(?:{name}|{_INITIAL})){{0,2}})"
        patterns = [
            rf"(?<![\w\u00C0-\u024F]){one}[ \t]+{_AFTER_VERBS}\b",
            rf"\b{_BEFORE_VERBS}[ \t]+{one}",
            rf"\b{_KIN}[ \t]+{one}",
            rf"(?<![\w\u00C0-\u024F]){one}['’]s[ \t]+{_KIN}\b",
            rf"\b(?:said|shouted|whispered|replied|talked|spoke|wrote)\b[^.!?\n]{{0,40}}?\bto[ \t]+{one}",
        ]
        flags = 0 if not lower else re.IGNORECASE
        for p in patterns:
            for m in re.finditer(p, text, flags):
                yield m.start("name"), m.end("name")
        # Dialogue: speaker labels at line starts ("Alice: ...", "Bob:\"...\"") on two or more lines.
        labels = list(re.finditer(rf"(?m)^[ \t>]*(?P<name>{name})[ \t]*:[ \t]*(?=[\"“'\w])", text))
        if len(labels) >= 2:
            for m in labels:
                yield m.start("name"), m.end("name")
        # A list of people after a people noun: "our founders: Eklund, Michael and Hodge".
        for m in re.finditer(rf"{name}(?:,[ \t]*{name})*,?[ \t]+(?:and|&)[ \t]+{name}", text):
            if _PEOPLE_LIST.search(text[max(0, m.start() - 40) : m.start()]):
                for w in re.finditer(name, m.group(0)):
                    if w.group(0) not in ("and",):
                        yield m.start() + w.start(), m.start() + w.end()
        if not lower:
            yield from self._signatures(text)
        # Vocative: "Remember me, Mary?"
        for m in re.finditer(rf",[ \t]+{one}[ \t]*[?!]", text):
            yield m.start("name"), m.end("name")
        # Contact card: the first line of a block, after quote markers ("> ", "??? "), above more lines.
        card_name = rf"(?P<name>{name}(?:[ \t]+(?:{name}|{_INITIAL})){{1,3}})"
        first = re.match(rf"^(?:[ \t]*[^\w\n]*[ \t]*\n)*[ \t]*[^\w\s]*[ \t]*{card_name}[ \t]*\n", text)
        if first and len([ln for ln in text[first.end() :].splitlines() if ln.strip()]) >= 2:
            yield first.start("name"), first.end("name")

    def introduced(self, text: str) -> Iterator[Entity]:
        """Names after a self-introduction, holder or closing cue, in any case: the first word must be a known given
        name (a Polish case form counts) and no function word of the eight languages; the following words are kept
        while each is a known given or family name."""
        for pattern in (_INTRO, _CLOSING_NAME):
            for m in _overlapping(pattern, text):
                words = list(re.finditer(r"\S+", m.group("name")))
                first = words[0].group(0).rstrip(".,;:!?")
                # An abbreviated title ("a nombre de Sr. Antonio") is not the name; the model finds what follows.
                after = text[m.start("name") + words[0].end() :]
                if len(first) <= 4 and re.match(rf"\.[ \t]+[{_UPPER}]", after):
                    continue
                if not self._cue_name(first) or not self.lex.is_first_inflected(first):
                    continue
                # "It is June already": a month that is also a given name, after the cues it is or this is.
                if fold(first) in _MONTH_NAMES and re.match(r"(?i)it|this", m.group(0)):
                    continue
                end = words[0].start() + len(first)
                for w in words[1:]:
                    word = w.group(0).rstrip(".,;:!?")
                    initial = bool(re.fullmatch(rf"[{_UPPER}]\.?", word))
                    if not initial and not (
                        self._cue_name(word) and (self.lex.is_last_inflected(word) or self.lex.is_first(word))
                    ):
                        break
                    end = w.start() + len(word)
                    if word != w.group(0):
                        break
                yield Entity("PERSON", m.start("name"), m.start("name") + end, 0.6)
        yield from self._addressed(text)
        yield from self._labelled(text)

    def _addressed(self, text: str) -> Iterator[Entity]:
        """A person addressed or signing in chat, in any case: a mention ("@kev"), a known given name opening a
        message before a second-person word ("pablo tu token ..."), or a signature closing it ("... nicht? jonas")."""
        for m in _MENTION.finditer(text):
            name = m.group("name")
            if self._cue_name(name) and self.lex.is_first(name) and not re.match(r"\.\w", text[m.end() :]):
                yield Entity("PERSON", m.start("name"), m.end("name"), 0.6)
        for m in _VOCATIVE_OPENING.finditer(text):
            name = m.group("name")
            # A given name that is also a word opens questions and orders without a comma ("Will you send ...",
            # "Mark your calendar"): it is someone spoken to only with the comma.
            comma = text[m.end("name") :].lstrip(" \t").startswith((",", ":"))
            word = self.lex.is_common(name) and not comma
            if self._cue_name(name) and self.lex.is_first(name) and fold(name) not in _MONTH_NAMES and not word:
                yield Entity("PERSON", m.start("name"), m.end("name"), 0.6)
        # A signature closing the message: a known given name, or an initial, then known given or family names
        # ("thanks - daniel okafor", "- T. Nguyen", "... bloccatela subito vi prego. sara gallo").
        final = _FINAL_NAME.search(text)
        if final:
            words = final.group("name").split()
            initial = re.fullmatch(r"[^\W\d_]\.", words[0]) is not None and len(words) > 1
            given = self._cue_name(words[0]) and self.lex.is_first(words[0]) and fold(words[0]) not in _MONTH_NAMES
            known = all(self._cue_name(w) and (self.lex.is_last(w) or self.lex.is_first(w)) for w in words[1:])
            if (initial or given) and known:
                yield Entity("PERSON", final.start("name"), final.end("name"), 0.6)

    def _labelled(self, text: str) -> Iterator[Entity]:
        """Capitalised words after a name field's label, a doorbell or a Dutch title, known names or not."""
        for m in _NAME_LABEL.finditer(text):
            if _THING_BEFORE_LABEL.search(text[max(0, m.start() - 30) : m.start()]):
                continue
            end = None
            for w in re.finditer(r"\S+", m.group("name")):
                word = w.group(0)
                if word.isupper() or not self._cue_name(word) or fold(word) in ORG_WORDS or fold(word) in PLACE_WORDS:
                    break
                end = w.end()
            if end is not None:
                yield Entity("PERSON", m.start("name"), m.start("name") + end, 0.6)

    def _cue_name(self, word: str) -> bool:
        """A word that may be (part of) a name after a cue: not a function word of any of the eight languages, not
        a word that is never a name, not an identifier word."""
        low = word.lower()
        return (
            len(low) >= 2
            and low not in self.lex.stop
            and not never_a_name(word)
            and fold(word) not in TITLES
            and low not in ACCENTED_FUNCTION_WORDS
            and not identifier_word(word)
            and not _KIN_WORD.fullmatch(low)
            and not (self.lex.is_common(word) and not self.lex.is_first(word) and not self.lex.is_last(word))
        )

    def _signatures(self, text: str) -> Iterator[tuple[int, int]]:
        """A signature after a closing formula of the eight languages, when a known given or family name is in it (a
        team or a company signs too: "Viele Grüße, Legal", "Saludos, Contoso")."""
        for m in SIGNATURE.finditer(text):
            start, end = m.span("name")
            parts = [p for w in _words(text[start:end]) for p in w.split("-")]
            if any(self.lex.is_first(p) or (self.lex.is_last(p) and not self.lex.is_common(p)) for p in parts):
                yield start, end

    # --- suppression ------------------------------------------------------------------------------------
    def _organisation_list(self, text: str, start: int, end: int) -> bool:
        """Inside "Glover, Ruiz and Armstrong" (a company name shape) with no people noun before it."""
        for m in re.finditer(rf"{_CAP}(?:,[ \t]*{_CAP})+,?[ \t]+(?:and|&)[ \t]+{_CAP}", text):
            if m.start() <= start and end <= m.end():
                return not _PEOPLE_LIST.search(text[max(0, m.start() - 40) : m.start()])
        return False

    def _clean(self, text: str, e: Entity) -> Entity | None:
        start, end = e.start, e.end
        # Titles are not part of the name ("Dr. Kyle Kuefer" -> "Kyle Kuefer").
        while True:
            m = re.match(r"[ \t]*([A-Za-z]+)\.?[ \t]+", text[start:end])
            if m and fold(m.group(1)) in TITLES:
                start += m.end()
            else:
                break
        # Leading function words are not part of a name ("My Anna" -> "Anna").
        while True:
            m = re.match(r"[ \t]*(\S+)[ \t]+", text[start:end])
            if m and self.lex.is_common(m.group(1)) and not self.lex.is_first(m.group(1)):
                start += m.end()
            else:
                break
        # A possessive ending is not part of the name ("Asya's kid" -> "Asya").
        if text[start:end].endswith(("'s", "’s")):
            end -= 2
        span = text[start:end]
        if not span.strip() or any(ch in span for ch in "/@:\n"):
            return None
        # NER spans sometimes run into a following lower-case word ("København K bridge").
        if not text.islower():
            words = list(re.finditer(r"\S+", span))
            while words and words[-1].group(0)[0].islower():
                words.pop()
            if not words:
                return None
            end = start + words[-1].end()
        return Entity("PERSON", start, end, e.score)

    # --- public ---------------------------------------------------------------------------------------
    def find(
        self, text: str, ner_persons: Iterable[Entity], cued: list[Entity] | None = None, *, polish: bool = False
    ) -> list[Entity]:
        """PERSON spans in text, given the NER model's PERSON spans (and `introduced(text)` when the caller has it);
        polish: the text is Polish, where a capitalised given name in a case form counts alone."""
        lower = not any(ch.isupper() for ch in text)
        accepted: list[Entity] = []
        for e in ner_persons:
            cleaned = self._clean(text, e)
            if cleaned is None:
                continue
            span = text[cleaned.start : cleaned.end]
            words = _words(span)
            if not self._plausible(span, cued=False) or not self._vouched(span):
                continue
            if self._organisation_list(text, cleaned.start, cleaned.end):
                continue
            before = text[max(0, cleaned.start - 24) : cleaned.start]
            if len(words) == 1 and (
                (not self.lex.is_first(words[0]) and _LOCATIVE.search(before)) or _OFFICE_BEFORE.search(before)
            ):
                continue
            accepted.append(cleaned)
        for e in self._lexicon_runs(text, lower, polish):
            lexical = self._clean(text, e)
            if (
                lexical
                and self._plausible(text[lexical.start : lexical.end], cued=True)
                and not self._organisation_list(text, lexical.start, lexical.end)
            ):
                accepted.append(lexical)
        for start, end in self._cued(text, lower):
            cleaned = self._clean(text, Entity("PERSON", start, end, 0.6))
            if cleaned and self._plausible(text[cleaned.start : cleaned.end], cued=True):
                accepted.append(cleaned)
        trimmed = [_with_particles(text, t) for t in (self._trim(text, e) for e in accepted) if t is not None]
        # Cue-led names are checked by their own rule (a known given name after the cue) and keep their lower case.
        trimmed += self.introduced(text) if cued is None else cued
        return _merge(self._recurrences(text, trimmed))

    def _trim(self, text: str, e: Entity) -> Entity | None:
        """Drop edge words that are never part of a name (weekdays, greetings, office and label words in the eight
        languages, identifier words), then lower-case edge words; None when nothing is left."""
        tokens = list(re.finditer(r"\S+", text[e.start : e.end]))
        cased = any(ch.isupper() for ch in text)

        def drop(word: str) -> bool:
            return never_a_name(word) or identifier_word(word.strip(".,;:")) or (cased and word[0].islower())

        while tokens and drop(tokens[0].group(0)):
            tokens.pop(0)
        after = text[e.start + tokens[0].end() :] if len(tokens) == 1 else ""
        if tokens and fold(tokens[0].group(0)) in PREPOSITIONS and re.match(r"[ \t]+[a-z\u00df-\u00ff]", after):
            return None
        while tokens and drop(tokens[-1].group(0)):
            tokens.pop()
        if not tokens or any(never_a_name(t.group(0)) for t in tokens):
            return None
        start = e.start + tokens[0].start()
        if len(tokens) == 1 and _OFFICE_BEFORE.search(text[max(0, start - 24) : start]):
            return None
        # After a saint's title the words name a place ("São Paulo", "San Sebastián", "Santa Catarina", "St. Gallen").
        if _SAINT_BEFORE.search(text[max(0, start - 10) : start]):
            return None
        return Entity("PERSON", e.start + tokens[0].start(), e.start + tokens[-1].end(), e.score)

    def _vouched(self, span: str) -> bool:
        """An NER span needs a known given or family name in it, unless it has several words none of which is a
        dictionary word: a lone unknown capitalised word is more often a product, tool or company ("Jira",
        "Okta", "Contoso") than a person, and cue-led names are found by the cues."""
        words = [w for w in _words(span) if len(w.rstrip(".")) > 1]
        if any(self.lex.is_first(w) or self.lex.is_last(w) for w in words):
            return True
        return len(words) > 1 and not any(self.lex.is_common(w) for w in words)

    def casual(self, text: str, language: str = "en") -> Iterator[Entity]:
        """Given names typed in lower case, in a message whose sentences mostly open in lower case (chat: "hat stefan
        schon ...", "dis lucas t'as ...", "user jenna okafor locked out"): a word of the chat lexicon, with a lower-case
        family name after it when one follows. The lexicon is the given names of the message's language and of
        English (a French name is a German word: "nimm den hier solange"), or in English text every language's.
        Words inside addresses, paths and code are passed over."""
        known = self.lex.chat_first.get(language)
        if not known or not _typed_casually(text):
            return
        for m in _CHAT_WORD.finditer(text):
            word = m.group(0)
            if fold(word) not in known or never_a_name(word) or identifier_word(word):
                continue
            # After a saint's title the word names a street or a town ("c/ san vicente mártir").
            if _SAINT_BEFORE_ANY_CASE.search(text[max(0, m.start() - 10) : m.start()]):
                continue
            end = m.end()
            surname = _CHAT_SURNAME.match(text, end)
            if surname and self.lex.is_last(surname.group(1)) and not self._known_word(surname.group(1)):
                end = surname.end()
            yield Entity("PERSON", m.start(), end, 0.6)

    def _known_word(self, word: str) -> bool:
        return self.lex.is_common(word) or word.lower() in self.lex.stop

    def _recurrences(self, text: str, found: list[Entity]) -> list[Entity]:
        """A name found once is a name wherever the same string recurs in the text."""
        out = list(found)
        for value in {text[e.start : e.end] for e in found}:
            for m in re.finditer(rf"(?<![\w\u00C0-\u024F]){re.escape(value)}(?![\w\u00C0-\u024F])", text):
                out.append(Entity("PERSON", m.start(), m.end(), 0.6))
        return out


# A surname led by particles ("Pieter van den Berg", "Maria da Silva", "Ursula von der Leyen"): a capitalised run
# stops at the lower-case particle, which left the surname unmasked after the given name.
_PARTICLE_SURNAME = re.compile(
    rf"[ \t]+(?:(?:van|von|de|der|den|del|della|delle|dello|di|da|das|do|dos|du|la|le|ten|ter|zu|zum|zur)[ \t]+)"
    rf"{{1,2}}{_CAP}"
)


# A lower-case word standing alone: not part of an e-mail address, a path, a URL, a key or a dotted name.
_CHAT_WORD = re.compile(
    r"(?<![\w@./:=_\u00C0-\u024F-])[a-z\u00df-\u00f6\u00f8-\u00ff\u0100-\u024f]{3,}(?![\w@/:=_\u00C0-\u024F-]|\.\w)"
)
_CHAT_SURNAME = re.compile(
    r"[ \t]+([a-z\u00df-\u00f6\u00f8-\u00ff\u0100-\u024f][a-z\u00df-\u00f6\u00f8-\u00ff\u0100-\u024f'’-]{2,})"
    r"(?![\w@/:=_-]|\.\w)"
)
# Where a sentence opens: the text's start, after a full stop, question or exclamation mark, or a line break.
_SENTENCE_OPENING = re.compile(r"(?:\A|[.!?][ \t]+|\n)[^\w\n]*([^\W\d_])")


def _typed_casually(text: str) -> bool:
    """Whether at least half of the message's sentences open in lower case (chat typed without capitals)."""
    openings = [m.group(1) for m in _SENTENCE_OPENING.finditer(text)]
    return bool(openings) and 2 * sum(c.islower() for c in openings) >= len(openings)


def chat_first_names(common: frozenset[str], stop: frozenset[str]) -> dict[str, frozenset[str]]:
    """By the language a message is read in, the folded given names that, typed in lower case, are still names: those
    of its faker locales and of English ones (English text, checked against the English dictionary, reads every
    language's), and the everyday short forms, minus every word that is an English dictionary word (`common`), a
    function word of the eight languages (`stop`), a frequent word of one of them, a month or a weekday."""
    tables = _name_tables()
    frequent, locale_names = (tables.frequent, tables.chat_first) if tables is not None else chat_names_from_package()
    excluded = common | stop | frequent | _EVERYDAY
    nicknames = {fold(n) for n in NICKNAMES}
    own = {
        language: frozenset(n for n in nicknames | names if len(n) >= 3 and n not in excluded)
        for language, names in locale_names.items()
    }
    every = frozenset().union(*own.values())
    return {language: every if language == "en" else names | own["en"] for language, names in own.items()}


def chat_names_from_package() -> tuple[frozenset[str], dict[str, frozenset[str]]]:
    """Read from the installed faker: the folded frequent words of its lorem lists (about a thousand of each language:
    "luz", "stan", "dom", "blanca"), and by language the folded one-word given names of its locales."""
    frequent = frozenset(
        fold(w)
        for locale in _LOREM_LOCALES
        for w in importlib.import_module(f"faker.providers.lorem.{locale}").Provider.word_list
    )
    by_language: dict[str, frozenset[str]] = {}
    for language, locales in _CHAT_LOCALES.items():
        names: set[str] = set()
        for locale in locales:
            provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
            for attr in ("first_names", "first_names_male", "first_names_female"):
                names.update(fold(str(v)) for v in getattr(provider, attr, ()) if " " not in str(v))
        by_language[language] = frozenset(names)
    return frequent, by_language


_CHAT_LOCALES = {
    "en": ("en_US", "en_GB", "en_IE", "en_IN"),
    "fr": ("fr_FR", "fr_BE"),
    "de": ("de_DE", "de_AT"),
    "es": ("es_ES", "es_MX"),
    "it": ("it_IT",),
    "nl": ("nl_NL", "nl_BE"),
    "pl": ("pl_PL",),
    "pt": ("pt_PT", "pt_BR"),
}
# A saint's title in any case ("c/ san vicente"): the name after it is a street's or a town's.
_SAINT_BEFORE_ANY_CASE = re.compile(_SAINT_BEFORE.pattern, re.IGNORECASE)
_LOREM_LOCALES = ("en_US", "fr_FR", "de_DE", "es_ES", "it_IT", "nl_NL", "pl_PL")
# Months and weekdays, and everyday words of the eight languages that are given names too (faker's lists hold them;
# WordNet and the lorem lists do not): colours, virtues, greetings, slang, acronyms. Lower case, they are the word.
_EVERYDAY_TEXT = """
    april avril abril aprile juni juli june july august augusta mai maio mayo maggio marzo march mars
    janvier januari enero gennaio febbraio luty lipiec sierpień lundi mardi mercredi jeudi vendredi samedi dimanche
    bianca bianco blanca branca clara celeste rosa rosario luz paz mar alba aurora stella vera serena gloria gracia
    graca dolores amparo consuelo rocio soledad mercedes esperanza victoria fortuna felice franco leal pilar cruz reyes
    nieves santos angeles bella fiore ola olá jeton curro bienvenida bienvenido benvenuto benvenuta bienvenue
    socorro conceicao aparecida fatima flor estrella perla estela fortunato vitoria roos iban
"""
_EVERYDAY = frozenset(fold(w) for w in _EVERYDAY_TEXT.split())


def _overlapping(pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """Every match, the next search starting just after the last one's start: the name after one cue may hold the
    next cue ("a nome di mia moglie chiara rinaldi"), and a shorter cue may stand inside a longer one ("staat op naam
    van kees": "staat op" reads "naam van kees", "op naam van" reads "kees")."""
    pos = 0
    while (m := pattern.search(text, pos)) is not None:
        yield m
        pos = m.start() + 1


def _with_particles(text: str, e: Entity) -> Entity:
    tail = _PARTICLE_SURNAME.match(text, e.end)
    return Entity(e.type, e.start, tail.end(), e.score) if tail else e


def _merge(entities: list[Entity]) -> list[Entity]:
    """Overlapping PERSON spans become one span covering them."""
    merged: list[Entity] = []
    for e in sorted(entities, key=lambda x: (x.start, -x.end)):
        if merged and e.start < merged[-1].end:
            last = merged[-1]
            merged[-1] = Entity("PERSON", last.start, max(last.end, e.end), max(last.score, e.score))
        else:
            merged.append(e)
    return merged
