"""What crossed the lab router's WAN during a run, and whether firewall.openings' proofs are
true against it.

A proof sentence of the firewall check ("INVITE from X:p … a new flow, through the forward";
"10000: OPEN, operator media arrived first") is a claim about packets at the router's edge:
nothing the site sent may have opened the flow before. These tests do not take the check's
word for it: dumpcap on the router's WAN interface records every UDP datagram of the run
(tshark decodes it, an implementation we did not write), and :func:`assert_proofs_true`
checks each claim of the results against that record (:class:`harness.lab.capture.Wire`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pytest import MonkeyPatch

from harness.gate.store import Event
from harness.lab import RTR_WAN, Lab
from harness.lab.capture import Wire
from harness.lab.firewall import FirewallMode
from harness.results import CheckResult, RunResults
from tests.lab.labrun import run

WAN_IF = "wan0"
FIREWALL_CHECKS = ("router.audit", "sip.alg", "firewall.openings", "router.crosscheck")
# Beside a firewall that may pass (strict): the console starts the wait on a firewall pass only
# beside an attested exposure pass (harness/console/gatekeeper.py); a failing or unproven
# firewall needs none (4 s a run saved).
EXPOSURE_CHECK = "security.exposure"


@dataclass(frozen=True)
class Packet:
    at: float
    src: tuple[str, int]
    dst: tuple[str, int]
    method: str  # the SIP request method, "" for anything else


@contextmanager
def wan_capture(lab: Lab, path: Path) -> Iterator[list[Packet]]:
    """Record the router's WAN (UDP only) while the block runs; the list is filled when the
    block ends."""
    packets: list[Packet] = []
    wire = Wire(lab.ns("rtr"), WAN_IF, path)
    with wire:
        yield packets
    for d in wire.datagrams():
        line = d.sip_first_line or ""
        method = line.split(" ", 1)[0] if line.endswith(" SIP/2.0") else ""
        packets.append(Packet(d.at, d.src, d.dst, method))


def _ip_port(text: str) -> tuple[str, int]:
    ip, port = text.rsplit(":", 1)
    return ip, int(port)


def assert_proofs_true(fw: CheckResult, packets: list[Packet]) -> int:
    """Every "open" the check proved from the operator's traffic is true at the WAN: the
    operator's datagram reached the router before the site had sent anything to that very
    address:port from the public port it reached. Every "closed" sample really saw the
    operator's media dropped (it reached the WAN before the site's first packet). Returns
    how many claims were checked."""
    traffic = fw.figures.operator_traffic
    assert traffic is not None, fw.facts
    wan = str(RTR_WAN)
    checked = 0
    if traffic.sip_proven:
        assert traffic.sip_source is not None
        source = _ip_port(traffic.sip_source)
        invite = next(p for p in packets if p.method == "INVITE" and p.src == source
                      and p.dst[0] == wan)
        before = [p for p in packets if p.src[0] == wan and p.src[1] == invite.dst[1]
                  and p.dst == source and p.at < invite.at]
        assert before == [], f"the site had sent to {source} before the 'new flow': {before}"
        checked += 1
    # closed by the traffic alone (the relay sent first elsewhere); "late, and the
    # configuration opens nothing" rests on the configuration, and a latching relay gives it
    closed_to = {r.address for r in fw.figures.operator_addresses
                 if r.status == "closed" and r.ports != "5060" and r.basis == "operator traffic"}
    for s in traffic.samples:
        for source in map(_ip_port, s.sources):
            if not (s.outcome == "open" or (s.outcome == "closed" and source[0] in closed_to)):
                continue  # "media only after the site sent" alone claims nothing
            came = [p for p in packets if p.src == source and p.dst == (wan, s.port)]
            went = [p for p in packets if p.src == (wan, s.port) and p.dst == source]
            assert came, f"{s.port}: no media from {source} crossed the WAN"
            first_out = went[0].at if went else float("inf")
            # open: it came before the site opened anything; closed: the operator was
            # sending and the router dropped it until the site sent (not a relay that waited)
            assert came[0].at < first_out, (
                f"{s.port} called {s.outcome}, but the site sent to {source} first")
            checked += 1
    return checked


def judged(lab: Lab, tmp: Path, monkeypatch: MonkeyPatch, *, firewall: FirewallMode,
           alg: bool = False, checks: tuple[str, ...] = FIREWALL_CHECKS,
           profile: Callable[[dict[str, Any]], None] | None = None) -> RunResults:
    """``checks`` with the lab's router set to ``firewall`` (and its SIP ALG), the WAN
    recorded and every proof of firewall.openings checked against it; the router is put back
    to strict without the ALG after. ``profile`` edits the profile's data first."""
    (tmp / "probe-keys.json").write_text(json.dumps(lab.probe_keys()))
    prof = tmp / "field.yaml"
    lab.write_profile(prof)
    if profile is not None:
        data = yaml.safe_load(prof.read_text())
        profile(data)
        prof.write_text(yaml.safe_dump(data))
    if firewall == "strict" and checks == FIREWALL_CHECKS:
        checks = (*checks, EXPOSURE_CHECK)
    lab.set_policy(alg=alg, firewall=firewall)
    try:
        with wan_capture(lab, tmp / "wan.pcapng") as packets:
            _, doc = run(prof, tmp / "out", *checks)
    finally:
        lab.set_policy(alg=False, firewall="strict")
    fw = next(c for c in doc.checks if c.id == "firewall.openings")
    if fw.figures.operator_traffic is not None:
        assert_proofs_true(fw, packets)
    return doc


def statuses(fw: CheckResult) -> dict[tuple[str, str], str]:
    """(address, ports) → status, as the check's figures say."""
    return {(r.address, r.ports): r.status for r in fw.figures.operator_addresses}


def uploaded(tmp: Path, lab: Lab | None = None) -> list[Event]:
    """The gate's events for the run's site once its output folder went to a console (the
    only way a run reaches the gate), one that registered the lab's probe keys (``lab``'s,
    or those :func:`judged` saved), uploaded now by an integrator: the console's own
    verification."""
    import secrets

    from harness.console.store import open_console
    from harness.console.upload import SENT

    store = open_console(f"sqlite:///{tmp / 'console.db'}")
    known = {k["public_key"] for k in store.probe_keys()}
    keys = lab.probe_keys() if lab is not None else json.loads(
        (tmp / "probe-keys.json").read_text())
    for name, public in keys.items():
        if public not in known:
            store.add_probe_key(f"lab {name}", public, by="test")
    user = store.user_by_name("lab") or store.add_user(
        "lab", secrets.token_urlsafe(18), "integrator", "Lab")
    out = tmp / "out"
    run, _ = store.add_run({n: (out / n).read_bytes() for n in SENT if (out / n).is_file()},
                           uploader=user)
    return store.gate.history(run.site)


def gate_events(tmp: Path) -> list[str]:
    """The kinds of the gate's events for the run's site, through the console; an unattested
    pass with the console's reasons (what a failing assertion must show)."""
    return [f"{e.kind}: {'; '.join(e.detail.get('refused') or [])}"
            if e.kind == "verification_unattested" else e.kind for e in uploaded(tmp)]


def gate_addresses(tmp: Path) -> dict[str, dict[str, str]]:
    """The last gate event's per-address record: address → {ports: status}."""
    rows = uploaded(tmp)[-1].detail.get("addresses") or []
    out: dict[str, dict[str, str]] = {}
    for r in rows:
        out.setdefault(r["address"], {})[f"UDP {r['ports']}"] = r["status"]
    return out
