"""The core's messages (see :mod:`harness.messages`): outcomes no single check owns, and the
probe channel's errors. Each entry says what happened and, for the customer, what to do."""

from __future__ import annotations

from harness.messages import Catalog

TEXTS: Catalog = {
    "CHECK_INTERRUPTED": {
        "en": "the run was stopped before this check finished (Ctrl-C or a crash): no "
              "verdict; run it again",
        "fr": "la recette a été arrêtée avant la fin de ce contrôle (Ctrl-C ou panne) : pas "
              "de verdict ; le relancer",
    },
    "INTERNAL_ERROR": {
        "en": "internal error of the harness ({kind}: {detail}): please report it",
        "fr": "erreur interne de l'outil de recette ({kind} : {detail}) : à signaler",
    },
    "ASSERTION_FAILED": {
        "en": "not conform: {detail}",
        "fr": "non conforme : {detail}",
    },
    "SKIPPED": {
        "en": "not applicable: {detail}",
        "fr": "sans objet : {detail}",
    },
    "VANTAGE_SERVER": {"en": "server probe", "fr": "sonde côté serveur"},
    "VANTAGE_OUTSIDER": {"en": "outsider probe", "fr": "sonde extérieure"},
    "VANTAGE_PROBE": {"en": "probe", "fr": "sonde"},
    "NO_VANTAGE_POINT": {
        "en": "the profile has no vantage_points.{name}: this check cannot be run from there; "
              "add the probe's address and key to the profile",
        "fr": "le profil ne décrit pas de point de mesure vantage_points.{name} : ce contrôle "
              "n'a pas pu être fait ; ajouter l'adresse et la clé de la sonde au profil",
    },
    "NO_VANTAGE_KEY": {
        "en": "vantage_points.{name} has no key (key or key_env) for its probe: add it to the "
              "profile",
        "fr": "vantage_points.{name} n'a pas de clé (key ou key_env) pour sa sonde : "
              "l'ajouter au profil",
    },
    "PROBE_TLS_CA": {
        "en": "vantage_points.{name}.tls_ca: cannot use {path} to verify the probe's "
              "certificate ({detail}): give the probe's certificate (PEM) made by "
              "`recette probe cert`, or the CA that signed it",
        "fr": "vantage_points.{name}.tls_ca : {path} ne permet pas de vérifier le certificat "
              "de la sonde ({detail}) : indiquer le certificat de la sonde (PEM) produit par "
              "`recette probe cert`, ou l'autorité qui l'a signé",
    },
    "PROBE_UNREACHABLE": {
        "en": "cannot reach the {vantage} at {where} ({detail}): is `recette probe serve` "
              "running there and TCP open to it?",
        "fr": "la {vantage} ({where}) ne répond pas ({detail}) : vérifier que "
              "`recette probe serve` y tourne et que TCP lui est ouvert",
    },
    "PROBE_CLOSED_ON_HTTP": {
        "en": "{detail}; a probe serving HTTPS (`probe serve --tls-cert`) does that to plain "
              "HTTP: then name its certificate in the profile's vantage point (tls_ca)",
        "fr": "{detail} ; une sonde servie en HTTPS (`probe serve --tls-cert`) ferme ainsi "
              "les connexions HTTP simples : indiquer alors son certificat dans le point de "
              "mesure du profil (tls_ca)",
    },
    "PROBE_TLS_REJECTED": {
        "en": "the {vantage} at {where} presents a certificate the profile does not trust "
              "({detail}): its vantage point's tls_ca must be that probe's certificate "
              "(`recette probe cert --address` its address) or the CA that signed it",
        "fr": "la {vantage} ({where}) présente un certificat que le profil ne reconnaît pas "
              "({detail}) : le tls_ca de son point de mesure doit être le certificat de cette "
              "sonde (`recette probe cert --address` son adresse) ou l'autorité qui l'a signé",
    },
    "PROBE_PLAIN_HTTP": {
        "en": "the {vantage} at {where} answers plain HTTP, not HTTPS ({detail}): serve it "
              "with `probe serve --tls-cert/--tls-key`, or remove tls/tls_ca from its vantage "
              "point",
        "fr": "la {vantage} ({where}) répond en HTTP simple, pas en HTTPS ({detail}) : la "
              "servir avec `probe serve --tls-cert/--tls-key`, ou retirer tls/tls_ca de son "
              "point de mesure",
    },
    "PROBE_EOF_ON_HTTPS": {
        "en": "{detail}; a probe serving plain HTTP (no `--tls-cert`) does that to HTTPS: "
              "then serve it with `--tls-cert/--tls-key`, or remove tls/tls_ca from its "
              "vantage point",
        "fr": "{detail} ; une sonde servie en HTTP simple (sans `--tls-cert`) ferme ainsi les "
              "connexions HTTPS : la servir alors avec `--tls-cert/--tls-key`, ou retirer "
              "tls/tls_ca de son point de mesure",
    },
    "PROBE_NOT_JSON": {
        "en": "the {vantage} at {where} answered something that is not JSON",
        "fr": "la {vantage} ({where}) a répondu autre chose que du JSON",
    },
    "PROBE_REFUSED": {
        "en": "the {vantage} at {where} refused {path}: {status} {detail}",
        "fr": "la {vantage} ({where}) a refusé {path} : {status} {detail}",
    },
    "PROBE_RATE_LIMITED": {
        "en": "the {vantage} at {where} rate-limited {path}",
        "fr": "la {vantage} ({where}) a limité le débit de {path}",
    },
}
