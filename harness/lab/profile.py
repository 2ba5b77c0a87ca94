"""The lab's own site profile: what ``lab up`` writes to ``profiles/lab.yaml``.

Passwords are random per lab (derived from a seed kept 0600 in the lab's state folder), so a
test can grep every output file for them and prove none leaked.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from harness.lab.topology import TEST_NUMBER

STATE_ROOT = Path("/run/recette")


def _seed(prefix: str) -> bytes:
    path = STATE_ROOT / prefix / "seed"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        seed = secrets.token_bytes(16)
        path.write_bytes(seed)
        path.chmod(0o600)
        return seed


def lab_password(prefix: str, account: str) -> str:
    """The lab's password for ``account`` (stable for the life of the lab)."""
    digest = hmac.new(_seed(prefix), account.encode(), hashlib.sha256).hexdigest()
    return f"lab-{digest[:16]}"


def lab_signing_key(prefix: str, probe: str) -> str:
    """The signing key (:mod:`harness.attest`: base64 of 32 raw bytes) of the lab's
    ``probe`` ("outsider", "server"): random per lab like its passwords, stable for its life.
    Only the probe's environment gets it, never the profile (an agent holds no signing key)."""
    raw = hmac.new(_seed(prefix), f"probe-signing:{probe}".encode(), hashlib.sha256).digest()
    return base64.b64encode(raw).decode()


def lab_profile_data(prefix: str, *, operator: str = "default",
                     media_ip: str | None = None,
                     signalling_ips: Sequence[str] = (), channels: int = 10,
                     centrex: int = 2) -> dict[str, Any]:
    """The lab profile as plain data (validated by :class:`harness.profile.Profile`).

    For the field operator (``operator="field"``) it holds only what a real site could fill
    in from the operator's handbook: no probe beside the SIP server, the addresses other than
    the SIP server's that its requests come from (``signalling_ips``: an edge proxy) and its
    separate media address when it has one (``media_ip``); its ``lab:`` section stays because
    the runner enters the agent's namespace with it. Leaving the addresses out gives the
    profile of an integrator who forgot them."""
    data = _profile_data(prefix)
    data["trunks"][0]["channels"] = channels
    data["centrex"] = [centrex_account(prefix, i) for i in range(1, centrex + 1)]
    if operator == "field":
        data["operator"]["name"] = "OpenIP (field lab)"
        server = data["operator"]["sip_server"]["ip"]
        signalling = [ip for ip in signalling_ips if ip != server]
        if signalling:
            data["operator"]["signalling_ips"] = signalling
        if media_ip is not None and media_ip != server:
            data["operator"]["media_ips"] = [media_ip]
        del data["vantage_points"]["server"]
    else:  # the reference operator's test number echoes, as its handbook would say
        data["operator"]["test_number_kind"] = "echo"
    return data


MAX_CENTREX = 500  # the DIDs +33199000101 to +33199000600 stay in the lab's number block


def centrex_account(prefix: str, i: int) -> dict[str, str]:
    """The lab's ``i``-th Centrex account (from 1): centrex101, its password from the lab's
    seed, its DID +33199000101."""
    name = f"centrex{100 + i}"
    return {"name": name, "user": name, "password": lab_password(prefix, name),
            "did": f"+33199000{100 + i:03d}"}


def _profile_data(prefix: str) -> dict[str, Any]:
    return {
        "customer": {
            "name": "Laboratoire recette",
            "siret": "73282932000074",
            "integrator": "recette reference lab",
            "technician": "CI",
        },
        "site": {"name": f"Lab {prefix}", "address": "Network namespaces on this machine"},
        "operator": {
            "name": "OpenIP (lab)",
            "sip_server": {"ip": "198.51.100.10", "domain": "sip.recette.example", "port": 5060},
            "test_number": TEST_NUMBER,
        },
        "trunks": [
            {
                "name": "trunk01",
                "user": "trunk01",
                "password": lab_password(prefix, "trunk01"),
                "dids": ["+33199000001", "+33199000002"],
                "channels": 10,
            }
        ],
        "centrex": [
            {"name": "centrex101", "user": "centrex101",
             "password": lab_password(prefix, "centrex101"), "did": "+33199000101"},
            {"name": "centrex102", "user": "centrex102",
             "password": lab_password(prefix, "centrex102"), "did": "+33199000102"},
        ],
        "router": {
            "kind": "opios",
            "host": "192.168.254.1",
            "username": prefix,
            "password": lab_password(prefix, "router"),
            "ipbx": "192.168.254.10",
            "lans": {"isolated": True},  # the lab router keeps voice and data apart
            "dhcp_config": f"/run/recette/{prefix}/dnsmasq.conf",
        },
        "vantage_points": {
            "server": {"address": "198.51.100.20", "key": lab_password(prefix, "probe")},
            "outsider": {"address": "203.0.113.66", "key": lab_password(prefix, "probe")},
        },
        "lab": {
            "prefix": prefix,
            "agent_netns": f"{prefix}-lan",
            "namespaces": {r: f"{prefix}-{r}" for r in ("lan", "data", "rtr", "inet", "op", "out")},
        },
    }


def dump_yaml(data: dict[str, Any]) -> str:
    """YAML text with a header saying where it came from."""
    header = (
        "# Generated by `recette lab up` for the reference lab; rewritten at every lab up.\n"
        "# Holds the lab's random passwords: do not copy it into a report or a ticket.\n"
    )
    return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
