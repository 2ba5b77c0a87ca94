"""The console's words in French (default) and English, as the reports keep theirs: one
table, so a missing translation is visible at a glance (and tested)."""

from __future__ import annotations

LABELS: dict[str, tuple[str, str]] = {
    "title": ("Console recette", "recette console"),
    "login": ("Connexion", "Log in"),
    "logout": ("Déconnexion", "Log out"),
    "username": ("Identifiant", "User name"),
    "password": ("Mot de passe", "Password"),
    "current_password": ("Mot de passe actuel", "Current password"),
    "new_password": ("Nouveau mot de passe", "New password"),
    "new_password_again": ("Nouveau mot de passe (encore)", "New password (again)"),
    "change_password": ("Changer le mot de passe", "Change the password"),
    "bad_current": ("Mot de passe actuel incorrect.", "Wrong current password."),
    "password_short": ("Le mot de passe doit compter au moins 10 caractères.",
                       "The password needs at least 10 characters."),
    "password_repetitive": ("Le mot de passe doit compter au moins 5 caractères différents.",
                            "The password needs at least 5 different characters."),
    "password_has_name": ("Le mot de passe ne doit pas contenir l'identifiant.",
                          "The password must not contain the user name."),
    "password_common": ("Ce mot de passe est parmi les plus courants.",
                        "This password is among the most common ones."),
    "password_weak_role": ("Administrateurs et service technique : au moins 14 caractères "
                           "dont 3 sortes parmi minuscules, majuscules, chiffres, autres, ou "
                           "une phrase de passe d'au moins 20 caractères.",
                           "Administrators and the technical service: at least 14 characters "
                           "with 3 kinds of lower case, upper case, digits, others, or a "
                           "passphrase of at least 20 characters."),
    "password_differ": ("Les deux saisies du nouveau mot de passe diffèrent.",
                        "The two entries of the new password differ."),
    "password_same": ("Le nouveau mot de passe est l'actuel.",
                      "The new password is the current one."),
    "password_changed": ("Mot de passe changé ; vos autres sessions sont fermées.",
                         "Password changed; your other sessions are closed."),
    "bad_login": ("Identifiant ou mot de passe incorrect.", "Wrong user name or password."),
    "rate_limited": ("Trop d'essais : réessayez dans quelques minutes.",
                     "Too many attempts: try again in a few minutes."),
    "sites": ("Sites", "Sites"),
    "site": ("Site", "Site"),
    "users": ("Utilisateurs", "Users"),
    "light": ("État", "State"),
    "since": ("Depuis", "Since"),
    "customer": ("Client", "Customer"),
    "integrator": ("Intégrateur", "Integrator"),
    "last_run": ("Dernière recette", "Last run"),
    "option": ("Option internationale", "International option"),
    "search": ("Rechercher", "Search"),
    "all": ("Tous", "All"),
    "export_csv": ("Export CSV", "CSV export"),
    "previous": ("Précédent", "Previous"),
    "next": ("Suivant", "Next"),
    "page": ("Page", "Page"),
    "none": ("aucun", "none"),
    "none_f": ("aucune", "none"),  # "Dernière recette : aucune"
    "runs": ("Recettes", "Runs"),
    "when": ("Date", "When"),
    "who": ("Envoyé par", "Uploaded by"),
    "counts": ("Résultats", "Results"),
    "files": ("Fichiers", "Files"),
    "gate_trail": ("Journal de la porte internationale", "International gate trail"),
    "audit": ("Journal de la console", "Console audit log"),
    "trunk": ("Trunk", "Trunk"),
    "activate": ("Activer", "Activate"),
    "revoke": ("Révoquer", "Revoke"),
    "reason": ("Motif", "Reason"),
    "destinations": ("Destinations (séparées par des espaces)",
                     "Destinations (space separated)"),
    "activated": ("Option internationale activée.", "International option activated."),
    "revoked": ("Option internationale révoquée.", "International option revoked."),
    "refused": ("Activation refusée", "Activation refused"),
    "reason_needed": ("Indiquez le motif de la révocation.", "Give the revocation's reason."),
    "role": ("Rôle", "Role"),
    "company": ("Société (intégrateur)", "Company (integrator)"),
    "grants": ("Sites accordés", "Granted sites"),
    "add_user": ("Créer l'utilisateur", "Create the user"),
    "grant": ("Accorder", "Grant"),
    "tokens": ("Jetons d'envoi", "Upload tokens"),
    "new_token": ("Nouveau jeton", "New token"),
    "token_once": ("Copiez ce jeton maintenant, il ne sera plus affiché :",
                   "Copy this token now, it will not be shown again:"),
    "label": ("Libellé", "Label"),
    "active": ("Actif", "Active"),
    "not_yourself": ("Vous ne pouvez pas désactiver votre propre compte.",
                     "You cannot disable your own account."),
    "disable": ("Désactiver", "Disable"),
    "enable": ("Réactiver", "Enable"),
    "administrator": ("Administrateur", "Administrator"),
    "technical": ("Service technique", "Technical service"),
    "light_green": ("Vérifié sans réserve", "Verified without reserve"),
    "light_orange": ("Vérifié avec réserves", "Verified with reserves"),
    "light_red": ("Échec ou erreur", "Failed or errored"),
    "light_grey": ("Pas de vérification reconnue", "No accepted verification"),
    "state_no-verification": ("pas de vérification", "no verification"),
    "state_blocked": ("bloquée", "blocked"),
    "state_waiting": ("en attente", "waiting"),
    "state_eligible": ("activable", "eligible"),
    "state_active": ("active", "active"),
    "state_revoked": ("révoquée", "revoked"),
    "state_expired": ("vérification périmée", "verification expired"),
    "left": ("reste", "left"),
    "allowed_from": ("activable à partir du", "allowed from"),
    "why_no-verification": ("aucune vérification du pare-feu réussie et attestée par la "
                            "sonde pour ce site",
                            "no firewall verification has passed, attested by the probe, for "
                            "this site"),
    "why_eligible": ("pare-feu vérifié, activation possible",
                     "firewall verified, activation allowed"),
    "kind_verification_pass": ("vérification du pare-feu réussie",
                               "firewall verification passed"),
    "kind_verification_fail": ("vérification du pare-feu en échec",
                               "firewall verification failed"),
    "kind_verification_unattested": ("réussite non attestée par la sonde (ignorée)",
                                     "pass not attested by the probe (ignored)"),
    "kind_activate": ("activation", "activation"),
    "recorded_as": ("Pour l'option", "For the option"),
    "gate_none": ("rien d'enregistré", "nothing recorded"),
    "attested": ("Attesté par la sonde", "Attested by the probe"),
    "declared": ("Déclaré par l'agent", "Declared by the agent"),
    "refused_att": ("Attestation refusée", "Attestation refused"),
    "probes": ("Sondes", "Probes"),
    "probe_name": ("Nom de la sonde", "Probe name"),
    "public_key": ("Clé publique", "Public key"),
    "add_probe": ("Enregistrer la clé", "Register the key"),
    "revoke_key": ("Retirer", "Retire"),
    "key_id": ("Identifiant de clé", "Key id"),
    "added": ("Ajoutée", "Added"),
    "retired": ("retirée", "retired"),
    "kind_revoke": ("révocation", "revocation"),
    "history": ("Historique des vérifications", "Check history"),
    "check": ("Vérification", "Check"),
    "change": ("Changement", "Change"),
    "incidents": ("Incidents", "Incidents"),
    "calling": ("Appelant", "Calling"),
    "called": ("Appelé", "Called"),
    "symptom": ("Symptôme", "Symptom"),
    "quality": ("Qualité des appels par recette", "Call quality per run"),
    "chart_mos": ("MOS le plus bas (1 à 5)", "Lowest MOS (1 to 5)"),
    "chart_loss": ("Perte la plus haute (%)", "Highest loss (%)"),
    "status_pass": ("réussi", "passed"),
    "status_fail": ("échec", "failed"),
    "status_error": ("erreur", "error"),
    "status_skip": ("sans objet", "skipped"),
    "n_pass": ("réussis", "passed"),
    "n_fail": ("échecs", "failed"),
    "n_error": ("erreurs", "errors"),
    "n_skip": ("sans objet", "skipped"),
    "audit_page": ("Journal", "Audit log"),
    "actor": ("Auteur", "Actor"),
    "action": ("Action", "Action"),
    "address": ("Adresse", "Address"),
    "detail": ("Détail", "Detail"),
    "from": ("Du", "From"),
    "to": ("Au", "To"),
    "filter": ("Filtrer", "Filter"),
    "entries": ("entrées", "entries"),
    "done": ("Enregistré.", "Saved."),
    "csrf": ("Formulaire expiré : rechargez la page.", "Form expired: reload the page."),
    "not_found": ("Page introuvable.", "Page not found."),
    # -- notifications
    "notifications": ("Notifications", "Notifications"),
    "notify_intro": ("Choisissez ce que la console vous signale, et comment. Vous ne recevez "
                     "que ce qui concerne les sites que vous voyez.",
                     "Choose what the console tells you, and how. You only hear about the "
                     "sites you can see."),
    "notify_email": ("Adresse e-mail", "E-mail address"),
    "notify_by_email": ("Par e-mail", "By e-mail"),
    "notify_webhook_url": ("URL du webhook (https://)", "Webhook URL (https://)"),
    "notify_by_webhook": ("Par webhook (POST JSON signé)", "By webhook (signed JSON POST)"),
    "notify_event_eligible": ("Fin des 24 h : option internationale activable",
                              "24 h over: the international option may be switched on"),
    "notify_event_red": ("Site passé au rouge", "Site turned red"),
    "notify_event_expired": ("Vérification du pare-feu expirée",
                             "Firewall verification expired"),
    "notify_save": ("Enregistrer", "Save"),
    "notify_secret": ("Secret de signature", "Signing secret"),
    "notify_secret_once": ("Nouveau secret de signature, affiché une seule fois : copiez-le "
                           "maintenant dans votre récepteur.",
                           "New signing secret, shown only once: copy it into your receiver "
                           "now."),
    "notify_secret_set": ("en place (il n'est plus affiché).",
                          "in place (no longer shown)."),
    "notify_secret_none": ("aucun pour l'instant (il sera créé avec la première URL).",
                           "none yet (made with the first URL)."),
    "notify_secret_new": ("Générer un nouveau secret", "Make a new secret"),
    "notify_signature_help": ("Chaque envoi porte X-Recette-Timestamp et X-Recette-Signature "
                              ": sha256= suivi du HMAC-SHA256 hexadécimal de "
                              "« horodatage.corps » avec ce secret.",
                              "Each POST carries X-Recette-Timestamp and X-Recette-Signature: "
                              "sha256= and the hex HMAC-SHA256 of \"timestamp.body\" with "
                              "this secret."),
    "notify_bad_email": ("Adresse e-mail : format invalide (exemple : nom@domaine.fr).",
                         "E-mail address: not a valid address (e.g. name@example.com)."),
    "notify_bad_url": ("URL du webhook : https:// exigé (http:// seulement vers cette "
                       "machine, 127.0.0.1).",
                       "Webhook URL: https:// required (http:// only to this machine, "
                       "127.0.0.1)."),
    "notify_paris_time": ("heure de Paris", "Paris time"),
    "notify_all_trunks": ("tous les trunks du site", "all the site's trunks"),
    "notify_hello": ("Bonjour,", "Hello,"),
    "notify_site_line": ("Site : {site} ({customer}), référence {key}",
                         "Site: {site} ({customer}), key {key}"),
    "notify_trunk_line": ("Trunk SIP : {trunk}", "SIP trunk: {trunk}"),
    "notify_todo": ("Que faire :", "What to do:"),
    "notify_link": ("Console :", "Console:"),
    "notify_signature": ("Console recette (message automatique, ne pas répondre)",
                         "recette console (automatic message, do not reply)"),
    "notify_eligible_subject": ("[recette] {site} : option internationale activable "
                                "({trunk})",
                                "[recette] {site}: international option may be switched on "
                                "({trunk})"),
    "notify_eligible_what": ("Le délai de 24 h après la vérification du pare-feu du "
                             "{verified} est écoulé depuis le {at} : l'option "
                             "internationale peut être activée sur ce trunk.",
                             "The 24 h after the firewall verification of {verified} ended "
                             "on {at}: the international option may be switched on for "
                             "this trunk."),
    "notify_eligible_todo": ("le service technique peut activer l'option internationale "
                             "depuis la page du site (lien ci-dessous).",
                             "the technical service may switch the international option on "
                             "from the site's page (link below)."),
    "notify_red_subject": ("[recette] {site} : le site passe au rouge",
                           "[recette] {site}: the site turned red"),
    "notify_red_what": ("Le voyant du site est passé au rouge le {at} : un contrôle a "
                        "échoué, la vérification du pare-feu a échoué, ou l'option "
                        "internationale a été bloquée.",
                        "The site's light turned red on {at}: a check failed, the firewall "
                        "verification failed, or the international option was blocked."),
    "notify_red_todo": ("ouvrez la page du site pour en voir la cause, corrigez, puis "
                        "déposez une nouvelle recette.",
                        "open the site's page to see why, fix it, then upload a new run."),
    "notify_expired_subject": ("[recette] {site} : vérification du pare-feu expirée "
                               "({trunk})",
                               "[recette] {site}: firewall verification expired ({trunk})"),
    "notify_expired_what": ("La vérification du pare-feu du {verified} a expiré le {at} "
                            "sans que l'option internationale ait été activée.",
                            "The firewall verification of {verified} expired on {at} "
                            "without the international option being switched on."),
    "notify_expired_todo": ("refaites une recette avec vérification du pare-feu ; "
                            "l'activation sera possible 24 h après.",
                            "run a new acceptance test with the firewall verification; "
                            "activation is allowed 24 h later."),
    # -- browser upload form
    "upload_link": ("Envoyer une recette", "Upload a run"),
    "colon": (" : ", ": "),  # French puts a space before the colon
    "upload_title": ("Envoyer une recette depuis le navigateur",
                     "Upload a run from the browser"),
    "upload_intro": ("Choisissez le dossier de sortie de « recette run » compressé en ZIP, "
                     "avec ou sans son dossier, par Windows, macOS ou zip. Les contrôles sont "
                     "ceux de « recette upload » ; les fichiers que la console ne garde pas "
                     "sont ignorés.",
                     "Choose the output folder of \"recette run\" zipped, with or without its "
                     "folder, by Windows, macOS or zip. The checks are those of \"recette "
                     "upload\"; files the console does not keep are ignored."),
    "upload_file": ("Archive ZIP du dossier", "ZIP of the folder"),
    "upload_submit": ("Envoyer", "Upload"),
    "upload_choose": ("Choisir l'archive…", "Choose the archive…"),
    "upload_no_file": ("Aucun fichier choisi", "No file chosen"),
    "upload_sizes": ("Tailles acceptées", "Accepted sizes"),
    "upload_size": ("Taille maximale", "Largest size"),
    "upload_archive": ("l'archive entière", "the whole archive"),
    "upload_entries": ("fichiers dans l'archive, au plus", "files in the archive, at most"),
    "unit_mb": ("Mo", "MB"),
    "unit_kb": ("Ko", "kB"),
    "upload_none": ("Choisissez l'archive ZIP du dossier de recette.",
                    "Choose the ZIP of the run's folder."),
    "upload_bad_zip": ("Archive refusée", "Archive refused"),
    "upload_bad_part": ("Recette refusée : un fichier ne passe pas les contrôles de la "
                        "console. Détail",
                        "Run refused: a file fails the console's checks. Detail"),
    "upload_forbidden": ("Envoi refusé : ce site n'est pas attribué à votre société. Détail",
                         "Upload refused: this site is not granted to your company. Detail"),
    "upload_too_large": ("Archive refusée : elle dépasse {size}.",
                         "Archive refused: it is larger than {size}."),
    "upload_taken": ("Recette reçue pour le site {site}.", "Run taken for the site {site}."),
    "upload_known": ("Cette recette était déjà connue (envoyée par {who} le {at}) : rien "
                     "de nouveau n'est enregistré.",
                     "This run was already known (uploaded by {who} on {at}): nothing new "
                     "is recorded."),
    "upload_gate": ("Option internationale", "International option"),
    "upload_gate_none": ("rien d'enregistré, la recette ne tranche pas sur le pare-feu",
                         "nothing recorded, the run does not decide on the firewall"),
    "upload_gate_verification_pass": ("réussite couverte par les signatures de la sonde : "
                                      "l'attente de 24 h commence maintenant",
                                      "a pass backed by the probe's signatures: the 24 h "
                                      "wait starts now"),
    "upload_gate_verification_unattested": ("réussite que les signatures de la sonde ne "
                                            "couvrent pas : gardée au journal, elle ne "
                                            "déclenche rien",
                                            "a pass the probe's signatures do not back: kept "
                                            "in the trail, starts nothing"),
    "upload_gate_verification_fail": ("échec : l'option reste bloquée jusqu'à une nouvelle "
                                      "réussite vérifiée",
                                      "a failure: it blocks the option until a new verified "
                                      "pass"),
    "upload_ignored": ("Fichiers ignorés", "Files ignored"),
    "zip_not_zip": ("ce fichier n'est pas une archive ZIP lisible.",
                    "this file is not a readable ZIP archive."),
    "zip_too_many": ("l'archive contient plus de {name} fichiers.",
                     "the archive holds more than {name} files."),
    "zip_bad_name": ("{name} : nom de fichier interdit (chemin absolu, « .. », lecteur, "
                     "barre oblique inverse ou caractère de contrôle).",
                     "{name}: forbidden file name (absolute path, '..', drive letter, "
                     "backslash or control character)."),
    "zip_link": ("{name} : lien symbolique ou fichier spécial, refusé.",
                 "{name}: a symbolic link or special file, refused."),
    "zip_encrypted": ("{name} : fichier chiffré, refusé (compressez sans mot de passe).",
                      "{name}: encrypted, refused (zip without a password)."),
    "zip_method": ("{name} : méthode de compression non prise en charge (seules « stockée » "
                   "et « deflate » le sont).",
                   "{name}: compression method not supported (only stored and deflated)."),
    "zip_nested": ("{name} : archive dans l'archive, refusée (décompressez-la d'abord).",
                   "{name}: an archive inside the archive, refused (unzip it first)."),
    "zip_duplicate": ("{name} : présent deux fois dans l'archive.",
                      "{name}: twice in the archive."),
    "zip_too_big": ("{name} : plus grand que ce que la console accepte pour ce fichier.",
                    "{name}: larger than the console takes for this file."),
    "zip_total": ("les fichiers gardés dépassent {name} au total.",
                  "the kept files exceed {name} in all."),
    "zip_damaged": ("{name} : fichier endommagé (son contenu ne correspond pas à sa somme "
                    "de contrôle).",
                    "{name}: damaged (its content does not match its checksum)."),
    # -- confirmation and small screens
    "confirm_activate_title": ("Confirmer l'activation", "Confirm the activation"),
    "confirm_revoke_title": ("Confirmer la révocation", "Confirm the revocation"),
    "confirm_activate": ("Les appels internationaux seront autorisés sur le trunk {trunk} du "
                         "site {site} dès maintenant ; la porte internationale s'ouvre pour "
                         "ce trunk jusqu'à une révocation.",
                         "International calls will be allowed on trunk {trunk} of site "
                         "{site} from now on; the international gate stays open for this "
                         "trunk until a revocation."),
    "confirm_verified": ("Pare-feu vérifié par la {run} le {when}, enregistrée par {actor}, il "
                         "y a plus de 24 h.",
                         "Firewall verified by {run} on {when}, recorded by {actor}, more "
                         "than 24 h ago."),
    "confirm_recheck": ("Les règles de la porte seront vérifiées de nouveau au moment de "
                        "confirmer.",
                        "The gate's rules are checked again when you confirm."),
    "confirm_revoke": ("Les appels internationaux du trunk {trunk} seront refusés dès "
                       "maintenant ; une nouvelle vérification du pare-feu sera nécessaire "
                       "(puis 24 h d'attente) pour les rétablir.",
                       "International calls of trunk {trunk} will be refused from now on; "
                       "a new firewall verification (then a 24 h wait) will be needed to "
                       "restore them."),
    "confirm_destinations": ("Destinations signalées : {destinations}",
                             "Destinations reported: {destinations}"),
    "confirm_no_destinations": ("aucune saisie", "none given"),
    "confirm_activate_button": ("Confirmer l'activation", "Confirm the activation"),
    "confirm_revoke_button": ("Confirmer la révocation", "Confirm the revocation"),
    "confirm_cancel": ("Annuler", "Cancel"),
    "confirm_ttl": ("Cette confirmation vaut pour 5 minutes et une seule fois.",
                    "This confirmation is valid for 5 minutes, once."),
    "confirm_cancelled": ("Annulé : rien n'a été modifié.", "Cancelled: nothing was changed."),
    "confirm_expired": ("Confirmation expirée (plus de 5 minutes) : rien n'a été modifié, "
                        "recommencez depuis la page du site.",
                        "Confirmation expired (over 5 minutes): nothing was changed, start "
                        "again from the site page."),
    "confirm_used": ("Confirmation déjà utilisée : rien n'a été modifié une seconde fois.",
                     "Confirmation already used: nothing was changed a second time."),
    "confirm_unknown": ("Confirmation inconnue : rien n'a été modifié, recommencez depuis la "
                        "page du site.",
                        "Unknown confirmation: nothing was changed, start again from the "
                        "site page."),
    "confirm_mismatch": ("Cette confirmation ne correspond pas à cette action : rien n'a été "
                         "modifié.",
                         "This confirmation does not match this action: nothing was "
                         "changed."),
    "chart_title": ("Qualité des appels dans le temps", "Call quality over time"),
    "chart_desc": ("{n} recettes du {first} au {last} ; MOS le plus bas de {mos_min} à "
                   "{mos_max}, perte la plus haute de {loss_min} à {loss_max} %.",
                   "{n} runs from {first} to {last}; lowest MOS {mos_min} to {mos_max}, "
                   "highest loss {loss_min} to {loss_max} %."),
    "chart_table": ("Valeurs du graphique", "Chart values"),
    "report_frame": ("Rapport détaillé", "Detailed report"),
    # -- files on disk
    "files_gone_retention": ("{name} : supprimé le {when} (conservation {days} jours).",
                             "{name}: deleted on {when} ({days}-day retention)."),
    "files_gone_deleted": ("{name} : supprimé le {when} par {who} (recette supprimée).",
                           "{name}: deleted on {when} by {who} (run deleted)."),
    "files_purged": ("supprimé le", "deleted on"),
    "files_kept_days": ("conservation {days} jours", "{days}-day retention"),
    "files_run_deleted": ("Recette supprimée le {when} par {who} : fichiers effacés, "
                          "la recette reste citée dans le journal de la porte internationale.",
                          "Run deleted on {when} by {who}: files erased, the run stays in "
                          "the gate's trail."),
    "files_archived": ("archivé", "archived"),
    "files_actions": ("Actions", "Actions"),
    "files_archive_run": ("Archiver", "Archive"),
    "files_unarchive_run": ("Désarchiver", "Unarchive"),
    "files_delete_run": ("Supprimer", "Delete"),
    "files_archive_site": ("Archiver le site", "Archive the site"),
    "files_unarchive_site": ("Désarchiver le site", "Unarchive the site"),
    "files_delete_site": ("Supprimer les fichiers du site", "Delete the site's files"),
    "files_show_archived": ("Afficher les recettes archivées", "Show archived runs"),
    "files_hide_archived": ("Masquer les recettes archivées", "Hide archived runs"),
    "files_sites_archived": ("Sites archivés", "Archived sites"),
    "files_confirm_title": ("Confirmation", "Confirmation"),
    "files_confirm": ("Confirmer", "Confirm"),
    "files_cancel": ("Annuler", "Cancel"),
    "files_what_archive_run": (
        "Archiver la recette du {when} : elle disparaît de la liste des recettes du site, "
        "ses {n} fichiers ({size}) sont conservés. Vous pourrez la désarchiver.",
        "Archive the run of {when}: it leaves the site's run list, its {n} files ({size}) "
        "are kept. You can unarchive it."),
    "files_what_unarchive_run": (
        "Désarchiver la recette du {when} : elle revient dans la liste des recettes du site.",
        "Unarchive the run of {when}: it comes back to the site's run list."),
    "files_what_delete_run": (
        "Supprimer la recette du {when} : ses {n} fichiers ({size}) seront effacés "
        "définitivement. La recette reste citée dans le journal de la porte "
        "internationale, qui n'est jamais effacé. Cette action est irréversible.",
        "Delete the run of {when}: its {n} files ({size}) will be erased for good. The run "
        "stays in the international option's gate trail, which is never erased. This "
        "cannot be undone."),
    "files_what_archive_site": (
        "Archiver le site {site} : il disparaît de la liste des sites (un filtre l'affiche "
        "encore), ses recettes et fichiers sont conservés. Vous pourrez le désarchiver.",
        "Archive the site {site}: it leaves the sites list (a filter still shows it), its "
        "runs and files are kept. You can unarchive it."),
    "files_what_unarchive_site": (
        "Désarchiver le site {site} : il revient dans la liste des sites.",
        "Unarchive the site {site}: it comes back to the sites list."),
    "files_what_delete_site": (
        "Supprimer les fichiers du site {site} : les {n} fichiers ({size}) de ses {runs} "
        "recettes seront effacés définitivement. Les recettes et le journal de la porte "
        "internationale restent. Cette action est irréversible.",
        "Delete the files of site {site}: the {n} files ({size}) of its {runs} runs will be "
        "erased for good. The runs and the international option's gate trail stay. This "
        "cannot be undone."),
    "files_done_archive_run": ("Recette archivée.", "Run archived."),
    "files_done_unarchive_run": ("Recette désarchivée.", "Run unarchived."),
    "files_done_delete_run": ("Recette supprimée : {n} fichiers effacés ({size}).",
                              "Run deleted: {n} files erased ({size})."),
    "files_done_archive_site": ("Site archivé.", "Site archived."),
    "files_done_unarchive_site": ("Site désarchivé.", "Site unarchived."),
    "files_done_delete_site": ("Fichiers du site supprimés : {n} fichiers effacés ({size}).",
                               "Site's files deleted: {n} files erased ({size})."),
    # -- language and time zone
    "gate_no_verification": ("aucune vérification du pare-feu réussie et attestée par la "
                             "sonde pour ce site",
                             "no firewall verification has passed, attested by the probe, "
                             "for this site"),
    "gate_blocked": ("la vérification du pare-feu du {failed_at} a échoué après la réussite "
                     "du {passed_at} ({evidence})",
                     "the firewall verification of {failed_at} failed after the pass of "
                     "{passed_at} ({evidence})"),
    "gate_revoked": ("révoquée le {revoked_at} (motif : {reason}) : une nouvelle vérification "
                     "du pare-feu est nécessaire",
                     "revoked {revoked_at} (reason: {reason}): a new firewall verification "
                     "is needed"),
    "gate_active": ("active depuis le {since}", "active since {since}"),
    "gate_expired": ("la vérification du {passed_at} ({evidence}) date de plus de {days} jours "
                     "sans que l'option ait été activée : une nouvelle vérification du "
                     "pare-feu est nécessaire",
                     "the verification of {passed_at} ({evidence}) is older than {days} days "
                     "and the option was not activated: a new firewall verification is "
                     "needed"),
    "gate_waiting": ("pare-feu vérifié le {passed_at} ({evidence}) ; activable à partir du "
                     "{eligible_at}, reste {left}",
                     "firewall verified {passed_at} ({evidence}); allowed from "
                     "{eligible_at}, {left} left"),
    "gate_eligible": ("pare-feu vérifié le {passed_at} ({evidence}) : activation possible",
                      "firewall verified {passed_at} ({evidence}): activation allowed"),
    "evidence_run": ("recette n° {n}", "run {n}"),
    "evidence_none": ("sans référence", "no reference"),
    "note_none": ("aucune vérification du pare-feu dans cette recette",
                  "no firewall verification in this run"),
    "note_nothing_proven": ("{check} : {status} : rien de prouvé, rien d'enregistré",
                            "{check}: {status}: nothing proven either way, nothing recorded"),
    "note_exposure_failed": ("{check} en échec : le site répond aux attaquants depuis "
                             "internet ; l'option reste bloquée jusqu'à une nouvelle réussite "
                             "vérifiée",
                             "{check} failed: the site answers attackers from the internet; "
                             "it blocks the option until a new verified pass"),
    "note_unattested": ("réussite que les signatures de la sonde ne confirment pas : gardée "
                        "au journal, elle ne déclenche rien",
                        "a pass the probe's signatures do not back: kept in the trail, "
                        "starts nothing"),
    "note_backed": ("réussite confirmée par les signatures de la sonde : le délai de 24 h "
                    "commence",
                    "a pass backed by the probe's signatures: the 24 h wait starts now"),
    "note_failure": ("échec : l'option est bloquée jusqu'à une nouvelle réussite vérifiée",
                     "a failure: it blocks the option until a new verified pass"),
    "note_older": ("antérieure à la vérification enregistrée le {at} ({evidence}) : non "
                   "enregistrée",
                   "older than the verification recorded {at} ({evidence}): not recorded"),
    "phase_cold": ("à froid", "cold"),
    "phase_warm": ("à chaud", "warm"),
    "vantage_outsider": ("sonde extérieure", "outsider probe"),
    "vantage_server": ("sonde côté serveur", "server probe"),
    "refused_no_sweep": ("aucun balayage {phase} de la sonde extérieure dans la recette",
                         "no {phase} sweep from the outsider probe in the run"),
    "refused_no_scan": ("aucun scan d'exposition {phase} de la sonde extérieure dans la "
                        "recette",
                        "no {phase} exposure scan from the outsider probe in the run"),
    "refused_no_exposure": ("pas de contrôle {check} dans la recette : ce qu'un attaquant "
                            "atteint depuis internet n'est pas prouvé",
                            "no {check} check in the run: what an attacker on the internet "
                            "reaches is unproven"),
    "refused_exposure_status": ("{check} : {status} : ce qu'un attaquant atteint depuis "
                                "internet n'est pas prouvé",
                                "{check}: {status}: what an attacker on the internet reaches "
                                "is unproven"),
    "refused_sweep": ("balayage {phase} de la {vantage} : {why}",
                      "{phase} sweep from the {vantage}: {why}"),
    "refused_scan": ("scan d'exposition {phase} : {why}", "{phase} exposure scan: {why}"),
    "why_unsigned": ("non signé (sonde sans clé de signature, ou clé retirée)",
                     "unsigned (a probe without a signing key, or removed)"),
    "why_used": ("déjà utilisé par une autre recette", "already used by another run"),
    "why_unknown_key": ("clé de sonde inconnue {key}", "unknown probe key {key}"),
    "why_bad_signature": ("signature invalide pour la clé de sonde {key}",
                          "bad signature for probe key {key}"),
    "why_stale": ("trop ancien : fait le {at}", "stale: made {at}"),
    "why_not_covered": ("ne couvre pas {what}", "does not cover {what}"),
    "why_found_open": ("la sonde a trouvé ouverts : {what}", "the probe found open: {what}"),
    "why_other": ("refusé ({detail})", "refused ({detail})"),
    "declared_listener": ("les ports balayés ayant reçu les datagrammes des sondes (écoute de "
                          "l'agent)",
                          "which swept ports received the probes' datagrams (the agent's "
                          "listener)"),
    "declared_operator": ("le trafic propre de l'opérateur (son INVITE, ses médias sur des "
                          "ports échantillonnés)",
                          "the operator's own traffic (its INVITE, its media on sampled "
                          "ports)"),
    "declared_config": ("la configuration du routeur", "the router's configuration"),
    "declared_registrar": ("l'adresse publique du site telle que le registrar de l'opérateur "
                           "l'a vue",
                           "the site's public address as the operator's registrar saw it"),
    "attested_line": ("balayage {phase} de la {vantage}, {probe}, vers {target} : UDP, "
                      "{ports} ports ({sent} datagrammes), le {at}",
                      "{phase} sweep from the {vantage}, {probe}, to {target}: UDP, {ports} "
                      "ports ({sent} datagrams), {at}"),
    "act_login": ("connexion", "log in"),
    "act_login_failed": ("connexion refusée", "log in refused"),
    "act_login_blocked": ("connexion bloquée (trop d'essais)",
                          "log in blocked (too many attempts)"),
    "act_logout": ("déconnexion", "log out"),
    "act_password_changed": ("mot de passe changé", "password changed"),
    "act_password_failed": ("changement de mot de passe refusé", "password change refused"),
    "act_password_blocked": ("changement de mot de passe bloqué (trop d'essais)",
                             "password change blocked (too many attempts)"),
    "act_password_reset": ("mot de passe réinitialisé", "password reset"),
    "act_download": ("téléchargement", "download"),
    "act_upload": ("envoi d'une recette", "run uploaded"),
    "act_upload_refused": ("envoi refusé", "upload refused"),
    "act_verification_pass": ("vérification du pare-feu réussie",
                              "firewall verification passed"),
    "act_verification_fail": ("vérification du pare-feu en échec",
                              "firewall verification failed"),
    "act_verification_unattested": ("réussite non attestée par la sonde",
                                    "pass not attested by the probe"),
    "act_activate": ("activation de l'option internationale",
                     "international option activated"),
    "act_activate_refused": ("activation refusée", "activation refused"),
    "act_revoke": ("révocation de l'option internationale", "international option revoked"),
    "act_user_add": ("création d'utilisateur", "user created"),
    "act_user_enable": ("compte réactivé", "account enabled"),
    "act_user_disable": ("compte désactivé", "account disabled"),
    "act_grant": ("site accordé", "site granted"),
    "act_ungrant": ("site retiré", "site withdrawn"),
    "act_token_add": ("jeton d'envoi créé", "upload token created"),
    "act_token_revoke": ("jeton d'envoi révoqué", "upload token revoked"),
    "act_probe_key_add": ("clé de sonde enregistrée", "probe key registered"),
    "act_probe_key_revoke": ("clé de sonde retirée", "probe key retired"),
    "act_tz_set": ("fuseau horaire choisi", "time zone chosen"),
    "key_trunk": ("trunk", "trunk"),
    "key_state": ("état", "state"),
    "key_reason": ("motif", "reason"),
    "key_why": ("motif", "reason"),
    "key_destinations": ("destinations", "destinations"),
    "key_run_id": ("recette", "run"),
    "key_run": ("recette n°", "run"),
    "key_file": ("fichier", "file"),
    "key_files": ("fichiers", "files"),
    "key_note": ("bilan", "note"),
    "key_refused": ("refusé", "refused"),
    "key_user": ("utilisateur", "user"),
    "key_user_id": ("n° d'utilisateur", "user id"),
    "key_role": ("rôle", "role"),
    "key_name": ("nom", "name"),
    "key_key_id": ("identifiant de clé", "key id"),
    "key_token_id": ("n° de jeton", "token id"),
    "key_via": ("par", "via"),
    "key_site": ("site", "site"),
    "key_tz": ("fuseau", "zone"),
    "key_company": ("société", "company"),
    "via_cli": ("ligne de commande", "command line"),
    "bad_token": ("jeton absent, inconnu ou révoqué", "missing, unknown or revoked token"),
    "preferences": ("Préférences", "Preferences"),
    "time_zone": ("Fuseau horaire", "Time zone"),
    "tz_help": ("Toutes les heures de la console sont données dans ce fuseau.",
                "Every time the console shows is given in this zone."),
    "tz_saved": ("Fuseau horaire enregistré.", "Time zone saved."),
    "tz_unknown": ("Fuseau horaire inconnu : choisissez-en un dans la liste (par exemple "
                   "Europe/Paris).",
                   "Unknown time zone: choose one from the list (for example Europe/Paris)."),
    "save": ("Enregistrer", "Save"),
    "times_in": ("Heures", "Times"),
    "bad_request": ("Requête invalide.", "Bad request."),
    "too_large": ("Envoi trop volumineux.", "Upload too large."),
    "forbidden": ("Accès refusé.", "Access denied."),
    "not_allowed": ("Méthode non autorisée.", "Method not allowed."),
    "csv_run": ("Recette", "Run"),
    "csv_date": ("Date", "Date"),
    "csv_time": ("Heure", "Time"),
    # -- search and filters
    "search_hint": ("Numéro, SIRET, client, site ou trunk",
                    "Number, SIRET, customer, site or trunk"),
    "search_label": ("Recherche", "Search"),
    "filter_gate": ("Option internationale", "International option"),
    "any_state": ("Tous les états", "Any state"),
    "eligible_now": ("Activable maintenant", "Eligible now"),
    "clear_filters": ("Effacer", "Clear"),
    "matched": ("Trouvé par", "Matched"),
    "match_did": ("numéro", "number"),
    "match_trunk": ("trunk", "trunk"),
    "match_siret": ("SIRET", "SIRET"),
    "match_customer": ("client", "customer"),
    "match_site": ("site", "site"),
    "match_integrator": ("intégrateur", "integrator"),
    "match_key": ("clé du site", "site key"),
    # -- upload refusals
    # An upload's refusal (harness.console.intake.UploadRefused): ``refusal_<code>``, its
    # English the API's line (tests and the CLI read it), its French the form's and audit's.
    "refusal_missing": ("champ manquant", "missing"),
    "refusal_not_text": ("un texte est attendu, pas {kind}", "expected a text, got {kind}"),
    "refusal_too_long": ("{n} caractères, plus que {limit}", "{n} characters, more than {limit}"),
    "refusal_control": ("{value} contient des caractères de contrôle",
                        "{value} holds control characters"),
    "refusal_not_utf8": ("pas en UTF-8", "not UTF-8"),
    "refusal_too_deep": ("imbriqué sur plus de {limit} niveaux", "nested deeper than {limit}"),
    "refusal_not_json": ("pas du JSON (ligne {line}, colonne {col})", "not JSON ({detail})"),
    "refusal_json_constant": ("pas du JSON ({name} n'est pas un nombre)",
                              "not JSON ({name} is not a number)"),
    "refusal_not_results": ("pas un document de résultats recette (pas un objet JSON)",
                            "not a recette results document (not an object)"),
    "refusal_schema": ("version {expected} attendue, {value} reçue",
                       "expected {expected}, got {value}"),
    "refusal_not_counts": ("un objet de nombres est attendu", "expected an object of numbers"),
    "refusal_not_one_of": ("{value} n'est pas l'une des valeurs {allowed}",
                           "{value} is not one of {allowed}"),
    "refusal_not_count": ("{value} n'est pas un entier positif ou nul", "{value} is not a count"),
    "refusal_not_list": ("une liste est attendue", "expected a list"),
    "refusal_too_many_checks": ("{n} contrôles, plus que {limit}",
                                "{n} checks, more than {limit}"),
    "refusal_too_many_rows": ("{n} lignes, plus que {limit}", "{n} rows, more than {limit}"),
    "refusal_not_object": ("un objet est attendu", "expected an object"),
    "refusal_not_number": ("{value} n'est pas un nombre", "{value} is not a number"),
    "refusal_not_message": ("pas un message (il faut code, params et text)",
                            "not a message (code, params, text)"),
    "refusal_msg_too_long": ("plus de {limit} caractères", "more than {limit} characters"),
    "refusal_yaml_aliases": ("les alias YAML (ancres, références) ne sont pas acceptés",
                             "YAML aliases are not accepted"),
    "refusal_not_yaml_at": ("pas du YAML valide (ligne {line})",
                            "not YAML (line {line}: {problem})"),
    "refusal_not_yaml": ("pas du YAML valide", "not YAML ({problem})"),
    "refusal_not_profile": ("un dictionnaire YAML est attendu (un profil recette masqué)",
                            "expected a mapping (a masked recette profile)"),
    "refusal_not_mapping": ("un dictionnaire YAML est attendu", "expected a mapping"),
    "refusal_siret_digits": ("{value} ne compte pas 14 chiffres", "{value} is not 14 digits"),
    "refusal_siret_luhn": ("le SIRET {digits} ne passe pas la clé de Luhn",
                           "{digits} fails the Luhn check"),
    "refusal_siret_la_poste": ("le SIRET {digits} ne passe pas la somme des chiffres de "
                               "La Poste",
                               "{digits} fails La Poste's digit sum"),
    "refusal_not_date": ("{value} n'est pas une date", "{value} is not a date"),
    "refusal_not_iso": ("{value} n'est pas une date ISO 8601",
                        "{value} is not an ISO 8601 date"),
    "refusal_no_zone": ("{value} n'indique pas de fuseau horaire", "{value} has no time zone"),
    "refusal_future": ("{value} est dans le futur (horloge de la console : {now})",
                       "{value} is in the future (the console's clock: {now})"),
    "refusal_too_many_trunks": ("{n} trunks, plus que {limit}", "{n} trunks, more than {limit}"),
    "refusal_not_trunk": ("un dictionnaire avec un nom (name) est attendu",
                          "expected a mapping with a name"),
    "refusal_key_too_long": ("la clé du site dépasse {limit} caractères",
                             "the site's key is more than {limit} characters"),
    "refusal_too_big": ("{size} octets, plus que {limit}", "{size} bytes, more than {limit}"),
    "refusal_not_taken": ("pas un fichier que la console accepte ({names})",
                          "not a file the console takes ({names})"),
    "refusal_absent": ("absent de l'envoi", "missing from the upload"),
    "refusal_sent_twice": ("envoyé deux fois", "sent twice"),
    "refusal_too_many_numbers": ("plus de {limit} numéros pour un site",
                                 "more than {limit} numbers for one site"),
    "refusal_not_phone": ("{value} n'est pas un numéro de téléphone (E.164 +33123456789 ou "
                          "national 0123456789)",
                          "{value} is not a phone number (E.164 +33123456789 or national "
                          "0123456789)"),
    "refusal_too_many_accounts": ("{n} comptes Centrex, plus que {limit}",
                                  "{n} accounts, more than {limit}"),
    "refusal_not_granted": ("le site {site} n'est pas attribué à {user}",
                            "site {site} is not granted to {user}"),
    "type_list": ("une liste", "list"),
    "type_dict": ("un objet", "dict"),
    "type_bool": ("un booléen", "bool"),
    # the gatekeeper's causes for refusing a probe's attestation (wording._why), beside the
    # frequent ones above: every sentence gatekeeper.py and harness.attest can write
    "why_time_not_iso": ("son heure n'est pas au format ISO 8601", "its time is not ISO 8601"),
    "why_time_no_zone": ("son heure n'indique pas de fuseau horaire",
                         "its time has no time zone"),
    "why_wrong_kind": ("signe un document {kind}, pas un {expected}",
                       "signs a {kind}, not a {expected}"),
    "doc_sweep": ("balayage", "sweep"),
    "doc_scan": ("scan d'exposition", "scan"),
    "why_ahead": ("daté du {at}, après sa réception", "dated {at}, after its receipt"),
    "why_other_site": ("fait pour le site {other}, pas pour {site}",
                       "made for site {other}, not {site}"),
    "why_no_public": ("la recette ne donne pas l'adresse publique du site à comparer",
                      "the run names no public address of the site to compare with"),
    "why_misaimed": ("envoyé à {target}, pas à l'adresse publique du site {public}",
                     "sent to {target}, not to the site's public address {public}"),
    "why_too_few": ("{sent} datagrammes envoyés pour {n} ports",
                    "{sent} datagrams sent for {n} ports"),
    "why_silent_open": ("ne dit pas ce que la sonde a trouvé ouvert",
                        "says nothing of what it found open"),
    "why_unreadable": ("attestation illisible ({error})", "unreadable attestation ({error})"),
    "why_not_object": ("l'attestation n'est pas un objet JSON", "attestation is not an object"),
    "why_fields": ("l'attestation doit contenir les textes doc, sig et key",
                   "attestation needs doc, sig and key strings"),
    "why_att_too_long": ("attestation trop longue", "attestation too long"),
    "why_bad_public": ("clé publique enregistrée {key} mal formée",
                       "malformed registered public key {key}"),
    "why_sig_base64": ("la signature n'est pas en base64", "signature is not base64"),
    "why_sig_length": ("la signature ne fait pas 64 octets", "signature is not 64 bytes"),
    "why_doc_utf8": ("le document signé n'est pas du texte UTF-8", "doc is not UTF-8 text"),
    "why_doc_json": ("le document signé n'est pas du JSON", "doc is not JSON"),
    "why_doc_object": ("le document signé n'est pas un objet JSON", "doc is not a JSON object"),
    "why_doc_probe": ("le document signé nomme une autre sonde que la clé {key}",
                      "doc names another probe than key {key}"),
    "why_version": ("version d'attestation non prise en charge (version {expected} attendue)",
                    "unsupported attestation version (expected {expected})"),
}
ROLE_LABEL = {"administrator": "administrator", "technical": "technical",
              "integrator": "integrator"}


def label(key: str, lang: str = "fr") -> str:
    """The label in ``lang`` (French unless ``en``)."""
    fr, en = LABELS[key]
    return en if lang == "en" else fr
