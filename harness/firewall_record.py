"""Where passed firewall verifications are recorded for the international-option gate.

One JSON line per pass (time, site, server IP, the sweeps' evidence) in
``$RECETTE_STATE_DIR/firewall-passes.jsonl`` (default ``/var/lib/recette``). The gate reads
these; it never trusts a pass it cannot find here.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
from pathlib import Path

from .evidence import Evidence
from .profile import Profile


def store_path() -> Path:
    return Path(os.environ.get("RECETTE_STATE_DIR", "/var/lib/recette")) / \
        "firewall-passes.jsonl"


def record_pass(profile: Profile, evidence: Evidence) -> str:
    """Append a pass; returns its reference (``fw-<date>-<random>``)."""
    now = dt.datetime.now(dt.UTC)
    ref = f"fw-{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
    doc = {
        "ref": ref,
        "at": now.isoformat(timespec="seconds"),
        "customer": profile.customer.name,
        "siret": profile.customer.siret,
        "site": profile.site.name,
        "trunks": [t.name for t in profile.trunks],
        "server_ip": str(profile.operator.sip_server.ip),
        "sweeps": evidence.data.get("sweeps", []),
    }
    path = store_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(doc) + "\n")
    return ref
