"""The SIP room's messages (see :mod:`harness.messages`): reasons, reserves and call symptoms
of the SIP, NAT and firewall checks and of the SIP/RTP toolkit, in French and English.

A reason is what the customer reads on the sheet next to the verdict: it says what is wrong
and, where the site can act, what to do. Figures go in parameters; protocol detail stays in
the evidence (annex).
"""

from __future__ import annotations

from harness.messages import Catalog

_LIKELY_EN = ("likely causes: a firewall dropping UDP 5060 to or from the server, a SIP ALG in "
              "the router, or a wrong server address in the profile")
_LIKELY_FR = ("causes probables : un pare-feu qui bloque UDP 5060 vers ou depuis le serveur, "
              "un SIP ALG dans le routeur, ou une adresse de serveur erronée dans le profil")

TEXTS: Catalog = {
    # -- reaching the server (toolkit) --------------------------------------------------------
    "SIP_SOCKET": {
        "en": "cannot open a SIP socket on {where}: {detail}",
        "fr": "impossible d'ouvrir un port SIP sur {where} : {detail}",
    },
    "NO_ROUTE_TO_SERVER": {
        "en": "no route from this host to the operator server {server} ({detail}): check the "
              "laptop's network settings on the voice LAN",
        "fr": "aucune route vers le serveur de l'opérateur {server} ({detail}) : vérifier la "
              "configuration réseau du poste sur le LAN voix",
    },
    "NO_SIP_SERVICE": {
        "en": "no SIP service at {server} ({detail}); likely causes: the server's SIP service "
              "is down, or a wrong server address or port",
        "fr": "aucun service SIP sur {server} ({detail}) : service SIP de l'opérateur arrêté, "
              "ou adresse ou port du serveur erronés",
    },
    "NO_RESPONSE": {
        "en": "no response from {server} after {seconds} s{got}; " + _LIKELY_EN,
        "fr": "aucune réponse de {server} en {seconds} s{got} ; " + _LIKELY_FR,
    },
    "LAST_PROVISIONAL": {
        "en": " (last provisional: {line})",
        "fr": " (dernière réponse provisoire : {line})",
    },
    "UNUSABLE_FROM_PEER": {
        "en": " ({count} unusable message(s) from it, last: {note})",
        "fr": " ({count} message(s) inexploitable(s) reçu(s), dernier : {note})",
    },
    "URI_UNROUTABLE": {
        "en": "cannot route to the SIP URI {uri}",
        "fr": "impossible d'acheminer vers l'URI SIP {uri}",
    },
    "CHALLENGE_UNANSWERABLE": {
        "en": "{method}: cannot answer the server's {status} challenge ({detail})",
        "fr": "{method} : impossible de répondre au défi {status} du serveur ({detail})",
    },
    "NO_INVITE": {
        "en": "no INVITE reached {contact} within {seconds} s",
        "fr": "aucun INVITE n'est arrivé sur {contact} en {seconds} s",
    },
    # -- OPTIONS and registration ---------------------------------------------------------------
    "OPTIONS_REFUSED": {
        "en": "the operator server {server} answers {status} {reason}: it is reachable but "
              "refuses service; call the operator's support",
        "fr": "le serveur de l'opérateur {server} répond {status} {reason} : il est joignable "
              "mais refuse le service ; contacter le support de l'opérateur",
    },
    "REGISTER_REFUSED": {
        "en": "registration of {account} refused: {status} {reason}",
        "fr": "l'enregistrement de {account} est refusé : {status} {reason}",
    },
    "REGISTER_REFUSED_AUTH": {
        "en": "registration of {account} refused ({status} {reason}) after our digest answer: "
              "check the password and authentication user against the delivery note",
        "fr": "l'enregistrement de {account} est refusé ({status} {reason}) : vérifier le mot "
              "de passe et l'identifiant d'authentification du bon de livraison",
    },
    "REGISTER_NO_EXPIRY": {
        "en": "the registrar's 200 OK does not say how long the registration lasts",
        "fr": "le 200 OK du serveur d'enregistrement n'indique pas la durée de l'enregistrement",
    },
    "REFRESH_REFUSED": {
        "en": "refresh of the registration refused: {status} {reason}",
        "fr": "le renouvellement de l'enregistrement est refusé : {status} {reason}",
    },
    "UNREGISTER_REFUSED": {
        "en": "de-registration refused: {status} {reason}",
        "fr": "le désenregistrement est refusé : {status} {reason}",
    },
    "CANNOT_REGISTER": {
        "en": "cannot register {account} ({status} {reason}): no test call possible",
        "fr": "impossible d'enregistrer {account} ({status} {reason}) : aucun appel de test "
              "possible",
    },
    # -- calls ----------------------------------------------------------------------------------
    "NO_TEST_NUMBER": {
        "en": "the profile has no operator.test_number: no outbound test call to place",
        "fr": "le profil n'indique pas de numéro de test (operator.test_number) : pas d'appel "
              "sortant à passer",
    },
    "CALL_FAILED": {
        "en": "the test call failed: {status} {reason}",
        "fr": "l'appel de test a échoué : {status} {reason}",
    },
    "CALL_REJECTED": {
        "en": "the call was rejected: {status} {reason}",
        "fr": "l'appel a été rejeté : {status} {reason}",
    },
    "SDP_ANSWER_UNUSABLE": {
        "en": "the far end's SDP answer is unusable ({detail})",
        "fr": "la réponse SDP de l'opérateur est inexploitable ({detail})",
    },
    "SDP_NO_CODEC": {
        "en": "the far end's SDP answer has no voice codec we offered",
        "fr": "la réponse SDP de l'opérateur ne retient aucun codec voix proposé",
    },
    "SDP_OFFER_UNUSABLE": {
        "en": "the caller's SDP offer is unusable ({detail})",
        "fr": "l'offre SDP de l'appelant est inexploitable ({detail})",
    },
    "BYE_REFUSED": {
        "en": "the call's BYE was answered {status}",
        "fr": "la fin d'appel (BYE) a reçu la réponse {status}",
    },
    "CANCELLED_BEFORE_ANSWER": {
        "en": "the caller cancelled (CANCEL) before we answered",
        "fr": "l'appelant a annulé l'appel (CANCEL) avant le décroché",
    },
    "CANCELLED_WHILE_RINGING": {
        "en": "the caller cancelled (CANCEL) while the phone rang, before it was answered",
        "fr": "l'appelant a annulé l'appel (CANCEL) pendant la sonnerie, avant le décroché",
    },
    "NO_ACK": {
        "en": "no ACK came for our 200 OK: the return path of the signalling is broken",
        "fr": "aucun ACK n'a confirmé notre 200 OK : le retour de la signalisation est coupé",
    },
    "CALLER_KEPT_LINE": {
        "en": "the caller did not hang up within {seconds} s (its BYE never arrived); we sent "
              "BYE",
        "fr": "l'appelant n'a pas raccroché en {seconds} s (son BYE n'est jamais arrivé) ; "
              "nous avons raccroché",
    },
    "CALL_CUT_BY_FAR_END": {
        "en": "the call was answered, then the far end hung up after {seconds} s of the "
              "planned {planned} s{after}",
        "fr": "l'appel a été décroché, puis l'opérateur a raccroché après {seconds} s sur les "
              "{planned} s prévues{after}",
    },
    "CALL_BYE_UNANSWERED": {
        "en": "the call was answered and lasted {seconds} s, then our BYE to {server} got no "
              "response in {timeout} s{after}: the far end had most likely dropped the call "
              "already",
        "fr": "l'appel a été décroché et a duré {seconds} s, puis notre BYE vers {server} est "
              "resté sans réponse en {timeout} s{after} : l'opérateur avait très probablement "
              "déjà abandonné l'appel",
    },
    "CALL_GONE_AT_BYE": {
        "en": "the call was answered and lasted {seconds} s, but the far end no longer knew it "
              "when we hung up (481 to our BYE){after}: it had ended the call on its side "
              "without telling us",
        "fr": "l'appel a été décroché et a duré {seconds} s, mais l'opérateur ne le connaissait "
              "plus au raccrochage (481 à notre BYE){after} : il l'avait terminé de son côté "
              "sans nous prévenir",
    },
    "SESSION_TIMER_EXPIRED": {
        "en": "the call was answered, but the far end, which was to refresh the session every "
              "{interval} s (RFC 4028 session timer), sent no refresh: we ended the call after "
              "{seconds} s",
        "fr": "l'appel a été décroché, mais l'opérateur, chargé de rafraîchir la session "
              "toutes les {interval} s (minuterie de session RFC 4028), ne l'a pas fait : nous "
              "avons raccroché après {seconds} s",
    },
    "SESSION_REFRESH_FAILED": {
        "en": "the call was answered, but after {seconds} s the far end did not accept our "
              "session refresh ({method}: {result}): the session timer ended the call",
        "fr": "l'appel a été décroché, mais après {seconds} s l'opérateur n'a pas accepté "
              "notre rafraîchissement de session ({method} : {result}) : la minuterie de "
              "session a mis fin à l'appel",
    },
    "AFTER_THEIR_REQUEST": {
        "en": " (last in-dialog event: its {method}, which we answered {status})",
        "fr": " (dernier événement du dialogue : son {method}, auquel nous avons répondu "
              "{status})",
    },
    "AFTER_OUR_REQUEST": {
        "en": " (last in-dialog event: our {method}, answered {status})",
        "fr": " (dernier événement du dialogue : notre {method}, qui a reçu {status})",
    },
    # -- in-dialog events (toolkit/dialog.py, the evidence's event list) ------------------------
    "EV_MEDIA_MOVED": {
        "en": "media moved {old} → {new}",
        "fr": "média déplacé {old} → {new}",
    },
    "EV_MEDIA_KEPT": {
        "en": "media unchanged ({where})",
        "fr": "média inchangé ({where})",
    },
    "EV_MEDIA_RESUMED": {
        "en": "media resumed towards {where}",
        "fr": "média repris vers {where}",
    },
    "EV_HOLD": {
        "en": "put on hold ({direction}, {where}): our RTP stops",
        "fr": "mise en attente ({direction}, {where}) : notre RTP s'arrête",
    },
    "EV_CODEC_CHANGED": {
        "en": "codec {old} → {new}",
        "fr": "codec {old} → {new}",
    },
    "EV_EARLY_MEDIA": {
        "en": "early media from {where}",
        "fr": "média précoce depuis {where}",
    },
    "EV_PRACKED": {
        "en": "{response} acknowledged (RSeq {rseq})",
        "fr": "{response} acquitté (RSeq {rseq})",
    },
    "EV_SDP_REFUSED": {
        "en": "unusable SDP ({detail})",
        "fr": "SDP inexploitable ({detail})",
    },
    "EV_GLARE": {
        "en": "both sides offered at once (glare, RFC 3261 §14.2)",
        "fr": "offres croisées des deux côtés (RFC 3261 §14.2)",
    },
    "EV_TIMER_US": {
        "en": "session timer {interval} s, refreshed by us",
        "fr": "minuterie de session {interval} s, rafraîchie par nous",
    },
    "EV_TIMER_PEER": {
        "en": "session timer {interval} s, refreshed by the far end",
        "fr": "minuterie de session {interval} s, rafraîchie par l'opérateur",
    },
    "EV_TIMER_OFF": {
        "en": "no session timer any more",
        "fr": "plus de minuterie de session",
    },
    "EV_MIN_SE": {
        "en": "session interval {was} s too short, {asked} s asked (422): retried",
        "fr": "intervalle de session de {was} s trop court, {asked} s demandées (422) : "
              "nouvel essai",
    },
    "EV_CSEQ_ORDER": {
        "en": "CSeq {cseq} not above {last}: refused",
        "fr": "CSeq {cseq} pas supérieur à {last} : refusé",
    },
    "EV_OFFER_IN_200": {
        "en": "no offer: ours in the 200 OK, its answer due in the ACK",
        "fr": "sans offre : la nôtre dans le 200 OK, sa réponse attendue dans l'ACK",
    },
    "EV_NO_ACK": {
        "en": "no ACK came for our 200 OK to its re-INVITE",
        "fr": "aucun ACK n'a confirmé notre 200 OK à son re-INVITE",
    },
    "EV_NO_ANSWER_IN_ACK": {
        "en": "the ACK carried no answer to our offer",
        "fr": "l'ACK ne contenait pas de réponse à notre offre",
    },
    "INBOUND_NEVER_ARRIVED": {
        "en": "the call to {number} never reached the site ({detail}): check the firewall's "
              "forward of UDP 5060 to the IPBX and the DID routing",
        "fr": "l'appel vers {number} n'est jamais arrivé sur le site ({detail}) : vérifier la "
              "redirection d'UDP 5060 vers l'IPBX et l'acheminement de la SDA",
    },
    "NO_RTP_SENT": {
        "en": "no audio from the site: the site sent no RTP ({errors} send errors)",
        "fr": "pas d'audio depuis le site : aucun paquet RTP n'a pu être émis ({errors} "
              "erreurs d'émission)",
    },
    "NO_AUDIO_TO_SITE": {
        "en": "no audio reaches the site: no RTP received (inbound media blocked by the "
              "firewall or NAT, or our SDP address unreachable); {sent} packets sent to {where}",
        "fr": "aucun son n'arrive sur le site : le pare-feu ou le NAT bloque le RTP entrant ; "
              "ouvrir UDP 10000-20000 au serveur de l'opérateur ({sent} paquets émis vers "
              "{where})",
    },
    "NO_AUDIO_FROM_SITE": {
        "en": "the site's audio does not reach the far end: the far end's audio arrives but our "
              "RTP never comes back from its echo ({sent} sent)",
        "fr": "le son du site n'arrive pas chez l'opérateur : l'audio de l'opérateur arrive "
              "mais notre RTP ne revient pas de l'écho ({sent} paquets émis)",
    },
    "POOR_QUALITY": {
        "en": "poor voice quality: {problems}",
        "fr": "mauvaise qualité de la voix : {problems}",
    },
    "QUALITY_RESERVE": {
        "en": "{direction}: {problems}",
        "fr": "{direction} : {problems}",
    },
    "DIR_TO_DID": {"en": "site→operator→{number}", "fr": "site→opérateur→{number}"},
    "DIR_FROM_DID": {"en": "{number}→operator→site", "fr": "{number}→opérateur→site"},
    "HAIRPIN_NEEDS_TWO_ACCOUNTS": {
        "en": "the site has a single account: {number} cannot be called from another line of "
              "the site; call it from an outside phone",
        "fr": "le site n'a qu'un compte : {number} ne peut pas être appelé depuis une autre "
              "ligne du site ; l'appeler depuis un téléphone extérieur",
    },
    "UPLINK_NOT_PROVEN": {
        "en": "the test number does not echo and no other line of the site has a DID to call "
              "from {account}: the audio sent by the site was not verified",
        "fr": "le numéro de test ne renvoie pas le son et aucune autre ligne du site n'a de "
              "SDA à appeler depuis {account} : le son émis par le site n'a pas été vérifié",
    },
    "UPLINK_NOT_PROVEN_INBOUND": {
        "en": "the test number does not echo and the call from {account} to {number} did not "
              "come back in: the audio sent by the site was not verified (see the inbound "
              "calls)",
        "fr": "le numéro de test ne renvoie pas le son et l'appel de {account} vers {number} "
              "n'est pas revenu sur le site : le son émis par le site n'a pas été vérifié "
              "(voir les appels entrants)",
    },
    "NO_AUDIO_FROM_SITE_HAIRPIN": {
        "en": "the site's audio does not reach the operator: of the {sent} RTP packets "
              "{account} sent in a call to {number}, none came back through the operator; "
              "check that the router lets the site's outgoing UDP media out",
        "fr": "le son du site n'arrive pas chez l'opérateur : aucun des {sent} paquets RTP "
              "émis par {account} vers {number} n'est revenu par l'opérateur ; vérifier que "
              "le routeur laisse sortir le RTP du site",
    },
    "HAIRPIN_NOT_DELIVERED": {
        "en": "the operator took the call from {caller} but it never reached {number} on the "
              "site: check the forward of UDP 5060 to the IPBX and the DID routing",
        "fr": "l'appel de {caller} a été pris par l'opérateur mais n'est jamais arrivé sur "
              "{number} : vérifier la redirection d'UDP 5060 vers l'IPBX et l'acheminement de "
              "la SDA",
    },
    "HAIRPIN_SILENT_TO_DID": {
        "en": "no audio reaches {number}: the {sent} RTP packets the site sent from {caller} "
              "never arrived on the DID's leg (inbound media blocked by the firewall or NAT, "
              "or outbound media lost)",
        "fr": "aucun son n'arrive sur {number} : les {sent} paquets RTP émis depuis {caller} "
              "ne sont jamais arrivés (RTP entrant bloqué par le pare-feu ou le NAT, ou RTP "
              "sortant perdu)",
    },
    "HAIRPIN_SILENT_FROM_DID": {
        "en": "no audio comes back from {number}: the {sent} RTP packets it sent never reached "
              "{caller} (inbound media blocked by the firewall or NAT, or outbound media lost)",
        "fr": "aucun son ne revient de {number} : ses {sent} paquets RTP ne sont jamais "
              "arrivés sur {caller} (RTP entrant bloqué par le pare-feu ou le NAT, ou RTP "
              "sortant perdu)",
    },
    "DIR_ECHO": {"en": "site→far end→site (echo)", "fr": "site→opérateur→site (écho)"},
    "DIR_FAR_TO_SITE": {"en": "far end→site", "fr": "opérateur→site"},
    "Q_LOSS": {
        "en": "loss {value} % ≥ {limit} %",
        "fr": "perte {value} % ≥ {limit} %",
    },
    "Q_JITTER": {
        "en": "jitter {value} ms ≥ {limit} ms",
        "fr": "gigue {value} ms ≥ {limit} ms",
    },
    "Q_DELAY": {
        "en": "one-way delay {value} ms ≥ {limit} ms",
        "fr": "délai {value} ms ≥ {limit} ms",
    },
    "Q_R": {
        "en": "R {value} < {limit}",
        "fr": "R {value} < {limit}",
    },
    "CAPACITY_CALL": {
        "en": "call {index}: {symptom}",
        "fr": "appel {index} : {symptom}",
    },
    "CAPACITY_FAILED": {
        "en": "{failed} of {channels} simultaneous calls failed: {calls}",
        "fr": "{failed} appels simultanés sur {channels} ont échoué : {calls}",
    },
    "CAPACITY_BEYOND_CONTRACT": {
        "en": "{channels} calls asked (--channels) but {trunk} ordered {ordered} channels: not "
              "placed, since calls beyond the contract are refused or billed (add "
              "--beyond-contract to load-test anyway)",
        "fr": "{channels} appels demandés (--channels) mais {trunk} a commandé {ordered} "
              "canaux : non passés, car les appels au-delà du contrat sont refusés ou facturés "
              "(ajouter --beyond-contract pour tester quand même)",
    },
    "CAPACITY_NOT_TOGETHER": {
        "en": "only {peak} of the {channels} calls were up at the same moment: the "
              "{channels} channels are not proven together",
        "fr": "seuls {peak} des {channels} appels étaient établis au même instant : les "
              "{channels} canaux ne sont pas prouvés simultanément",
    },
    # -- SIP ALG ------------------------------------------------------------------------------
    "ALG_REWRITES": {
        "en": "a SIP ALG rewrites the signalling ({elements}): disable it on the router",
        "fr": "un SIP ALG réécrit la signalisation ({elements}) : le désactiver sur le routeur",
    },
    "ALG_FILTERS": {
        "en": "{method} is dropped on UDP/{port} while TCP/{port} passes (a filtering SIP ALG): "
              "disable it on the router",
        "fr": "{method} est bloqué en UDP/{port} mais passe en TCP/{port} (SIP ALG filtrant) : "
              "le désactiver sur le routeur",
    },
    "ALG_TCP_CONNECT_FAILED": {
        "en": "TCP connection refused or lost ({detail})",
        "fr": "connexion TCP refusée ou perdue ({detail})",
    },
    "ALG_SEND_FAILED": {
        "en": "could not be sent ({detail})",
        "fr": "envoi impossible ({detail})",
    },
    "ALG_NOT_RECEIVED": {
        "en": "not received by the probe within {seconds} s",
        "fr": "non reçu par la sonde en {seconds} s",
    },
    "ALG_PUNCH_LOST": {
        "en": "our opening REGISTER never reached the probe",
        "fr": "notre REGISTER d'ouverture n'est jamais arrivé à la sonde",
    },
    "ALG_INVITE_LOST": {
        "en": "the probe's INVITE did not arrive within {seconds} s",
        "fr": "l'INVITE de la sonde n'est pas arrivé en {seconds} s",
    },
    "ALG_WITNESS_REGISTRAR": {"en": "operator's registrar",
                              "fr": "serveur d'enregistrement de l'opérateur"},
    "ALG_WITNESS_FAILED": {"en": "{witness}: {detail}", "fr": "{witness} : {detail}"},
    "ALG_WITNESS_MISSING": {
        "en": "the {witness} could not witness the SIP ALG test ({detail}): the verdict rests "
              "on the other witnesses; check the probe and run again",
        "fr": "la {witness} n'a pas pu servir de témoin au test SIP ALG ({detail}) : le "
              "verdict repose sur les autres témoins ; vérifier la sonde et relancer",
    },
    "ALG_NO_WITNESS": {
        "en": "no witness could test for a SIP ALG ({details}): make the outsider probe "
              "reachable or the account registrable, then run again",
        "fr": "aucun témoin n'a pu rechercher un SIP ALG ({details}) : rendre la sonde "
              "extérieure joignable ou le compte enregistrable, puis relancer",
    },
    "ALG_NOTHING_ARRIVED": {
        "en": "none of our SIP messages reached it",
        "fr": "aucun de nos messages SIP ne lui est parvenu",
    },
    "ALG_REGISTRAR_NO_ACCOUNT": {
        "en": "the profile has no account to register",
        "fr": "le profil ne contient aucun compte à enregistrer",
    },
    "ALG_REGISTRAR_REFUSED": {
        "en": "the registrar answered {status} {reason} to the REGISTER of {account}",
        "fr": "le serveur d'enregistrement a répondu {status} {reason} au REGISTER de "
              "{account}",
    },
    # -- NAT ----------------------------------------------------------------------------------
    "NAT_REGISTRAR": {"en": "registrar", "fr": "serveur d'enregistrement"},
    "NAT_AT": {"en": "{who} {where}", "fr": "{who} ({where})"},
    "NAT_NO_WITNESS": {
        "en": "nothing sent from the voice LAN arrived: outbound UDP is blocked or the "
              "outsider probe and the registrar are unreachable; open outbound UDP and check "
              "the probe (tried: {tried})",
        "fr": "rien de ce qui part du LAN voix n'est arrivé : l'UDP sortant est bloqué ou la "
              "sonde extérieure et le serveur d'enregistrement sont injoignables ; ouvrir "
              "l'UDP sortant et vérifier la sonde (essayé : {tried})",
    },
    "NAT_MAPPING_UNKNOWN": {
        "en": "the NAT mapping type cannot be told from one address; make the outsider probe "
              "and the registrar reachable (silent: {silent}; seen by: {seen})",
        "fr": "le type de correspondance NAT ne peut pas être établi depuis une seule adresse "
              "; rendre joignables la sonde extérieure et le serveur d'enregistrement (sans "
              "réponse : {silent} ; vu par : {seen})",
    },
    "NAT_WITNESS_SILENT": {
        "en": "some destinations of the NAT test saw nothing from the site, the mapping type "
              "rests on the others; check outbound UDP to them (silent: {silent}; seen by: "
              "{seen})",
        "fr": "certaines destinations du test NAT n'ont rien reçu du site, le type de "
              "correspondance repose sur les autres ; vérifier l'UDP sortant vers elles (sans "
              "réponse : {silent} ; vu par : {seen})",
    },
    "NAT_NO_TRIAL": {
        "en": "no UDP binding trial could run ({detail}): the binding lifetime is unknown; "
              "check that the outsider probe is reachable and answers on UDP 5088",
        "fr": "aucun essai de durée de vie des associations UDP n'a pu avoir lieu : vérifier "
              "que la sonde extérieure est joignable et répond sur UDP 5088",
    },
    "NAT_LIFETIMES_DIFFER": {
        "en": "idle UDP bindings last {server} towards the server probe but {outsider} "
              "towards the outsider probe: the router times bindings out per destination",
        "fr": "les associations UDP inactives durent {server} vers la sonde côté serveur mais "
              "{outsider} vers la sonde extérieure : le routeur les expire selon la "
              "destination",
    },
    # -- firewall openings ---------------------------------------------------------------------
    "PHASE_COLD": {"en": "cold", "fr": "à froid"},
    "PHASE_WARM": {"en": "after registration", "fr": "après enregistrement"},
    "PORTS_BUSY": {
        "en": "cannot listen on UDP {ports} of {ip} (in use): stop the IPBX or softphone on "
              "this host during the check",
        "fr": "impossible d'écouter sur UDP {ports} de {ip} (ports occupés) : arrêter l'IPBX "
              "ou le softphone de ce poste pendant le contrôle",
    },
    "OPENINGS_CLOSED_TO_SERVER": {
        "en": "{phase}: UDP {ports} closed to the operator server {source}: open them to it on "
              "the firewall",
        "fr": "{phase} : UDP {ports} fermés au serveur de l'opérateur {source} : les lui "
              "ouvrir sur le pare-feu",
    },
    "OPENINGS_BEYOND": {
        "en": "{phase}: UDP {ports} open beyond the operator's openings: close them",
        "fr": "{phase} : UDP {ports} ouverts en plus des ouvertures prévues : les fermer",
    },
    "OPENINGS_ANSWERED_ELSEWHERE": {
        "en": "UDP {port} answers any address on the internet (seen from {source}: {answered}) "
              "though nothing reached this computer: the router forwards it to another device "
              "of the site; restrict that forward to the operator server only",
        "fr": "UDP {port} répond à n'importe quelle adresse d'internet (vu depuis {source} : "
              "{answered}) alors que rien n'arrive à ce poste : le routeur le redirige vers un "
              "autre équipement du site ; réserver cette redirection au seul serveur de "
              "l'opérateur",
    },
    "OPENINGS_TO_OUTSIDER": {
        "en": "{phase}: UDP {ports} open to any address (seen from {source}): restrict them to "
              "the operator server only",
        "fr": "{phase} : UDP {ports} ouverts à n'importe quelle adresse (vu depuis {source}) : "
              "les réserver au seul serveur de l'opérateur",
    },
    "MEDIA_ELSEWHERE": {
        "en": "the operator's media also comes from {addresses}, which the profile does not "
              "give as a media address: the firewall must allow UDP 10000-20000 from there "
              "too; add it to operator.media_ips",
        "fr": "le média de l'opérateur vient aussi de {addresses}, que le profil ne donne pas "
              "comme adresse média : le pare-feu doit aussi y ouvrir UDP 10000-20000 ; "
              "l'ajouter à operator.media_ips",
    },
    # -- the firewall from the operator's own traffic (probes/media_ports) -------------------
    "AGENT_NOT_IPBX": {
        "en": "the router forwards the voice ports to the IPBX at {ipbx}, not to this host "
              "({agent}): run this check from {ipbx} (disconnect the IPBX and give this host its "
              "address)",
        "fr": "le routeur redirige les ports voix vers l'IPBX {ipbx}, pas vers ce poste "
              "({agent}) : lancer ce contrôle depuis {ipbx} (débrancher l'IPBX et donner son "
              "adresse à ce poste)",
    },
    "SAMPLE_PORT_BUSY": {
        "en": "cannot offer UDP {port} of {ip} in a test call ({detail}): stop the IPBX or "
              "softphone on this host during the check",
        "fr": "impossible de proposer UDP {port} de {ip} dans un appel de test ({detail}) : "
              "arrêter l'IPBX ou le softphone de ce poste pendant le contrôle",
    },
    "SAMPLES_NO_ROUTE": {
        "en": "no call can make the operator send us media: the profile needs two lines and a "
              "DID, or a test number",
        "fr": "aucun appel ne peut faire envoyer du média par l'opérateur : le profil doit "
              "avoir deux lignes et un numéro SDA, ou un numéro de test",
    },
    "SIP_CLOSED_TO_SERVER": {
        "en": "the operator's calls do not reach UDP 5060 of the site ({detail}): forward UDP "
              "5060 from the server {server} to the IPBX",
        "fr": "les appels de l'opérateur n'arrivent pas sur UDP 5060 du site ({detail}) : "
              "rediriger UDP 5060 depuis le serveur {server} vers l'IPBX",
    },
    "SIP_FORWARD_UNPROVEN": {
        "en": "the forward of UDP 5060 could not be proven: the operator's request from "
              "{source} came on a flow the site had opened",
        "fr": "la redirection d'UDP 5060 n'a pas pu être prouvée : la requête de l'opérateur "
              "({source}) est arrivée par un flux ouvert par le site",
    },
    "SIP_NO_CALL_IN": {
        "en": "the forward of UDP 5060 could not be proven: no call came in from the operator",
        "fr": "la redirection d'UDP 5060 n'a pas pu être prouvée : aucun appel n'est arrivé "
              "de l'opérateur",
    },
    "SAMPLE_PORT_USED": {
        "en": "an earlier call of this run sent media from port {port}: its flow may still be "
              "open, so media arriving there proves nothing",
        "fr": "un appel précédent de cette exécution a émis du média depuis le port {port} : "
              "son flux peut être encore ouvert, le média qui y arrive ne prouve donc rien",
    },
    "SAMPLE_SILENT": {
        "en": "no media from the operator at all",
        "fr": "aucun média de l'opérateur",
    },
    "SIP_ELSEWHERE": {
        "en": "the operator's calls also come from {address}, which the profile does not give "
              "as a signalling address: the firewall must let its UDP 5060 in too; add it to "
              "operator.signalling_ips",
        "fr": "les appels de l'opérateur viennent aussi de {address}, que le profil ne donne "
              "pas comme adresse de signalisation : le pare-feu doit aussi laisser passer son "
              "UDP 5060 ; l'ajouter à operator.signalling_ips",
    },
    # -- each operator address's opening (sip_checks/openings.py) ----------------------------
    "FW_UNPROVEN": {
        "en": "{ports} open to the operator's address {address} could not be proven",
        "fr": "l'ouverture d'{ports} à l'adresse {address} de l'opérateur n'a pas pu être "
              "prouvée",
    },
    "FW_NOT_SAMPLED": {
        "en": "{ports} open to the operator's address {address} is unproven: the operator's "
              "traffic could not be sampled ({detail}); give the router's configuration "
              "(router section) or make the test calls work, then run again",
        "fr": "l'ouverture d'{ports} à l'adresse {address} de l'opérateur n'est pas prouvée : "
              "le trafic de l'opérateur n'a pas pu être échantillonné ({detail}) ; fournir la "
              "configuration du routeur (section router) ou rétablir les appels de test, puis "
              "relancer",
    },
    "FW_NO_TRAFFIC_TRIED": {
        "en": "no call was placed",
        "fr": "aucun appel n'a été passé",
    },
    "FW_NO_REQUEST_FROM": {
        "en": "UDP 5060 open to the operator's address {address} is unproven: no request of "
              "the operator came from it (its request came from {source})",
        "fr": "l'ouverture d'UDP 5060 à l'adresse {address} de l'opérateur n'est pas prouvée : "
              "aucune requête de l'opérateur n'en est venue (elle est venue de {source})",
    },
    "FW_NOBODY": {
        "en": "none reached the site",
        "fr": "aucune n'a atteint le site",
    },
    "FW_NO_MEDIA_FROM": {
        "en": "UDP 10000-20000 open to the operator's address {address} is unproven: no "
              "sampled port received media from it",
        "fr": "l'ouverture d'UDP 10000-20000 à l'adresse {address} de l'opérateur n'est pas "
              "prouvée : aucun port échantillonné n'en a reçu de média",
    },
    "FW_MEDIA_LATE": {
        "en": "UDP 10000-20000 open to the operator's address {address} is unproven: its media "
              "reached UDP {ports} only after the site sent, which a firewall dropping it and "
              "a relay waiting for the site's media both give",
        "fr": "l'ouverture d'UDP 10000-20000 à l'adresse {address} de l'opérateur n'est pas "
              "prouvée : son média n'a atteint UDP {ports} qu'après l'émission du site, ce que "
              "donnent aussi bien un pare-feu qui le bloque qu'un relais qui attend le média "
              "du site",
    },
    "FW_ALG_PINHOLES": {
        "en": "{ports} open to the operator's address {address} is unproven: the router's SIP "
              "ALG opens passages from the SIP it rewrites, which the operator's traffic cannot "
              "tell from a firewall rule",
        "fr": "l'ouverture d'{ports} à l'adresse {address} de l'opérateur n'est pas prouvée : "
              "le SIP ALG du routeur ouvre des passages d'après le SIP qu'il réécrit, que le "
              "trafic de l'opérateur ne distingue pas d'une règle de pare-feu",
    },
    "FW_UNPROVEN_CONFIG_CLOSED": {
        "en": "the operator's traffic could not prove UDP {ports} open to its address "
              "{address}, and the router's configuration does not open it: open it to "
              "{address}",
        "fr": "le trafic de l'opérateur n'a pas pu prouver l'ouverture d'UDP {ports} à son "
              "adresse {address}, et la configuration du routeur ne l'ouvre pas : l'ouvrir à "
              "{address}",
    },
    "OPENINGS_BY_ALG": {
        "en": "{phase}: the router's SIP ALG opened UDP {ports} to {source} because an SDP sent "
              "there named them: disable the SIP ALG on the router",
        "fr": "{phase} : le SIP ALG du routeur a ouvert UDP {ports} à {source} parce qu'un SDP "
              "envoyé à cette adresse les citait : désactiver le SIP ALG sur le routeur",
    },
    "RTP_OPEN_BY_ALG": {
        "en": "the router's SIP ALG opened UDP {ports}, outside 10000-20000, because the SDP "
              "named them: disable the SIP ALG on the router",
        "fr": "le SIP ALG du routeur a ouvert UDP {ports}, hors de 10000-20000, parce que le "
              "SDP les citait : désactiver le SIP ALG sur le routeur",
    },
    "RTP_CLOSED_TO_MEDIA": {
        "en": "the operator's media from {sources} does not reach UDP {ports} until the site "
              "sends first: open UDP 10000-20000 to {sources} on the firewall",
        "fr": "le média de l'opérateur ({sources}) n'atteint pas UDP {ports} tant que le site "
              "n'émet pas : ouvrir UDP 10000-20000 à {sources} sur le pare-feu",
    },
    "RTP_OPEN_BEYOND": {
        "en": "the operator's media reaches UDP {ports}, outside 10000-20000: close them",
        "fr": "le média de l'opérateur atteint UDP {ports}, hors de 10000-20000 : les fermer",
    },
    "RTP_UNPROVEN": {
        "en": "UDP {ports} could not be proven open to the operator's media ({detail})",
        "fr": "UDP {ports} n'ont pas pu être prouvés ouverts au média de l'opérateur "
              "({detail})",
    },
    # -- recette analyse: a capture we did not make (sip_checks/analyse) --------------------
    "AN_SUMMARY": {
        "en": "{file}: {dialogs} SIP dialog(s), {calls} call(s), {streams} RTP stream(s)",
        "fr": "{file} : {dialogs} dialogue(s) SIP, {calls} appel(s), {streams} flux RTP",
    },
    "AN_NOTHING_FOUND": {
        "en": "nothing wrong found in this capture",
        "fr": "aucune anomalie trouvée dans cette capture",
    },
    "AN_DIALOG": {"en": "{method} from {calling} to {called}",
                  "fr": "{method} de {calling} vers {called}"},
    "AN_MEDIA_NOT_CAPTURED": {
        "en": "{count} answered call(s) without any RTP in this capture ({calls}): their "
              "media took another path or was filtered out, so their audio is not judged",
        "fr": "{count} appel(s) décroché(s) sans aucun RTP dans cette capture ({calls}) : "
              "leur média est passé ailleurs ou a été filtré, leur audio n'est donc pas jugé",
    },
    "AN_OTHER_STREAMS": {
        "en": "RTP streams no call's SDP announced",
        "fr": "flux RTP annoncés par aucun SDP d'appel",
    },
    "AN_DIR": {"en": "{where}", "fr": "{where}"},
    "AN_DIR_CALL": {"en": "{src}→{dst} ({where})", "fr": "{src}→{dst} ({where})"},
    "AN_DIR_NUMBERS": {"en": "{src}→{dst}", "fr": "{src}→{dst}"},
    "AN_CALL": {"en": "call {calling}→{called}: {finding}",
                "fr": "appel {calling}→{called} : {finding}"},
    "AN_ONE_WAY": {
        "en": "one-way audio: no RTP at all {silent} while the other direction flows (a "
              "firewall or NAT dropping that direction's media, or media sent to the wrong "
              "address)",
        "fr": "audio à sens unique : aucun RTP {silent} alors que l'autre sens passe (pare-feu "
              "ou NAT qui bloque ce sens, ou média envoyé à une mauvaise adresse)",
    },
    "AN_NO_AUDIO": {
        "en": "no audio either way between {calling} and {called}: no RTP reached either "
              "party (media blocked, or sent to addresses nobody listens on)",
        "fr": "aucun audio dans un sens comme dans l'autre entre {calling} et {called} : "
              "aucun RTP n'a atteint les parties (média bloqué, ou envoyé à des adresses où "
              "personne n'écoute)",
    },
    "AN_ONE_WAY_NOT_CROSSED": {
        "en": "one-way audio {silent}: its RTP ({where}) is seen on one side of the router "
              "only and never crossed it, while the other direction crossed",
        "fr": "audio à sens unique {silent} : son RTP ({where}) n'est vu que d'un côté du "
              "routeur et ne l'a jamais traversé, alors que l'autre sens le traverse",
    },
    "AN_INVITE_NO_FINAL": {
        "en": "call {calling}→{called}: the INVITE got no final response (lost on the way, "
              "or the server is unreachable)",
        "fr": "appel {calling}→{called} : l'INVITE n'a reçu aucune réponse finale (perdu en "
              "route, ou serveur injoignable)",
    },
    "AN_INVITE_408": {
        "en": "call {calling}→{called}: 408 {reason} (no answer in time: the INVITE or its "
              "responses lost by a firewall, NAT binding or SIP ALG, or the callee unreachable)",
        "fr": "appel {calling}→{called} : 408 {reason} (pas de réponse à temps : INVITE ou "
              "réponses perdus par un pare-feu, une association NAT ou un SIP ALG, ou appelé "
              "injoignable)",
    },
    "AN_INVITE_503": {
        "en": "call {calling}→{called}: 503 {reason} (the server or its next hop is "
              "unavailable or refuses: trunk not registered, channels exhausted, or route down)",
        "fr": "appel {calling}→{called} : 503 {reason} (serveur ou saut suivant indisponible "
              "ou refusant : trunk non enregistré, canaux épuisés ou route coupée)",
    },
    "AN_INVITE_FAILED": {
        "en": "call {calling}→{called} refused: {status} {reason}",
        "fr": "appel {calling}→{called} refusé : {status} {reason}",
    },
    "AN_REGISTER_FAILED": {
        "en": "registration of {user} failed: {status} {reason}",
        "fr": "échec de l'enregistrement de {user} : {status} {reason}",
    },
    "AN_REGISTER_NO_ANSWER": {
        "en": "registration of {user}: no final response to {count} REGISTER(s)",
        "fr": "enregistrement de {user} : aucune réponse finale à {count} REGISTER",
    },
    "AN_PRIVATE_ON_PUBLIC": {
        "en": "{message} (frame {frame}, {src}→{dst}) carries private addresses on the public "
              "side: {elements} (no ALG or SBC rewrote them: the far end cannot reach them)",
        "fr": "{message} (trame {frame}, {src}→{dst}) porte des adresses privées côté public : "
              "{elements} (ni ALG ni SBC ne les a réécrites : l'extrémité distante ne peut "
              "pas les joindre)",
    },
    "AN_ALG": {
        "en": "a SIP ALG rewrote {count} message(s) between the two sides of the router: "
              "{elements}",
        "fr": "un SIP ALG a réécrit {count} message(s) entre les deux côtés du routeur : "
              "{elements}",
    },
    "AN_FIXED_TEARDOWN": {
        "en": "{count} call(s) torn down {seconds} s after answer: {cause}",
        "fr": "{count} appel(s) coupé(s) {seconds} s après le décroché : {cause}",
    },
    "AN_CAUSE_SESSION_TIMER": {
        "en": "the session timer ({seconds} s) was not refreshed",
        "fr": "la temporisation de session ({seconds} s) n'a pas été rafraîchie",
    },
    "AN_CAUSE_BINDING": {
        "en": "a session timer or a NAT/firewall binding expiring (check the router's UDP "
              "timeout and the re-INVITE/UPDATE refreshes)",
        "fr": "temporisation de session ou association NAT/pare-feu expirée (vérifier le "
              "délai UDP du routeur et les rafraîchissements re-INVITE/UPDATE)",
    },
    "AN_TORN_DOWN": {
        "en": "call cut {seconds} s after answer",
        "fr": "appel coupé {seconds} s après le décroché",
    },
    "AN_RTP_REFUSED": {
        "en": "RTP {where} is sent where nobody listens: {count} ICMP unreachable (first "
              "frame {frame})",
        "fr": "RTP {where} envoyé là où personne n'écoute : {count} ICMP inaccessible "
              "(première trame {frame})",
    },
    "AN_RTP_TO_PRIVATE": {
        "en": "RTP {where} ({packets} packets) is sent to a private address an SDP leaked "
              "past the NAT: nobody can receive it there",
        "fr": "RTP {where} ({packets} paquets) envoyé à une adresse privée qu'un SDP a "
              "laissé passer le NAT : personne ne peut le recevoir",
    },
    # -- recette analyse: calls the capture ended before, legs through a B2BUA (issue 23) ----
    "AN_UNFINISHED_RINGING": {
        "en": "unfinished: the capture ended {seconds} s after the INVITE, before any final "
              "response (last: {last}); how the call ended is not in the capture",
        "fr": "inachevé : la capture s'arrête {seconds} s après l'INVITE, avant toute réponse "
              "finale (dernière : {last}) ; l'issue de l'appel n'est pas dans la capture",
    },
    "AN_UNFINISHED_NO_RESPONSE": {
        "en": "unfinished: the capture ended {seconds} s after the INVITE, before any "
              "response (an INVITE gives up after 32 s); how the call ended is not in the "
              "capture",
        "fr": "inachevé : la capture s'arrête {seconds} s après l'INVITE, avant toute réponse "
              "(un INVITE abandonne après 32 s) ; l'issue de l'appel n'est pas dans la capture",
    },
    "AN_STILL_UP": {
        "en": "still up when the capture ended, {seconds} s after answer (no BYE: its end is "
              "not in the capture)",
        "fr": "toujours en cours à la fin de la capture, {seconds} s après le décroché (pas "
              "de BYE : sa fin n'est pas dans la capture)",
    },
    "AN_STILL_UP_SHORT": {
        "en": "answered {seconds} s before the capture ended: too short to judge its audio",
        "fr": "décroché {seconds} s avant la fin de la capture : trop court pour juger son "
              "audio",
    },
    "AN_B2BUA_LEG": {
        "en": "leg of the call above through the B2BUA at {address} (one call, not two)",
        "fr": "branche de l'appel ci-dessus via le B2BUA {address} (un seul appel, pas deux)",
    },
    # -- recette analyse: reading SIP from the packets (sip_checks/analyse/sipread.py) -------
    "AN_SIP_LENGTH": {
        "en": "{count} SIP message(s) carry a Content-Length that disagrees with their body "
              "(first: frame {frame}, {message} {src}→{dst}, Content-Length {declared}, body "
              "{actual} bytes): something on the path, typically a SIP ALG, rewrote the body "
              "without fixing its length, so the receiver may cut the SDP or refuse the "
              "message; {framing}",
        "fr": "{count} message(s) SIP portent un Content-Length qui ne correspond pas à leur "
              "corps (premier : trame {frame}, {message} {src}→{dst}, Content-Length "
              "{declared}, corps de {actual} octets) : un équipement sur le chemin, "
              "typiquement un SIP ALG, a réécrit le corps sans corriger sa longueur, le "
              "destinataire peut tronquer le SDP ou refuser le message ; {framing}",
    },
    "AN_SIP_LENGTH_UDP": {
        "en": "the analysis reads the whole datagram's body",
        "fr": "l'analyse lit le corps entier du datagramme",
    },
    "AN_SIP_LENGTH_TCP": {
        "en": "on TCP the analysis ends such a message at the next SIP start line instead",
        "fr": "sur TCP l'analyse termine un tel message à la ligne de début SIP suivante",
    },
    "AN_SIP_LENIENT": {
        "en": "{count} SIP message(s) a strict reader refuses were read leniently and kept "
              "(first: frame {frame}, {message}: {reason}); a strict peer would answer 400 "
              "or drop them",
        "fr": "{count} message(s) SIP qu'un lecteur strict refuse ont été lus avec "
              "tolérance et gardés (premier : trame {frame}, {message} : {reason}) ; un "
              "équipement strict répondrait 400 ou les ignorerait",
    },
    "AN_SIP_UNREADABLE": {
        "en": "{count} packet(s) looked like SIP but could not be read, so calls may be "
              "missing from this analysis (first: frame {frame}, {reason})",
        "fr": "{count} paquet(s) ressemblaient à du SIP mais n'ont pas pu être lus, des "
              "appels peuvent manquer à cette analyse (premier : trame {frame}, {reason})",
    },
    "AN_SIP_TCP_GAP": {
        "en": "the capture misses bytes of {count} SIP-over-TCP stream(s) (first: {where}, "
              "{missing} bytes before frame {frame}): the SIP messages there cannot be "
              "read, calls may be missing or look unanswered",
        "fr": "la capture n'a pas tous les octets de {count} flux SIP sur TCP (premier : "
              "{where}, {missing} octets avant la trame {frame}) : les messages SIP "
              "concernés ne peuvent pas être lus, des appels peuvent manquer ou sembler "
              "sans réponse",
    },
    "AN_SIP_FRAGMENTS": {
        "en": "{count} fragmented SIP datagram(s) could not be put back together (a "
              "fragment is not in the capture; the first one starts at frame {frame}): "
              "those messages cannot be read",
        "fr": "{count} datagramme(s) SIP fragmenté(s) n'ont pas pu être reconstitués (un "
              "fragment manque à la capture ; le premier commence à la trame {frame}) : ces "
              "messages ne peuvent pas être lus",
    },
    # -- recette analyse: media (RTP without SIP, clock rates, DTMF, gaps) ---------------
    "AN_RTP_NO_SIGNALLING": {
        "en": "{streams} RTP stream(s) in {conversations} conversation(s) and no SIP call in "
              "the capture (SIP over TLS, or not captured): calls, numbers and failures cannot "
              "be judged; streams are paired by address and port, directions inferred "
              "without signalling",
        "fr": "{streams} flux RTP en {conversations} conversation(s) et aucun appel SIP dans "
              "la capture (SIP sur TLS, ou non capturé) : appels, numéros et échecs ne "
              "peuvent être jugés ; flux appariés par adresse et port, sens déduits sans "
              "signalisation",
    },
    "AN_RTP_ONE_SIDED_CAPTURE": {
        "en": "each of the {count} RTP stream(s) is seen in one direction only: the capture "
              "point may see one direction only (a mirror of one direction, asymmetric "
              "routing), so one-way audio cannot be judged from this capture",
        "fr": "chacun des {count} flux RTP n'est vu que dans un sens : le point de capture ne "
              "voit peut-être qu'un sens (miroir d'un seul sens, routage asymétrique), "
              "l'audio à sens unique ne peut donc pas être jugé sur cette capture",
    },
    "AN_RTP_ONE_WAY_INFERRED": {
        "en": "one-way audio suspected: RTP {where} ({packets} packets) has no stream back in "
              "the capture, while {both} other conversation(s) are seen both ways (inferred "
              "from RTP alone, without signalling; the way back may also pass elsewhere than "
              "the capture point)",
        "fr": "audio à sens unique soupçonné : le RTP {where} ({packets} paquets) n'a aucun "
              "flux retour dans la capture, alors que {both} autre(s) conversation(s) sont "
              "vues dans les deux sens (déduit du seul RTP, sans signalisation ; le retour "
              "peut aussi passer ailleurs que par le point de capture)",
    },
    "AN_RTP_POOR": {
        "en": "RTP {where}: poor quality ({problems})",
        "fr": "RTP {where} : qualité médiocre ({problems})",
    },
    "AN_MEDIA_GAP": {
        "en": "media {stream} stopped for {seconds} s at {when}: {cause}",
        "fr": "média {stream} interrompu {seconds} s à {when} : {cause}",
    },
    "AN_GAP_LOST": {
        "en": "{lost} packets sent meanwhile never reached the capture point (lost on the "
              "way: link outage, Wi-Fi, route or NAT binding change)",
        "fr": "{lost} paquets émis entretemps ne sont jamais arrivés au point de capture "
              "(perdus en route : coupure de lien, Wi-Fi, changement de route ou "
              "d'association NAT)",
    },
    "AN_GAP_STOPPED": {
        "en": "the sender paused its media (no packet numbered in between, its timestamps "
              "did not advance)",
        "fr": "l'émetteur a suspendu son média (aucun paquet numéroté entretemps, ses "
              "horodatages n'ont pas avancé)",
    },
    "AN_GAP_SILENT": {
        "en": "the sender had nothing to send (silence suppression or DTX: its timestamps "
              "advanced with time), not a fault",
        "fr": "l'émetteur n'avait rien à émettre (suppression de silence ou DTX : ses "
              "horodatages ont avancé avec le temps), pas une anomalie",
    },
    "AN_GAP_HOLD": {
        "en": "the call was on hold (SDP a={direction}), not a fault",
        "fr": "l'appel était en attente (SDP a={direction}), pas une anomalie",
    },
    "AN_L_DTMF": {"en": "DTMF digits (RFC 4733)", "fr": "Chiffres DTMF (RFC 4733)"},
    "AN_L_GAPS": {"en": "Media gaps", "fr": "Interruptions du média"},
    "AN_L_STREAM": {"en": "Stream", "fr": "Flux"},
    "AN_L_DIGITS": {"en": "Digits", "fr": "Chiffres"},
    "AN_L_GAP": {"en": "Gap", "fr": "Interruption"},
    "AN_DTMF_LINE": {"en": "DTMF {stream}: {digits}", "fr": "DTMF {stream} : {digits}"},
    "AN_GAP_LINE": {"en": "gap {seconds} s at {when}: {cause}",
                    "fr": "interruption {seconds} s à {when} : {cause}"},
    "AN_GAP_WHEN": {"en": "{clock} UTC", "fr": "{clock} UTC"},
    "AN_GAP_WHEN_CALL": {"en": "{clock} UTC, {offset} s after answer",
                         "fr": "{clock} UTC, {offset} s après le décroché"},
    "AN_CLOCK": {"en": "clock {rate} Hz ({source})", "fr": "horloge {rate} Hz ({source})"},
    "AN_CLOCK_SDP": {"en": "SDP rtpmap", "fr": "rtpmap du SDP"},
    "AN_CLOCK_INFERRED": {"en": "read from the stream: no SDP",
                          "fr": "lue sur le flux : pas de SDP"},
    "AN_CLOCK_DEFAULT": {"en": "unknown: 8000 assumed, jitter uncertain",
                         "fr": "inconnue : 8000 supposée, gigue incertaine"},
    # -- recette analyse: what the capture file itself could not show (analyse/capture.py) --
    "AN_CAPTURE_CUT": {
        "en": "partial analysis: the file is cut short at byte {byte}, after {records} "
              "complete records (what came after is not in it)",
        "fr": "analyse partielle : le fichier est coupé à l'octet {byte}, après {records} "
              "enregistrements complets (la suite n'y figure pas)",
    },
    "AN_CAPTURE_DAMAGED": {
        "en": "partial analysis: the file is damaged at byte {byte} ({what}, impossible), after "
              "{records} complete records; nothing after it is read",
        "fr": "analyse partielle : le fichier est endommagé à l'octet {byte} ({what}, "
              "impossible), après {records} enregistrements complets ; rien n'est lu au-delà",
    },
    "AN_DAMAGE_RECORD": {"en": "a record of {size} bytes",
                         "fr": "un enregistrement de {size} octets"},
    "AN_DAMAGE_BLOCK": {"en": "a block of {size} bytes", "fr": "un bloc de {size} octets"},
    "AN_DAMAGE_MISMATCH": {"en": "a block whose two lengths differ",
                           "fr": "un bloc dont les deux longueurs diffèrent"},
    "AN_DAMAGE_SECTION": {"en": "a section header with no valid byte-order mark",
                          "fr": "un en-tête de section sans marque d'ordre des octets valide"},
    "AN_DAMAGE_INTERFACE": {"en": "a packet on undeclared interface {iface}",
                            "fr": "un paquet sur l'interface non déclarée {iface}"},
    "AN_CAPTURE_UNREAD": {
        "en": "{count} records of link type {link} are not read: what they carry is not "
              "analysed",
        "fr": "{count} enregistrements de type de lien {link} ne sont pas lus : leur contenu "
              "n'est pas analysé",
    },
    "AN_L_TITLE": {"en": "Capture analysis: {file}", "fr": "Analyse de capture : {file}"},
    "AN_L_FINDINGS": {"en": "Diagnoses", "fr": "Diagnostics"},
    "AN_L_DIALOGS": {"en": "SIP dialogs", "fr": "Dialogues SIP"},
    "AN_L_REWRITES": {"en": "Rewritten by the router (ALG)",
                      "fr": "Réécrit par le routeur (ALG)"},
    "AN_L_CALL_ID": {"en": "Call-ID", "fr": "Call-ID"},
    "AN_L_METHOD": {"en": "Method", "fr": "Méthode"},
    "AN_L_FROM": {"en": "From", "fr": "De"},
    "AN_L_TO": {"en": "To", "fr": "Vers"},
    "AN_L_FINAL": {"en": "Final response", "fr": "Réponse finale"},
    "AN_L_FRAMES": {"en": "Frames", "fr": "Trames"},
    "AN_L_MESSAGE": {"en": "Message", "fr": "Message"},
    "AN_L_ELEMENT": {"en": "Element", "fr": "Élément"},
    "AN_L_BEFORE": {"en": "Sent", "fr": "Envoyé"},
    "AN_L_AFTER": {"en": "Received", "fr": "Reçu"},
    # -- security.exposure: what an internet host reaches (issue 25) --------------------------
    "EXPO_SIP": {
        "en": "SIP port {where} answers from the internet ({said}): attackers can guess "
              "passwords and place calls there; close it or admit only the operator's addresses",
        "fr": "Le port SIP {where} répond depuis internet ({said}) : les attaquants peuvent y "
              "essayer des mots de passe et y passer des appels ; le fermer ou le réserver aux "
              "adresses de l'opérateur",
    },
    "EXPO_TFTP_FILE": {
        "en": "the provisioning server ({where}) hands a phone configuration file to anyone on "
              "the internet: the phones' SIP passwords are in it; close the port to the "
              "internet and change those passwords",
        "fr": "Le serveur de provisionnement ({where}) livre un fichier de configuration des "
              "postes à n'importe qui sur internet : les mots de passe SIP des postes y "
              "figurent ; fermer ce port côté internet et changer ces mots de passe",
    },
    "EXPO_TFTP": {
        "en": "the provisioning server ({where}) answers from the internet ({said}): phone "
              "configuration files and their SIP passwords can be guessed and read there; "
              "close it to the internet",
        "fr": "Le serveur de provisionnement ({where}) répond depuis internet ({said}) : les "
              "fichiers de configuration des postes et leurs mots de passe SIP peuvent y être "
              "devinés et lus ; le fermer côté internet",
    },
    "EXPO_IAX2": {
        "en": "IAX2 ({where}) answers from the internet ({said}): attackers can guess "
              "passwords and place calls there; close it",
        "fr": "IAX2 ({where}) répond depuis internet ({said}) : les attaquants peuvent y "
              "essayer des mots de passe et y passer des appels ; le fermer",
    },
    "EXPO_WEB": {
        "en": "a web interface ({where}: {said}) is reachable from the internet: attackers "
              "try administration passwords and read provisioning files there; restrict it to "
              "the LAN or a VPN",
        "fr": "Une interface web ({where} : {said}) est accessible depuis internet : les "
              "attaquants y essaient les mots de passe d'administration et y cherchent les "
              "fichiers de provisionnement ; la réserver au réseau local ou à un VPN",
    },
    "EXPO_SSH": {
        "en": "SSH ({where}: {said}) answers from the internet: attackers try passwords on "
              "it; restrict it to the LAN, a VPN or the maintainer's address",
        "fr": "SSH ({where} : {said}) répond depuis internet : les attaquants y essaient des "
              "mots de passe ; le réserver au réseau local, à un VPN ou à l'adresse du "
              "mainteneur",
    },
    "EXPO_TELNET": {
        "en": "telnet ({where}) answers from the internet, unencrypted: passwords can be "
              "guessed and read on the way; disable it",
        "fr": "Telnet ({where}) répond depuis internet, sans chiffrement : les mots de passe "
              "peuvent y être essayés et lus en chemin ; le désactiver",
    },
    "EXPO_VOICE_OPEN": {
        "en": "the {service} port {where} is open from the internet: attackers look there for "
              "an IPBX to call through; close it",
        "fr": "Le port {service} {where} est ouvert depuis internet : les attaquants y "
              "cherchent un IPBX par lequel appeler ; le fermer",
    },
    "EXPO_OPEN": {
        "en": "port {where} ({service}) is open from the internet: close it, or restrict it to "
              "the addresses that need it",
        "fr": "Le port {where} ({service}) est ouvert depuis internet : le fermer, ou le "
              "réserver aux adresses qui en ont besoin",
    },
    "EXPO_AFTER_REGISTRATION": {
        "en": "{risk} (only while an account is registered: the registration opens it)",
        "fr": "{risk} (seulement pendant qu'un compte est enregistré : l'enregistrement "
              "l'ouvre)",
    },
    "EXPO_INCOMPLETE": {
        "en": "the outsider probe's scan ended before these ports said whether they are open: "
              "{ports}; run the check again",
        "fr": "le balayage de la sonde extérieure s'est arrêté avant que ces ports disent "
              "s'ils sont ouverts : {ports} ; relancer le contrôle",
    },
    "EXPO_NOT_REGISTERED": {
        "en": "the scan after registration was not made: account {account} could not be "
              "registered from the site's SIP port ({detail})",
        "fr": "le balayage après enregistrement n'a pas été fait : le compte {account} n'a "
              "pas pu s'enregistrer depuis le port SIP du site ({detail})",
    },
    "EXPO_OTHER_ADDRESS": {
        "en": "the outsider probe scanned {scanned}, but the operator sees the site at "
              "{public}: the agent reaches the probe through another link; run the check from "
              "the voice link",
        "fr": "la sonde extérieure a balayé {scanned}, mais l'opérateur voit le site en "
              "{public} : l'agent joint la sonde par un autre lien ; lancer le contrôle "
              "depuis le lien voix",
    },
    "EXPO_BAD_ANSWER": {
        "en": "the outsider probe's scan answer is unusable ({detail}): update the probe "
              "(recette probe serve) to this version",
        "fr": "la réponse de balayage de la sonde extérieure est inexploitable ({detail}) : "
              "mettre la sonde (recette probe serve) à jour vers cette version",
    },
    "EXPO_ATTESTATION": {
        "en": "the outsider probe's attestation does not cover the scan it came with "
              "({detail}): nothing can be concluded from it",
        "fr": "l'attestation de la sonde extérieure ne couvre pas le balayage qu'elle "
              "accompagne ({detail}) : rien ne peut en être conclu",
    },

    # -- security.sip_from_outside (issue 25): the attacker's SIP moves from the internet --
    "SIPOUT_OPTIONS": {
        "en": "The IPBX answers SIP from the internet on {where} ({said}): close SIP to the "
              "internet or admit only the operator's addresses",
        "fr": "L'IPBX répond au SIP venu d'internet sur {where} ({said}) : fermer le SIP à "
              "internet ou le réserver aux adresses de l'opérateur",
    },
    "SIPOUT_REGISTER_OPEN": {
        "en": "Anyone on the internet can register as {users} on {where} without a password: "
              "require authentication for every registration and close SIP to the internet",
        "fr": "N'importe qui sur internet peut s'enregistrer comme {users} sur {where} sans "
              "mot de passe : exiger l'authentification de tout enregistrement et fermer le "
              "SIP à internet",
    },
    "SIPOUT_ENUMERATION": {
        "en": "Extensions can be enumerated from the internet on {where} ({users} answered "
              "{existing}, made-up users {unknown}): make the IPBX answer unknown users as "
              "it answers real ones, and close SIP to the internet",
        "fr": "Les postes sont énumérables depuis internet sur {where} ({users} répondent "
              "{existing}, des utilisateurs inventés {unknown}) : faire répondre l'IPBX aux "
              "inconnus comme aux vrais postes, et fermer le SIP à internet",
    },
    "SIPOUT_INVITE_ACCEPTED": {
        "en": "An unauthenticated call to the international number {number} was accepted on "
              "{where} ({said}): toll fraud; refuse every call that is not authenticated and "
              "close SIP to the internet before international calls are enabled",
        "fr": "Un appel sans authentification vers le numéro international {number} a été "
              "accepté sur {where} ({said}) : fraude ; refuser tout appel non authentifié et "
              "fermer le SIP à internet avant l'ouverture de l'international",
    },
    "SIPOUT_INVITE_UNFINISHED": {
        "en": "An unauthenticated call to the international number {number} was taken in on "
              "{where} and never refused ({said}): the IPBX was routing it; refuse every "
              "call that is not authenticated",
        "fr": "Un appel sans authentification vers le numéro international {number} a été "
              "pris en charge sur {where} sans être refusé ({said}) : l'IPBX l'acheminait ; "
              "refuser tout appel non authentifié",
    },
    "SIPOUT_INVITE_TRYING": {
        "en": "An unauthenticated international call was refused on {where}, but only after "
              "being taken in ({said}): an attacker learns that a PBX listens; close SIP to "
              "the internet",
        "fr": "Un appel international sans authentification a été refusé sur {where}, mais "
              "après avoir été pris en charge ({said}) : un attaquant apprend qu'un IPBX "
              "écoute ; fermer le SIP à internet",
    },
    "SIPOUT_INCOMPLETE": {
        "en": "the outsider probe's SIP moves ended before these ports gave their answers: "
              "{ports}; run the check again",
        "fr": "les manœuvres SIP de la sonde extérieure se sont arrêtées avant la réponse de "
              "ces ports : {ports} ; relancer le contrôle",
    },
    "SIPOUT_NO_PUBLIC": {
        "en": "the site's public address is unknown: no account could be registered to "
              "learn it ({detail}); nothing can be concluded from the moves",
        "fr": "l'adresse publique du site est inconnue : aucun compte n'a pu s'enregistrer "
              "pour l'apprendre ({detail}) ; rien ne peut être conclu des manœuvres",
    },
    "SIPOUT_OTHER_ADDRESS": {
        "en": "the outsider probe played its SIP moves against {played}, but the operator "
              "sees the site at {public}: the agent reaches the probe through another link; "
              "run the check from the voice link",
        "fr": "la sonde extérieure a joué ses manœuvres SIP contre {played}, mais l'opérateur "
              "voit le site en {public} : l'agent joint la sonde par un autre lien ; lancer "
              "le contrôle depuis le lien voix",
    },
    "SIPOUT_BAD_ANSWER": {
        "en": "the outsider probe's answer to the SIP moves is unusable ({detail}): update "
              "the probe (recette probe serve) to this version",
        "fr": "la réponse de la sonde extérieure aux manœuvres SIP est inexploitable "
              "({detail}) : mettre la sonde (recette probe serve) à jour vers cette version",
    },
    "SIPOUT_ATTESTATION": {
        "en": "the outsider probe's attestation does not cover the SIP moves it came with "
              "({detail}): nothing can be concluded from it",
        "fr": "l'attestation de la sonde extérieure ne couvre pas les manœuvres SIP qu'elle "
              "accompagne ({detail}) : rien ne peut en être conclu",
    },
}
