"""Every word the acceptance sheet prints itself, in French and in English.

The sheet is signed by a French customer and may be read by an English-speaking engineer, so
no label, verdict word, grade or table heading is written inline in a renderer: they are all
here, each key with its French and its English side by side, so a language can never miss a
word the other has. Sentences that come from the checks (reasons, reserves, findings,
symptoms) are not here: they are message codes rendered by :mod:`harness.messages`.
``reports/html.py`` uses ``STATUS`` and the labels it shares with the sheet, so a verdict has
one wording everywhere.
"""

from __future__ import annotations

Texts = dict[str, str]

LANGS = ("fr", "en")


def _by_lang(words: dict[str, tuple[str, str]]) -> dict[str, Texts]:
    """``{key: (French, English)}`` as ``{lang: {key: word}}``."""
    return {lang: {k: pair[i] for k, pair in words.items()} for i, lang in enumerate(LANGS)}


TEXT = _by_lang({
    "title": ("Feuille de recette", "Acceptance sheet"),
    "subtitle": ("Raccordement SIP professionnel : procès-verbal de recette",
                 "Business SIP service: acceptance report"),
    "customer": ("Client", "Customer"),
    "siret": ("SIRET", "SIRET"),
    "site": ("Site", "Site"),
    "address": ("Adresse", "Address"),
    "integrator": ("Intégrateur", "Integrator"),
    "technician": ("Technicien", "Technician"),
    "date": ("Date des essais", "Test date"),
    "services": ("Services livrés", "Services delivered"),
    "fraud": ("Exposition à la fraude", "Toll-fraud exposure"),
    "fraud_none": ("Depuis internet, aucun des ports qu'un fraudeur essaie ne répond "
                   "(SIP, IAX2, H.323, SCCP, TFTP, web, SSH, telnet), ni avant ni après "
                   "l'enregistrement.",
                   "From the internet, none of the ports a fraudster tries answers (SIP, "
                   "IAX2, H.323, SCCP, TFTP, web, SSH, telnet), before or after registration."),
    "fraud_reached": ("Depuis internet, un fraudeur atteint :",
                      "From the internet, a fraudster reaches:"),
    "fraud_unproven": ("Ce qu'un fraudeur atteint depuis internet n'a pas pu être vérifié "
                       "(réserve ci-dessous).",
                       "What a fraudster reaches from the internet could not be verified "
                       "(reserve below)."),
    "fraud_moves_none": ("Aux manœuvres SIP d'un attaquant (OPTIONS, énumération des postes, "
                         "appel international sans mot de passe), le site n'a opposé que le "
                         "silence ou des refus identiques.",
                         "To an attacker's SIP moves (OPTIONS, extension enumeration, an "
                         "international call without a password), the site gave only silence "
                         "or identical refusals."),
    "fraud_moves": ("Aux manœuvres SIP d'un attaquant depuis internet :",
                    "To an attacker's SIP moves from the internet:"),
    "fraud_moves_unproven": ("Les manœuvres SIP d'un attaquant n'ont pas pu être jouées "
                             "jusqu'au bout (réserve ci-dessous).",
                             "An attacker's SIP moves could not be played through (reserve "
                             "below)."),
    "fraud_gate": ("L'opérateur n'active les appels internationaux que 24 h après une "
                   "vérification réussie du pare-feu et de cette exposition.",
                   "The operator enables international calls only 24 h after a passing "
                   "verification of the firewall and of this exposure."),
    "trunks": ("Trunks SIP", "SIP trunks"),
    "centrex": ("Comptes Centrex", "Centrex accounts"),
    "name": ("Nom", "Name"),
    "user": ("Identifiant SIP", "SIP user"),
    "dids": ("Numéros (SDA)", "Numbers (DIDs)"),
    "channels": ("Canaux", "Channels"),
    "number": ("Numéro", "Number"),
    "operator": ("Opérateur", "Operator"),
    "sip_server": ("Serveur SIP opérateur", "Operator SIP server"),
    "domain": ("Domaine", "Domain"),
    "checks": ("Contrôles et verdicts", "Checks and verdicts"),
    "check": ("Contrôle", "Check"),
    "label": ("Intitulé", "Title"),
    "verdict": ("Verdict", "Verdict"),
    "reserve": ("Réserve", "Reserve"),
    "reason": ("Motif", "Reason"),
    "observation": ("Observation", "Observation"),
    "colon": (" : ", ": "),
    "signoff": ("Prononcé de la recette", "Acceptance decision"),
    "no_reserve": ("Recette prononcée sans réserve", "Accepted without reserve"),
    "with_reserves": ("Recette prononcée avec réserves (voir ci-dessus et ci-dessous)",
                      "Accepted with reserves (see above and below)"),
    "refused": ("Recette refusée", "Acceptance refused"),
    "extra_reserves": ("Réserves complémentaires", "Further reserves"),
    "for_customer": ("Pour le client", "For the customer"),
    "for_integrator": ("Pour l'intégrateur", "For the integrator"),
    "signatory": ("Nom et qualité du signataire", "Signatory name and position"),
    "sign_date": ("Date", "Date"),
    "signature": ("Signature (précédée de « Lu et approuvé »)", "Signature"),
    "annex": ("Annexe technique : éléments de preuve", "Technical annex: evidence"),
    "ladders": ("Échanges SIP (diagrammes en échelle)", "SIP exchanges (ladder diagrams)"),
    "alg": ("SIP ALG : réécritures constatées", "SIP ALG: rewrites seen"),
    "alg_none": ("Aucune réécriture SIP/SDP constatée.", "No SIP/SDP rewrite seen."),
    "direction": ("Sens", "Direction"),
    "witness": ("Témoin", "Witness"),
    "witnesses": ("Témoins (messages comparés)", "Witnesses (messages compared)"),
    "method": ("Méthode", "Method"),
    "transport": ("Transport", "Transport"),
    "delivered": ("Reçu", "Delivered"),
    "element": ("Élément", "Element"),
    "before": ("Envoyé", "Sent"),
    "after": ("Reçu après le routeur", "Received past the router"),
    "no": ("non", "no"),
    "firewall": ("Pare-feu : ports UDP ouverts", "Firewall: open UDP ports"),
    "vantage": ("Point de vue", "Vantage point"),
    "phase": ("Phase", "Phase"),
    "source": ("Source", "Source"),
    "open": ("Ports ouverts", "Open ports"),
    "sent": ("Sondes", "Probes"),
    "seconds": ("Durée (s)", "Time (s)"),
    "others": ("autres sources", "other sources"),
    "media_sources": ("Sources des flux média de l'opérateur", "Operator media sources"),
    "addresses": ("Adresses de l'opérateur : ouverture prouvée par adresse",
                  "Operator addresses: opening proven per address"),
    "roles": ("Rôle", "Role"),
    "ports": ("Ports UDP", "UDP ports"),
    "status": ("État", "Status"),
    "basis": ("Preuve", "Evidence"),
    "tried": ("essayés :", "tried:"),
    "crosscheck": ("Configuration du routeur / mesure", "Router configuration / measurement"),
    "traffic": ("Trafic de l'opérateur : ports RTP échantillonnés",
                "Operator traffic: sampled RTP ports"),
    "port": ("Port", "Port"),
    "outcome": ("Résultat", "Outcome"),
    "first_ms": ("Premier paquet (ms)", "First packet (ms)"),
    "after_ms": ("Après émission du site (ms)", "After the site sent (ms)"),
    "sip_5060": ("SIP 5060 depuis l'opérateur", "SIP 5060 from the operator"),
    "config": ("Configuration", "Configuration"),
    "measured": ("Mesuré", "Measured"),
    "quality": ("Qualité RTP par sens", "RTP quality per direction"),
    "call": ("Appel", "Call"),
    "received": ("Reçus/attendus", "Received/expected"),
    "loss": ("Perte (%)", "Loss (%)"),
    "jitter": ("Gigue (ms)", "Jitter (ms)"),
    "jitter_max": ("Gigue max (ms)", "Max jitter (ms)"),
    "rtt": ("RTT (ms)", "RTT (ms)"),
    "mos": ("MOS", "MOS"),
    "grade": ("Appréciation", "Grade"),
    "problems": ("Problèmes", "Problems"),
    "threshold": ("seuil", "limit"),
    "router": ("Audit du routeur : constats", "Router audit: findings"),
    "severity": ("Gravité", "Severity"),
    "code": ("Code", "Code"),
    "message": ("Constat", "Finding"),
    "lines": ("Lignes de configuration", "Configuration lines"),
    "router_none": ("Aucun constat.", "No finding."),
    "lan_plan": ("Plan des LAN", "LAN plan"),
    "unevaluated": ("Non évalué par l'analyse de la configuration",
                    "Not evaluated by the configuration audit"),
    "incidents": ("Incidents (format ticket opérateur)", "Incidents (operator ticket format)"),
    "inc_date": ("Date", "Date"),
    "inc_time": ("Heure", "Time"),
    "inc_calling": ("Numéro appelant", "Calling number"),
    "inc_called": ("Numéro appelé", "Called number"),
    "inc_symptom": ("Symptôme", "Symptom"),
    "capture": ("Capture réseau (Wireshark)", "Packet capture (Wireshark)"),
    "cap_file": ("Fichier", "File"),
    "cap_side": ("Côté", "Side"),
    "cap_side_agent": ("site (agent de test)", "site (test agent)"),
    "cap_side_operator": ("opérateur", "operator"),
    "cap_compare": ("capture-operator.pcapng : ce qui a franchi le bord de l'opérateur ; "
                     "le comparer à capture.pcapng (ce qui a quitté le site) montre une "
                     "réécriture (ALG) ou une traduction d'adresse (NAT)",
                     "capture-operator.pcapng: what crossed the operator's edge; compared "
                     "with capture.pcapng (what left the site) it shows a rewrite (ALG) or an "
                     "address translation (NAT)"),
    "cap_where": ("Pris dans", "Taken in"),
    "cap_size": ("Taille (Mo)", "Size (MB)"),
    "cap_frames": ("Trames", "Frames"),
    "cap_dropped": ("Perdues", "Dropped"),
    "cap_open": ("Ouvrir capture.pcapng (dossier du rapport) dans Wireshark.",
                 "Open capture.pcapng (the report's folder) in Wireshark."),
    "cap_calls": ("Téléphonie → Appels VoIP : chaque appel, son échelle SIP (Flow Sequence) "
                  "et la lecture de ses flux RTP.",
                  "Telephony → VoIP Calls: every call, its SIP ladder (Flow Sequence) and "
                  "playback of its RTP streams."),
    "cap_streams": ("Téléphonie → RTP → Flux RTP : chaque flux trouvé par le SDP, avec pertes "
                    "et gigue.",
                    "Telephony → RTP → RTP Streams: every stream found from the SDP, with "
                    "loss and jitter."),
    "cap_filter_use": ("Les trames d'un contrôle : coller son filtre d'affichage (ci-dessous) "
                       "dans la barre de filtre.",
                       "A check's frames: paste its display filter (below) into the filter "
                       "bar."),
    "cap_bpf": ("Filtre de capture", "Capture filter"),
    "cap_cli": ("En ligne de commande", "On the command line"),
    "cap_per_check": ("Filtres d'affichage par contrôle", "Display filters per check"),
    "cap_dialogs": ("Dialogues SIP (Call-ID)", "SIP dialogs (Call-ID)"),
    "cap_display": ("Filtre d'affichage", "Display filter"),
    "cap_off": ("Pas de capture : désactivée pour cet essai (--no-capture).",
                "No capture: turned off for this run (--no-capture)."),
    "cap_unavailable": ("Pas de capture", "No capture"),
    "none": ("Néant", "None"),
    "no_port": ("aucun", "none"),
    "generated": ("Document généré le", "Document generated on"),
})

# A check's verdict (CheckResult.status).
STATUS = _by_lang({
    "pass": ("Conforme", "Pass"),
    "fail": ("Non conforme", "Fail"),
    "error": ("Erreur", "Error"),
    "skip": ("Sans objet", "N/A"),
})

# A measured direction's grade (QualityRow.grade).
GRADE = _by_lang({
    "good": ("bonne", "good"),
    "warn": ("limite", "borderline"),
    "bad": ("mauvaise", "bad"),
})

# A router finding's severity (Finding.severity).
SEVERITY = _by_lang({
    "fail": ("bloquant", "fail"),
    "warn": ("avertissement", "warning"),
    "info": ("information", "info"),
})

# Firewall sweeps: where a probe stood and when it swept (Sweep.vantage, Sweep.phase).
VANTAGE = _by_lang({
    "server": ("serveur SIP", "SIP server"),
    "outsider": ("autre adresse", "other address"),
})

# A sampled RTP port's outcome (SampleRow.outcome) and the SIP 5060 proof (sip_proven).
OUTCOME = _by_lang({
    "open": ("ouvert (média reçu en premier)", "open (media arrived first)"),
    "closed": ("fermé (média reçu seulement après émission du site)",
               "closed (media only after the site sent)"),
    "silent": ("non prouvé (aucun média)", "unproven (no media)"),
    "failed": ("non prouvé (appel échoué)", "unproven (call failed)"),
    "sip_new_flow": ("ouvert : INVITE reçu sur un flux que le site n'avait pas ouvert",
                     "open: INVITE received on a flow the site had not opened"),
    "sip_own_flow": ("non prouvé : la requête est arrivée par le flux de l'enregistrement",
                     "unproven: the request came on the registration's flow"),
    "sip_none": ("aucune requête de l'opérateur reçue", "no request from the operator"),
})

# What an operator address does (AddressRow.roles) and where its opening stands.
ROLE = _by_lang({
    "registrar": ("enregistrement", "registrar"),
    "signalling": ("signalisation (proxy)", "signalling (proxy)"),
    "media": ("média (relais)", "media (relay)"),
    "seen": ("vue dans le trafic, absente du profil", "seen in traffic, not in the profile"),
})
ADDRESS_STATUS = _by_lang({
    "proven": ("ouvert, prouvé", "open, proven"),
    "vouched": ("ouvert selon la configuration du routeur",
                "open per the router's configuration"),
    "closed": ("fermé", "closed"),
    "unproven": ("non prouvé", "unproven"),
})
BASIS = _by_lang({
    "operator traffic": ("trafic de l'opérateur", "operator traffic"),
    "server probe sweep": ("balayage depuis la sonde au serveur", "server probe sweep"),
    "router configuration": ("configuration du routeur", "router configuration"),
    "operator traffic and router configuration": (
        "trafic de l'opérateur et configuration du routeur",
        "operator traffic and router configuration"),
})

PHASE = _by_lang({
    "cold": ("à froid", "cold"),
    "warm": ("après enregistrement", "after registration"),
})

# The directions the ALG check names (AlgProbe.direction, a plain string unlike a quality
# row's message); one the table does not know is shown as recorded.
DIRECTION = _by_lang({
    "site→operator": ("site→opérateur", "site→operator"),
    "operator→site": ("opérateur→site", "operator→site"),
    "site→outsider": ("site→sonde extérieure", "site→outsider probe"),
    "outsider→site": ("sonde extérieure→site", "outsider probe→site"),
    "site→registrar": ("site→serveur d'enregistrement", "site→registrar"),
})

# Who saw an ALG probe (AlgProbe.vantage).
WITNESS = _by_lang({
    "server": ("sonde au serveur SIP", "probe at the SIP server"),
    "outsider": ("sonde extérieure", "outsider probe"),
    "registrar": ("serveur d'enregistrement de l'opérateur (sa réponse)",
                  "operator's registrar (its answer)"),
})


def word(table: dict[str, Texts], lang: str, key: str) -> str:
    """``key`` in ``lang`` from one of the tables above; the key itself when it is missing."""
    return table[lang].get(key, key)
