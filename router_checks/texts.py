"""The router room's messages (see :mod:`harness.messages`): the router audit's findings, the
collector's SSH errors, the skips and the cross-check discrepancies, in French and English.

A finding's French text is what the customer signs under "Réserve": a short, plain sentence
saying what is wrong and what to do. The figures an integrator needs to act (ports,
addresses, interface names) are parameters; the rule text itself stays in the cited
configuration lines of the annex. The English text keeps the technical detail that
``recette audit`` prints and the expert report shows.
"""

from __future__ import annotations

from harness.messages import Catalog

TEXTS: Catalog = {
    # -- words the sentences below take as parameters -----------------------------------------
    "LAN_DATA": {"en": "data", "fr": "données"},
    "LAN_VOICE": {"en": "voice", "fr": "voix"},
    "ANY_EXPECTED_LAN": {"en": "any expected LAN", "fr": "aucun LAN prévu"},
    "TARGET_IPBX": {"en": "the IPBX {ipbx}", "fr": "l'IPBX {ipbx}"},
    "TARGET_VOICE_LAN": {"en": "the voice LAN {network}", "fr": "le LAN voix {network}"},
    "FORWARDED_TO": {"en": "UDP {ports} to {to}", "fr": "UDP {ports} vers {to}"},
    "WHO_SERVER": {"en": "the operator server", "fr": "le serveur de l'opérateur"},
    "WHO_OTHERS": {"en": "other sources", "fr": "d'autres sources"},
    # -- findings: LANs -----------------------------------------------------------------------
    "LAN_MISMATCH": {
        "en": "{role} LAN {network}: expected gateway {gateway} on the router, found {found} "
              "on {interface}",
        "fr": "Le LAN {role} {network} n'a pas la passerelle prévue {gateway} (trouvé {found} "
              "sur {interface}) : corriger l'adresse de l'interface du routeur",
    },
    "LAN_MISSING": {
        "en": "no router interface for the {role} LAN {network} (gateway {gateway})",
        "fr": "Le routeur n'a pas d'interface pour le LAN {role} {network} : la créer avec "
              "la passerelle {gateway}",
    },
    "LANS_NOT_SEPARATED": {
        "en": "voice and data LANs share interface {interface}",
        "fr": "Les LAN voix et données partagent l'interface {interface} : les séparer "
              "(interfaces ou VLAN distincts)",
    },
    "LAN_ISOLATION_UNKNOWN": {
        "en": "isolation of the voice and data LANs not judged: traffic between them is also "
              "decided by configuration this audit does not evaluate",
        "fr": "L'isolement des LAN voix et données n'a pas pu être vérifié (configuration non "
              "évaluée par l'audit) : le vérifier sur le routeur",
    },
    "LANS_OPEN_TO_EACH_OTHER": {
        "en": "the {role} LAN {network} reaches the {other} LAN {other_network} without "
              "restriction ({src} → {dst}: {flows} all pass), while the profile asks for "
              "isolated LANs (router.lans.isolated)",
        "fr": "Le LAN {role} {network} accède sans restriction au LAN {other} "
              "{other_network}, qui doivent être isolés : filtrer le trafic entre eux",
    },
    # -- findings: DHCP -----------------------------------------------------------------------
    "DHCP_OUTSIDE_LAN": {
        "en": "DHCP pool {pool} {start}-{end} is not inside {network}",
        "fr": "La plage DHCP {pool} ({start}-{end}) sort de {network} : la corriger",
    },
    "DHCP_COVERS_GATEWAY": {
        "en": "DHCP pool {pool} {start}-{end} hands out the gateway address {gateway}",
        "fr": "La plage DHCP {pool} ({start}-{end}) distribue l'adresse de la passerelle "
              "{gateway} : l'exclure de la plage",
    },
    # -- findings: firewall and NAT -----------------------------------------------------------
    "FW_CLOSED_TO_SERVER": {
        "en": "UDP {ports} not open to the operator server {server}",
        "fr": "Les ports UDP {ports} ne sont pas ouverts au serveur de l'opérateur {server} : "
              "les ouvrir",
    },
    "FW_OPEN_TO_OTHERS": {
        "en": "UDP {ports} also open to sources other than the operator server: {who}",
        "fr": "Les ports UDP {ports} sont ouverts à d'autres sources que le serveur de "
              "l'opérateur ({who}) : les réserver à ce seul serveur",
    },
    "ACL_BROAD_SHADOWED": {
        "en": "a rule admits voice ports from {networks}; an earlier rule shadows it today, "
              "but reordering would open the site",
        "fr": "Une règle ouvre les ports voix à {networks} ; une règle précédente la masque "
              "aujourd'hui, mais un changement d'ordre ouvrirait le site : la supprimer",
    },
    "NAT_WRONG_HOST": {
        "en": "voice ports are forwarded elsewhere than {target}: {detail}",
        "fr": "Les ports voix sont redirigés ailleurs que vers {target} ({detail}) : "
              "corriger les redirections de ports",
    },
    "SIP_ALG_ON": {
        "en": "the router's SIP ALG is enabled: it rewrites SIP/SDP and breaks registrations "
              "and audio (disable it)",
        "fr": "Le SIP ALG du routeur est activé : le désactiver",
    },
    "DEVICE_ADVISED_AGAINST": {
        "en": "{model}: the operator advises against this device as the site router (use "
              "OpIOS or a Cisco 800)",
        "fr": "L'opérateur déconseille ce routeur ({model}) : le remplacer par un routeur "
              "OpIOS ou un Cisco 800",
    },
    "RULE_NOT_EVALUATED": {
        "en": "{ref}: {detail}",
        "fr": "{ref} : non évalué par l'audit ({detail})",
    },
    # -- the collector (SSH) ------------------------------------------------------------------
    "ROUTER_NO_PASSWORD": {
        "en": "router {host}:{port}: no password (router.password_env {env} is not set)",
        "fr": "Routeur {host}:{port} : pas de mot de passe (la variable {env} de "
              "router.password_env n'est pas définie) : la définir",
    },
    "ROUTER_AUTH_FAILED": {
        "en": "router {host}:{port}: authentication failed for user {user} (wrong password?)",
        "fr": "Routeur {host}:{port} : connexion refusée pour l'utilisateur {user} : vérifier "
              "le mot de passe",
    },
    "ROUTER_UNREACHABLE": {
        "en": "router {host}:{port}: unreachable (no SSH answer within {seconds} s)",
        "fr": "Routeur {host}:{port} injoignable (pas de réponse SSH en {seconds} s) : "
              "vérifier son adresse et son accès SSH",
    },
    "ROUTER_SSH_FAILED": {
        "en": "router {host}:{port}: SSH failed: {detail}",
        "fr": "Routeur {host}:{port} : la connexion SSH a échoué ({detail})",
    },
    "ROUTER_ENABLE_REFUSED": {
        "en": "router {host}: enable refused (wrong enable secret?)",
        "fr": "Routeur {host} : mode enable refusé : vérifier le secret enable",
    },
    "ROUTER_COMMAND_INCOMPLETE": {
        "en": "router {host}: `{command}` did not complete: {detail}",
        "fr": "Routeur {host} : la commande `{command}` n'a pas abouti ({detail})",
    },
    "ROUTER_COMMAND_REJECTED": {
        "en": "router {host} rejected `{command}`: {answer}",
        "fr": "Le routeur {host} refuse la commande `{command}` ({answer}) : donner ce droit "
              "au compte d'audit",
    },
    # -- the checks ---------------------------------------------------------------------------
    "NO_ROUTER": {
        "en": "no router in the profile",
        "fr": "Aucun routeur n'est décrit dans le profil",
    },
    "CROSSCHECK_NEEDS_BOTH": {
        "en": "needs the router audit and the active firewall verification in one run",
        "fr": "Demande l'audit du routeur et la vérification active du pare-feu dans la même "
              "recette",
    },
    "CONFIG_OPEN_FOUND_CLOSED": {
        "en": "the configuration opens UDP {ports} to {who} but they were found closed",
        "fr": "La configuration du routeur ouvre les ports UDP {ports} à {who}, mais ils ont "
              "été trouvés fermés : chercher l'équipement qui les bloque",
    },
    "CONFIG_CLOSED_FOUND_OPEN": {
        "en": "UDP {ports} found open to {who} although the configuration closes them",
        "fr": "Les ports UDP {ports} ont été trouvés ouverts à {who} alors que la "
              "configuration du routeur les ferme : chercher l'équipement qui les ouvre",
    },
}
