"""Secrets and passport numbers in free text (issue 17).

Keys and tokens are found with detect-secrets' detectors (pinned in requirements.lock): its provider
patterns (cloud keys, GitHub, GitLab, Slack, Stripe, JWT, private keys and more) locate spans, and its
Shannon-entropy measure judges unlabelled tokens. Entropy alone would mask commit hashes and checksums, so a
high-entropy token counts as a secret only when it is base64-like (mixed case and digits), or hex that follows a
key or token cue; a hash cue (commit, checksum, sha256) keeps it unmasked. Passport numbers need a passport cue in
one of the eight supported languages within a few words.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from keel.lazy import once
from keel.privacy.recognizers import Entity

BASE64_ENTROPY = 4.0
HEX_ENTROPY = 3.0
_TOKEN = re.compile(r"(?<![\w+/-])[A-Za-z0-9+/_\-]{20,}={0,2}(?![\w+/=-])")
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
_KEY_CUE = re.compile(
    r"(?:key|token|secret|password|passwd|credential|bearer|api|clé|cle|jeton|schlüssel|schluessel|clave|"
    r"chiave|sleutel|klucz|chave|senha|hasło|haslo|mot de passe|passwort|contraseña)\W{0,3}(?:\w+\W{1,3}){0,4}$",
    re.IGNORECASE,
)
_HASH_CUE = re.compile(
    r"(?:commit|checksum|sha-?\d*|md5|hash|digest|revision|rev|build|prüfsumme|somme de contrôle|suma)"
    r"\W{0,3}(?:\w+\W{1,3}){0,3}$",
    re.IGNORECASE,
)
_PEM = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)", re.DOTALL)
# A passport or another travel or identity document word in the eight languages, then the number within a few
# words ("travel document 31DQ23723", "documento n. UI9676171", "Ausweisdokument für die Reise: NG7446684").
_DOCUMENT_WORDS = (
    r"passport|passeport|reisepass|pass-?nr|pasaporte|passaporto|paspoort|paszport|passaporte|"
    r"travel document|identity document|id document|document (?:number|no)|"
    r"ausweis|reisedokument|dokumentennummer|personalausweis|"
    r"document de voyage|pièce d'identité|carte d'identité|numéro de document|"
    r"documento|dni|carta d'identità|carta de identidad|"
    r"reisdocument|documentnummer|identiteitsbewijs|identiteitskaart|"
    r"dowód osobisty|dowodu|numer dokumentu|dokument podróży|"
    r"cartão de cidadão|bilhete de identidade"
)
_PASSPORT = re.compile(
    r"\b(?:" + _DOCUMENT_WORDS + r")\w*"
    r"(?:\W+(?:\w+\W+){0,4}?)(?P<value>(?=[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z]|\d{8,9}(?![\d]))[A-Z0-9]{6,9})(?![A-Za-z0-9])",
    re.IGNORECASE,
)
# A password given in words ("my password is X", "Passwort lautet X", "la contraseña del wifi es X"): the token
# after the copula, when it holds a digit or a symbol (a plain word after "password is" is usually prose).
_PASSWORD = re.compile(
    r"\b(?:password|passwd|passphrase|pwd|passcode|passwort|kennwort|mot de passe|mdp|contraseña|contrasena|"
    r"clave|senha|palavra-passe|wachtwoord|hasło|haslo)\b(?:[ \t]+[^\s\d:=]{1,15}){0,5}?[ \t]*"
    r"(?:[:=]|\b(?:is|was|lautet|ist|est|es|era|é|è|to|jest|:))[ \t]*[\"'“«]?(?P<value>[^\s\"'”»]{6,64})",
    re.IGNORECASE,
)
# A value after a generic key label ("token: 1234567890abcdef", "client_secret=..."): letters and digits, 12+.
_LABELLED = re.compile(
    r"(?<![\w-])(?:[\w-]*(?:token|key|secret)|bearer)[\"']?[ \t]*[:=][ \t]*[\"']?"
    r"(?P<value>(?=[\w+/=.-]*\d)(?=[\w+/=.-]*[A-Za-z])[\w+/=.-]{12,})",
    re.IGNORECASE,
)
# Credentials inside a URL or connection string: scheme://user:PASSWORD@host.
_URL_PASSWORD = re.compile(
    r"\b[a-z][a-z0-9+.-]{1,20}://[^\s:/@]{0,64}:(?P<value>[^\s@/]{1,128})@[\w.-]+", re.IGNORECASE
)


@once
def _detectors() -> tuple[list[Any], Any]:
    """detect-secrets' regex detectors (every pattern) and its entropy function, built once."""
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.plugins.base import RegexBasedDetector
    from detect_secrets.plugins.high_entropy_strings import Base64HighEntropyString

    patterns: list[Any] = []
    plugin_class: Any
    for plugin_class in get_mapping_from_secret_type_to_class().values():
        if issubclass(plugin_class, RegexBasedDetector) and plugin_class.__name__ != "IPPublicDetector":
            patterns.extend(plugin_class().denylist)
    return patterns, Base64HighEntropyString().calculate_shannon_entropy


def _provider_secrets(text: str) -> Iterator[tuple[int, int]]:
    patterns, _ = _detectors()
    for pattern in patterns:
        for m in pattern.finditer(text):
            # Some patterns capture the secret itself, others only a prefix ("ghp"): keep the longer of the two.
            group = m.lastindex or 0
            start, end = m.span(group) if group and m.group(group) and len(m.group(group)) >= 8 else m.span()
            if end - start >= 8:
                yield start, end
    for m in _PEM.finditer(text):
        yield m.start(), m.end()


def _entropy_secrets(text: str) -> Iterator[tuple[int, int]]:
    _, entropy = _detectors()
    for m in _TOKEN.finditer(text):
        token = m.group(0)
        before = text[max(0, m.start() - 60) : m.start()]
        if _UUID.match(token) or _HASH_CUE.search(before):
            continue
        if _HEX.match(token):
            if _KEY_CUE.search(before) and entropy(token) >= HEX_ENTROPY:
                yield m.start(), m.end()
            continue
        mixed = any(c.isupper() for c in token) and any(c.islower() for c in token) and any(c.isdigit() for c in token)
        if mixed and entropy(token) >= BASE64_ENTROPY:
            yield m.start(), m.end()


def find_secrets(text: str) -> list[Entity]:
    """SECRET spans: provider patterns, private keys, high-entropy tokens and passwords given in words or inside
    URLs (merged where they overlap)."""
    spans = sorted({*_provider_secrets(text), *_entropy_secrets(text), *_passwords(text)})
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [Entity("SECRET", start, end) for start, end in merged]


def _passwords(text: str) -> Iterator[tuple[int, int]]:
    for m in _URL_PASSWORD.finditer(text):
        yield m.span("value")
    for m in _LABELLED.finditer(text):
        yield m.span("value")
    for m in _PASSWORD.finditer(text):
        value = m.group("value").rstrip(".,;:!?)")
        if "://" in value or "@" in value or len(value) < 6:
            continue
        if any(c.isdigit() or not c.isalnum() for c in value):
            yield m.start("value"), m.start("value") + len(value)


def find_passports(text: str) -> list[Entity]:
    """PASSPORT spans: a document number within a few words after a passport cue."""
    return [Entity("PASSPORT", m.start("value"), m.end("value")) for m in _PASSPORT.finditer(text)]
