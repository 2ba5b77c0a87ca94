"""Benchmark: the harness's firewall verification vs `nmap -sU` over the same ports, same lab.

    .venv/bin/python bench/firewall_vs_nmap.py [--nmap-timeout 900]

Lab firewall `strict`: UDP 5060 and 10000-20000 forwarded to the voice host from the operator
server only. Ground truth: from the server those 10 002 ports are reachable (and 5061, 9999,
20001 are not); from the outsider nothing is.
- harness: the agent listens on all swept ports; the server probe (from 198.51.100.10) and
  the outsider probe each sweep 10 005 ports (cold). Wall time includes both vantage points.
- nmap: `nmap -sU -Pn -n -T4 -p 5060,5061,9999,10000-20001 192.0.2.2` from the server's
  namespace (one vantage point only), nothing listening on the site. nmap calls a port that
  answered ICMP port-unreachable "closed" (here: it got through the firewall), and one that
  stayed silent "open|filtered" (dropped, or open with a silent service): only "closed" and
  "open" can be counted as reachable.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from harness import lab as labmod  # noqa: E402
from harness import netns  # noqa: E402
from harness.lab.profile import lab_password  # noqa: E402
from harness.portset import fmt  # noqa: E402
from harness.probe.client import ProbeClient  # noqa: E402
from sip_checks.probes.firewall import EXPECTED, SWEPT, Listener, sweep  # noqa: E402

PORTS = "5060,5061,9999,10000-20001"


def harness_run(lab: labmod.Lab) -> tuple[float, set[int], set[int]]:
    key = lab_password(lab.prefix, "probe").encode()
    t0 = time.monotonic()
    with netns.inside(lab.ns("lan")):
        listener = Listener(str(labmod.VOICE_HOST), SWEPT)
        server = ProbeClient(str(labmod.PROBE), labmod.PROBE_PORT, key, vantage="server")
        outsider = ProbeClient(str(labmod.OUTSIDER), labmod.PROBE_PORT, key,
                               vantage="outsider")
        try:
            s = sweep(listener, server, "server", "cold")
            o = sweep(listener, outsider, "outsider", "cold")
        finally:
            listener.close()
    return time.monotonic() - t0, set(s.open_ports), set(o.open_ports)


NMAP_PROFILES = {
    "T4": ["-T4"],  # what most people run
    "fast": ["-T5", "--min-rate", "10000", "--max-retries", "1"],  # tuned for speed
}


def nmap_run(lab: labmod.Lab, timeout: float, profile: str
             ) -> tuple[float, dict[str, set[int]], bool]:
    t0 = time.monotonic()
    try:
        out = netns.run(lab.ns("op"), ["nmap", "-sU", "-Pn", "-n", *NMAP_PROFILES[profile],
                                       "-p", PORTS,
                                       "--host-timeout", f"{int(timeout)}s", "-oG", "-",
                                       str(labmod.RTR_WAN)], timeout=timeout + 60).stdout
        finished = True
    except subprocess.TimeoutExpired:
        out, finished = "", False
    took = time.monotonic() - t0
    states: dict[str, set[int]] = {}
    for port, state in re.findall(r"(\d+)/([a-z|]+)/udp", out):
        states.setdefault(state, set()).add(int(port))
    m = re.search(r"Ignored State: ([a-z|]+) \((\d+)\)", out)
    if m:  # grepable output lists only the non-default state; the rest share the ignored one
        listed = set().union(*states.values()) if states else set()
        all_ports = {5060, 5061, 9999, *range(10000, 20002)}
        states.setdefault(m.group(1), set()).update(all_ports - listed)
    return took, states, finished and "Status: Timeout" not in out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nmap-timeout", type=float, default=900)
    ap.add_argument("--nmap", choices=[*NMAP_PROFILES, "both"], default="both")
    args = ap.parse_args()
    profiles = list(NMAP_PROFILES) if args.nmap == "both" else [args.nmap]
    lab = labmod.Lab.up()
    try:
        h_time, h_server, h_out = harness_run(lab)
        nmaps = {p: nmap_run(lab, args.nmap_timeout, p) for p in profiles}
    finally:
        lab.down()
    truth_server, truth_out = set(EXPECTED), set[int]()
    h_wrong = len(h_server ^ truth_server) + len(h_out ^ truth_out)
    print("firewall strict; ports 5060, 5061, 9999, 10000-20001 (10 005) on 192.0.2.2")
    print(f"harness      {h_time:8.2f} s  two vantage points; server open {fmt(h_server)}; "
          f"outsider open {fmt(h_out)}; wrong ports {h_wrong}")
    for name, (n_time, n_states, n_done) in nmaps.items():
        reach = n_states.get("closed", set()) | n_states.get("open", set())
        n_wrong = len(reach ^ truth_server)
        summary = ", ".join(f"{st} {len(p)}" for st, p in sorted(n_states.items())) or \
            "no port result"
        print(f"nmap {name:<6}  {n_time:8.2f} s  one vantage point"
              f"{'' if n_done else ' (DID NOT FINISH: host timeout)'}; {summary}; counted "
              f"reachable {fmt(reach)}; wrong ports {n_wrong}")
        print(f"  speed ratio nmap {name}/harness: {n_time / h_time:.1f}x "
              "(nmap covered one vantage point, the harness two)")


if __name__ == "__main__":
    main()
