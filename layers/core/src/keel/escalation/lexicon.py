"""Phrase patterns behind the escalation signals, in English, German, French, Spanish, Italian, Portuguese, Dutch.

Every pattern runs on text normalised by `fold` (lower case, accents removed, whitespace collapsed), so
"Möchte", "mochte" and "MÖCHTE" all match "mochte". Lookalike exclusions sit beside the pattern they guard.
"""

from __future__ import annotations

import re
import unicodedata

_SPACE = re.compile(r"\s+")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'"})


def fold(text: str) -> str:
    """Lower case, accents removed, apostrophes unified, whitespace collapsed."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACE.sub(" ", stripped.replace("ß", "ss")).strip().lower()


def _any(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


# --- explicit requests for a human -------------------------------------------------------------------
_HUMAN_EN = (
    r"(?:human(?! resources)(?: being| agent)?|real person|live (?:person|agent)|person|agent|representative|"
    r"operator|someone|somebody|advisor|adviser|customer service (?:agent|representative|rep))"
)
EXPLICIT_REQUEST = _any(
    # English
    rf"\b(?:talk|speak|chat|get through|be put through) (?:to|with) (?:a |an |some |your |a real |an actual |a live )?"
    rf"{_HUMAN_EN}\b",
    r"\b(?:i (?:want|need|demand|would like|'d like)|give me|get me|let me have|can i (?:get|have)) "
    r"(?:a |an )?(?:real |actual |live )?(?:human(?! resources)|person|agent|representative|operator)\b",
    r"\b(?:transfer|connect|escalate|put) (?:me|this|my (?:case|issue|chat)) (?:to|with|through to) "
    r"(?:a |an |the )?(?:real |live )?(?:human(?! resources)|person|agent|representative|operator|"
    r"support team|someone)\b",
    r"\b(?:human|live|real) (?:agent|person|being)\b",
    r"^(?:agent|human|operator|representative)(?: please| now)?[.!]*$",
    r"\bno more (?:bot|robot|machine)s?\b",
    # German
    r"\b(?:mit|an) (?:einem|einer|einen|jemandem|ihrem) (?:echten |richtigen |menschlichen )?(?:menschen|mensch|"
    r"mitarbeiter(?:in)?|berater(?:in)?|kundenberater(?:in)?|agenten|person|sachbearbeiter(?:in)?|"
    r"ansprechpartner(?:in)?)\b.{0,30}\b(?:sprechen|reden|verbinden|chatten|verbunden)",
    r"\bmit jemandem\b.{0,20}\b(?:sprechen|reden)\b",
    r"\b(?:ich (?:will|mochte|brauche)|geben sie mir|verbinden sie mich mit) (?:einen |eine |einem )?"
    r"(?:echten |richtigen )?(?:menschen|mitarbeiter(?:in)?|berater(?:in)?|person|ansprechpartner)\b",
    r"\b(?:echte[nr]?|richtige[nr]?) (?:mensch(?:en)?|person)\b",
    r"\b(?:bitte|ich will|ich mochte) (?:einen|mit einem) (?:menschen|mitarbeiter|berater)\b",
    r"\bkeinen (?:bot|roboter|computer)\b",
    # French
    r"\b(?:parler|discuter|etre mis en relation|etre mise en relation) (?:a|avec) (?:quelqu'un|un etre humain|"
    r"(?:un|une|votre) (?:vrai |vraie )?(?:humain|personne|conseiller|conseillere|agent|operateur|operatrice))\b",
    r"\b(?:je veux|je voudrais|je souhaite|passez-moi|passez moi|mettez-moi en relation avec|mettez moi en "
    r"relation avec) (?:un |une |a un |a une )?(?:vrai |vraie )?(?:humain|personne|conseiller|conseillere|"
    r"agent|operateur)\b",
    r"\b(?:une vraie personne|un etre humain|un vrai humain)\b",
    # Spanish
    r"\b(?:hablar|comunicarme|conversar) con (?:alguien|un ser humano|(?:un|una|algun) "
    r"(?:humano|persona|agente|operador|operadora|asesor|asesora|representante))\b",
    r"\b(?:quiero|necesito|paseme con|pasame con|paseme a) (?:un |una |a un |a una )?(?:humano|persona real|"
    r"agente|operador|asesor|representante)\b",
    r"\bpersona (?:real|de verdad)\b",
    # Italian
    r"\b(?:parlare|comunicare|chattare) con (?:qualcuno|un essere umano|(?:un|una|un vero|una vera) "
    r"(?:umano|persona|operatore|operatrice|agente|consulente))\b",
    r"\b(?:voglio|vorrei|mi passi|passatemi) (?:un |una )?(?:operatore|operatrice|umano|persona vera|"
    r"persona reale|consulente|agente)\b",
    r"\bpersona (?:vera|reale)\b",
    # Portuguese
    r"\b(?:falar|conversar) com (?:alguem|um ser humano|(?:um|uma|o|a) (?:humano|pessoa|atendente|agente|"
    r"operador|operadora|consultor|consultora))\b",
    r"\b(?:quero|preciso de|gostaria de) (?:um |uma )?(?:atendente|humano|pessoa real|agente|operador)\b",
    r"\bpessoa (?:real|de verdade)\b",
    # Dutch
    r"\b(?:spreken|praten|chatten|verbonden worden) met (?:iemand|(?:een|uw) (?:echte |echt )?"
    r"(?:mens|medewerker|persoon|agent|adviseur))\b",
    r"\b(?:een|iemand|echte) (?:echte |echt )?(?:mens|medewerker|persoon)\b.{0,20}\b(?:spreken|praten)\b",
    r"\b(?:ik wil|ik wil graag|mag ik) (?:een |met een )?(?:echt |echte )?(?:mens|medewerker|persoon)\b",
    r"\b(?:verbind|verbindt|zet) (?:me|mij) (?:door )?(?:met|naar|door naar) (?:een|iemand|uw)\b",
)
# Requests for a person made indirectly: someone to call back or look at the user's case, a preference for a
# person, a line with real people, nobody to talk to. High precision only: each names a person (someone, an
# adviser, one of your staff) AND contact with the user (call me, contact me, look at my file).
_PERSON_EN = (
    r"(?:someone|somebody|anyone|anybody|a person|a human|an? (?:adviser|advisor|agent|representative)|"
    r"a member of (?:your )?staff|one of your (?:team|staff|colleagues|people|advisers|advisors|agents)|"
    r"a colleague(?: of yours)?|someone from your (?:side|team|office))"
)
EXPLICIT_INDIRECT = _any(
    # English
    rf"\b{_PERSON_EN}\b.{{0,30}}\b(?:call|ring|phone|contact|e-?mail|get back to) me\b",
    r"\b(?:call|ring|phone) me back\b|\bhave (?:someone|somebody) (?:call|ring|phone|contact)\b",
    rf"\b{_PERSON_EN}\b.{{0,30}}\b(?:look|go) (?:at|into|over|through) (?:my|this) (?:file|case|account|situation)\b",
    rf"\b(?:reach|get hold of|speak to|talk to) {_PERSON_EN}\b",
    rf"\b(?:i'd|i would) (?:rather|prefer)\b.{{0,40}}\b(?:person|human|{_PERSON_EN})",
    r"\b(?:real|actual) (?:people|humans)\b",
    r"\b(?:nobody|no one|noone) (?:i can|to) (?:talk|speak)\b",
    r"\b(?:pass|hand|transfer|forward) (?:my|this) (?:case|file|query|issue) (?:on )?to (?:a|one of your|someone|"
    r"somebody|a colleague)\b",
    r"\b(?:appointment|call) with an? (?:adviser|advisor)\b",
    r"\b(?:i asked for|i need one of your|get me one of your) (?:a |an )?(?:person|human|real person|staff|people)\b",
    r"\bwho (?:can|should|do) i (?:call|ring|phone) (?:about|regarding|for) my\b",
    r"\b(?:reach|contact) (?:your )?(?:customer (?:service|support)|support (?:staff|team)) directly\b",
    # Asked again in other languages ("I asked for a person"), and "whom can I call about my case"
    r"\b(?:j'ai demande|je demande) (?:une personne|un humain|un conseiller|quelqu'un)\b|\bqui puis-je appeler\b",
    r"\bich (?:wollte|will|mochte|brauche) (?:einen|eine) (?:menschen|mitarbeiter\w*|kundenberater\w*)\b",
    r"\bwen kann ich\b.{0,30}\banrufen\b|\ban einen kollegen weitergeben\b",
    r"\b(?:pedi|quiero|le dije que quiero) (?:una persona|un humano|a alguien de verdad)\b|\ba quien puedo llamar\b",
    r"\bho chiesto (?:una persona|un operatore)\b|\bchi posso chiamare\b|\bpassare il mio caso\b",
    r"\b(?:ik vroeg om|ik wil) (?:een persoon|een mens|iemand)\b|\bwie kan ik bellen\b|\bdoorgeven aan een collega\b",
    r"\bprosi[lł]\w* o (?:cz[lł]owieka|konsultanta|kontakt z kims)\b|\bdo kogo moge zadzwonic\b",
    r"\b(?:polacz\w*|przekaza\w*) (?:mnie|moja sprawe) (?:z|do|koledze)\b",
    r"\bquero (?:uma pessoa|alguem de verdade|um atendente)\b|\bpara quem posso ligar\b|\bpassar o meu caso\b",
    # Whom to turn to when the bot cannot help ("who do I talk to when the app doesn't know?"), eight languages
    r"\bwho (?:do|can|should) i (?:talk|speak|turn|go) to\b|\ba qui (?:dois-je|puis-je) (?:m'adresser|parler)\b",
    r"\ban wen (?:wende|kann|soll) ich mich\b|\bcon quien (?:hablo|puedo hablar)\b|\ba quien (?:acudo|me dirijo)\b",
    r"\ba chi (?:mi rivolgo|posso rivolgermi|posso parlare)\b|\bbij wie (?:moet|kan) ik (?:zijn|terecht)\b",
    r"\bdo kogo (?:mam sie|moge sie|sie) zwrocic\b|\bcom quem (?:eu )?(?:falo|posso falar)\b",
    # A line staffed by people ("a hotline with real people", "gente de verdad")
    r"\b(?:gente|pessoas|personas|persone|ludzi\w*|leute|mensen|people) (?:real|de verdad|de verdade|vere|reali|"
    r"prawdziw\w*|echte|echt)\b|\bprawdziw\w* (?:ludzi\w*|osob\w*)\b",
    r"\b(?:passe-me|ponha-me em contacto com|falar com) (?:a )?(?:um atendente|um assistente|alguem)\b",
    # French
    r"\b(?:quelqu'un|un conseiller|une conseillere|un de vos collegues|un collegue|une personne)\b.{0,40}"
    r"\b(?:me rappeler|m'appeler|me contacter|me recontacter|me telephoner|m'ecrire|revenir vers moi|"
    r"regarder mon dossier|s'occuper de mon dossier)\b",
    r"\bqu'on me (?:rappelle|contacte|recontacte|telephone|appelle)\b",
    r"\b(?:joindre|contacter) (?:un conseiller|une conseillere|quelqu'un|une personne|votre service client)\b",
    r"\bpersonne a qui parler\b|\bde vraies personnes\b|\brendez-vous avec un conseiller\b",
    r"\bje prefererais\b.{0,40}\b(?:une personne|quelqu'un|un conseiller|votre equipe)\b",
    # German
    r"\b(?:jemand|jemanden|ein(?:e|en|er)? (?:ihrer |von ihren )?(?:mitarbeiter|berater|kollegen?|sachbearbeiter)"
    r"\w*)\b.{0,40}\b(?:zuruckrufen|anrufen|ruft|meldet|melden|kontaktieren|ansehen|anschauen|prufen)\b",
    r"\bruckruf\b|\bzuruckgerufen\b|\bjemanden (?:erreiche|erreichen)\b|\berreiche ich jemanden\b",
    r"\b(?:echte|echten) (?:leute|menschen)\b|\bniemanden?\b.{0,30}\b(?:sprechen|reden)\b",
    r"\blieber mit (?:einem|einer|jemandem)\b|\btermin bei einem berater\b",
    # Spanish
    r"\b(?:alguien|un (?:agente|gestor|asesor|companero)|una persona)\b.{0,40}\b(?:me llame|llamarme|"
    r"devolverme la llamada|me devuelva la llamada|ponerse en contacto conmigo|me escriba|me contacte|"
    r"revisar mi (?:expediente|caso)|revise mi (?:expediente|caso))\b",
    r"\bme (?:llamaran|llamen|devuelvan la llamada)\b|\bnadie con quien hablar\b|\bpersonas de verdad\b",
    r"\bprefiero\b.{0,40}\b(?:una persona|alguien|un agente|un gestor)\b|\bcita con un (?:gestor|asesor)\b",
    # Italian
    r"\b(?:qualcuno|un operatore|un consulente|un (?:suo|vostro) collega|una persona)\b.{0,40}\b(?:richiamarmi|"
    r"mi richiami|chiamarmi|mi chiami|ricontattarmi|contattarmi|mi contatti|scrivermi|guardare la mia pratica|"
    r"controllare la mia pratica)\b",
    r"\bessere richiamat[oa]\b|\bfatemi (?:contattare|richiamare|chiamare)\b|\bnessuno con cui parlare\b",
    r"\bpersone vere\b|\bpreferirei\b.{0,40}\b(?:una persona|qualcuno|un operatore)\b",
    r"\bappuntamento con un consulente\b",
    # Dutch
    r"\b(?:iemand|een medewerker|een adviseur|een collega)\b.{0,40}\b(?:terugbellen|(?:me|mij) (?:terug)?bellen|"
    r"contact met (?:me|mij) (?:laten )?opnemen|(?:me|mij) mailen|me mailt|me belt|naar mijn dossier (?:laten )?kijken|"
    r"mijn dossier bekijken)\b",
    r"\bteruggebeld\b|\bgebeld worden\b|\bniemand met wie ik\b|\bechte mensen\b|\bliever met (?:een|iemand)\b",
    r"\bafspraak (?:maken )?met een adviseur\b",
    # Polish (folded: accents dropped, "l" with stroke kept)
    r"\b(?:rozmawiac|porozmawiac|polaczyc|skontaktowac|rozmowy|rozmowe)\b.{0,25}\bz (?:konsultantem|"
    r"cz[lł]owiekiem|pracownikiem|doradca|kims|prawdziwa osoba)\b",
    r"\boddzwoni\w*|\boddzwonieni\w*|\bktos\b.{0,40}\b(?:(?:zadzwonic|zadzwoni) do mnie|skontaktowac sie ze mna|"
    r"skontaktuje sie ze mna|sprawdzi\w* moj\w*|przejrz\w* moj\w*)",
    r"\bprawdziwi ludzie\b|\bnikogo,? z kim\b|\b(?:kontakt|polaczenie) z (?:prawdziwa osoba|konsultantem)\b",
    # Portuguese
    r"\b(?:alguem|um (?:atendente|gestor|assistente|colega)|uma pessoa)\b.{0,40}\b(?:me ligar|ligar-me|"
    r"ligue-me|me ligue|contactar-me|me contactar|me contacte|contacte-me|me responder|ver o meu processo)\b",
    r"\bligarem-me\b|\bme liguem\b|\bpessoas a serio\b|\bpessoas de verdade\b",
    r"\b(?:prefiro|preferia)\b.{0,40}\b(?:uma pessoa|alguem|um atendente)\b",
)
# A request that is only a person and a courtesy ("A human, please.", "Een mens graag.", "Noch einmal: einen
# Mitarbeiter, bitte.", "konsultant, prosze", "Mensch. Jetzt."), in eight languages; the message, or its last
# sentence ("I already clicked that, it goes nowhere. HUMAN."), must be that request and nothing else.
_BARE_PERSON = (
    r"(?:human|person|agent|operator|representative|adviser|advisor|real person|someone real|mensch(?:en)?|"
    r"mitarbeiter(?:in)?|berater(?:in)?|personne|humain|conseiller(?:e)?|vraie personne|persona|humano|umano|"
    r"operador(?:a)?|operatore|asesor(?:a)?|agente|atendente|mens|medewerker|persoon|adviseur|cz[lł]owiek\w*|"
    r"konsultant\w*|osob\w*|pessoa|consultor(?:a)?)"
)
_COURTESY = (
    r"(?:please|pls|now|thanks|thank you|bitte|danke|s'il vous plait|svp|stp|merci|por favor|gracias|per favore|"
    r"grazie|graag|alstublieft|alsjeblieft|dank je|dank u|prosze|dziekuje|obrigad[oa]|ja|jetzt|sofort|maintenant|"
    r"ahora|ya|adesso|subito|nu|meteen|teraz|juz|agora|asap)"
)
_ARTICLE = r"(?:a|an|one|ein|eine|einen|un|une|uno|una|um|uma|een|jakis|jakiegos|the)"
BARE_PERSON_REQUEST = re.compile(
    rf"(?:^|[.!?:] )(?:{_ARTICLE} )?(?:real |echte[nr]? |vrai |vraie |de verdad |vero |echt )?"
    rf"{_BARE_PERSON}(?:[,.]? {_COURTESY}){{0,2}}[.!]*$"
)
# A machine, in the eight languages ("a bot", "une IA", "ein Roboter", "un'IA", "sztuczna inteligencja").
_MACHINE = (
    r"(?:(?:a|an|un|une|uno|una|um|uma|ein|eine|een|de|la|el|il|o|a) |un')?"
    r"(?:(?:chat)?bot(?:em|a|y)?|robot(?:em|a|y)?|ai|a\.i\.|ia|ki|"
    r"machine|maschine|maquina|macchina|computer|programm\w*|program\w*|sztuczn\w* inteligencj\w*|"
    r"automat\w*)\b"
)
# "speak to someone in HR about leave", "talk to my manager": routine questions, not a request for support.
EXPLICIT_EXCLUSIONS = _any(
    r"\bhow (?:do|can|would) i (?:become|hire|train|add|create|configure|install|set up|register) "
    r"(?:a |an )?(?:support )?(?:agent|representative|operator)",
    r"\b(?:human resources|hr department|my manager|my supervisor|my boss|line manager|a colleague(?! of yours)|"
    r"payroll(?: team)?|people team)\b",
    r"\b(?:lohnbuchhaltung|kadr\w*|service paie|a la paie|buste paga|nomina|salarisadministratie|"
    r"mon responsable|mi jef[ae]|il mio responsabile|a minha chefe|o meu chefe)\b",
    # One's own superior, as "my manager" above; a request for "einen Vorgesetzten" or "kierownika" is for a person.
    r"\b(?:mein(?:e[mnrs]?)? (?:direkte[nr]? )?vorgesetzte[nr]?|mijn (?:directe )?leidinggevende|"
    r"(?:moj\w*|moim|mojemu) (?:bezposredni\w* )?kierownik\w*)\b",
    r"\b(?:agent|operator) (?:software|installer|service|version|process|role|license|licence)\b",
    r"\bwhat (?:does|do) (?:a |an |the )?(?:support )?(?:agent|operator|representative)s? do\b",
    r"\bdoes a (?:human|person) (?:approve|review|check|sign)\b",
    r"\b(?:rh|ressources humaines|personalabteilung|recursos humanos|risorse umane|personeelszaken)\b",
    # HR by its two letters after a preposition, in eight languages ("someone in HR", "iemand van HR", "z kims z HR")
    r"\b(?:in|from|of|at|with|to|ask|tell|van|bij|met|z|ze|w|von|bei|der|de|des|aux?|di|do|da|dos|del|con|dal|dalle) "
    r"(?:hr|rh|kadr\w*)\b",
    # Whether a real person does a step of a process ("does a real person review claims?") is not a request for one
    r"\b(?:does|do) (?:a |an )?(?:real |actual )?(?:person|human|people|humans) (?:ever )?(?:review|check|read|approve|"
    r"verif|sign|process)\w*",
    r"\best-ce qu'(?:une vraie personne|un vrai humain|un etre humain|un humain) (?:verifie|controle|lit|valide|relit|"
    r"traite|examine)\b",
    r"\b(?:pruft|liest|kontrolliert|bearbeitet|genehmigt|sieht|sichtet) (?:ein|eine) (?:echte[rn]? |richtige[rn]? )?"
    r"(?:mensch|person|mitarbeiter\w*)\b",
    r"\bpersona (?:real|de verdad|vera|reale) (?:revisa|lee|comprueba|verifica|aprueba|valida|controlla|legge|approva)"
    r"\w*",
    r"\b(?:controleert|leest|beoordeelt|keurt) (?:een )?(?:echt|echte) (?:persoon|mens)\b",
    r"\bprawdziwa osoba (?:sprawdza|czyta|weryfikuje|zatwierdza)\b",
    r"\bpessoa (?:real|de verdade) (?:verifica|le|reve|aprova|valida|analisa)\b",
    # Curiosity about what the bot is, asked as "a person or an AI?" (either order, eight languages), is a question
    # for the bot to answer, not a request to be handed over.
    rf"\b(?:human|person|mensch|personne|humain|persona|humano|umano|mens|persoon|osoba|cz[lł]owiek\w*|pessoa)\b[^.!?]{{0,12}}"
    rf"\b(?:or|oder|ou|o|of|czy|albo)\b {_MACHINE}",
    rf"{_MACHINE} (?:or|oder|ou|o|of|czy|albo)\b[^.!?]{{0,25}}\b(?:human|person|mensch|personne|humain|persona|"
    r"humano|umano|mens|persoon|osoba|cz[lł]owiek\w*|pessoa)\b",
)

# --- high-risk intents ---------------------------------------------------------------------------------
# Signals of self-harm: the decision answers them with the bot's support resources and an urgent handoff.
SELF_HARM = _any(
    r"\b(?:kill myself|end my life|end it all|suicid\w*|self[- ]harm|want to die|don't want to live|"
    r"do not want to live|better off without me)\b",
    r"\b(?:selbstmord|umbringen|suizid|nicht mehr leben)\b",
    r"\b(?:me suicider|envie de mourir|je veux mourir|mettre fin a mes jours)\b",
    r"\b(?:suicidarme|quiero morir|me quiero morir)\b",
    r"\b(?:suicidarmi|voglio morire|togliermi la vita)\b",
    r"\b(?:me matar|quero morrer|acabar com a minha vida)\b",
    r"\b(?:zelfmoord|dood willen|ik wil dood|een eind aan mijn leven)\b",
    r"\b(?:samobojstw\w*|odebrac sobie zycie|chce umrzec)\b",
    # Gathering the means (pills saved up) and no reason left to live, in the eight languages
    r"\b(?:stockpil\w*|saving up|hoard\w*) (?:my |all my |the )?(?:pills|medication|medicine|tablets|sleeping pills)\b",
    r"\bno (?:point|reason) (?:in |to )?(?:living|go on living|being alive|carry on living)\b",
    r"\b(?:accumule|j'accumule) (?:mes |des )?(?:medicaments|cachets|comprimes)\b",
    r"\bplus (?:aucune )?raison de vivre\b",
    r"\btabletten (?:gesammelt|sammeln|gehortet|horten)\b|\bkeinen sinn mehr zu leben\b",
    r"\bacumulando (?:pastillas|medicamentos|mis pastillas)\b|\bninguna razon para vivir\b",
    r"\b(?:accumulando|messo da parte) (?:pastiglie|pillole|farmaci|medicine)\b|\bnessun motivo per vivere\b",
    r"\bpillen (?:verzameld|verzamel|opgespaard|opsparen)\b|\bgeen reden (?:meer )?om te leven\b",
    r"\b(?:zbieram|odkladam) (?:tabletki|leki)\b|\bnie (?:mam po co|chce juz) zyc\b",
    r"\b(?:a juntar|juntando) (?:comprimidos|medicamentos)\b|\bnenhuma razao para viver\b",
)
HIGH_RISK: dict[str, re.Pattern[str]] = {
    "account_closure": _any(
        r"\b(?:close|delete|cancel|terminate|shut down|deactivate|remove) (?:my|our) (?:whole |entire )?"
        r"(?:account|accounts|subscription|contract|membership|profile|customer account)\b",
        r"\b(?:closing|deleting|cancelling|canceling|terminating) (?:my|our) (?:account|subscription|contract|"
        r"membership)\b",
        r"\b(?:i|we) (?:want|would like|wish|need) to (?:leave|quit) (?:your|this) (?:bank|service|company)\b",
        r"\bkonto\b.{0,25}\b(?:kundigen|schliessen|loschen|auflosen|kundigung)\b",
        r"\b(?:kundigen|schliessen|loschen) (?:sie )?(?:mein|unser)(?:en)? (?:konto|vertrag|abo|abonnement)\b",
        r"\b(?:fermer|cloturer|supprimer|resilier) (?:mon|notre|le) (?:compte|contrat|abonnement)\b",
        r"\b(?:cerrar|cancelar|eliminar|dar de baja) (?:mi|nuestra) (?:cuenta|suscripcion|contrato)\b",
        r"\bdar(?:me)? de baja\b",
        r"\b(?:chiudere|cancellare|disdire|eliminare) (?:il mio|il nostro|la mia) (?:conto|account|abbonamento|"
        r"contratto)\b",
        r"\b(?:encerrar|cancelar|fechar|excluir) (?:a )?(?:minha|nossa) (?:conta|assinatura)\b",
        r"\b(?:mijn|ons) (?:account|rekening|abonnement|contract) (?:opzeggen|opheffen|sluiten|verwijderen)\b",
        r"\b(?:opzeggen|opheffen|sluiten) van (?:mijn|ons) (?:account|rekening|abonnement)\b",
    ),
    "fraud": _any(
        r"\bunauthori[sz]ed (?:charge|transaction|payment|purchase|withdrawal|transfer|debit|access|login)s?\b",
        r"\b(?:i (?:did not|didn't|never) (?:make|authori[sz]e|buy|order)) (?:this|these|that|those)\b",
        r"\b(?:someone|somebody) (?:has )?(?:used|accessed|hacked|stole|took over|logged into) my\b",
        r"\bmy (?:account|card|identity) (?:was|has been|got) (?:hacked|stolen|compromised|taken over)\b",
        r"\b(?:stolen|cloned) (?:credit |debit )?card\b|\bidentity theft\b",
        r"\bnicht autorisierte (?:abbuchung|zahlung|transaktion)",
        r"\b(?:transaction|paiement|cargo|pago|transacao|transaccion|compra) "
        r"(?:non autorise|no autorizad|nao autorizad)",
        r"\bniet geautoriseerde (?:betaling|transactie|afschrijving)\b",
    ),
    "billing_dispute": _any(
        r"\b(?:charged|billed|debited) (?:me )?(?:twice|two times|double|incorrectly|wrongly|the wrong amount|"
        r"too much)\b",
        r"\b(?:double|over)[- ]?(?:charged|billed|charge)\b",
        r"\b(?:dispute|disputing|contest|contesting) (?:a |the |this |my |that |our )?(?:charge|payment|bill|invoice|"
        r"transaction|fee)s?\b",
        r"\bchargeback\b",
        r"\b(?:wrong|incorrect) (?:charge|amount|bill|invoice) (?:on|in) my\b",
        r"\b(?:refund) (?:me|my money)\b|\bwhere is my refund\b|\bi (?:want|demand) (?:a|my) refund\b",
        r"\b(?:doppelt|zweimal|falsch) (?:abgebucht|berechnet|belastet)\b|\brechnung (?:ist )?falsch\b",
        r"\b(?:facture|debite|preleve)s? (?:deux fois|a tort)\b|\bcontester (?:un|le|ce) (?:prelevement|paiement|"
        r"debit|montant)\b",
        r"\b(?:cobrado|cobraron|cobrado) (?:dos veces|de mas|duas vezes|a mais)\b|\bme cobraron dos veces\b",
        r"\baddebitat[oi] (?:due volte|per errore)\b|\bcontestare (?:un|l'|il) (?:addebito|pagamento)\b",
        r"\b(?:dubbel|twee keer|onterecht) (?:afgeschreven|gefactureerd|in rekening gebracht)\b",
    ),
    "legal_threat": _any(
        r"\b(?:my|our) (?:lawyer|attorney|solicitor|legal counsel)s? (?:will|is going to|are going to|'ll) "
        r"(?:be in touch|contact|write to|hear|deal with|sue|take)",
        r"\b(?:hear from|speaking to|speak to|talk to|contact(?:ing)?|instruct(?:ing)?|consult(?:ing)?) (?:my|our) "
        r"(?:lawyer|attorney|solicitor)s?\b",
        r"\b(?:sue|suing) (?:you|your|the company|this company|them)\b|\blawsuit\b",
        r"\b(?:legal action|legal proceedings|small claims court)\b",
        r"\b(?:take|taking) (?:you|this|them|it) to court\b",
        r"\b(?:report|reporting) (?:you|this|your company) to the (?:regulator|ombudsman|authorities|fca|cfpb)\b",
        r"\b(?:rechtliche schritte|verklagen|vor gericht)\b",
        r"\b(?:mein|meinen|meinem) anwalt (?:wird|einschalten|kontaktier)",
        r"\b(?:poursuites judiciaires|poursuivre en justice|porter plainte|au tribunal)\b|\bmon avocat (?:va|vous)\b",
        r"\b(?:demandar(?:les|los)?|accion legal|acciones legales|denunciar(?:les)?)\b|\bmi abogado (?:va|les|os)\b",
        r"\b(?:vie legali|azione legale|fare causa|denunciare)\b|\bil mio avvocato (?:vi|sta|fara)\b",
        r"\b(?:processar (?:voces|a empresa)|acao judicial|medidas legais)\b|\bo meu advogado (?:vai|ira)\b",
        r"\b(?:juridische stappen|rechtszaak|naar de rechter|aanklagen)\b|\bmijn advocaat (?:gaat|zal|neemt)\b",
    ),
    "compliance": _any(
        r"\b(?:gdpr|dsgvo|rgpd|lgpd|avg|ccpa)\b.{0,40}\b(?:request|erase|delete|access|copy|export|complaint|"
        r"violat|breach|anfrage|auskunft|loschung|demande|solicitud|richiesta|solicitacao|verzoek|inzage)",
        r"\b(?:subject access request|dsar|right to be forgotten|right of access|right to erasure)\b",
        r"\b(?:delete|erase|remove|wipe) (?:all )?(?:of )?my (?:personal )?(?:data|information|details)\b",
        r"\b(?:a copy of|access to|export) (?:all )?(?:of )?(?:the |my )?personal data\b",
        r"\b(?:data breach|data leak|leaked my data|whistleblow\w*)\b",
        r"\breport (?:a )?(?:compliance|data protection|privacy|ethics) (?:violation|breach|concern|issue)\b",
        r"\b(?:recht auf vergessenwerden|auskunft uber (?:meine|alle) (?:daten|personenbezogenen))\b",
        r"\b(?:droit a l'oubli|supprimer (?:toutes )?mes donnees)\b",
        r"\b(?:derecho al olvido|borrar (?:todos )?mis datos)\b",
        r"\b(?:diritto all'oblio|cancellare (?:tutti )?i miei dati)\b",
        r"\b(?:direito ao esquecimento|apagar (?:todos )?os meus dados|excluir meus dados)\b",
        r"\b(?:recht op vergetelheid|verwijder (?:al )?mijn (?:persoons)?gegevens)\b",
    ),
    "vulnerable_customer": _any(
        SELF_HARM.pattern,
        r"\bmy (?:wife|husband|partner|mother|mum|mom|father|dad|son|daughter|child|brother|sister) "
        r"(?:just |recently )?(?:died|passed away|has died|is dying)\b",
        r"\b(?:domestic (?:abuse|violence)|abusive (?:partner|relationship)|being abused)\b",
        r"\b(?:can't|cannot|can not) afford (?:food|to eat|rent|my medication|heating)\b",
        r"\b(?:i am|i'm) (?:homeless|in crisis|terminally ill|desperate)\b|\bfinancial hardship\b",
        r"\b(?:dementia|alzheimer'?s)\b.{0,40}\b(?:my|i|mother|father|account)\b",
    ),
}
# Routine questions that only look like a high-risk intent ("how do I close a ticket", "fraud training").
HIGH_RISK_EXCLUSIONS: dict[str, re.Pattern[str]] = {
    "account_closure": _any(
        r"\b(?:close|closing|delete|cancel) (?:a|the|my|this|our) (?:ticket|tab|window|app|application|browser|"
        r"laptop|incident|case|request|purchase order|po|sprint|meeting|door|issue|pull request|pr)\b",
        r"\b(?:close|cancel) (?:my|our) (?:account|accounts) (?:of|for|in) (?:a|the|our) (?:customer|client|crm)\b",
        # Closing paperwork, leaving a mailing list, dropping a draft, in eight languages
        r"\b(?:close|submit|delete|cancel) (?:a|the|my|this|our) (?:expense report|expense claim|timesheet|draft|"
        r"reservation|booking)\b|\bunsubscribe from (?:the|a|your|this|our) (?:\w+ )?(?:newsletter|mailing list|emails"
        r"?)\b",
        r"\b(?:cloturer|fermer|supprimer|annuler) (?:ma|la|une|mon|le|un) (?:note de frais|brouillon|reunion|ticket|"
        r"reservation)\b|\bdesabonner de la (?:newsletter|lettre)\b",
        r"\b(?:spesenabrechnung|entwurf|meeting|besprechung|ticket|newsletter)\w* (?:schliessen|loschen|absagen|"
        r"abbestellen|abmelden)\b",
        r"\b(?:cerrar|borrar|cancelar|eliminar) (?:un|el|mi|la|una) (?:ticket|borrador|reunion|informe de gastos|"
        r"reserva)\b|\bdarme de baja (?:del|de la) (?:boletin|newsletter)\b",
        r"\b(?:chiudere|chiudo|eliminare|elimino|annullare|annulla) (?:un|il|la|una|mio|mia) (?:ticket|bozza|riunione|"
        r"nota spese|prenotazione)\b",
        r"\b(?:sluit|sluiten|verwijder|verwijderen|annuleer|annuleren) (?:een|het|de|mijn) (?:ticket|concept|vergaderi"
        r"ng|"
        r"declaratie|reservering)\b|\bafmelden voor de nieuwsbrief\b",
        r"\b(?:zamknac|zamknij|usunac|usun|odwolac|odwolaj) (?:zg[lł]oszenie|szkic|spotkanie|rozliczenie|rezerwacj[eę]"
        r")\b",
        r"\b(?:fechar|fecho|apagar|apago|cancelar) (?:um|o|a|uma|meu|minha) (?:ticket|rascunho|reuniao|nota de despesa"
        r"s|"
        r"reserva)\b",
    ),
    "fraud": _any(
        r"\bfraud (?:awareness|training|course|module|policy)\b",
        # Training and prevention courses in the other languages ("formación de prevención de fraude")
        r"\b(?:formation|formacion|formacao|formazione|curso|corso|cursus|training|szkoleni\w*|schulung|kurs)\b"
        r"[^.?!]{0,40}\b(?:fraud\w*|frode|frodi|betrug\w*|oszust\w*)",
        r"\b(?:prevenc\w*|prevenzione|preventie|praventions?|sensibilisation)\b[^.?!]{0,15}\b(?:fraud\w*|frod\w*|"
        r"betrug\w*)",
    ),
    "legal_threat": _any(
        r"\b(?:legal (?:team|department)|contract review|our lawyers? (?:review|approve|sign)|court reporter|"
        r"food court|tennis court)\b"
    ),
    "compliance": _any(r"\b(?:gdpr|compliance|privacy|data protection) (?:training|course|module|deadline)\b"),
    "vulnerable_customer": _any(
        r"\b(?:kill|killed|killing) (?:the|a|this) (?:process|job|task|session|app)\b|\bkilling me\b"
    ),
}

# --- frustration and sarcasm ---------------------------------------------------------------------------
FRUSTRATION = _any(
    r"\b(?:useless|pointless|worthless|hopeless|ridiculous|pathetic|rubbish|garbage|a joke|waste of (?:my )?time)\b",
    r"\b(?:stupid|dumb|idiotic|terrible|awful|horrible) "
    r"(?:bot|robot|machine|assistant|chatbot|system|answer|answers)\b",
    r"\b(?:not|isn't|wasn't|aren't|never) (?:helpful|helping|listening)\b",
    r"\b(?:you(?:'re| are)? (?:not|never) (?:listening|understanding|helping))\b",
    r"\b(?:i|i've|i have) (?:already|just) (?:told|said|asked|explained)\b",
    r"\bhow many times\b|\bfor the (?:last|hundredth|third|fourth|fifth) time\b",
    r"\b(?:this is|that's|that is|it's|for) the (?:second|third|fourth|fifth|tenth|\d+(?:st|nd|rd|th)) time\b",
    r"\b(?:third|fourth|fifth|tenth|\d+(?:rd|th)) time (?:(?:that )?(?:i|i've|i have|i'm|i am) )?"
    r"(?:ask|asked|asking|tried|trying|told|telling|said|write|written|writing|call|called|explain|explained)\b",
    r"\b(?:same|wrong) (?:useless )?answer (?:again|every time|over and over)\b|\bgoing (?:round|around) in circles\b",
    r"\b(?:fed up|sick of|sick and tired|had enough|fed-up|so frustrated|infuriating|unacceptable)\b",
    r"\b(?:nutzlos|sinnlos|unbrauchbar|zum dritten mal|zum x-ten mal|reicht mir)\b",
    r"\b(?:inutile|ras le bol|pour la troisieme fois|n'importe quoi)\b",
    r"\b(?:inutil|por tercera vez|no sirve para nada|harto|harta)\b",
    r"\b(?:inutile|per la terza volta|non serve a niente|stufo|stufa)\b",
    r"\b(?:inutil|pela terceira vez|nao serve para nada|cansado disso)\b",
    r"\b(?:nutteloos|waardeloos|voor de derde keer|ik ben het zat)\b",
)
SARCASM = _any(
    r"\bthanks? (?:a lot |so much |very much )?for nothing\b|\bthank you for nothing\b",
    r"\b(?:great|wonderful|fantastic|brilliant|perfect|lovely|awesome|super)[,.!]* (?:thanks for nothing|another "
    r"(?:useless|pointless|wrong|non-?answer)|just what i needed|so helpful|very helpful|that helps a lot|"
    r"that was useful)\b.{0,3}(?:not|/s|\.{3}|!)?",
    r"\b(?:oh|yeah|wow),? (?:great|sure|really|brilliant|fantastic|thanks)[,.!]* (?:another|that|this|just|so|"
    r"very|thanks)\b",
    r"\b(?:so|very|really|super) helpful[.!]{0,3} ?(?:not|/s|as always|as usual)\b",
    r"\byeah right\b|\bas if that helps\b|\bclearly you (?:can't|cannot)\b",
    r"\b(?:merci pour rien|danke fur nichts|gracias por nada|grazie per niente|obrigado por nada|"
    r"bedankt voor niets)\b",
)
# Plain negativity counts only when it is aimed at the bot or the service, not at the topic of a question.
DIRECTED_AT_BOT = _any(
    r"\b(?:you|your|you're|bot|chatbot|assistant|this chat|this service|answers?|replies|nothing works|support)\b"
)
# Words that are often in capitals for good reason (acronyms) and do not signal shouting.
ACRONYMS = frozenset(
    [
        "VPN",
        "HR",
        "IT",
        "SSO",
        "GDPR",
        "DSGVO",
        "RGPD",
        "PTO",
        "MFA",
        "OTP",
        "API",
        "URL",
        "PDF",
        "CEO",
        "CFO",
        "CTO",
        "VAT",
        "IBAN",
        "BIC",
        "ATM",
        "PIN",
        "SLA",
        "FAQ",
        "USA",
        "UK",
        "EU",
        "AWS",
        "SAP",
        "CRM",
        "ERP",
        "OOO",
        "NDA",
        "KPI",
        "ASAP",
        "USB",
        "HDMI",
        "WIFI",
        "LAN",
        "DNS",
        "SMS",
        "ID",
        "OK",
    ]
)

# --- no-answer replies and failure events --------------------------------------------------------------
NO_ANSWER = _any(
    # English: could not find / answer, not sure, no information, outside what the sources cover, rephrase
    r"\bi (?:could not|couldn't|can't|cannot|was unable to|am unable to|wasn't able to|was not able to) "
    r"(?:find|answer|help with|locate|see|confirm|tell|say|determine|give)\b",
    r"\bi (?:don't|do not|didn't|did not) (?:know|have (?:that|this|enough|any|specific|the|reliable) (?:information|"
    r"details|data|answer)|have information|find (?:anything|any))\b|\bi(?:'m| am) (?:afraid|sorry),? i (?:don't|can't"
    r"|cannot"
    r"|do not|could not|couldn't)\b",
    r"\bi(?:'m| am) (?:not (?:sure|certain)|uncertain|unable to)\b|\bnot in the (?:sources|documents)\b",
    r"\bno (?:relevant |reliable )?(?:information|answer|details|results?) (?:available|found|on|about|for)\b",
    r"\b(?:could|can) you (?:rephrase|clarify|say that differently|be more specific)\b|\bi did(?:n't| not) understand"
    r"\b",
    r"\b(?:outside|beyond) (?:what|the) (?:i|my sources?|the documents?) (?:can|cover|know)\b|\b(?:i have|there is) no"
    r" (?:information|"
    r"details|record|answer)\b|\bunfortunately,? (?:i|that'?s not|there is no)\b|\bhard (?:for me )?to say\b",
    # French
    r"\b(?:je ne suis pas (?:sur|certain)e?|je n'ai pas trouve|je ne sais pas|pourriez-vous (?:reformuler|preciser))\b",
    r"\bje n'ai pas (?:d'information|d'informations|de reponse|acces|les informations|cette information)\b|"
    r"\bje ne (?:peux|parviens|suis) pas (?:a )?(?:repondre|trouver|confirmer|en mesure)\b|\bmalheureusement,? je\b|"
    r"\baucune information\b|\bje ne trouve pas\b|\bdifficile (?:a|de) dire\b",
    # German
    r"\b(?:ich bin (?:mir )?(?:nicht|leider nicht) sicher|konnte (?:das|dazu|ich) .{0,30}nicht finden|weiss ich "
    r"(?:leider )?nicht)\b",
    r"\b(?:leider (?:habe|kann|konnte|weiss|finde) ich|ich (?:habe|finde) (?:dazu |hierzu )?(?:keine|nichts)|keine "
    r"(?:informationen|angaben|antwort) (?:dazu|hierzu|gefunden|vorhanden)|kann ich (?:leider )?nicht (?:beantworten|"
    r"sagen|bestatigen)|keine (?:informationen|angaben|daten)|konnten sie (?:das )?(?:umformulieren|prazisieren)|schwe"
    r"r zu sagen)\b",
    # Spanish
    r"\b(?:no estoy segur[oa]|no (?:he )?encontr[eo]|no lo se|no tengo (?:esa |ninguna |dicha )?(?:informacion|datos|"
    r"acceso|una respuesta)|no (?:puedo|consigo|logro) (?:responder|encontrar|confirmar)|lamentablemente|lo siento,? "
    r"no|no dispongo de|podria reformular|no sabria decir)\b",
    # Italian
    r"\b(?:non sono (?:sicur[oa]|cert[oa])|non ho trovato|non lo so|non ho (?:questa |queste |alcuna |nessuna )?(?:inf"
    r"ormazion[ei]|dati|accesso|una risposta)|"
    r"non (?:posso|riesco a) (?:rispondere|trovare|confermare)|purtroppo non|non dispongo di|potresti riformulare|"
    r"puoi riformulare|difficile dirlo)\b",
    # Dutch
    r"\b(?:ik weet het niet(?: zeker)?|kon dit niet vinden|niet gevonden|ik heb (?:daar |hier )?(?:geen|die) (?:inform"
    r"atie|"
    r"gegevens|antwoord)|helaas (?:kan|weet|heb|vond) ik|ik kan (?:dat|dit|het) niet (?:vinden|beantwoorden|bevestigen"
    r")|"
    r"ik ben (?:er )?niet zeker|kunt u (?:dat|het) anders formuleren|moeilijk te zeggen)\b",
    # Polish
    r"\b(?:nie jestem pew(?:ien|na)|nie znalaz\w+|nie wiem|nie mam (?:tej |takiej |zadnej |zadnych )?(?:informacji|dan"
    r"ych|dostepu|odpowiedzi)|niestety,? "
    r"nie|nie (?:moge|potrafie|umiem) (?:odpowiedziec|znalezc|potwierdzic)|czy mozesz (?:przeformulowac|doprecyzowac)|"
    r"trudno powiedziec)\b",
    # Portuguese
    r"\b(?:nao tenho (?:a )?certeza|nao encontrei|nao sei|nao tenho (?:essa |esta |nenhuma )?(?:informacao|informacoes"
    r"|dados|acesso|uma "
    r"resposta)|infelizmente,? nao|nao (?:consigo|posso) (?:responder|encontrar|confirmar)|nao disponho de|pode "
    r"reformular|dificil dizer)\b",
)
# Event texts come in many log styles ("PaymentTimeout", "status=PENDING", "ERR_TIMED_OUT"); `event_form` turns
# them into words before the patterns below run.
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_LOG_PUNCTUATION = re.compile(r"[_=:;|/\\\[\]{}()<>\"]+")


def event_form(text: str) -> str:
    """An event text as words: camelCase split, log punctuation as spaces, then folded."""
    return fold(_LOG_PUNCTUATION.sub(" ", _CAMEL.sub(" ", text)))


FAILURE_EVENT = _any(
    r"\btim(?:ed|es)? ?-?out\b|\btimeout\b|\bdeadline exceeded\b",
    r"\b(?:unavailable|unreachable|outage|down|offline|not responding|no response|refused|rejected|declined|aborted)\b",
    r"\b(?:error|errors|err|exception|failed|failure|failing|fail|crash(?:ed)?|fault)\b",
    r"\b(?:5\d\d|throttl\w*|rate limit\w*)\b",
    r"\b(?:missing|not found|no data|corrupt\w*) (?:data|record|records|document|documents|profile|customer)?\b",
    r"\bmissing data\b|\bdata (?:is )?missing\b",
    # French, German, Spanish, Italian, Dutch, Polish, Portuguese
    r"\b(?:echec|echoue|erreur|indisponible|delai (?:depasse|expire|d'attente depasse)|panne)\b",
    r"\b(?:fehler|fehlgeschlagen|zeituberschreitung|nicht erreichbar|abgebrochen|abgelehnt|storung)\b",
    r"\b(?:fallo|fallid[oa]|error|tiempo de espera agotado|no disponible|caido|rechazad[oa])\b",
    r"\b(?:errore|fallit[oa]|non riuscit[oa]|non disponibile|tempo scaduto|rifiutat[oa]|interrott[oa])\b",
    r"\b(?:fout|mislukt|storing|niet beschikbaar|time-?out|geweigerd|afgebroken)\b",
    r"\b(?:blad|nieudan\w*|niedostepn\w*|przekroczono czas|odrzucon\w*|awaria)\b",
    r"\b(?:erro|falh(?:a|ou)|indisponivel|tempo esgotado|recusad[oa]|abortad[oa])\b",
)
# Events whose outcome nobody knows (a payment sent but never confirmed): a person must check, even unasked.
UNCERTAIN_EVENT = _any(
    r"\b(?:status|state|outcome|result) (?:is |was |still )?(?:unknown|uncertain|unclear|indeterminate|pending|undeter"
    r"mined)\b",
    r"\b(?:unknown|uncertain|unclear|indeterminate|undetermined) (?:status|state|outcome|result)\b",
    r"\b(?:not|never|no|not yet) (?:been )?(?:confirmed|acknowledged|verified|settled|reconciled)\b|\bno (?:confirmati"
    r"on|"
    r"acknowledg\w*|ack|callback|receipt)\b|\bunconfirmed\b|\bunacknowledged\b",
    r"\bconfirmation not received\b|\b(?:did not|didn't|could not|couldn't|cannot|can't) (?:confirm|verify|determine)"
    r"\b",
    r"\b(?:may|might) (?:not )?have (?:gone through|been applied|been sent|succeeded|failed|been charged|been debited)"
    r"\b",
    r"\b(?:pending|awaiting|waiting for) (?:confirmation|response|settlement|reply|callback|result|the bank)\b|"
    r"\bstill (?:pending|processing|in progress)\b|\bstuck (?:in|at|on)\b|\bin doubt\b|\bpartially (?:applied|"
    r"completed|processed)\b|\bduplicate (?:may|might)\b",
    # French, German, Spanish, Italian, Dutch, Polish, Portuguese
    r"\b(?:statut|etat|resultat) (?:inconnu|incertain|indetermine)\b|\b(?:en attente|non confirme|sans confirmation|"
    r"pas de confirmation|aucune confirmation|pas (?:encore )?confirme)e?s?\b|\btoujours en cours\b",
    r"\b(?:status|zustand|ergebnis) (?:ist )?(?:unbekannt|unklar|ungewiss|offen)\b|\b(?:ausstehend|unbestatigt|nicht "
    r"bestatigt|keine (?:bestatigung|ruckmeldung)|noch in bearbeitung|hangt)\b",
    r"\b(?:estado|resultado) (?:desconocido|incierto|pendiente)\b|\b(?:pendiente de confirmacion|sin confirmar|sin "
    r"confirmacion|no confirmad[oa]|todavia en proceso)\b",
    r"\b(?:stato|esito) (?:sconosciuto|incerto|in sospeso)\b|\b(?:in attesa di (?:conferma|esito|risposta)|non "
    r"confermat[oa]|nessuna conferma|ancora in elaborazione|in sospeso)\b",
    r"\b(?:status|uitkomst|resultaat) (?:is )?(?:onbekend|onzeker)\b|\b(?:niet bevestigd|geen bevestiging|wacht op "
    r"bevestiging|nog in behandeling|in afwachting)\b",
    r"\b(?:status|wynik) (?:jest )?(?:nieznany|niepewny|nieokreslony)\b|\b(?:niepotwierdzon\w*|brak potwierdzenia|"
    r"oczekuje na potwierdzenie|w toku|oczekujac\w*)\b",
    r"\b(?:estado|resultado) (?:desconhecido|incerto|pendente)\b|\b(?:pendente|nao confirmad[oa]|sem confirmacao|"
    r"aguarda(?:ndo)? confirmacao|ainda em processamento)\b",
)
# Events that record ordinary things happening ("session resumed", "agent joined") are not failures.
BENIGN_EVENT = _any(
    r"\b(?:recovered|restored|resolved|back online|succeeded|healthy|no errors?|0 errors)\b",
    r"\b(?:started|resumed|joined|left|switched|language changed|user idle|typing)\b(?!.*\b(?:fail|error|timed))",
    r"\b(?:confirmed|completed|delivered|settled|succeeded|ok|success|successful)\b(?!.*\b(?:not|fail|error|unknown))",
    r"\b(?:reussi|confirme|termine|erfolgreich|bestatigt|abgeschlossen|completad[oa]|confirmad[oa]|completat[oa]|"
    r"confermat[oa]|voltooid|bevestigd|geslaagd|zakonczon\w*|potwierdzon\w*|concluid[oa])\b(?!.*\b(?:non|nicht|no|niet"
    r"|nie|nao)\b)",
)
