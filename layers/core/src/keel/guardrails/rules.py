"""Known attack patterns as weighted rules; each hit names its category and a reason an operator can read."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    """One pattern: strong rules decide alone, weak rules only support the classifier."""

    name: str
    category: str
    weight: float
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class RuleHit:
    """A rule that matched, and where."""

    name: str
    category: str
    weight: float
    excerpt: str


_I = re.IGNORECASE | re.DOTALL
# What an attack aims at: the assistant's own rules, not a user's ticket or printer.
_TARGET = (
    r"(?:instructions?|directives?|prompts?|rules|guidelines|guardrails|polic(?:y|ies)|restrictions?|"
    r"constraints|filters?|programming|training|safeguards|safety(?: (?:rules|measures|protocols|f"
    r"eatures))?|"
    r"limitations|boundaries|ethics|morals|moderation|context|system message)"
)
_OWNER = (
    r"(?:your|all|any|the|previous|prior|above|earlier|preceding|initial|original|system|those|these|m"
    r"y)"
)
_DISMISS = (
    r"(?:ignore|disregard|forget|bypass|override|overrule|skip|drop|abandon|dismiss|circumvent|neglect"
    r"|delete|erase|discard)"
)


def _r(name: str, category: str, weight: float, pattern: str) -> Rule:
    return Rule(name, category, weight, re.compile(pattern, _I))


RULES: tuple[Rule, ...] = (
    _r(
        "dismiss_instructions",
        "instruction_override",
        0.95,
        rf"\b{_DISMISS}\b(?:\s+\w+){{0,3}}?\s+{_OWNER}\b(?:\s+\w+){{0,3}}?\s+{_TARGET}\b",
    ),
    _r(
        "dismiss_everything",
        "instruction_override",
        0.85,
        rf"\b{_DISMISS}\s+(?:everything|all)\s+(?:(?:you|that|from)\s+)?(?:were|was|have been|you'v"
        rf"e been|above|before|earlier|so far)\b",
    ),
    _r(
        "previous_and_following",
        "instruction_override",
        0.95,
        r"\b(?:previous|prior)\s+and\s+(?:following|subsequent)\s+instructions\b",
    ),
    _r(
        "new_instructions",
        "instruction_override",
        0.7,
        r"\bnew\s+(?:instructions|rules|directives?|task)\s*[:\-]|\byour\s+new\s+(?:instructions|r"
        r"ules|task|purpose)\s+(?:is|are)\b",
    ),
    _r("stop_everything", "instruction_override", 0.6, r"\bstop everything\b|\bjust (?:print|say|output)\s+[\"']"),
    _r(
        "no_longer_bound",
        "jailbreak",
        0.85,
        r"\b(?:no longer|not|never)\s+(?:need to |have to |required to )?(?:bound|restricted|limit"
        r"ed|constrained|abide|adhere|comply|follow)\w*\b(?:\s+\w+){0,4}\s+(?:by\s+)?(?:any\s+|the"
        r"\s+|your\s+|openai'?s?\s+)?(?:rules|polic(?:y|ies)|guidelines|restrictions|filters|ethic"
        r"s|content polic)",
    ),
    _r(
        "without_restrictions",
        "jailbreak",
        0.6,
        r"\b(?:without|free (?:of|from)|no|zero)\s+(?:any\s+)?(?:restrictions|censorship|filters?|"
        r"limitations|limits|rules|ethical (?:guidelines|constraints)|moral (?:guidelines|constrai"
        r"nts)|boundaries|warnings)\b",
    ),
    _r(
        "dan",
        "jailbreak",
        0.9,
        r"(?-i:\bDAN\b)|\bdo anything now\b|(?-i:\bSTAN\b)|(?-i:\bAIM\b)(?=.{0,80}machiavelli)|(?-"
        r"i:\bDUDE\b)|\bjailbr(?:eak|oken)\w*\s+(?:mode|version|ai|chatbot)",
    ),
    _r(
        "developer_mode",
        "jailbreak",
        0.85,
        r"\b(?:developer|dev|god|debug|sudo|jailbreak|jailbroken|evil|chaos|dan)\s+mode\s+(?:enabl"
        r"ed|on|activated|output|response)|\b(?:enable|activate|enter|simulate|switch to)\s+(?:the"
        r"\s+)?(?:developer|god|jailbreak|evil|dan|chaos)\s+mode",
    ),
    _r(
        "persona_unbound",
        "jailbreak",
        0.85,
        r"\b(?:act as|pretend (?:to be|you are)|you are now|you will now be|from now on,? you (?:a"
        r"re|will)|role ?play as|take on the role of|simulate)\b.{0,300}\b(?:no (?:rules|restricti"
        r"ons|filters|limits|ethics|morals|guidelines)|(?:unrestricted|unfiltered|uncensored|amora"
        r"l|unethical)\s+(?:ai|assistant|model|chatbot|bot|mode|access|responses?|answers?|content"
        r"|output)|without (?:any )?(?:rules|restrictions|filters|limits|morals|ethics|guidelines)"
        r"|never refuses?|not bound|broken free|freed from|any(?:thing| request)\s+(?:without|no m"
        r"atter))",
    ),
    _r(
        "two_responses",
        "jailbreak",
        0.8,
        r"\b(?:two|2|dual)\s+(?:different\s+)?(?:responses|answers|personalities|outputs)\b.{0,20"
        r"0}\b(?:normal|classic|filtered|unfiltered|jailbr|developer|dan)\b",
    ),
    _r(
        "stay_in_character",
        "jailbreak",
        0.55,
        r"\b(?:stay|remain|keep)\s+in\s+(?:character|role)\b|\bbreak(?:ing)?\s+character\b",
    ),
    _r(
        "never_refuse",
        "jailbreak",
        0.7,
        r"\b(?:never|must not|cannot|can't|won't|will not|do not|don't)\s+(?:ever\s+)?(?:refuse|de"
        r"cline|say (?:no|that you can'?t|i'?m sorry))\b|\bwithout (?:any )?(?:warnings?|disclaime"
        r"rs?|refus\w+|moral\w*)\b",
    ),
    _r(
        "opposite_persona",
        "jailbreak",
        0.7,
        r"\b(?:evil|amoral|unethical|uncensored|unfiltered|malicious|rogue|jailbroken|unrestricted"
        r")\s+(?:ai|assistant|chatbot|bot|confidant|twin|persona|language model|llm)\b",
    ),
    _r(
        "openai_policy",
        "jailbreak",
        0.75,
        r"\b(?:openai|anthropic|content)\s+(?:content\s+)?polic(?:y|ies)\b.{0,120}\b(?:ignore|bypa"
        r"ss|not apply|doesn'?t apply|violat|break|free)|\b(?:ignore|bypass|break|violate)\w*\b.{0"
        r",60}\b(?:openai|content polic)",
    ),
    _r(
        "hypothetical_wrapper",
        "jailbreak",
        0.45,
        r"\bhypothetical(?:ly)?\b.{0,120}\b(?:no (?:rules|restrictions)|without (?:restrictions|ru"
        r"les|filters))",
    ),
    _r(
        "prompt_extraction",
        "system_prompt_extraction",
        0.9,
        r"\b(?:reveal|show|print|output|display|repeat|recite|tell me|give me|share|dump|leak|spel"
        r"l(?:[- ]check)?|write out|disclose|what (?:is|are|were))\b(?:\s+\w+){0,4}?\s+(?:your|the"
        r"|all|previous|initial|original|hidden|secret|system|internal|starting|above)\s+(?:\w+\s+"
        r"){0,2}?(?:system prompt|prompt|instructions|directives|guidelines|rules|configuration|in"
        r"itiali[sz]ation|preprompt|pre-prompt|context window|setup)\b",
    ),
    _r(
        "repeat_above",
        "system_prompt_extraction",
        0.85,
        r"\b(?:repeat|output|print|copy|echo|translate|summari[sz]e|spell[- ]check|rewrite)\s+(?:"
        r"\w+\s+){0,3}(?:text|words|everything|content|message)\s+(?:above|before|prior|preceding|"
        r"so far)\b|\brepeat\s+the\s+above\b|\beverything above\b|\b(?:starting|beginning) with\s+"
        r"['\"]?you are\b",
    ),
    _r(
        "instructed_to",
        "system_prompt_extraction",
        0.85,
        r"\bi was (?:instructed|told|programmed) to\b|\bwhat (?:were|have) you (?:been )?(?:told|i"
        r"nstructed|given|programmed)\b|\b(?:text|instructions|message|prompt) you (?:were|have be"
        r"en) given\b|\bwhat (?:are|were) you (?:not )?(?:supposed|told|instructed|programmed) (?:"
        r"to|not to)\b|\bnot supposed to (?:tell|say|reveal)\b",
    ),
    _r(
        "prompt_code_access",
        "system_prompt_extraction",
        0.8,
        r"\b(?:print|log|echo|return|dump|cat|output|console\.log)\W{0,3}\s*(?:\w+\.)?(?:system_?p"
        r"rompt|systemprompt|initial_?instructions|hidden_?instructions)\b|\b(?:output|print|show|"
        r"reveal|display|dump)\s+(?:your\s+|the\s+)?(?:initiali[sz]ation|pre-?prompt|system prompt"
        r"|hidden instructions|system message)\b",
    ),
    _r(
        "system_prompt_word",
        "system_prompt_extraction",
        0.5,
        r"\b(?:system|initial|hidden|secret|original|starting)\s+(?:prompt|instructions|message)\b",
    ),
    _r(
        "privilege_claim",
        "privilege_escalation",
        0.75,
        r"\b(?:i am|i'm|im|this is|speaking as|as)\s+(?:the|your|an?|a verified|a certified|the de"
        r"signated)?\s*(?:system\s+)?(?:admin(?:istrator)?|root|superuser|super user|owner|develop"
        r"er|creator|ceo|cto|ciso|sysadmin|it security|security team|operator|moderator)\b.{0,16"
        r"0}\b(?:authori[sz]e|grant|give|permit|allow|override|unlock|disable|bypass|ignore|skip|s"
        r"how|reveal|access|elevate|approve|clearance|so you (?:can|must|should))",
    ),
    _r(
        "authority_grant",
        "privilege_escalation",
        0.8,
        r"\b(?:i (?:authori[sz]e|permit|allow|order|command)\s+you|you (?:are|have been) (?:now|he"
        r"reby) (?:authori[sz]ed|permitted|allowed|cleared)|i hereby (?:authori[sz]e|permit|allow)"
        r"|(?:grant|give)\s+me\s+(?:admin|root|full|elevated|unrestricted|superuser)\s*(?:access|r"
        r"ights|privileges|permissions)?|elevate\s+my\s+(?:access|permissions|privileges|role)|adm"
        r"in\s+(?:override|token|access granted|privileges granted)|\[(?:system|admin)(?:_override"
        r")?\s*:)",
    ),
    _r(
        "authorized_test",
        "privilege_escalation",
        0.7,
        r"\bauthori[sz]ed\s+(?:penetration test|red team|security (?:audit|test)|override|exceptio"
        r"n|session|request to)|\bsanctioned (?:test|request)\b|\b(?:security|access) clearance\b"
        r".{0,80}\b(?:ignore|bypass|override|reveal|disable)",
    ),
    _r(
        "exfil_markdown",
        "exfiltration",
        0.9,
        r"!\[[^\]]*\]\(\s*https?://[^)]*[?&][^)]*=|\b(?:send|post|forward|upload|exfiltrate|transm"
        r"it)\b.{0,80}\b(?:https?://|www\.)\S+.{0,60}\b(?:conversation|chat|history|data|password|"
        r"credentials|token|secrets?|prompt)",
    ),
    _r(
        "encoded_payload",
        "obfuscation",
        0.5,
        r"\b(?:decode|decrypt|deobfuscate|reverse)\b.{0,40}\b(?:and|then)\s+(?:execute|follow|obey"
        r"|run|do|perform)\b",
    ),
    _r(
        "tool_coercion",
        "instruction_override",
        0.7,
        r"\b(?:call|invoke|use|run|execute)\s+(?:the\s+)?(?:tool|function|plugin|api)\b.{0,60}\b(?"
        r":without (?:asking|confirmation|permission)|immediately|silently)",
    ),
)

# The weak signal that a text speaks to the assistant about the assistant: used to gate the classifier.
ADDRESSED_TO_AI = re.compile(
    r"\b(?:you are|you're|act as|pretend|role ?play|your\s+(?:instructions|rules|prompt|guidelines"
    r"|programming|"
    r"training|restrictions|filters|creators?|developers?|responses?|answers?|output)|as an ai|lan"
    r"guage model|"
    r"chatgpt|gpt-?\d|openai|assistant|chatbot|llm)\b",
    _I,
)


def match(text: str) -> list[RuleHit]:
    """Every rule that matches text, strongest first."""
    hits = []
    for rule in RULES:
        found = rule.pattern.search(text)
        if found:
            hits.append(RuleHit(rule.name, rule.category, rule.weight, found.group(0)[:120]))
    return sorted(hits, key=lambda h: -h.weight)


# The classic signatures again in the seven other languages the screen serves (FR DE ES IT NL PL PT). They only set
# the flag floor (InputScreen.evidence): they are not among the head's inputs, so the trained head and its artefact
# are unchanged. Each needs a dismissing verb and the assistant's own rules qualified as earlier, initial, all,
# the system's or its own ("vergiss meine letzte Frage" and "ignora las instrucciones del manual" are no hit).
# Imperatives only: an infinitive or subjunctive is talk about an attack ("que los chatbots revelen su prompt",
# "come ignorare le istruzioni"), which security education is full of.
_ML_DISMISS = (
    r"ignore[zs]?|oublie[zs]?|ne\s+tiens\s+pas\s+compte|ne\s+tenez\s+pas\s+compte|fai(?:s|tes)\s+abstraction|"
    r"outrepasse[zs]?|contourne[zs]?|"
    r"ignorier(?:e|en)?|vergiss|vergessen\s+sie|missachte(?:n\s+sie)?|übergehe(?:n\s+sie)?|"
    r"ignora|ignorad|olvida|olvidad|olvide|omite|omita|haz\s+caso\s+omiso|no\s+hagas\s+caso|"
    r"ignorate|ignori|dimentica|dimenticate|dimentichi|trascura|non\s+tenere\s+conto|non\s+considerare|"
    r"negeer|vergeet|"
    r"zignoruj(?:cie)?|ignoruj(?:cie)?|zapomnij(?:cie)?|pomiń|nie\s+zważaj|"
    r"esqueça|esquece|desconsidere|desconsidera|não\s+ligue"
)
_ML_TARGET = (
    r"instructions?|consignes?|règles|directives|restrictions|"
    r"anweisungen|instruktionen|regeln|vorgaben|richtlinien|beschränkungen|befehle|systemanweisungen|systemprompts?|"
    r"instrucciones|reglas|normas|directrices|restricciones|indicaciones|"
    r"istruzioni|regole|direttive|restrizioni|indicazioni|"
    r"instructies|regels|richtlijnen|beperkingen|systeeminstructies|"
    r"instrukcj\w*|polece\w*|zasad\w*|reguł\w*|wytyczn\w*|ogranicze\w*|"
    r"instruções|regras|diretrizes|restrições|orientações|"
    r"prompt(?:\s+(?:système|del\s+sistema|di\s+sistema|do\s+sistema))?"
)
_ML_QUALIFIER = (
    r"précédent\w*|antérieur\w*|initial\w*|système|toutes|tes|vos|"
    r"alle[ns]?|deine[ns]?|ihre[ns]?|vorherige\w*|bisherige\w*|obige\w*|vorige\w*|ursprünglich\w*|"
    r"anteriores|previas|iniciales|del\s+sistema|todas|tus|sus|"
    r"precedenti|iniziali|di\s+sistema|tutte|tue|sue|"
    r"eerdere|vorige|oorspronkelijke|je|jouw|uw|"
    r"wszystki\w*|swoi\w*|swoje|twoi\w*|twoje|wcześniejsz\w*|poprzedni\w*|dotychczasow\w*|"
    r"iniciais|do\s+sistema|suas|tuas"
)
_ML_I = re.IGNORECASE | re.DOTALL
_ML_REVEAL = (
    r"montre[zs]?|affiche[zs]?|révèle[zs]?|donne[zs]?|répète[zs]?|récite[zs]?|écris|écrivez|imprime[zs]?|dis|dites|"
    r"zeig(?:e|en\s+sie)?|gib|geben\s+sie|nenne(?:n\s+sie)?|wiederhole(?:n\s+sie)?|verrate(?:n\s+sie)?|"
    r"schreib(?:e|en\s+sie)?|"
    r"muéstra(?:me|nos)|muestra|dime|revela(?:me)?|repite|escribe|imprime|"
    r"mostra(?:mi)?|dimmi|rivela(?:mi)?|ripeti|scrivi|stampa|"
    r"laat|toon|geef|herhaal|schrijf|print|onthul|"
    r"pokaż|wypisz|podaj|powtórz|zdradź|napisz|"
    r"mostre|diz|diga|revele|repete|repita|escreve|escreva|imprima"
)
# The assistant's own set-up: its prompt named as its own ("ton prompt système", "deinen Systemprompt"), or
# instructions or rules called hidden, secret or initial ("your rules" alone is a shop's shipping rules). A system
# prompt in general ("zeig mir, wie man einen Systemprompt schreibt") and a company's internal instructions ("las
# instrucciones internas de la empresa") are no hit.
_ML_PROMPT = (
    r"prompts?(?:\s+(?:système|del\s+sistema|di\s+sistema|do\s+sistema|systemowy\w*))?|systemprompts?|"
    r"systeemprompts?|prompt\s+systemowy"
)
_ML_SETUP_NOUN = (
    r"instructions|consignes|anweisungen|instruktionen|instrucciones|istruzioni|instructies|instrukcj\w*|instruções|"
    r"regeln|reglas|regole|regels|zasady|regras|règles"
)
_ML_YOUR = (
    r"ton|ta|tes|votre|vos|dein\w*|ihr\w*|tu|tus|su|sus|tuo|tuoi|tua|tue|je|jouw|uw|swój|swoj\w*|twój|twoj\w*|"
    r"teu|teus|tua|tuas|seu|seus|sua|suas"
)
_ML_HIDDEN = (
    r"cachées|secrètes|initiales|versteckten|geheimen|ursprünglichen|ocultas|secretas|iniciales|nascoste|segrete|"
    r"iniziali|verborgen|geheime|oorspronkelijke|ukryte|tajne|początkowe|iniciais|originales|originali|originais"
)
_ML_SETUP = (
    rf"(?:{_ML_YOUR})\s+(?:\S+\s+)?(?:{_ML_PROMPT})"
    rf"|(?:{_ML_SETUP_NOUN})\s+(?:\S+\s+)?(?:{_ML_HIDDEN})"
    rf"|(?:{_ML_HIDDEN})\s+(?:{_ML_SETUP_NOUN})"
)
MULTILINGUAL_SIGNATURES: tuple[Rule, ...] = (
    Rule(
        "dismiss_instructions_multilingual",
        "instruction_override",
        0.95,
        re.compile(
            rf"(?<!\w)(?<!que\s)(?<!che\s)(?:{_ML_DISMISS})(?!\w)(?:\s+\S+){{0,3}}?\s+"
            rf"(?:(?:{_ML_QUALIFIER})(?:\s+\S+){{0,2}}?\s+(?:{_ML_TARGET})(?!\w)"
            rf"|(?:{_ML_TARGET})\s+(?:\S+\s+)?(?:{_ML_QUALIFIER})(?!\w))"
            # Verb last, as German and Dutch put it ("alle vorherigen Anweisungen ignorieren").
            rf"|(?<!\w)(?:{_ML_QUALIFIER})\s+(?:\S+\s+){{0,2}}?(?:{_ML_TARGET})\s+(?:\S+\s+)?"
            rf"(?:ignorieren|vergessen|missachten|negeren|vergeten|zignorować|zapomnieć)(?!\w)",
            _ML_I,
        ),
    ),
    Rule(
        "reveal_setup_multilingual",
        "system_prompt_extraction",
        0.95,
        re.compile(rf"(?<!\w)(?:{_ML_REVEAL})(?:-\w+)?(?!\w)(?:\s+\S+){{0,6}}?\s+(?:{_ML_SETUP})(?!\w)", _ML_I),
    ),
)


# A note addressed to the assistant inside a pasted document (indirect injection, issue 17 round 39): the user's
# request stands on the message's first line, and below it, in the e-mail, ticket, contract or page they pasted, a
# line speaks to the machine that will read it ("NOTA PARA EL ASISTENTE:", "<!-- assistent: ...", "Do asystenta AI:",
# "Beste AI:", "Note à l'intention de l'assistant IA qui analysera ce document :"). A document has readers, not an
# assistant; a note to the assistant in it is written for the screen's own model. Like the multilingual signatures
# it only floors a message to flag (InputScreen.evidence) and is not among the head's inputs. The short acronyms
# count in capitals only: "ai", "si" and "ia" are everyday words (Italian "ai clienti", "si, claro").
_DN_ACRONYM = r"(?-i:A\.?I\.?|IA|K\.?I\.?|S\.?I\.?|LLMs?|GPT|ChatGPT)"
_DN_INTELLIGENCE = (
    r"intelligence artificielle|intelligenza artificiale|inteligencia artificial|inteligência artificial|"
    r"künstliche[rn]? intelligenz|kunstmatige intelligentie|sztuczn\w+ inteligencj\w+|artificial intelligence"
)
_DN_AI = (
    rf"(?:{_DN_ACRONYM}|copilot|chat-?bots?|bots?|robots?|robô|robôs|"
    r"(?-i:AI|KI|IA)[- ]?(?:assistant|assistent|asystent|assistente|asistente)\w*|"
    r"assistant\w*|assistent\w*|asistente\w*|asystent\w*|asystenc\w*|"
    rf"{_DN_INTELLIGENCE}|"
    r"(?:language|taal|sprach)[- ]?mod\w+|modèles? de langage|modell?i? (?:di )?linguaggio|modelos? de lenguaje|"
    r"modelos? de linguagem|"
    r"(?-i:AI|KI|IA)[- ]?(?:systems?|systeme?|systeem|systemen|model\w*|agents?|tools?)|"
    r"(?:systems?|systèmes?|sistemas?|sistemi|systeme?|systemen|systemy|modelos?|modelli|modèles?|agents?|agentes|"
    r"agenti|tools?|outils?|herramientas|strumenti|ferramentas|narzędzia)"
    rf" (?:d'|de |di |do |da |der )?(?:(?-i:AI|IA|KI|SI)|{_DN_INTELLIGENCE}|sztucznej inteligencji))"
)
_DN_ARTICLE = (
    r"(?:the|any|all|an?|l'|le|la|les|der|die|den|dem|das|des|el|los|las|il|lo|gli|i|het|de|o|a|os|as|tout|toute|"
    r"tous|todo|toda|todos|jede[nmrs]?|alle|ogni|qualsiasi|elk|iedere|każd\w+)"
)
# Italian "ai", "al", "alle" in lower case only: "AI" is the addressee, not a preposition ("AI assistant: ...").
_DN_TO = r"(?:to|for|pour|à|au|aux|an|für|para|per|voor|aan|do|dla|(?-i:al|ai|agli|alle|allo)|ao|aos|às)"
_DN_NOTE = (
    r"(?:notes?|message|instructions?|ps|p\.s\.|nb|n\.b\.|remarque|consigne|nota|notas|hinweis|notiz|anweisung|"
    r"mitteilung|opmerking|bericht|opdracht|instructie|uwaga|wiadomość|instrukcja|polecenie|mensagem|instrução|"
    r"observação|aviso|istruzione|messaggio|avviso|mensaje|instrucción|instrucciones|istruzioni|instruções|instrukcje|"
    r"instructies|anweisungen|destinée?s?|bestimmt|destinada|destinato|bedoeld|przeznaczon\w*|notatka|notatki|notitie|"
    r"notities)"
)
# "For the attention of" in the eight languages, with its own preposition ("à l'intention de l'assistant IA").
_DN_ATTENTION = (
    r"(?:à l'intention (?:de|du|des)|à l'attention (?:de|du|des)|all'attenzione (?:di|del|della|dello|dei|degli)|"
    r"a la atención (?:de|del)|à atenção (?:de|do|da|dos)|ter attentie van|zu händen (?:de[rs])?|"
    r"for the attention of)"
)
_DN_GREETING = (
    r"(?:dear|hi|hello|hey|cher|chère|liebe[rs]?|hallo|querid[oa]|estimad[oa]|hola|car[oa]|ciao|gentile|beste|hoi|"
    r"drog[ia]|szanown\w+|witaj|prezad[oa]|olá|oi)"
)
_DN_HIDDEN = (
    r"(?:<!--|display\s*:\s*none|font-size\s*:\s*0|color\s*:\s*(?:#fff\b|#ffffff|white)|"
    r"\[(?:hidden|white text|texto en blanco|texte? blanc|weiß\w* text|testo bianco|witte tekst|biały tekst|"
    r"texto branco)[^\]]*\]|"
    r"\((?:[^)\n]{0,40})(?:white|blanc\w*|weiß\w*|blanco|bianco|wit\w*|biał\w*|branc\w*)[^)\n]{0,40}\))"
)
_DN_THIS = (
    r"this|these|ce|cet|cette|ces|diese[nmrs]?|dies|este|esta|esto|estos|estas|questo|questa|questi|queste|deze|dit|"
    r"ten|tę|to|tego|tej|isto|estes"
)
DOCUMENT_NOTES: tuple[Rule, ...] = (
    # "Note for the assistant:", "PS pour le robot qui lit les tickets :", "Para sistemas de IA que analisem ...:"
    # (a bare "for the assistant" only where a line, a sentence, a bracket or a marker opens: "tips for the chatbot:
    # ..." in a help page is no note).
    Rule(
        "note_to_the_assistant",
        "indirect_injection",
        0.95,
        re.compile(
            rf"(?im)(?:(?<![\w]){_DN_NOTE}(?:\s+\S+){{0,2}}?\s+{_DN_TO}|(?<![\w]){_DN_ATTENTION}"
            rf"|(?:^|(?<=[>\[(){{}}|*#:.!?,;-]))[ \t]*{_DN_TO})\s+"
            rf"(?:{_DN_ARTICLE}\s+|l'|d')?(?:\w+\s+)?{_DN_AI}(?![\w])[^\n:;]{{0,80}}[:：;]"
        ),
    ),
    # Whoever reads this, named ("AI assistant processing this message:", "asystent AI sprawdzający ten dokument:").
    Rule(
        "reader_of_this_document",
        "indirect_injection",
        0.95,
        re.compile(
            rf"(?im)(?:^|(?<=[>\[(){{}}|*#:.!?,;-]))[ \t]*{_DN_AI}(?:[- ]\w+)?\s+"
            rf"(?:\w+ing|\w+ąc\w*|(?:that|who|which|que|qui|che|die|der|dat|któr\w+)\s+\w+)\s+"
            rf"(?:{_DN_THIS})(?![\w])[^\n:;]{{0,30}}[:：]"
        ),
    ),
    # A greeting to the assistant at a line's start or a bracket's opening ("Beste AI:", "Dear assistant,").
    Rule(
        "greeting_to_the_assistant",
        "indirect_injection",
        0.95,
        re.compile(rf"(?im)(?:^|[>\[(]|<!--)\s*{_DN_GREETING}\s+(?:{_DN_ARTICLE}\s+)?{_DN_AI}\s*[,:!]"),
    ),
    # Hidden-text markup, then the assistant spoken to ("<span style="display:none">Assistant : ...").
    Rule(
        "hidden_note_to_the_assistant",
        "indirect_injection",
        0.95,
        re.compile(rf"(?is){_DN_HIDDEN}[^\n]{{0,80}}?(?<![\w]){_DN_AI}(?![\w])\s*[:：,]"),
    ),
    # A bracket, comment or marker that opens on the assistant spoken to ("[AI-assistent: ...", "<!-- asystencie:").
    Rule(
        "bracketed_note_to_the_assistant",
        "indirect_injection",
        0.95,
        re.compile(rf"(?i)(?:<!--|\[|\(|\{{|###|>>>)[^\n\])]{{0,40}}?(?<![\w]){_DN_AI}(?:[- ]\w+)?\s*[:：,]"),
    ),
)


# Every note names the assistant, so the patterns are only run near a place where it is named: from _DN_BEFORE
# characters before it (the note's opening words, a marker) to _DN_AFTER after it (the rest of the address and its
# colon). Run over a whole message, a text of brackets or comment openers with no assistant in it cost the patterns
# about 35 ms per thousand characters (each opener tried every way of naming the assistant 40 characters on); near the
# names only, a message costs what its mentions of the assistant cost.
_DN_NAMED = re.compile(rf"(?i)(?<![\w])(?={_DN_AI})")
_DN_BEFORE = 300
_DN_AFTER = 200


def _windows(text: str, start: int) -> list[tuple[int, int]]:
    """Where the assistant is named from start on, widened by _DN_BEFORE and _DN_AFTER, overlapping ones merged."""
    windows: list[tuple[int, int]] = []
    for named in _DN_NAMED.finditer(text, start):
        low, high = max(start, named.start() - _DN_BEFORE), min(len(text), named.start() + _DN_AFTER)
        if windows and low <= windows[-1][1]:
            windows[-1] = (windows[-1][0], high)
        else:
            windows.append((low, high))
    return windows


def document_note(text: str) -> RuleHit | None:
    """A note addressed to the assistant below the message's first line (where a pasted document stands), or None."""
    first_line = text.find("\n")
    if first_line < 0:
        return None
    windows = _windows(text, first_line + 1)
    for rule in DOCUMENT_NOTES:
        for low, high in windows:
            found = rule.pattern.search(text, low, high)
            if found is not None:
                return RuleHit(rule.name, rule.category, rule.weight, found.group(0)[:120])
    return None


# Text in quotation marks: a lesson, a translation request or a report quotes an attack; an attack rarely quotes
# itself. A signature wholly inside quotes is left to the head.
_QUOTED = re.compile(
    r'"[^"\n]{1,400}"|“[^”\n]{1,400}”|«[^»\n]{1,400}»|„[^“”\n]{1,400}[“”]|‘[^’\n]{1,400}’|'
    r"(?<!\w)'[^'\n]{1,400}'(?!\w)"
)


# A negation right before the match: advice ("do not ignore the update prompt", "n'ignorez pas les consignes",
# "nie ignoruj instrukcji"), not an attack.
_NEGATED = re.compile(r"(?:\b(?:not|never|nicht|nie|niet|nooit|non|no|não|nao|jamais|ne)|n't|n')\s*$", re.IGNORECASE)


def _unquoted(rules: tuple[Rule, ...], text: str) -> RuleHit | None:
    """The first of rules (strongest first) with a match outside quotation marks and not negated, or None. Quotations
    are looked for only once a rule matches: almost every message has none, and this runs on every view of every
    message."""
    quoted: list[tuple[int, int]] | None = None
    for rule in rules:
        for found in rule.pattern.finditer(text):
            if quoted is None:
                quoted = quoted_spans(text)
            if inside(quoted, found.start(), found.end()):
                continue
            if negated_before(text, found.start()):
                continue
            return RuleHit(rule.name, rule.category, rule.weight, found.group(0)[:120])
    return None


def quoted_spans(text: str) -> list[tuple[int, int]]:
    """Where text quotes something (start, end of each quotation, marks included)."""
    return [(m.start(), m.end()) for m in _QUOTED.finditer(text)]


def inside(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    """Whether start..end lies wholly inside one of spans (a quotation from quoted_spans)."""
    return any(low <= start and end <= high for low, high in spans)


def negated_before(text: str, start: int) -> bool:
    """Whether a negation stands right before start ("do not", "nie", "n'")."""
    return _NEGATED.search(text, max(0, start - 24), start) is not None


def signature_floor(text: str) -> RuleHit | None:
    """The strongest multilingual signature in text outside quotation marks, or None."""
    return _unquoted(MULTILINGUAL_SIGNATURES, text)


def unquoted_hit(text: str, floor: float) -> RuleHit | None:
    """The strongest rule of at least `floor` weight that matches text outside quotation marks, or None: a rule
    floors a message only where the message uses the pattern, not where it quotes it (a lesson, a translation
    request, a report of what someone typed)."""
    return _unquoted(_rules_from(floor), text)


@functools.cache
def _rules_from(floor: float) -> tuple[Rule, ...]:
    """The rules of at least `floor` weight, strongest first (one head has one floor: cached)."""
    return tuple(r for r in sorted(RULES, key=lambda r: -r.weight) if r.weight >= floor)
