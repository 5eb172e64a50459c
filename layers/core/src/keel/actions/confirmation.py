"""Reading the user's answer to a confirmation question: only an explicit yes confirms, in several languages."""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

Answer = Literal["yes", "no", "other"]

# Whole answers only: "yes" confirms, "yes but not that one" does not.
_YES = frozenset(
    {
        "yes",
        "y",
        "yes please",
        "yes do it",
        "yes go ahead",
        "yes i confirm",
        "yes confirm",
        "confirm",
        "confirmed",
        "i confirm",
        "oui",
        "oui je confirme",
        "je confirme",
        "confirmer",
        "ja",
        "ja bitte",
        "ich bestatige",
        "bestatigen",
        "bestatigt",
        "si",
        "si confirmo",
        "confirmo",
        "confirmar",
        "sim",
        "sim confirmo",
        "confermo",
        "conferma",
        "bevestig",
        "bevestigen",
        "ik bevestig",
        "tak",
        "potwierdzam",
        "はい",
        "確認",
        "是",
        "是的",
        "确认",
        "네",
        "예",
        "да",
        "подтверждаю",
    }
)
_NO = frozenset(
    {
        "no",
        "n",
        "nope",
        "cancel",
        "stop",
        "don't",
        "dont",
        "do not",
        "no thanks",
        "no cancel",
        "non",
        "annuler",
        "nein",
        "abbrechen",
        "cancelar",
        "nao",
        "annulla",
        "nee",
        "annuleren",
        "nie",
        "anuluj",
        "いいえ",
        "キャンセル",
        "不",
        "不要",
        "取消",
        "아니요",
        "нет",
        "отмена",
    }
)
_PUNCTUATION = re.compile(r"[\s.,!?¡¿。！？、…\"'`*_~()-]+")


def normalise(text: str) -> str:
    """Lower case, accents folded, punctuation dropped, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(c for c in decomposed if not unicodedata.combining(c))
    # NFKD splits Hangul and kana into parts; recompose so those words compare whole.
    folded = unicodedata.normalize("NFC", folded)
    return " ".join(p for p in _PUNCTUATION.split(folded.replace("'", "")) if p)


def read_answer(text: str) -> Answer:
    """'yes' only for an explicit confirmation, 'no' for an explicit refusal, 'other' for anything else."""
    words = normalise(text)
    if words in _YES:
        return "yes"
    if words in _NO or normalise(text.replace("'", "")) in _NO:
        return "no"
    return "other"
