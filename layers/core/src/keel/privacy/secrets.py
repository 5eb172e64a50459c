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
from keel.privacy.names import fold
from keel.privacy.recognizers import Entity

BASE64_ENTROPY = 4.0
HEX_ENTROPY = 3.0
_TOKEN = re.compile(r"(?<![\w+/-])[A-Za-z0-9+/_\-]{20,}={0,2}(?![\w+/=-])")
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
_KEY_CUE = re.compile(
    r"(?:key|token|secret|password|passwd|credential|bearer|api|clé|cle|jeton|schlüssel|schluessel|clave|"
    r"chiave|sleutel|klucz|chave|senha|hasło|haslo|mot de passe|passwort|contraseña|credenciais|credenciales|"
    r"credenziali|identifiants|zugangsdaten|inloggegevens|logowania)\W{0,3}(?:\w+\W{1,3}){0,5}$",
    re.IGNORECASE,
)
_HASH_CUE = re.compile(
    r"(?:commit|checksum|sha-?\d*|md5|hash|digest|revision|rev|build|prüfsumme|somme de contrôle|suma)"
    r"\W{0,3}(?:\w+\W{1,3}){0,3}$",
    re.IGNORECASE,
)
# A random-looking token labelled as an id of a request, deployment, trace or job ("deploy id dpl_EZJQZSY4274YW",
# "x-request-id: 5c1e0a77f2d9"): an identifier a system logs, not a credential. A session id is not among them.
_ID_LABEL = re.compile(
    r"\b(?:request|deploy|deployment|trace|correlation|job|run|event|message|pipeline|execution|operation|"
    r"instance|upload|transfer|span)[ _-]?ids?\W{0,3}$",
    re.IGNORECASE,
)
_PEM = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)", re.DOTALL)
# A passport or another travel or identity document word in the eight languages, then the number within a few
# words ("travel document 31DQ23723", "documento n. UI9676171", "Ausweisdokument für die Reise: NG7446684").
_DOCUMENT_WORDS = (
    r"passport|passeport|\w*reisepass|pass-?nr|pasaporte|passaporto|paspoort|paszport|passaporte|"
    r"travel document|identity document|id document|document (?:number|no)|"
    r"ausweis|reisedokument|dokumentennummer|personalausweis|passnummer|passnr|passdaten|"
    # German "Pass" (capitalised: a noun) is a passport ("Schweizer Pass X0174528", "Pass Nr. P4829173").
    r"(?-i:Pass)(?=[ \t]|-?Nr)|"
    r"document de voyage|pièce d'identité|carte d'identité|numéro de document|"
    r"documento|dni|carta d'identità|carta de identidad|"
    r"reisdocument|documentnummer|identiteitsbewijs|identiteitskaart|"
    r"dowód osobisty|dowodu|numer dokumentu|dokument podróży|"
    r"cartão de cidadão|bilhete de identidade"
)
_PASSPORT = re.compile(
    r"\b(?:" + _DOCUMENT_WORDS + r")\w*"
    r"(?:\W+(?:\w+\W+){0,4}?)(?P<value>(?=[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z]|\d{8,9}(?![\d]))[A-Z0-9]{6,9})(?![A-Za-z0-9-])",
    re.IGNORECASE,
)
# A password given in words ("my password is X", "Passwort lautet X", "la contraseña del wifi es X"): the token
# after the copula, when it holds a digit or a symbol (a plain word after "password is" is usually prose).
# Words for a password in the eight languages; the prose rule below adds "pin", this one the abbreviations.
_LOGIN_WORDS = (
    r"password|passphrase|passwort|kennwort|mot de passe|mdp|contraseña|contrasena|clave|senha|palavra-passe|"
    r"wachtwoord|hasło|haslo|pw"
)
_PASSWORD = re.compile(
    r"\b(?:passwd|pwd|passcode|" + _LOGIN_WORDS + r")\b(?:[ \t]+[^\s\d:=]{1,15}){0,5}?[ \t]*"
    r"(?:[:=]|\b(?:is|was|lautet|ist|est|es|era|é|è|to|jest|:))[ \t]*[\"'“«]?(?P<value>[^\s\"'”»]{6,64})",
    re.IGNORECASE,
)
# A value after a generic key label ("token: 1234567890abcdef", "client_secret=..."): letters and digits, 12+.
_LABELLED = re.compile(
    r"(?<![\w-])(?:[\w-]*(?:token|key|secret)|bearer)[\"']?[ \t]*[:=][ \t]*[\"']?"
    r"(?P<value>(?=[\w+/=.-]*\d)(?=[\w+/=.-]*[A-Za-z])[\w+/=.-]{12,})",
    re.IGNORECASE,
)
# A password in a config line ("DB_PASS=...", "wpa_passphrase=...", "'secret' => '...'", redis "requirepass ..."):
# the value holds a digit or a symbol, so a word ("password: required") is prose.
_CONFIG_PASSWORD = re.compile(
    r"(?<![\w-])(?:[\w-]*(?:pass(?:word|wd|phrase)?|pwd|secret)[\"']?[ \t]*(?:=>|[:=])|requirepass[ \t]+)[ \t]*[\"']?"
    r"(?P<value>(?=[^\s\"']*[\d!#$%&*@^~?])[^\s\"',;]{6,64})",
    re.IGNORECASE,
)
# PHP's define('DB_PASSWORD', '...') and its like: a constant named for a secret, then its value.
_DEFINED_SECRET = re.compile(
    r"\bdefine\(\s*['\"]\w*(?:PASS|SECRET|KEY|TOKEN)\w*['\"]\s*,\s*['\"](?P<value>[^'\"\s]{6,128})['\"]", re.IGNORECASE
)
# "Authorization: Bearer <token>", "Bearer abc..." with a space, not a colon.
_BEARER = re.compile(r"\bbearer[ \t]+(?P<value>[A-Za-z0-9._~+/-]{16,}=*)", re.IGNORECASE)
# Token formats detect-secrets has no plugin for: Hugging Face, Mailgun, Shopify, Databricks.
_VENDOR_TOKENS = re.compile(
    r"(?<![\w-])(?:hf_[A-Za-z]{30,40}|key-[0-9a-f]{32}|shp(?:at|ca|pa|ss)_[0-9a-fA-F]{32}|dapi[0-9a-f]{32}"
    r"|dckr_pat_[A-Za-z0-9_-]{20,40})(?![\w-])"
)
# A password written in prose after a password word ("das neue Passwort sollte Sonnenblume#2025 sein", "la contraseña
# ... sigue siendo Verano2024$"): within the next sentence or so, a token of letters, digits and a symbol.
_PASSWORD_WORD = re.compile(r"\b(?:" + _LOGIN_WORDS + r"|pin)\b", re.IGNORECASE)
_PASSWORD_SHAPED = re.compile(
    r"(?<![^\s\"'«“(])(?=[\w\u00C0-\u024F!#$%&*@^~?+-]*[A-Za-z\u00C0-\u024F])(?=[\w\u00C0-\u024F!#$%&*@^~?+-]*\d)"
    r"(?=[\w\u00C0-\u024F!#$%&*@^~?+-]*[!#$%&*@^~?_+])[\w\u00C0-\u024F!#$%&*@^~?+-]{8,40}(?<![.,;:?!])"
    r"(?![\w@/:=-])"
)
_PASSWORD_BANG = re.compile(
    r"(?:[ \t]+[^\s\d:=]{1,15}){0,3}?[ \t]+(?P<value>(?=[A-Za-z\u00C0-\u024F]*\d)(?=\d*[A-Za-z\u00C0-\u024F])"
    r"[\w\u00C0-\u024F]{6,38}[!?]{1,3})(?=[ \t]+[a-z\u00C0-\u024F])"
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
        if _UUID.match(token) or _HASH_CUE.search(before) or _ID_LABEL.search(before):
            continue
        if _HEX.match(token):
            if _KEY_CUE.search(before) and entropy(token) >= HEX_ENTROPY:
                yield m.start(), m.end()
            continue
        mixed = any(c.isupper() for c in token) and any(c.islower() for c in token) and any(c.isdigit() for c in token)
        if mixed and entropy(token) >= BASE64_ENTROPY:
            yield m.start(), m.end()


# Words of a placeholder written where a key goes ("xoxb-your-token-here", "coloque_aqui_a_sua_chave", "whsec_dummy"),
# in the eight languages. A short value without a digit that holds one of the first kind, or two of either, is
# documentation, not a key.
_PLACEHOLDER_TEXT = (
    "your yours here insert put paste replace dummy placeholder changeme redacted fake votre ici inserer mettre "
    "ihr ihren dein deinen hier einfugen tu su aqui poner tua tuo qui inserire jouw invullen twoj tutaj wstaw "
    "sua seu coloque"
)
_PLACEHOLDER_WORDS = frozenset(_PLACEHOLDER_TEXT.split(" "))
_GENERIC_TEXT = (
    "token key secret value example sample exemple beispiel ejemplo esempio voorbeeld przyklad exemplo cle clave "
    "schlussel chiave sleutel klucz sekret chave"
)
_GENERIC_WORDS = frozenset(_GENERIC_TEXT.split(" "))
_FILLER_RUN = re.compile(r"([xX*•])\1{5,}|(?<=[_-])[xX*]{4,}$")
_REPEATED = re.compile(r"([A-Za-z0-9])\1{3,}")
_COUNTING = re.compile(r"123456789|abcdefgh", re.IGNORECASE)
_CAPITALS_NAME = re.compile(r"[A-Z]+(?:_[A-Z]+)+")
_BASIC_AUTH = re.compile(r"\bbasic[ \t]+$", re.IGNORECASE)


def is_placeholder(value: str) -> bool:
    """A documented example or a fill-in where a key goes: AWS's published example keys ("...EXAMPLE"), a value in
    angle or curly brackets, a run of x or *, or placeholder words without a digit."""
    if "-----BEGIN" in value:
        return False
    if "example" in value.lower() or _FILLER_RUN.search(value):
        return True
    # A value cut short with an ellipsis ("sk-...XXXX", "ghp_…a1b2") is shown, not given: nothing usable is left.
    if "..." in value or "…" in value:
        return True
    if value[:1] in "<{[" or value.startswith("${"):
        return True
    # A counting run ("sk_test_1234567890abcdef") or a name in capitals where the value goes ("TWOJE_HASLO",
    # "YOUR_API_KEY"): an example in documentation.
    if _COUNTING.search(value) or _CAPITALS_NAME.fullmatch(value):
        return True
    # Mostly one letter repeated ("SG.xxxxx.yyyyy", "ghp_AAAAaaaa"): a shape shown, not a key.
    alnum = sum(ch.isalnum() for ch in value)
    if alnum and 2 * sum(len(m.group(0)) for m in _REPEATED.finditer(value)) >= alnum:
        return True
    if any(ch.isdigit() for ch in value) or len(value) > 48 or "-----" in value:
        return False
    words = [w for w in re.split(r"[^A-Za-z\u00C0-\u024F]+", value) if w]
    folded = [fold(w) for w in words]
    strong = sum(w in _PLACEHOLDER_WORDS for w in folded)
    return strong >= 1 or strong + sum(w in _GENERIC_WORDS for w in folded) >= 2


def readable_base64(value: str) -> bool:
    """Base64 that decodes to readable text with structure (words with spaces, key=value pairs, a JSON object): an
    encoded payload shown to ask about it, not a key. A key or a password decodes to bytes or to one word."""
    import base64
    import binascii

    body = value.rstrip("=")
    if len(body) < 16 or not re.fullmatch(r"[A-Za-z0-9+/_-]+", body):
        return False
    try:
        raw = base64.b64decode(body + "=" * (-len(body) % 4), altchars=b"-_" if "-" in body or "_" in body else None)
        decoded = raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return False
    if not decoded or not all(ch.isprintable() for ch in decoded):
        return False
    # Three or more words joined by colons ("environment:staging:region:eu-central-1") are settings; a credential
    # pair ("user:password") has one colon and stays a secret.
    settings = decoded.count(":") >= 2 and all(re.fullmatch(r"[A-Za-z][\w.-]*", p) for p in decoded.split(":"))
    # key=value settings joined by any separator ("env=recette:node=web-04", "feature.darkmode=true"), or two
    # hyphenated phrases ("hello-from-staging:build-7781"): text, not a credential.
    pairs = _SETTING_PAIRS.fullmatch(decoded) is not None or _PHRASES.fullmatch(decoded) is not None
    return (
        " " in decoded
        or bool(re.search(r"\w=[^=]*[;&]\w+=", decoded))
        or decoded.lstrip().startswith("{")
        or settings
        or pairs
    )


_SETTING_PAIRS = re.compile(r"[a-z][\w.-]*=[\w./-]{1,40}(?:[:;&,|][a-z][\w.-]*=[\w./-]{1,40})*")
_PHRASES = re.compile(r"(?:[a-z]+|\d{1,4})(?:-(?:[a-z]+|\d{1,4}))+(?::(?:[a-z]+|\d{1,4})(?:-(?:[a-z]+|\d{1,4}))+)*")


# An OpenSSH public key ("ssh-ed25519 AAAAC3Nza... user@host"): shared on purpose, never a secret.
_PUBLIC_KEY_BEFORE = re.compile(r"\b(?:ssh-(?:rsa|ed25519|dss)|ecdsa-sha2-nistp\d+|sk-ssh-ed25519@openssh\.com)[ \t]+$")


def _documentation(text: str, start: int, end: int) -> bool:
    value = text[start:end].rstrip("`'\".,;")
    if is_placeholder(value) or _PUBLIC_KEY_BEFORE.search(text[max(0, start - 40) : start]):
        return True
    return readable_base64(value) and not _BASIC_AUTH.search(text[max(0, start - 12) : start])


def find_secrets(text: str) -> list[Entity]:
    """SECRET spans: provider patterns, private keys, high-entropy tokens and passwords given in words or inside
    URLs (merged where they overlap); placeholders and readable encoded payloads are left alone."""
    spans = sorted(
        span
        for span in {*_provider_secrets(text), *_entropy_secrets(text), *_passwords(text)}
        if not _documentation(text, *span)
    )
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [Entity("SECRET", start, end) for start, end in merged]


def _prose_passwords(text: str) -> Iterator[tuple[int, int]]:
    """Passwords written in prose after a password word."""
    for cue in _PASSWORD_WORD.finditer(text):
        for m in _PASSWORD_SHAPED.finditer(text, cue.end(), min(len(text), cue.end() + 120)):
            token = m.group(0)
            if "://" not in token and any(not ch.isalnum() for ch in token):
                yield m.span()
        # Letters and digits ending in "!" or "?" right after the password word ("mon mdp Chouquette2024! et ça
        # bloque"): the mark is the password's symbol, not the sentence's end, when the sentence goes on.
        shouted = _PASSWORD_BANG.match(text, cue.end())
        if shouted:
            yield shouted.span("value")


def _passwords(text: str) -> Iterator[tuple[int, int]]:
    for m in _URL_PASSWORD.finditer(text):
        yield m.span("value")
    for pattern in (_CONFIG_PASSWORD, _BEARER, _DEFINED_SECRET):
        for m in pattern.finditer(text):
            yield m.span("value")
    for m in _VENDOR_TOKENS.finditer(text):
        yield m.span()
    yield from _prose_passwords(text)
    for m in _LABELLED.finditer(text):
        yield m.span("value")
    for m in _PASSWORD.finditer(text):
        value = m.group("value").rstrip(".,;:!?)")
        if "://" in value or "@" in value or len(value) < 6:
            continue
        if any(c.isdigit() or not c.isalnum() for c in value):
            yield m.start("value"), m.start("value") + len(value)


# A message about passports often lists them apart from the word ("Davide Marchetti – YB4829173", "Ms. Chen says hers
# is 566028417"): once a passport word is in the text, any token in a passport number's shape is one. The shapes of the
# eight countries: 7 to 9 capitals and digits with at least three digits (FR 22AV61849, NL BN7F42KL5, PT P417382), or
# nine digits (US, UK).
_PASSPORT_WORD = re.compile(
    r"\b(?:passport|passeport|\w*reisepass|passnummer|pasaport|passaport|paspoort|paszport)\w*", re.IGNORECASE
)
_PASSPORT_SHAPE = re.compile(r"(?<![\w/.-])(?:(?=(?:[A-Z]*\d){3})(?=\d*[A-Z])[A-Z0-9]{7,9}|\d{9})(?![\w/-])")


_SSN_BEFORE = re.compile(r"\b(?:ssn|social security(?: number)?|soc\.? ?sec\.?)\b[^.\n\d]{0,12}$", re.IGNORECASE)


def find_passports(text: str) -> list[Entity]:
    """PASSPORT spans: a document number within a few words after a passport cue, and, in a text about passports,
    every token in a passport number's shape."""
    spans = {(m.start("value"), m.end("value")) for m in _PASSPORT.finditer(text)}
    if _PASSPORT_WORD.search(text):
        # A number right after an SSN word is the SSN, in a text that also talks about passports.
        spans |= {
            m.span()
            for m in _PASSPORT_SHAPE.finditer(text)
            if not _SSN_BEFORE.search(text[max(0, m.start() - 30) : m.start()])
        }
    return [Entity("PASSPORT", start, end) for start, end in sorted(spans)]
