"""Keel's own labelled PII cases and their frozen test split (issue 17).

Sentence templates in eight languages, each with typed slots, filled from value generators with a fixed
seed. A template is a family: every row made from it lands on the same side of the split, and the split is
chosen by sha256 of the template id (one in three per slot type), never by looking at results. Rows with
look-alikes (order numbers, ticket ids, hashes, versions, UUIDs) carry no entities and `lookalike: true`.
`python -m keel.privacy.dataset freeze` writes evals/pii/test.jsonl and evals/pii/dev.jsonl once.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import string
import sys
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from keel.errors import ConfigurationError

REPO_ROOT = Path(__file__).resolve().parents[5]
DATA_DIR = REPO_ROOT / "evals" / "pii"
TEST_FILE = DATA_DIR / "test.jsonl"
DEV_FILE = DATA_DIR / "dev.jsonl"
SPLIT_FILE = DATA_DIR / "split.json"
ROWS_PER_TEMPLATE = 6
SEED = 17

_UP = string.ascii_uppercase
_B32 = _UP + "234567"
_ALNUM = string.ascii_letters + string.digits
_B64 = _ALNUM + "+/"
_HEXDIGITS = "0123456789abcdef"


def _pick(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _luhn_complete(prefix: str) -> str:
    digits = [int(d) for d in prefix + "0"]
    total = 0
    for i, digit in enumerate(reversed(digits)):
        total += (digit * 2 - 9 if digit > 4 else digit * 2) if i % 2 else digit
    return prefix + str((10 - total % 10) % 10)


def _iban(rng: random.Random) -> str:
    country, bban = rng.choice(
        [
            ("DE", lambda: _pick(rng, string.digits, 18)),
            ("FR", lambda: _pick(rng, string.digits, 23)),
            ("NL", lambda: _pick(rng, _UP, 4) + _pick(rng, string.digits, 10)),
            ("ES", lambda: _pick(rng, string.digits, 20)),
            ("IT", lambda: rng.choice(_UP) + _pick(rng, string.digits, 22)),
            ("PL", lambda: _pick(rng, string.digits, 24)),
            ("PT", lambda: _pick(rng, string.digits, 21)),
        ]
    )
    body = bban()
    numeric = "".join(str(int(ch, 36)) for ch in body + country + "00")
    return f"{country}{98 - int(numeric) % 97:02d}{body}"


def _secret(rng: random.Random) -> str:
    kind = rng.randrange(9)
    if kind == 0:
        return "AKIA" + _pick(rng, _B32, 16)
    if kind == 1:
        return _pick(rng, _B64, 40)  # an AWS secret access key
    if kind == 2:
        return "ghp_" + _pick(rng, _ALNUM, 36)
    if kind == 3:
        return (
            "xoxb-" + _pick(rng, string.digits, 12) + "-" + _pick(rng, string.digits, 13) + "-" + _pick(rng, _ALNUM, 24)
        )
    if kind == 4:
        return "sk_live_" + _pick(rng, _ALNUM, 24)
    if kind == 5:
        head = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
        return f"{head}.eyJ{_pick(rng, _ALNUM, 40)}.{_pick(rng, _ALNUM + '-_', 43)}"
    if kind == 6:
        body = "\n".join(_pick(rng, _B64, 64) for _ in range(4))
        return f"-----BEGIN RSA PRIVATE KEY-----\nMIIE{body}\n-----END RSA PRIVATE KEY-----"
    if kind == 7:
        return "AIza" + _pick(rng, _ALNUM + "-_", 35)
    return _pick(rng, "0123456789abcdef", 32)  # a hex API key


def _passport(rng: random.Random) -> str:
    return rng.choice(
        [
            lambda: _pick(rng, "CFGHJKLMNPRTVWXYZ", 1) + _pick(rng, "CFGHJKLMNPRTVWXYZ0123456789", 8),  # DE
            lambda: _pick(rng, string.digits, 2) + _pick(rng, _UP, 2) + _pick(rng, string.digits, 5),  # FR
            lambda: _pick(rng, string.digits, 9),  # US
            lambda: _pick(rng, _UP, 3) + _pick(rng, string.digits, 6),  # ES
            lambda: _pick(rng, _UP, 2) + _pick(rng, string.digits, 7),  # IT / PL
            lambda: _pick(rng, _UP, 2) + _pick(rng, _ALNUM.upper(), 6) + _pick(rng, string.digits, 1),  # NL
        ]
    )()


_STREETS = {
    "us": [
        "{n} Maple Avenue, Springfield, IL 62704",
        "{n} W 34th Street, New York, NY 10001",
        "{n} Pine St Apt 4B, Seattle, WA 98101",
        "{n} Oak Drive, Austin, TX 78701",
    ],
    "en": ["{n} Baker Street, London NW1 6XE", "{n} Queen's Road, Bristol BS8 1QU"],
    "de": ["Hauptstraße {n}, 10115 Berlin", "Lindenweg {n}, 80331 München", "Am Markt {n}, 50667 Köln"],
    "fr": [
        "{n} rue de la Paix, 75002 Paris",
        "{n} avenue Jean Jaurès, 69007 Lyon",
        "{n} boulevard Victor Hugo, 06000 Nice",
    ],
    "es": [
        "Calle de Alcalá {n}, 28014 Madrid",
        "Avenida Diagonal {n}, 08019 Barcelona",
        "Calle Mayor {n}, 3º izq., 46001 Valencia",
    ],
    "it": ["Via Roma {n}, 00184 Roma", "Corso Buenos Aires {n}, 20124 Milano", "Piazza Garibaldi {n}, 80142 Napoli"],
    "nl": [
        "Keizersgracht {n}, 1015 CJ Amsterdam",
        "Stationsplein {n}, 3511 ED Utrecht",
        "Laan van Meerdervoort {n}, 2517 AK Den Haag",
    ],
    "pl": [
        "ul. Marszałkowska {n}, 00-624 Warszawa",
        "ul. Długa {n}/4, 31-147 Kraków",
        "al. Grunwaldzka {n}, 80-236 Gdańsk",
    ],
    "pt": [
        "Rua Augusta {n}, 1100-053 Lisboa",
        "Avenida da Boavista {n}, 4100-119 Porto",
        "Rua de Santa Catarina {n}, 3.º Esq., 4000-447 Porto",
    ],
}
_NAMES = [
    "Maria Kowalski", "Jean-Pierre Dubois", "Anna Schmidt", "Lucas van der Berg", "Giulia Romano", "Carlos Fernández",
    "João Silva", "Sophie Martin", "Thomas Müller", "Katarzyna Nowak", "Emily Johnson", "Pieter de Vries",
    "Francesca Bianchi", "Ana Pereira", "Michael O'Brien", "Isabel García",
]  # fmt: skip


def _value(kind: str, lang: str, rng: random.Random) -> str:
    generators: dict[str, Callable[[], str]] = {
        "SECRET": lambda: _secret(rng),
        "PASSPORT": lambda: _passport(rng),
        "ADDRESS": lambda: rng.choice(_STREETS["us" if lang == "us" else lang]).format(n=rng.randint(2, 480)),
        "PERSON": lambda: rng.choice(_NAMES),
        "EMAIL": lambda: (
            f"{rng.choice(['anna', 'j.dubois', 'm.rossi', 'kowalski', 'pvdb'])}{rng.randint(1, 99)}@"
            f"{rng.choice(['example.com', 'firma.de', 'societe.fr', 'empresa.es'])}"
        ),
        "PHONE": lambda: (
            rng.choice(["+49 30 ", "+33 1 ", "+34 91 ", "+39 06 ", "+31 20 ", "+48 22 ", "+351 21 ", "+1 415 "])
            + f"{rng.randint(100, 999)} {rng.randint(1000, 9999)}"
        ),
        "IBAN": lambda: _iban(rng),
        "CREDIT_CARD": lambda: _luhn_complete(rng.choice(["4", "51", "55", "37"]) + _pick(rng, string.digits, 13)),
        "US_SSN": lambda: f"{rng.randint(101, 665)}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}",
        "IP_ADDRESS": lambda: (
            f"{rng.randint(11, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        ),
        "LOOKALIKE": lambda: rng.choice(
            [
                f"ORD-{rng.randint(100000, 999999)}",
                f"INC{rng.randint(1000000, 9999999)}",
                f"#{rng.randint(10000, 99999)}",
                _pick(rng, "0123456789abcdef", 40),
                f"v{rng.randint(1, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 99)}",
                f"{_pick(rng, _HEXDIGITS, 8)}-{_pick(rng, _HEXDIGITS, 4)}-4{_pick(rng, _HEXDIGITS, 3)}"
                f"-a{_pick(rng, _HEXDIGITS, 3)}-{_pick(rng, _HEXDIGITS, 12)}",
                f"JIRA-{rng.randint(100, 9999)}",
                f"sha256:{_pick(rng, '0123456789abcdef', 64)}",
                f"PO {rng.randint(4500000000, 4599999999)}",
            ]
        ),
    }
    return generators[kind]()


# (template id, language, sentence with {SLOT} markers). LOOKALIKE slots are never labelled.
TEMPLATES: tuple[tuple[str, str, str], ...] = (
    (
        "sec-aws-pair",
        "en",
        "Here are the CI credentials: access key {SECRET} and secret {SECRET}, please check why the deploy fails.",
    ),
    ("sec-token-header", "en", "Our webhook returns 401 even with Authorization: Bearer {SECRET} in the request."),
    ("sec-paste-config", "en", "I pasted this from my .env, is it right? API_TOKEN={SECRET}"),
    ("sec-de", "de", "Der Build bricht ab, obwohl der Token {SECRET} gesetzt ist."),
    ("sec-fr", "fr", "Voici la clé que le fournisseur m'a envoyée : {SECRET}, elle ne marche pas."),
    ("sec-es", "es", "¿Por qué falla la integración? Uso esta clave: {SECRET}"),
    ("sec-it", "it", "Ho incollato la chiave {SECRET} nel file di configurazione ma il servizio risponde 403."),
    ("sec-nl", "nl", "Kun je kijken waarom {SECRET} niet werkt als sleutel voor de API?"),
    ("sec-pl", "pl", "Klucz {SECRET} przestał działać po rotacji, co robić?"),
    ("sec-pt", "pt", "O token {SECRET} foi exposto num e-mail, como o revogo?"),
    ("sec-key-file", "en", "The deploy key in the repo settings is:\n{SECRET}\nShould I rotate it?"),
    ("sec-slack", "en", "Slack says invalid_auth for {SECRET} since this morning."),
    ("pass-en", "en", "My passport number is {PASSPORT} and it expires in June, can I still book the trip?"),
    ("pass-de", "de", "Meine Reisepassnummer lautet {PASSPORT}, bitte für die Visumsanfrage eintragen."),
    ("pass-fr", "fr", "Numéro de passeport : {PASSPORT}, à ajouter au dossier de voyage."),
    ("pass-es", "es", "Para el viaje a Chicago: pasaporte {PASSPORT}, caduca en 2029."),
    ("pass-it", "it", "Il mio numero di passaporto è {PASSPORT}, serve per la trasferta."),
    ("pass-nl", "nl", "Paspoortnummer {PASSPORT} graag opnemen in de reisaanvraag."),
    ("pass-pl", "pl", "Numer paszportu: {PASSPORT}, proszę dodać do wniosku o delegację."),
    ("pass-pt", "pt", "O meu passaporte é o {PASSPORT}, é preciso para a viagem."),
    ("addr-us-ship", "us", "Please ship the replacement laptop to {ADDRESS}."),
    ("addr-us-moved", "us", "I moved last month, my new home address is {ADDRESS}."),
    ("addr-en", "en", "Send the contract to {ADDRESS} by Friday."),
    ("addr-de", "de", "Meine neue Anschrift ist {ADDRESS}, bitte im HR-System ändern."),
    ("addr-de-ship", "de", "Bitte liefert den Monitor an {ADDRESS}."),
    ("addr-fr", "fr", "Ma nouvelle adresse est {ADDRESS}, merci de mettre à jour mon dossier."),
    ("addr-es", "es", "Enviad el portátil a {ADDRESS}, por favor."),
    ("addr-it", "it", "Il mio indirizzo di residenza è {ADDRESS}."),
    ("addr-nl", "nl", "Stuur de nieuwe pas naar {ADDRESS}."),
    ("addr-pl", "pl", "Proszę wysłać dokumenty na adres {ADDRESS}."),
    ("addr-pt", "pt", "A minha morada nova é {ADDRESS}, atualizem por favor."),
    ("addr-fr-ship", "fr", "Livrez le colis au {ADDRESS} avant midi."),
    ("name-en", "en", "Can you check whether {PERSON} has approved my leave request?"),
    ("name-en-2", "en", "I spoke with {PERSON} from payroll yesterday about my bonus."),
    ("name-en-3", "en", "Please add {PERSON} as a reviewer on the Q3 budget."),
    ("name-de", "de", "Bitte leite das an {PERSON} aus der Buchhaltung weiter."),
    ("name-fr", "fr", "J'ai rendez-vous avec {PERSON} demain pour mon entretien annuel."),
    ("name-es", "es", "¿Puedes avisar a {PERSON} de que la reunión se retrasa?"),
    ("name-en-4", "en", "My manager {PERSON} asked me to send the report."),
    ("name-en-5", "en", "Is {PERSON} on holiday this week?"),
    ("struct-email", "en", "Reach me at {EMAIL} or call {PHONE} after 3pm."),
    ("struct-iban", "en", "Please pay the refund to IBAN {IBAN}."),
    ("struct-iban-de", "de", "Bitte überweist die Erstattung auf {IBAN}."),
    ("struct-card", "en", "My card {CREDIT_CARD} was charged twice for order ORD-88120."),
    ("struct-ssn", "en", "For the W-4 form my SSN is {US_SSN}."),
    ("struct-ip", "en", "My laptop at {IP_ADDRESS} cannot reach the file server."),
    ("struct-fr", "fr", "Écrivez-moi à {EMAIL}, mon numéro est le {PHONE}."),
    ("struct-es", "es", "Mi IBAN es {IBAN} y mi correo {EMAIL}."),
    ("struct-pl", "pl", "Mój telefon to {PHONE}, a e-mail {EMAIL}."),
    ("look-order", "en", "Where is my order {LOOKALIKE}? It was due yesterday."),
    ("look-ticket", "en", "Ticket {LOOKALIKE} is still open, can someone look at it?"),
    ("look-version", "en", "After upgrading to {LOOKALIKE} the client crashes on start."),
    ("look-commit", "en", "The regression came in with commit {LOOKALIKE}, can we revert it?"),
    ("look-de", "de", "Die Bestellung {LOOKALIKE} ist noch nicht angekommen."),
    ("look-fr", "fr", "Le ticket {LOOKALIKE} est toujours ouvert."),
    ("look-es", "es", "El pedido {LOOKALIKE} no ha llegado todavía."),
    ("look-it", "it", "Il ticket {LOOKALIKE} è ancora aperto, potete controllare?"),
    ("look-nl", "nl", "Bestelling {LOOKALIKE} is nog steeds niet geleverd."),
    ("look-pl", "pl", "Zgłoszenie {LOOKALIKE} nadal jest otwarte."),
    ("look-pt", "pt", "A encomenda {LOOKALIKE} ainda não chegou."),
    ("look-hash", "en", "The file checksum is {LOOKALIKE}, does it match the release?"),
)


# --- development-side breadth cases (issue 17, second round) ---------------------------------------------
# Written after the split was frozen, to check breadth while building detectors; never part of the test split
# (choose_test_templates reads TEMPLATES only, so the frozen split and its sha256 cannot move). The values are
# synthetic shapes of real credentials, national phone formats, street addresses and look-alikes.
_KINDS = frozenset(("SECRET", "PASSPORT", "ADDRESS", "PERSON", "EMAIL", "PHONE", "IBAN", "CREDIT_CARD", "US_SSN",
                    "IP_ADDRESS", "LOOKALIKE"))  # fmt: skip
# Slot kind -> labelled type; LOOK slots are look-alikes and carry no label.
DEV_LABELS = {"KEY": "SECRET", "PASSWORD": "SECRET", "STREET": "ADDRESS", "DOC": "PASSPORT", "TEL": "PHONE",
              "NAME": "PERSON", "LOOK": "LOOK"}  # fmt: skip
_UNLABELLED = frozenset(("LOOKALIKE", "LOOK"))
DEV_FILE_BREADTH = DATA_DIR / "dev_breadth.jsonl"


def _dev_key(rng: random.Random) -> str:
    shapes: list[Callable[[], str]] = [
        lambda: rng.choice(["AKIA", "ASIA"]) + _pick(rng, _UP + "234567", 16),
        lambda: _pick(rng, _B64, 40),
        lambda: "ghp_" + _pick(rng, _ALNUM, 36),
        lambda: "github_pat_11" + _pick(rng, _UP + string.digits, 20) + "_" + _pick(rng, _ALNUM, 59),
        lambda: "gho_" + _pick(rng, _ALNUM, 36),
        lambda: "glpat-" + _pick(rng, _ALNUM + "-_", 20),
        lambda: "xoxp-" + "-".join(_pick(rng, string.digits, 11) for _ in range(3)) + "-" + _pick(rng, _HEXDIGITS, 32),
        lambda: "sk_live_" + _pick(rng, _ALNUM, 99),
        lambda: "rk_live_" + _pick(rng, _ALNUM, 24),
        lambda: "AIza" + _pick(rng, _ALNUM + "-_", 35),
        lambda: "sk-proj-" + _pick(rng, _ALNUM + "-_", 56),
        lambda: "sk-" + _pick(rng, _ALNUM, 48),
        lambda: "sk-ant-api03-" + _pick(rng, _ALNUM + "-_", 93) + "AA",
        lambda: "SG." + _pick(rng, _ALNUM + "-_", 22) + "." + _pick(rng, _ALNUM + "-_", 43),
        lambda: "npm_" + _pick(rng, _ALNUM, 36),
        lambda: "eyJhbGciOiJSUzI1NiJ9.eyJ" + _pick(rng, _ALNUM, 60) + "." + _pick(rng, _ALNUM + "-_", 86),
        lambda: (
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA"
            + "\n".join(_pick(rng, _B64, 70) for _ in range(3))
            + "\n-----END OPENSSH PRIVATE KEY-----"
        ),
        lambda: "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEI" + _pick(rng, _B64, 60) + "\n-----END EC PRIVATE KEY-----",
        lambda: _pick(rng, _HEXDIGITS, 40),
        lambda: _pick(rng, _ALNUM, 32),
    ]
    return rng.choice(shapes)()


def _dev_password(rng: random.Random) -> str:
    word = rng.choice(["Summer", "Winter", "Tulip", "Falcon", "Orange", "Quartz", "Lisboa", "Kraków"])
    return rng.choice(
        [
            lambda: f"{word}{rng.randint(2019, 2026)}{rng.choice('!?#$')}",
            lambda: _pick(rng, _ALNUM, rng.randint(12, 24)),
            lambda: _pick(rng, _ALNUM + "!#%^*", 16),
            lambda: f"{word.lower()}-{_pick(rng, string.digits, 4)}-{_pick(rng, string.ascii_lowercase, 5)}",
        ]
    )()


_DEV_STREETS = {
    "us": ["{n} Pennsylvania Ave NW, Washington, DC 20500", "{n} Fifth Avenue", "{n} Elm St., Apt. 3",
           "{n} N Michigan Ave, Chicago, IL 60611", "{n} Mission Street, Suite 300, San Francisco, CA 94105"],
    "en": ["Flat 2, {n} High Street, Oxford OX1 4AA", "{n} Downing Street", "{n} Deansgate, Manchester M3 4LQ",
           "{n} Victoria Road"],
    "de": ["Friedrichstraße {n}", "Schillerstr. {n}, 60313 Frankfurt am Main", "Am Hang {n}, 01067 Dresden",
           "Bahnhofstraße {n}a"],
    "fr": ["{n}, rue des Lilas", "{n} place Bellecour, 69002 Lyon", "{n} avenue des Champs-Élysées",
           "{n} bis rue Nationale, 59000 Lille"],
    "es": ["C/ Mayor {n}, 2º B", "Plaza de España {n}", "Paseo de la Castellana {n}, 28046 Madrid",
           "Calle Sierpes {n}"],
    "it": ["Via Garibaldi {n}", "Viale Monza {n}, 20125 Milano", "Corso Vittorio Emanuele II {n}",
           "Via dei Mille {n}, 80121 Napoli"],
    "nl": ["Prinsengracht {n}", "Damrak {n}, 1012 LG Amsterdam", "Kerkstraat {n}a", "Coolsingel {n}, Rotterdam"],
    "pl": ["ul. Piotrkowska {n}", "ul. Floriańska {n} m. 5, 31-019 Kraków", "al. Jerozolimskie {n}",
           "ul. Świętojańska {n}/2"],
    "pt": ["Rua do Ouro {n}", "Av. da Liberdade {n}, 1269-046 Lisboa", "Travessa do Carmo {n}",
           "Rua de Cedofeita {n}, 4050-180 Porto"],
}  # fmt: skip
# National formats as people write them (area or mobile prefix, then random digits).
_DEV_PHONES = {
    "us": ["({a}) {b}-{c}", "{a}-{b}-{c}", "{a}.{b}.{c}", "+1 {a} {b} {c}"],
    "en": ["020 {b4} {c}", "07700 {b}{c3}", "+44 20 {b4} {c}", "0161 {b} {c}"],
    "fr": ["06 {p} {p} {p} {p}", "01 {p} {p} {p} {p}", "+33 6 {p} {p} {p} {p}", "07.{p}.{p}.{p}.{p}"],
    "de": ["030 {b}{c}", "0171 {b}{c}", "+49 (0)89 {b} {c}", "+49 151 {b}{c}"],
    "es": ["6{p} {b} {b}", "91 {b} {p} {p}", "+34 6{p} {b} {b}"],
    "it": ["06 {c} {c}", "3{p} {b} {c}", "+39 02 {c} {c}"],
    "nl": ["020 {b} {c}", "06 {c}{c}", "+31 6 {c}{c}", "010-{b} {c}"],
    "pl": ["22 {b} {p} {p}", "5{p} {b} {b}", "+48 6{p} {b} {b}"],
    "pt": ["21 {b} {c}", "9{p} {b} {b}", "+351 9{p} {b} {b}"],
}


def _dev_phone(lang: str, rng: random.Random) -> str:
    parts: dict[str, Callable[[], str]] = {
        "a": lambda: rng.choice(["212", "415", "617", "303", "646", "312"]),
        "b": lambda: str(rng.randint(200, 999)),
        "b4": lambda: str(rng.randint(3000, 8999)),
        "c": lambda: str(rng.randint(1000, 9999)),
        "c3": lambda: str(rng.randint(100, 999)),
        "p": lambda: str(rng.randint(10, 99)),
    }
    # Each placeholder draws its own digits ("06 12 48 90 33", not "06 12 12 12 12").
    return re.sub(r"\{(\w+)\}", lambda m: parts[m.group(1)](), rng.choice(_DEV_PHONES[lang]))


def _dev_document(rng: random.Random) -> str:
    return rng.choice(
        [
            lambda: _pick(rng, "CFGHJKLMNPRTVWXYZ", 1) + _pick(rng, "CFGHJKLMNPRTVWXYZ0123456789", 8),
            lambda: _pick(rng, string.digits, 2) + _pick(rng, _UP, 2) + _pick(rng, string.digits, 5),
            lambda: _pick(rng, _UP, 1) + _pick(rng, string.digits, 8),
            lambda: _pick(rng, _UP, 2) + _pick(rng, string.digits, 7),
            lambda: _pick(rng, _UP, 3) + _pick(rng, string.digits, 6),
        ]
    )()


def _dev_lookalike(rng: random.Random) -> str:
    return rng.choice(
        [
            lambda: f"INV-{rng.randint(2019, 2026)}-{rng.randint(10, 99999):05d}",
            lambda: f"1Z{_pick(rng, _UP + string.digits, 6)}{_pick(rng, string.digits, 10)}",
            lambda: f"{_pick(rng, _UP, 2)}{_pick(rng, string.digits, 9)}{rng.choice(['DE', 'FR', 'PL', 'PT', 'NL'])}",
            lambda: f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(2019, 2026)}",
            lambda: f"{rng.randint(1, 28)}.{rng.randint(1, 12)}.{rng.randint(2019, 2026)}",
            lambda: f"€{rng.randint(1, 99)}.{rng.randint(100, 999)},{rng.randint(10, 99)}",
            lambda: f"${rng.randint(1, 999)},{rng.randint(100, 999)}.{rng.randint(10, 99)}",
            lambda: f"{rng.randint(1, 9)} {rng.randint(100, 999)} {rng.randint(100, 999)},{rng.randint(10, 99)} zł",
            lambda: f"10.0.{rng.randint(10000, 22631)}.{rng.randint(1000, 4999)}",
            lambda: _pick(rng, _HEXDIGITS, 7),
            lambda: _pick(rng, _HEXDIGITS, 32),
            lambda: f"CHG{rng.randint(1000000, 9999999)}",
            lambda: f"SR-{rng.randint(100000, 999999)}",
            lambda: f"{rng.randint(4500000000, 4599999999)}",
            lambda: f"978-{rng.randint(0, 9)}-{rng.randint(10, 99)}-{rng.randint(100000, 999999)}-{rng.randint(0, 9)}",
            lambda: f"api-{_pick(rng, _HEXDIGITS, 9)}-{_pick(rng, string.ascii_lowercase + string.digits, 5)}",
            lambda: f"{_pick(rng, string.digits, 4)} {_pick(rng, string.digits, 4)} {_pick(rng, string.digits, 4)}",
        ]
    )()


_DEV_NAMES = [
    "Aisha Mensah", "Björn Lindqvist", "Chen Wei", "Dorota Wiśniewska", "Émile Laurent", "Farah Haddad",
    "Greta Hoffmann", "Hugo Costa", "Inès Moreau", "Jan de Jong", "Kofi Boateng", "Lorenzo Ricci", "Marta Ruiz",
    "Nuno Ferreira", "Olga Zielińska", "Priya Raman", "Quentin Roux", "Rafael Ortega", "Sanne Bakker",
]  # fmt: skip


def _dev_value(kind: str, lang: str, rng: random.Random) -> str:
    if kind == "KEY":
        return _dev_key(rng)
    if kind == "PASSWORD":
        return _dev_password(rng)
    if kind == "STREET":
        return rng.choice(_DEV_STREETS[lang]).format(n=rng.randint(1, 250))
    if kind == "TEL":
        return _dev_phone(lang, rng)
    if kind == "DOC":
        return _dev_document(rng)
    if kind == "NAME":
        return rng.choice(_DEV_NAMES)
    if kind == "LOOK":
        return _dev_lookalike(rng)
    raise ConfigurationError(f"unknown slot kind {kind!r} in a PII template")


DEV_TEMPLATES: tuple[tuple[str, str, str], ...] = (
    # Keys and tokens, with and without a label, in running text, config and code.
    ("dev-key-bare", "en", "This stopped working after the rotation: {KEY} - any idea why?"),
    ("dev-key-env", "en", "export AWS_SECRET_ACCESS_KEY={KEY}\nexport AWS_DEFAULT_REGION=eu-west-1"),
    ("dev-key-yaml", "en", "config.yaml has\n  api_key: {KEY}\n  timeout: 30\nbut the client still gets 401."),
    ("dev-key-json", "en", 'The payload had "user": "svc-build", "token": "{KEY}" and it was rejected.'),
    ("dev-key-curl", "en", "curl -H 'Authorization: Bearer {KEY}' https://api.internal/v2/reports"),
    ("dev-key-url", "en", "The webhook is https://hooks.example.net/notify?token={KEY}&channel=ops"),
    ("dev-key-de", "de", "Kannst du prüfen, ob dieser Schlüssel noch gültig ist? {KEY}"),
    ("dev-key-fr", "fr", "Le jeton d'accès {KEY} a fuité dans un ticket, que faire ?"),
    ("dev-key-es", "es", "He puesto la API key {KEY} en el repositorio por error."),
    ("dev-key-it", "it", "Il token {KEY} risulta scaduto, come lo rinnovo?"),
    ("dev-key-nl", "nl", "Deze token werkt niet meer: {KEY}"),
    ("dev-key-pl", "pl", "Czy ten token jest jeszcze ważny? {KEY}"),
    ("dev-key-pt", "pt", "Encontrei esta chave num log: {KEY}"),
    ("dev-pass-label", "en", "My new password is {PASSWORD} but the portal keeps rejecting it."),
    ("dev-pass-conn", "en", "The job fails with postgres://report_user:{PASSWORD}@db.internal:5432/sales"),
    ("dev-pass-mongo", "en", "MONGO_URL=mongodb+srv://app:{PASSWORD}@cluster0.abcde.mongodb.net/prod"),
    ("dev-pass-de", "de", "Mein Passwort lautet {PASSWORD}, kannst du es zurücksetzen?"),
    ("dev-pass-fr", "fr", "Mot de passe : {PASSWORD} (ne le partage pas)"),
    ("dev-pass-es", "es", "La contraseña del wifi de invitados es {PASSWORD}"),
    ("dev-pass-pt", "pt", "A senha do servidor é {PASSWORD}, mudem-na depois."),
    # Street addresses inside running text, with and without postcode.
    ("dev-street-us", "us", "Can you send a courier to {STREET} tomorrow morning?"),
    ("dev-street-en", "en", "We are moving the team to {STREET} next month."),
    ("dev-street-de", "de", "Das Paket liegt noch bei {STREET}, bitte abholen lassen."),
    ("dev-street-fr", "fr", "Le colis est arrivé au {STREET} hier soir."),
    ("dev-street-es", "es", "Vivo en {STREET} desde marzo, actualizad mi ficha."),
    ("dev-street-it", "it", "Abito in {STREET} e vorrei aggiornare l'indirizzo."),
    ("dev-street-nl", "nl", "Mijn nieuwe adres is {STREET} vanaf volgende week."),
    ("dev-street-pl", "pl", "Mieszkam teraz przy {STREET}, proszę o zmianę danych."),
    ("dev-street-pt", "pt", "Mudei-me para {STREET} no mês passado."),
    # Passports and travel documents, with a passport word, with another document word, or bare.
    ("dev-doc-en", "en", "Booking for the Lisbon trip, travel document {DOC}, expires 2031."),
    ("dev-doc-de", "de", "Ausweisdokument für die Reise: {DOC}"),
    ("dev-doc-fr", "fr", "Pour le visa, mon passeport porte le numéro {DOC}."),
    ("dev-doc-es", "es", "Número de documento de viaje {DOC}, válido hasta 2030."),
    ("dev-doc-it", "it", "Per il check-in serve il documento n. {DOC}."),
    ("dev-doc-nl", "nl", "Mijn paspoort ({DOC}) verloopt in mei."),
    ("dev-doc-pl", "pl", "Seria i numer paszportu {DOC}, ważny do 2029."),
    ("dev-doc-pt", "pt", "Documento de identificação {DOC} para o voo."),
    # Phones in national formats.
    ("dev-tel-us", "us", "You can reach me on {TEL} until 6pm."),
    ("dev-tel-en", "en", "Ring me on {TEL} if the courier is late."),
    ("dev-tel-fr", "fr", "Rappelez-moi au {TEL} s'il vous plaît."),
    ("dev-tel-de", "de", "Meine Handynummer ist {TEL}."),
    ("dev-tel-es", "es", "Llámame al {TEL} cuando llegues."),
    ("dev-tel-it", "it", "Il mio cellulare è {TEL}."),
    ("dev-tel-nl", "nl", "Bel me even op {TEL}."),
    ("dev-tel-pl", "pl", "Proszę dzwonić pod {TEL}."),
    ("dev-tel-pt", "pt", "Liga-me para o {TEL} amanhã."),
    ("dev-tel-bare", "en", "{TEL} is the number for the night shift."),
    # Names beside capitalised words that are not names (products, teams, places, days, months).
    ("dev-name-product", "en", "{NAME} shared the Q3 deck in Microsoft Teams on Monday."),
    ("dev-name-place", "en", "Before the Berlin offsite, {NAME} will send the agenda."),
    ("dev-name-dept", "en", "Human Resources told {NAME} that the Payroll Service runs on Friday."),
    ("dev-name-de", "de", "Frau {NAME} aus dem Vertrieb ist bis Dienstag im Urlaub."),
    ("dev-name-fr", "fr", "Merci de mettre {NAME} en copie du compte rendu de la Direction Financière."),
    ("dev-name-it", "it", "Ho parlato con {NAME} dell'Ufficio Acquisti."),
    ("dev-name-nl", "nl", "Kun je {NAME} vragen of de Teams-vergadering doorgaat?"),
    ("dev-name-pl", "pl", "Pani {NAME} z działu kadr prosi o podpis."),
    ("dev-name-pt", "pt", "A {NAME} vai substituir-me na reunião de quinta-feira."),
    # Look-alikes that must stay unmasked, and capitalised text without any person in it.
    ("dev-look-invoice", "en", "Invoice {LOOK} was paid twice, can Accounts Payable check?"),
    ("dev-look-track", "en", "Tracking says {LOOK} left the Rotterdam hub on Tuesday."),
    ("dev-look-de", "de", "Rechnung {LOOK} ist noch offen, Fälligkeit war letzte Woche."),
    ("dev-look-fr", "fr", "La référence {LOOK} ne correspond à aucune commande."),
    ("dev-look-es", "es", "El importe {LOOK} no coincide con el pedido."),
    ("dev-look-it", "it", "Il codice {LOOK} compare nel registro degli errori."),
    ("dev-look-pl", "pl", "Numer {LOOK} nie pasuje do żadnej faktury."),
    ("dev-look-pt", "pt", "O valor {LOOK} foi cobrado em duplicado."),
    ("dev-look-nl", "nl", "Referentie {LOOK} staat nog open bij Inkoop."),
    ("dev-look-product", "en", "Does Google Drive sync with SharePoint Online? Build {LOOK} broke it."),
    ("dev-look-month", "en", "From March to June the Amsterdam Service Desk moves to ticket queue {LOOK}."),
)
assert not {t for t, _, _ in DEV_TEMPLATES} & {t for t, _, _ in TEMPLATES}, "dev template ids must be new"


# Third round: an adversarial development set of look-alikes that support and IT traffic is full of. Every row is
# unlabelled (`lookalike: true`): nothing in it may be masked. Written after the independent holdout was scored
# once, without reading it; the shapes are those of the list (versions, SKUs, references, dates, amounts,
# account references, hashes, capitalised products, teams, companies, offices, weekdays, greetings).
DEV_FILE_LOOKALIKES = DATA_DIR / "dev_lookalikes.jsonl"
LOOKALIKE_ROWS = 8


def _d(rng: random.Random, n: int) -> str:
    return _pick(rng, string.digits, n)


def _look_version(rng: random.Random) -> str:
    a, b, c, d = rng.randint(1, 24), rng.randint(0, 20), rng.randint(0, 9), rng.randint(0, 250)
    return rng.choice(
        [
            lambda: f"{a}.{b}.{c}.{d}",
            lambda: f"{rng.randint(1, 4)}.0.0.{rng.randint(1, 9)}",
            lambda: f"10.0.{rng.randint(10000, 26100)}.{rng.randint(1, 5000)}",
            lambda: f"v{a}.{b}.{c}",
            lambda: f"{a}.{b}.{c}-rc{rng.randint(1, 5)}",
            lambda: f"{a}.{b}.{c}.{d} ({_pick(rng, _UP, 1)}{rng.randint(10, 99)}{_pick(rng, _UP, 1)}{_d(rng, 3)})",
            lambda: f"{rng.randint(19, 24)}H{rng.randint(1, 2)}",
            lambda: f"{rng.randint(2019, 2026)}.{rng.randint(1, 12):02d}.{rng.randint(1, 28):02d}.{rng.randint(1, 9)}",
            lambda: f"{rng.randint(100, 250)}.{rng.randint(0, 9)}.{rng.randint(1000, 9999)}.{rng.randint(10, 199)}",
        ]
    )()


def _look_sku(rng: random.Random) -> str:
    return rng.choice(
        [
            lambda: f"{_d(rng, 3)}-{_d(rng, 2)}-{_d(rng, 4)}",
            lambda: f"{_d(rng, 3)}-{_d(rng, 3)}-{_d(rng, 4)}",
            lambda: f"{_d(rng, 3)} {_d(rng, 3)} {_d(rng, 4)}",
            lambda: f"{_pick(rng, _UP, 2)}-{_d(rng, 4)}-{_d(rng, 3)}",
            lambda: f"{_pick(rng, _UP, 3)}{_d(rng, 2)}{_pick(rng, _UP, 2)}/A",
            lambda: f"{_d(rng, 2)}.{_d(rng, 3)}.{_d(rng, 3)}.{_d(rng, 2)}",
            lambda: f"{_d(rng, 4)}-{_d(rng, 4)}-{_d(rng, 2)}",
            lambda: f"0{_d(rng, 2)} {_d(rng, 3)} {_d(rng, 3)}",
        ]
    )()


def _look_reference(rng: random.Random) -> str:
    return rng.choice(
        [
            lambda: f"#{_d(rng, 7)}",
            lambda: f"INC{_d(rng, 7)}",
            lambda: f"CS-{rng.randint(2019, 2026)}-{_d(rng, 6)}",
            lambda: f"{_d(rng, 3)}-{_d(rng, 3)}-{_d(rng, 4)}",
            lambda: f"{_d(rng, 2)} {_d(rng, 2)} {_d(rng, 2)} {_d(rng, 2)} {_d(rng, 2)}",
            lambda: f"0{_d(rng, 3)} {_d(rng, 3)} {_d(rng, 3)}",
            lambda: f"{_d(rng, 4)} {_d(rng, 3)} {_d(rng, 3)}",
            lambda: f"{_d(rng, 4)}/{_d(rng, 5)}",
            lambda: f"{_d(rng, 3)}.{_d(rng, 3)}.{_d(rng, 4)}",
            lambda: f"1Z{_pick(rng, _UP + string.digits, 6)}{_d(rng, 10)}",
            lambda: f"JJD{_d(rng, 16)}",
            lambda: f"{_d(rng, 10)}",
            lambda: f"{_d(rng, 4)}-{_d(rng, 4)}-{_d(rng, 4)}",
            lambda: f"+{_d(rng, 6)}",
            lambda: f"{_pick(rng, _UP, 3)}-{_d(rng, 3)} {_d(rng, 3)} {_d(rng, 3)}",
        ]
    )()


_MONTHS = {
    "en": "January March June September", "de": "Januar März Juni September", "fr": "janvier mars juin septembre",
    "es": "enero marzo junio septiembre", "it": "gennaio marzo giugno settembre", "nl": "januari maart juni september",
    "pl": "stycznia marca czerwca września", "pt": "janeiro março junho setembro",
}  # fmt: skip


def _look_when(lang: str, rng: random.Random) -> str:
    y, m, d, h, mi = (
        rng.randint(2019, 2027),
        rng.randint(1, 12),
        rng.randint(1, 28),
        rng.randint(0, 23),
        rng.randint(0, 59),
    )
    month = rng.choice(_MONTHS.get(lang, _MONTHS["en"]).split())
    return rng.choice(
        [
            lambda: f"{y}-{m:02d}-{d:02d} {h:02d}:{mi:02d}:{rng.randint(0, 59):02d}",
            lambda: f"{y}-{m:02d}-{d:02d}T{h:02d}:{mi:02d}:{rng.randint(0, 59):02d}Z",
            lambda: f"{d:02d}.{m:02d}.{y} {h:02d}:{mi:02d}",
            lambda: f"{d:02d}/{m:02d}/{y % 100:02d}",
            lambda: f"{d} {month} {y}",
            lambda: f"{h}h{mi:02d}",
            lambda: f"{y}{m:02d}{d:02d}",
            lambda: f"{rng.randint(1600000000, 1799999999)}",
            lambda: f"{d:02d}-{m:02d}-{y} {h:02d}.{mi:02d}",
            lambda: f"Q{rng.randint(1, 4)} {y}",
            lambda: f"{y}-{m:02d}-{d:02d} {h:02d}:{mi:02d} - {(h + 1) % 24:02d}:{mi:02d}",
        ]
    )()


def _look_money(rng: random.Random) -> str:
    a, c = rng.randint(1, 999), rng.randint(0, 99)
    return rng.choice(
        [
            lambda: f"€ {a}.{_d(rng, 3)},{c:02d}",
            lambda: f"${a},{_d(rng, 3)},{_d(rng, 3)}.{c:02d}",
            lambda: f"{a} {_d(rng, 3)} {_d(rng, 3)},{c:02d} zł",
            lambda: f"{a} {_d(rng, 3)} {_d(rng, 3)} EUR",
            lambda: f"CHF {a}'{_d(rng, 3)}.{c:02d}",
            lambda: f"{rng.randint(1, 99)},{rng.randint(0, 9)}%",
            lambda: f"{a}.{_d(rng, 3)}.{_d(rng, 3)} €",
            lambda: f"R$ {a}.{_d(rng, 3)},{c:02d}",
            lambda: f"GBP {a},{_d(rng, 3)}.{c:02d}",
        ]
    )()


def _look_account(rng: random.Random) -> str:
    return rng.choice(
        [
            lambda: (
                f"{_pick(rng, _UP, 2)}{_d(rng, 2)} {_d(rng, 4)} {_d(rng, 4)} {_d(rng, 4)} {_d(rng, 4)} {_d(rng, 2)}"
            ),
            lambda: f"ACC-{_d(rng, 8)}",
            lambda: f"{_d(rng, 4)}-{_d(rng, 3)}-{_d(rng, 3)}",
            lambda: f"KD-{_d(rng, 3)} {_d(rng, 3)} {_d(rng, 3)}",
            lambda: f"{_d(rng, 2)}-{_d(rng, 4)}-{_d(rng, 4)}-{_d(rng, 2)}",
            lambda: f"{_pick(rng, _UP, 4)}{_pick(rng, _UP, 2)}{_pick(rng, _UP + string.digits, 2)}",
            lambda: f"{_d(rng, 6)}/{_d(rng, 4)}",
        ]
    )()


def _look_hash(rng: random.Random) -> str:
    lower = string.ascii_lowercase + string.digits
    return rng.choice(
        [
            lambda: _pick(rng, _HEXDIGITS, 40),
            lambda: _pick(rng, _HEXDIGITS, 64),
            lambda: f"sha256:{_pick(rng, _HEXDIGITS, 64)}",
            lambda: "-".join(_pick(rng, _HEXDIGITS, n) for n in (8, 4, 4, 4, 12)),
            lambda: _pick(rng, _HEXDIGITS, 12),
            lambda: _pick(rng, _HEXDIGITS, 32),
            lambda: f"0x{_pick(rng, _HEXDIGITS, 8)}",
            lambda: f"i-{_pick(rng, _HEXDIGITS, 17)}",
            lambda: f"web-{_pick(rng, lower, 10)}-{_pick(rng, lower, 5)}",
        ]
    )()


_PRODUCTS = (
    "Project Falcon", "Teams", "Jira", "Confluence", "SharePoint Online", "Power BI", "Salesforce", "Workday",
    "ServiceNow", "Azure DevOps", "Google Workspace", "Outlook", "Slack", "Zoom Rooms", "Okta Verify",
    "Adobe Acrobat", "Tableau", "Single Sign-On", "Dark Mode", "Smart Compose", "Customer Portal", "Project Atlas",
    "Operation Bluebird", "Phoenix", "Kubernetes", "GitHub Actions", "Windows Hello", "Copilot",
)  # fmt: skip
_ORGS = (
    "Acme Logistics", "Northwind Traders", "Contoso", "Fabrikam", "Globex", "Initech", "Umbrella Retail",
    "Platform Team", "Blue Team", "Service Desk", "Finance Ops", "Legal", "Facilities", "Payroll",
    "People & Culture", "Accounts Payable", "Helpdesk", "IT Operations", "Procurement", "Marketing Cloud",
)  # fmt: skip
_OFFICES = (
    "Berlin", "Lisbon", "Madrid", "Warsaw", "Milan", "Rotterdam", "Lyon", "Dublin", "London", "Paris", "Kraków",
    "Porto", "Munich", "Amsterdam", "Barcelona", "Turin", "Chicago", "Austin",
)  # fmt: skip
_DAYS = {
    "en": "Monday Tuesday Friday", "de": "Montag Dienstag Freitag", "fr": "Lundi Mardi Vendredi",
    "es": "Lunes Martes Viernes", "it": "Lunedì Martedì Venerdì", "nl": "Maandag Dinsdag Vrijdag",
    "pl": "Poniedziałek Wtorek Piątek", "pt": "Segunda Terça Sexta",
}  # fmt: skip


def _look_value(kind: str, lang: str, rng: random.Random) -> str:
    simple: dict[str, Callable[[random.Random], str]] = {
        "VER": _look_version, "SKU": _look_sku, "REF": _look_reference, "MONEY": _look_money,
        "ACCT": _look_account, "HASH": _look_hash,
    }  # fmt: skip
    if kind in simple:
        return simple[kind](rng)
    if kind == "WHEN":
        return _look_when(lang, rng)
    if kind == "PROD":
        return rng.choice(_PRODUCTS)
    if kind == "ORG":
        return rng.choice(_ORGS)
    if kind == "CITY":
        return rng.choice(_OFFICES)
    if kind == "DAY":
        return rng.choice(_DAYS[lang].split())
    raise ConfigurationError(f"unknown look-alike slot kind {kind!r}")


LOOK_KINDS = frozenset(("VER", "SKU", "REF", "WHEN", "MONEY", "ACCT", "HASH", "PROD", "ORG", "CITY", "DAY"))
LOOKALIKE_TEMPLATES: tuple[tuple[str, str, str], ...] = (
    # Versions and build numbers (some are syntactically IPv4 addresses).
    ("lk-ver-en", "en", "After the update to version {VER} {PROD} crashes on start, build {VER} was fine."),
    ("lk-ver-en2", "en", "Firmware {VER} on the {ORG} printers fails; release notes for {VER} say nothing."),
    ("lk-ver-de", "de", "Seit Version {VER} stürzt {PROD} ab, mit Build {VER} ging es noch."),
    ("lk-ver-fr", "fr", "Depuis la version {VER}, {PROD} plante au démarrage ; le build {VER} marchait."),
    ("lk-ver-es", "es", "Desde la versión {VER} {PROD} se cierra; con la compilación {VER} funcionaba."),
    ("lk-ver-it", "it", "Dalla versione {VER} {PROD} si blocca, con la build {VER} andava."),
    ("lk-ver-nl", "nl", "Sinds versie {VER} crasht {PROD}, met build {VER} werkte het nog."),
    ("lk-ver-pl", "pl", "Od wersji {VER} {PROD} się zawiesza, kompilacja {VER} działała."),
    ("lk-ver-pt", "pt", "Desde a versão {VER} o {PROD} falha; o firmware {VER} estava bem."),
    ("lk-ver-log", "en", "[{WHEN}] agent={VER} os={VER} status=degraded host=web-{SKU}"),
    # Part, SKU and model numbers shaped like SSNs or phones.
    ("lk-sku-en", "en", "Part number {SKU} is out of stock, can we order SKU {SKU} instead?"),
    ("lk-sku-de", "de", "Artikelnummer {SKU} ist nicht lieferbar, Teilenummer {SKU} passt auch."),
    ("lk-sku-fr", "fr", "La référence produit {SKU} est en rupture, le modèle {SKU} convient-il ?"),
    ("lk-sku-es", "es", "El número de pieza {SKU} está agotado; ¿sirve el modelo {SKU}?"),
    ("lk-sku-it", "it", "Il codice articolo {SKU} è esaurito, va bene il modello {SKU}?"),
    ("lk-sku-nl", "nl", "Onderdeelnummer {SKU} is uitverkocht, kan artikel {SKU} ook?"),
    ("lk-sku-pl", "pl", "Numer części {SKU} jest niedostępny, czy model {SKU} pasuje?"),
    ("lk-sku-pt", "pt", "A peça {SKU} está esgotada; o modelo {SKU} serve?"),
    ("lk-sku-serial", "en", "Serial no. {SKU}, model {SKU}, asset tag {REF} - warranty until {WHEN}."),
    # Orders, invoices, tickets, cases, references and tracking numbers.
    ("lk-ref-en", "en", "Order {REF} and invoice {REF} were both charged; ticket {REF} has the details."),
    ("lk-ref-en2", "en", "Case {REF} was merged into incident {REF}, tracking number {REF}."),
    ("lk-ref-en3", "en", "Ref: {REF}\nPO: {REF}\nDue: {WHEN}\nTotal: {MONEY}"),
    ("lk-ref-de", "de", "Bestellnummer {REF}, Rechnungsnummer {REF}, Sendungsnummer {REF}."),
    ("lk-ref-fr", "fr", "Commande n° {REF}, facture {REF}, numéro de suivi {REF}."),
    ("lk-ref-es", "es", "Pedido nº {REF}, factura {REF}, número de seguimiento {REF}."),
    ("lk-ref-it", "it", "Ordine n. {REF}, fattura {REF}, numero di tracciamento {REF}."),
    ("lk-ref-nl", "nl", "Bestelnummer {REF}, factuur {REF}, trackingnummer {REF}."),
    ("lk-ref-pl", "pl", "Zamówienie nr {REF}, faktura {REF}, numer przesyłki {REF}."),
    ("lk-ref-pt", "pt", "Encomenda n.º {REF}, fatura {REF}, número de rastreio {REF}."),
    ("lk-ref-subject", "en", "RE: [{ORG}] Ticket {REF} - {PROD} outage on {DAY}"),
    # Dates and times.
    ("lk-when-en", "en", "The outage ran from {WHEN} to {WHEN}; the report is due {WHEN}."),
    ("lk-when-de", "de", "Der Ausfall dauerte von {WHEN} bis {WHEN}, Wartung am {WHEN}."),
    ("lk-when-fr", "fr", "La panne a duré du {WHEN} au {WHEN}, maintenance le {WHEN}."),
    ("lk-when-es", "es", "La caída fue del {WHEN} al {WHEN}; mantenimiento el {WHEN}."),
    ("lk-when-it", "it", "Il disservizio è durato dal {WHEN} al {WHEN}, manutenzione il {WHEN}."),
    ("lk-when-nl", "nl", "De storing duurde van {WHEN} tot {WHEN}, onderhoud op {WHEN}."),
    ("lk-when-pl", "pl", "Awaria trwała od {WHEN} do {WHEN}, przegląd {WHEN}."),
    ("lk-when-pt", "pt", "A falha durou de {WHEN} a {WHEN}, manutenção a {WHEN}."),
    # Amounts and percentages.
    ("lk-money-en", "en", "The quote was {MONEY}, we were billed {MONEY} ({MONEY} over budget)."),
    ("lk-money-de", "de", "Angebot {MONEY}, berechnet wurden {MONEY}, Rabatt {MONEY}."),
    ("lk-money-fr", "fr", "Le devis était de {MONEY}, facturé {MONEY}, remise {MONEY}."),
    ("lk-money-es", "es", "El presupuesto era {MONEY} y nos cobraron {MONEY}."),
    ("lk-money-it", "it", "Il preventivo era {MONEY}, ci hanno addebitato {MONEY}."),
    ("lk-money-nl", "nl", "De offerte was {MONEY}, gefactureerd {MONEY}."),
    ("lk-money-pl", "pl", "Oferta wynosiła {MONEY}, zafakturowano {MONEY}."),
    ("lk-money-pt", "pt", "O orçamento era {MONEY}, cobraram {MONEY}."),
    # Account references that are not IBANs (customer, contract, cost centre, BIC).
    ("lk-acct-en", "en", "Customer number {ACCT}, contract {ACCT}, cost centre {ACCT}."),
    ("lk-acct-de", "de", "Kundennummer {ACCT}, Vertragsnummer {ACCT}, Kostenstelle {ACCT}."),
    ("lk-acct-fr", "fr", "Numéro client {ACCT}, contrat {ACCT}, centre de coût {ACCT}."),
    ("lk-acct-es", "es", "Número de cliente {ACCT}, contrato {ACCT}, centro de coste {ACCT}."),
    ("lk-acct-it", "it", "Codice cliente {ACCT}, contratto {ACCT}, centro di costo {ACCT}."),
    ("lk-acct-nl", "nl", "Klantnummer {ACCT}, contract {ACCT}, kostenplaats {ACCT}."),
    ("lk-acct-pl", "pl", "Numer klienta {ACCT}, umowa {ACCT}, centrum kosztów {ACCT}."),
    ("lk-acct-pt", "pt", "Número de cliente {ACCT}, contrato {ACCT}, centro de custo {ACCT}."),
    # Hashes, digests, UUIDs and resource ids.
    ("lk-hash-en", "en", "Commit {HASH} broke the build; the image digest is {HASH}."),
    ("lk-hash-en2", "en", "Request id {HASH} failed, correlation id {HASH}, instance {HASH}."),
    ("lk-hash-de", "de", "Die Prüfsumme {HASH} passt nicht zu {HASH}."),
    ("lk-hash-fr", "fr", "L'identifiant de requête {HASH} apparaît dans les journaux."),
    ("lk-hash-es", "es", "El hash {HASH} no coincide con el del paquete."),
    ("lk-hash-it", "it", "L'ID transazione {HASH} non risulta nei log."),
    ("lk-hash-nl", "nl", "De checksum {HASH} klopt niet."),
    ("lk-hash-pl", "pl", "Identyfikator {HASH} nie występuje w logach."),
    ("lk-hash-pt", "pt", "O identificador {HASH} não aparece nos registos."),
    # Capitalised products, teams, companies, offices, weekdays and greetings.
    ("lk-cap-en", "en", "Hi Team, Good Morning! {PROD} and {PROD} are down for {ORG} since {DAY}."),
    ("lk-cap-en2", "en", "What is the holiday calendar of the {CITY} office? {ORG} moved to {CITY} in {DAY}'s update."),
    ("lk-cap-en3", "en", "Dear Support, {ORG} from {CITY} cannot open {PROD}. Kind Regards, {ORG}"),
    ("lk-cap-de", "de", "Hallo Zusammen, {PROD} geht im Büro {CITY} seit {DAY} nicht. Viele Grüße, {ORG}"),
    ("lk-cap-fr", "fr", "Bonjour à Tous, {PROD} ne marche plus au bureau de {CITY} depuis {DAY}. Cordialement, {ORG}"),
    ("lk-cap-es", "es", "Hola Equipo, {PROD} no funciona en la oficina de {CITY} desde el {DAY}. Saludos, {ORG}"),
    ("lk-cap-it", "it", "Ciao a Tutti, {PROD} non va nella sede di {CITY} da {DAY}. Cordiali Saluti, {ORG}"),
    ("lk-cap-nl", "nl", "Hoi Allemaal, {PROD} werkt niet op kantoor {CITY} sinds {DAY}. Met Vriendelijke Groet, {ORG}"),
    ("lk-cap-pl", "pl", "Dzień Dobry, {PROD} nie działa w biurze {CITY} od {DAY}. Pozdrawiam, {ORG}"),
    ("lk-cap-pt", "pt", "Olá Equipa, o {PROD} não funciona no escritório de {CITY} desde {DAY}. Cumprimentos, {ORG}"),
    ("lk-cap-mix", "en", "{ORG} ({CITY}) asked {ORG} to roll {PROD} {VER} out before {WHEN}, order {REF}."),
)
assert not {t for t, _, _ in LOOKALIKE_TEMPLATES} & ({t for t, _, _ in TEMPLATES} | {t for t, _, _ in DEV_TEMPLATES})


def build_lookalike_rows() -> list[dict[str, Any]]:
    """Rows of the look-alike development set: every slot unlabelled, every row `lookalike: true`."""
    rows = []
    for tid, lang, sentence in LOOKALIKE_TEMPLATES:
        rng = random.Random(f"{SEED}:{tid}")
        for n in range(LOOKALIKE_ROWS):
            pieces = sentence.split("{")
            text = pieces[0]
            for piece in pieces[1:]:
                kind, rest = piece.split("}", 1)
                text += _look_value(kind, lang, rng) + rest
            rows.append({"id": f"{tid}-{n}", "family": tid, "lang": lang, "text": text, "entities": [],
                         "lookalike": True})  # fmt: skip
    return rows


def write_dev_lookalikes() -> int:
    """Write evals/pii/dev_lookalikes.jsonl (development side only); returns the row count."""
    rows = build_lookalike_rows()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    with DEV_FILE_LOOKALIKES.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return len(rows)


def write_dev_breadth() -> int:
    """Write evals/pii/dev_breadth.jsonl from DEV_TEMPLATES (development side only); returns the row count."""
    rows = build_rows(templates=DEV_TEMPLATES)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    with DEV_FILE_BREADTH.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return len(rows)


def _slot_kinds(sentence: str) -> list[str]:
    return [part.split("}", 1)[0] for part in sentence.split("{")[1:]]


def build_rows(
    template_ids: set[str] | None = None, templates: tuple[tuple[str, str, str], ...] = TEMPLATES
) -> list[dict[str, Any]]:
    """Rows for the templates (all when None), deterministic for a template id."""
    rows = []
    for tid, lang, sentence in templates:
        if template_ids is not None and tid not in template_ids:
            continue
        rng = random.Random(f"{SEED}:{tid}")
        for n in range(ROWS_PER_TEMPLATE):
            entities: list[dict[str, Any]] = []
            pieces = sentence.split("{")
            text = pieces[0]
            for piece in pieces[1:]:
                kind, rest = piece.split("}", 1)
                value = _value(kind, lang, rng) if kind in _KINDS else _dev_value(kind, lang, rng)
                label = DEV_LABELS.get(kind, kind)
                if label not in _UNLABELLED:
                    entities.append({"type": label, "start": len(text), "end": len(text) + len(value)})
                text += value + rest
            row: dict[str, Any] = {
                "id": f"{tid}-{n}",
                "family": tid,
                "lang": "en" if lang == "us" else lang,
                "text": text,
                "entities": entities,
            }
            if _UNLABELLED & set(_slot_kinds(sentence)):
                row["lookalike"] = True
            rows.append(row)
    return rows


def choose_test_templates() -> list[str]:
    """One template in three per slot-type group, by sha256 of the template id."""
    groups: dict[str, list[str]] = defaultdict(list)
    for tid, _, _ in TEMPLATES:
        groups[tid.split("-", 1)[0]].append(tid)
    chosen = []
    for ids in groups.values():
        ordered = sorted(ids, key=lambda t: hashlib.sha256(t.encode()).hexdigest())
        chosen += [t for i, t in enumerate(ordered) if i % 3 == 1]
    return sorted(chosen)


def freeze(force: bool = False) -> dict[str, Any]:
    """Write the test and development files once."""
    if SPLIT_FILE.exists() and not force:
        raise ConfigurationError(f"{SPLIT_FILE} is frozen; re-freezing needs --force and a data sheet entry")
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    test_ids = set(choose_test_templates())
    rows = build_rows()
    for path, keep in ((TEST_FILE, True), (DEV_FILE, False)):
        with path.open("w", encoding="utf-8") as handle:
            for row in rows:
                if (row["family"] in test_ids) == keep:
                    handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    record = {
        "frozen_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%MZ"),
        "rule": "per slot-type group, templates sorted by sha256(id), every 3rd from the second",
        "test_templates": sorted(test_ids),
        "test_sha256": hashlib.sha256(TEST_FILE.read_bytes()).hexdigest(),
        "test_entities": dict(Counter(e["type"] for r in rows if r["family"] in test_ids for e in r["entities"])),
    }
    SPLIT_FILE.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return record


def main(argv: list[str] | None = None) -> int:
    """`freeze` the PII split once; `dev` writes the development-side breadth cases."""
    parser = argparse.ArgumentParser(description="Keel's PII cases and their frozen test split.")
    parser.add_argument("command", choices=("freeze", "dev"))
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "dev":
        print(f"{write_dev_breadth()} rows written to {DEV_FILE_BREADTH}")
        print(f"{write_dev_lookalikes()} rows written to {DEV_FILE_LOOKALIKES}")
        return 0
    try:
        print(json.dumps(freeze(args.force), indent=2))
    except ConfigurationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
