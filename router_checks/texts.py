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
    "TARGET_NONE": {"en": "the IPBX", "fr": "l'IPBX"},
    "FORWARDED_TO": {"en": "UDP {ports} to {to}", "fr": "UDP {ports} vers {to}"},
    "FORWARDED_AT": {"en": "UDP {ports} on {public} to {to}",
                     "fr": "UDP {ports} de {public} vers {to}"},
    "WHO_OTHERS": {"en": "other sources", "fr": "d'autres sources"},
    # An operator address by its role (profile operator: sip_server, signalling_ips,
    # media_ips); every word is masculine in French, after "au" / "le".
    "ROLE_REGISTRAR": {"en": "SIP server", "fr": "serveur SIP"},
    "ROLE_SIGNALLING": {"en": "signalling proxy", "fr": "proxy de signalisation"},
    "ROLE_MEDIA": {"en": "media relay", "fr": "relais média"},
    "ROLES_AND": {"en": "{first} and {then}", "fr": "{first} et {then}"},
    "WHO_OPERATOR_ADDRESS": {"en": "the operator's {role} {address}",
                             "fr": "le {role} de l'opérateur {address}"},
    # Other sources as the configuration names them.
    "WHO_ANY": {"en": "any address", "fr": "n'importe quelle adresse"},
    "WHO_NETWORK": {"en": "{network}", "fr": "{network}"},
    "WHO_WITH_PORTS": {"en": "{who} (UDP {ports})", "fr": "{who} (UDP {ports})"},
    "WHO_ANY_OTHER": {"en": "any address other than the operator's",
                      "fr": "toute adresse autre que celles de l'opérateur"},
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
        "en": "UDP {ports} not open to the operator's {role} {server}",
        "fr": "Les ports UDP {ports} ne sont pas ouverts au {role} de l'opérateur {server} : "
              "les ouvrir",
    },
    "FW_NOT_FORWARDED": {
        "en": "UDP {ports}: no static NAT or port forward sends them to {target}, so calls "
              "from the operator cannot come in (add one, e.g. `ip nat inside source static "
              "udp`, for SIP and the RTP range)",
        "fr": "Les ports UDP {ports} ne sont redirigés vers {target} par aucune NAT statique "
              "ni redirection de port : les appels de l'opérateur ne peuvent pas entrer, "
              "ajouter la redirection",
    },
    "FW_OPEN_TO_OTHERS": {
        "en": "UDP {ports} also open to sources other than the operator's addresses "
              "({allowed}): {who}",
        "fr": "Les ports UDP {ports} sont ouverts à d'autres sources que les adresses de "
              "l'opérateur ({who}) : les réserver à ces adresses ({allowed})",
    },
    "ACL_BROAD_SHADOWED": {
        "en": "a rule admits voice ports from {networks}; the earlier deny cited first "
              "decides that traffic today, but reordering would open the site",
        "fr": "Une règle ouvre les ports voix à {networks} ; le refus cité en premier, placé "
              "avant elle, décide aujourd'hui, mais un changement d'ordre ouvrirait le site : "
              "la supprimer",
    },
    "ACL_BROAD_UNFORWARDED": {
        "en": "a rule admits voice ports from {networks}; it lets nothing in today only "
              "because no forward sends those ports into the site: once one is added (for "
              "the IPBX), they are open to all those sources (restrict it to the operator's "
              "addresses, {allowed})",
        "fr": "Une règle ouvre les ports voix à {networks} ; elle ne laisse rien entrer "
              "aujourd'hui faute de redirection de ces ports, mais dès qu'une redirection "
              "sera ajoutée (pour l'IPBX) ils seront ouverts à ces sources : la restreindre "
              "aux adresses de l'opérateur ({allowed})",
    },
    "ACL_BROAD_BLOCKED": {
        "en": "a rule admits voice ports from {networks}; another filter on the path stops "
              "that traffic today, but removing it would open the site (restrict it to the "
              "operator's addresses, {allowed})",
        "fr": "Une règle ouvre les ports voix à {networks} ; un autre filtrage l'arrête "
              "aujourd'hui, mais le retirer ouvrirait le site : la restreindre aux adresses "
              "de l'opérateur ({allowed})",
    },
    "NAT_WRONG_HOST": {
        "en": "voice ports are forwarded elsewhere than {target}: {detail}",
        "fr": "Les ports voix sont redirigés ailleurs que vers {target} ({detail}) : "
              "corriger les redirections de ports",
    },
    "SIP_ALG_ON": {
        "en": "the router's SIP ALG is enabled: it rewrites SIP/SDP and breaks registrations "
              "and audio, and opens the ports it reads in the SDP whatever the firewall's "
              "rules say (disable it)",
        "fr": "Le SIP ALG du routeur est activé : le désactiver",
    },
    "SIP_ALG_TCP_ON": {
        "en": "the router's SIP ALG is off for UDP 5060 but still on for TCP 5060 (`no ip nat "
              "service sip tcp port 5060` is missing): a trunk over TCP is still rewritten",
        "fr": "Le SIP ALG du routeur est désactivé pour UDP 5060 mais reste actif pour TCP "
              "5060 : le désactiver aussi pour TCP",
    },
    "SIP_INSPECTION_ON": {
        "en": "a SIP-aware inspection is applied (CBAC `ip inspect ... sip` or a zone policy "
              "inspecting `match protocol sip`): it parses SIP and opens media from what it "
              "reads, like an ALG; inspect plain UDP instead",
        "fr": "Une inspection SIP du pare-feu est active (CBAC ou politique de zone sur le "
              "protocole sip) : elle agit comme un ALG, inspecter l'UDP simple à la place",
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
    # -- what the audit read -------------------------------------------------------------------
    "LAN_PLAN_PROFILE": {
        "en": "LAN plan from the profile: data {data} (gateway {data_gw}), voice {voice} "
              "(gateway {voice_gw})",
        "fr": "Plan des LAN du profil : données {data} (passerelle {data_gw}), voix {voice} "
              "(passerelle {voice_gw})",
    },
    "LAN_PLAN_ASSUMED": {
        "en": "LAN plan assumed (the profile gives no router.lans): the operator's default, "
              "data {data} (gateway {data_gw}), voice {voice} (gateway {voice_gw})",
        "fr": "Plan des LAN supposé (absent du profil) : celui de l'opérateur par défaut, "
              "données {data} (passerelle {data_gw}), voix {voice} (passerelle {voice_gw})",
    },
    "LAN_PLAN_NONE": {
        "en": "no LAN plan (no profile): LANs not compared; the configuration's own: {found}",
        "fr": "Aucun plan des LAN (pas de profil) : LAN non comparés ; ceux de la "
              "configuration : {found}",
    },
    "CONFIG_LINES_LOST": {
        "en": "{origin}: {count} sub-command line(s) outside any block (lines {lines}): the "
              "configuration lost its indentation in a way the audit cannot rebuild; give "
              "it as `show running-config` prints it",
        "fr": "{origin} : {count} ligne(s) de sous-commande hors de tout bloc (lignes "
              "{lines}) : la configuration a perdu son indentation, la fournir telle que "
              "`show running-config` l'affiche",
    },
    "CONFIG_NOT_IOS": {
        "en": "{origin}: {count} of {total} lines are no Cisco IOS command (lines {lines}): "
              "not a running-config the audit can read",
        "fr": "{origin} : {count} lignes sur {total} ne sont pas des commandes Cisco IOS "
              "(lignes {lines}) : ce n'est pas une configuration que l'audit sait lire",
    },
    "CONFIG_NO_INTERFACE": {
        "en": "the configuration has no interface with an address: nothing to audit",
        "fr": "La configuration n'a aucune interface adressée : rien à auditer",
    },
    # -- issue 23: what the audit cannot know, said as such --------------------------------
    "CONFIG_NO_WAN": {
        "en": "firewall, NAT and port forwards not evaluated: no interface faces the internet "
              "(no `ip nat outside`, no dialer, no public or provider-assigned address, no "
              "default route to a public next hop), so the audit cannot tell where calls "
              "come in; the LAN, VLAN and DHCP checks ran",
        "fr": "Pare-feu et redirections non évalués : aucune interface ne fait face à "
              "internet (ni `ip nat outside`, ni dialer, ni adresse publique ou attribuée "
              "par l'opérateur, ni route par défaut vers un routeur public), l'audit ne sait "
              "pas par où entrent les appels ; les LAN, VLAN et DHCP ont été vérifiés",
    },
    "FW_REDACTED_UNKNOWN": {
        "en": "UDP {ports}: whether they reach {target} is not evaluated: the cited lines "
              "had their address redacted (x.x.x.x, <removed>), so the forwards and filters "
              "they hold are unknown; audit the configuration with its addresses",
        "fr": "Ports UDP {ports} : leur accès à {target} n'a pas pu être évalué, les "
              "adresses des lignes citées ayant été masquées : fournir la configuration "
              "avec ses adresses",
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
        "fr": "La configuration du routeur ouvre les ports UDP {ports} pour {who}, mais ils "
              "ont été trouvés fermés : chercher l'équipement qui les bloque",
    },
    "CONFIG_CLOSED_FOUND_OPEN": {
        "en": "UDP {ports} found open to {who} although the configuration closes them",
        "fr": "Les ports UDP {ports} ont été trouvés ouverts pour {who} alors que la "
              "configuration du routeur les ferme : chercher l'équipement qui les ouvre",
    },
    "CONFIG_ALG_OPENED": {
        "en": "UDP {ports} found open to {who} although no rule of the configuration opens "
              "them: the router's SIP ALG opens such ports from the SDP it reads (see the "
              "router audit's SIP ALG finding)",
        "fr": "Les ports UDP {ports} ont été trouvés ouverts pour {who} sans qu'aucune règle "
              "du routeur ne les ouvre : c'est le SIP ALG du routeur qui les ouvre (voir "
              "l'audit du routeur)",
    },
    # -- issue 25: the router's own administration reachable from the internet -----------------
    # (router_checks/management.py). The French sentence is the customer's reserve; the
    # English one carries the detail (how, the lines are cited apart).
    "ADMIN_SVC_TELNET": {"en": "telnet", "fr": "telnet"},
    "ADMIN_SVC_SSH": {"en": "SSH", "fr": "SSH"},
    "ADMIN_SVC_WEB": {"en": "web", "fr": "web"},
    "ADMIN_TELNET_OPEN": {
        "en": "telnet to the router (TCP {ports}) is reachable from the internet ({who}): "
              "{how}",
        "fr": "Le routeur accepte telnet depuis internet : désactiver telnet et limiter "
              "l'administration au réseau local",
    },
    "ADMIN_WEB_OPEN": {
        "en": "the router's web administration (TCP {ports}) is reachable from the internet "
              "({who}): {how}",
        "fr": "L'administration web du routeur est accessible depuis internet : la désactiver "
              "ou la limiter au réseau local",
    },
    "ADMIN_SSH_OPEN": {
        "en": "SSH to the router (TCP {ports}) is reachable from the internet ({who}): {how}",
        "fr": "L'administration du routeur (SSH) est accessible depuis internet : la limiter "
              "au réseau local ou aux adresses de l'intégrateur",
    },
    "ADMIN_NOT_EVALUATED": {
        "en": "whether the router's {service} administration (TCP {ports}) is reachable from "
              "the internet is not evaluated: {how}",
        "fr": "L'accès à l'administration {service} du routeur depuis internet n'a pas pu "
              "être vérifié (TCP {ports}) : le contrôler",
    },
    "ADMIN_NOT_READ": {
        "en": "the router's own administration (telnet, SSH, web) is not evaluated: the "
              "{kind} reader does not read what guards the router itself",
        "fr": "L'exposition de l'administration du routeur sur internet n'a pas été évaluée : "
              "la vérifier",
    },
    "ADMIN_FILTERED": {
        "en": "the router's administration is on ({service}: TCP {ports}), but the WAN's "
              "filter stops it from the internet",
        "fr": "L'administration du routeur est active ({service} : TCP {ports}), mais le "
              "filtre de l'accès internet la bloque",
    },
}
