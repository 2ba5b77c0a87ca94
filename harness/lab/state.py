"""What a lab is between processes: its saved state, how to find every lab on this machine,
whether a lab's owner still lives, and teardown.

``recette lab up`` builds a lab in one process while ``status`` and ``down`` run in others,
and a test run killed mid-way leaves its lab behind. So everything a lab is can be found from
its prefix alone (its namespaces, and its folder under ``/run/recette/<prefix>`` holding
``state.json``), and this module is the one place that reads those to list, judge and remove
labs.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from harness import netns
from harness.errors import LabError
from harness.lab import procs
from harness.lab.firewall import FirewallMode
from harness.lab.profile import STATE_ROOT
from harness.lab.topology import (
    PREFIX_RE,
    ROLES,
    TEST_NUMBER,
    IpbxKind,
    OperatorKind,
    check_prefix,
)


@dataclass
class LabState:
    """What ``lab up`` built, persisted so ``status``/``down`` work from another process."""

    prefix: str
    alg: bool
    firewall: FirewallMode
    profile_path: str | None
    created: float
    rtp: tuple[int, int] = (10000, 20000)
    owner_pid: int | None = None  # a test or demo process that will tear it down itself
    digest: str = "MD5"  # the algorithm Kamailio challenges with (MD5 or SHA-256)
    lans_open: bool = False  # the router forwards anything between the voice and data LANs
    admin_wan: bool = False  # the router's own web administration answers its WAN
    operator: OperatorKind = "default"  # "field": rtpengine, an announcement, no lab caller
    media_ip: str | None = None  # field lab: where rtpengine anchors every call's media
    echo_number: str | None = TEST_NUMBER  # a number whose far end echoes our RTP
    announcement_number: str | None = None  # a number that plays an announcement, no echo
    shape: str = "default"  # field lab: the operator's shape (harness.lab.shapes.SHAPES)
    declared: bool = True  # the lab profile lists the shape's edge proxy and media addresses
    channels: int = 10  # the lab trunk's ordered channels, which Kamailio enforces (486)
    centrex: int = 2  # Centrex accounts centrex101... with DIDs +33199000101...
    ipbx: IpbxKind = "none"  # the site's own IPBX (harness.lab.ipbx) and the forwards to it


def lab_dir(prefix: str) -> Path:
    """The lab's state folder: Kamailio's config, PID file and log, the policy in force."""
    return STATE_ROOT / prefix


def save_state(state: LabState) -> None:
    """Write the lab's state whole or not at all (a temporary file renamed over it): another
    process's ``lab status`` reads it at any moment, and a half-written file is not a lab."""
    path = lab_dir(state.prefix) / "state.json"
    tmp = path.with_name(f".state.{os.getpid()}.json")
    tmp.write_text(json.dumps(asdict(state)))
    os.replace(tmp, path)


def load_state(prefix: str) -> LabState:
    """The state of a lab built by another process."""
    path = lab_dir(prefix) / "state.json"
    try:
        raw = json.loads(path.read_text())
        state = LabState(**{**raw, "rtp": tuple(raw.get("rtp", (10000, 20000)))})
    except FileNotFoundError:
        raise LabError(f"no lab named {prefix} (no {path})") from None
    except (ValueError, TypeError) as exc:
        raise LabError(f"lab {prefix}: {path} is damaged ({exc})") from None
    return state


def existing_prefixes() -> list[str]:
    """Prefixes of every lab with at least a namespace or a state folder on this machine."""
    found = {n.split("-", 1)[0] for n in netns.list_names()
             if "-" in n and PREFIX_RE.match(n.split("-", 1)[0])}
    if STATE_ROOT.is_dir():
        found |= {p.name for p in STATE_ROOT.iterdir() if PREFIX_RE.match(p.name)}
    return sorted(found)


def down(prefix: str) -> None:
    """Remove one lab: kill its processes, delete its namespaces and state (idempotent)."""
    check_prefix(prefix)
    procs.kill_all([pid for role in ROLES for pid in procs.ns_pids(f"{prefix}-{role}")])
    if netns.run(None, ["id", prefix], check=False).returncode == 0:
        netns.run(None, ["userdel", prefix], check=False)  # the router's throw-away account
    for role in ROLES:
        name = f"{prefix}-{role}"
        if netns.exists(name):
            netns.run(None, ["ip", "netns", "del", name], check=False)
    shutil.rmtree(lab_dir(prefix), ignore_errors=True)


def owner_alive(prefix: str) -> int | None:
    """PID of the live process that owns lab ``prefix`` (and will remove it), if any."""
    try:
        raw = json.loads((lab_dir(prefix) / "state.json").read_text())
    except (FileNotFoundError, ValueError):
        return None
    pid = raw.get("owner_pid")
    return pid if isinstance(pid, int) and procs.exists(pid) else None


def down_all(*, force: bool = False) -> tuple[list[str], list[str]]:
    """Remove the labs on this machine: those built by ``recette lab up``, and those left by
    a run that died (owner gone, or half-built). A lab whose owning process still runs (a
    test session, a demo) is kept unless ``force``. Returns (removed, kept)."""
    removed, kept = [], []
    for p in existing_prefixes():
        if not force and owner_alive(p) is not None:
            kept.append(p)
            continue
        down(p)
        removed.append(p)
    return removed, kept
