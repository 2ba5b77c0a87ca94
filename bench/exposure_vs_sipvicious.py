"""Benchmark: recette's toll-fraud exposure checks vs SIPVicious (`svmap`, `svwar`) and nmap,
from the same internet host against the same site, in the same run.

    .venv/bin/python bench/exposure_vs_sipvicious.py [--runs 2] [--site weak|strict|both]
                                                     [--no-version]

Two labs, one after the other, each torn down: the site's IPBX `weak` (the router forwards
UDP+TCP 5060, TCP 80/8080 and UDP 69 to a FreePBX-like IPBX that tells extensions 100-109
from unknown users and routes unauthenticated international calls) and `strict` (nothing
forwarded; the IPBX answers no stranger). Every tool runs in the lab's `out` namespace (the
internet host, 203.0.113.66, where the outsider probe runs) against the router's WAN address
192.0.2.2, on the 18 port/transport pairs of `sip_checks/exposure.py` PORTS:
- recette: `recette run --only security.exposure` on the lab's profile (the real CLI; the
  agent asks the outsider probe to scan, cold and while an account is registered), plus
  `security.sip_from_outside` when that check exists in this tree. Its findings are the ports
  results.json reports `open` in either scan and what answered there.
- svmap (OPTIONS scan) on the UDP SIP ports: SIPVicious OSS speaks UDP only (svwar refuses
  `tcp://`), so it cannot see the SIP ports on TCP at all.
- svwar -e100-120 by REGISTER and by INVITE on UDP 5060 and on any other port svmap found.
- nmap -Pn -n -T4 -sU -sT [-sV --version-light] on the same ports (UDP and TCP lists apart).
  nmap's `open|filtered` (UDP silence) is not counted as reached.
Never sipvicious's -R (it would report to its author, outside the lab); nmap only targets the
lab's address. Wall time per tool; CPU is each tool's own process tree (children's rusage),
not the lab's outsider probe, which does recette's scanning in a process of its own (its CPU
is read from /proc before and after and printed apart).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import secrets
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from harness import netns  # noqa: E402
from harness.lab import RTR_WAN, IpbxKind, Lab  # noqa: E402
from harness.results import load_results  # noqa: E402
from sip_checks.exposure import PORTS  # noqa: E402

Key = tuple[int, str]  # (port, transport)

KEYS: list[Key] = [(s.port, s.transport) for s in PORTS]
SIP_UDP = [s.port for s in PORTS if s.transport == "udp" and s.service == "SIP"]
EXTENSIONS = "100-120"
SIP_FROM_OUTSIDE = "security.sip_from_outside"
# What the weak lab site exposes (harness/lab/firewall.py IPBX_FORWARDS) and its extensions.
WEAK_TRUTH = {(5060, "udp"), (5060, "tcp"), (80, "tcp"), (8080, "tcp"), (69, "udp")}
WEAK_USERS = {str(n) for n in range(100, 110)}


@dataclass
class Tool:
    """One tool's measurement: time, and what it says an internet host reaches."""

    name: str
    wall: float = 0.0
    cpu: float = 0.0
    covers: set[Key] = field(default_factory=set)  # the pairs this tool can look at
    reached: set[Key] = field(default_factory=set)
    ambiguous: set[Key] = field(default_factory=set)  # nmap's open|filtered
    ident: dict[Key, str] = field(default_factory=dict)  # what answered, per pair
    users: set[str] | None = None  # enumerated extensions (None: not this tool's job)
    notes: list[str] = field(default_factory=list)


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _timed(argv: list[str], *, timeout: float, env: dict[str, str] | None = None
           ) -> tuple[subprocess.CompletedProcess[str], float, float]:
    """Run ``argv`` to its end: the process, its wall time and its process tree's CPU."""
    cpu0, t0 = _children_cpu(), time.monotonic()
    done = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=timeout,
                          env=env)
    return done, time.monotonic() - t0, _children_cpu() - cpu0


def _in_out(lab: Lab, argv: list[str]) -> list[str]:
    return ["ip", "netns", "exec", lab.ns("out"), *argv]


def _probe_cpu(lab: Lab) -> float | None:
    """CPU seconds so far of the lab's outsider probe (the process in ``out`` whose command
    line serves the probe, all its threads), None when it cannot be found."""
    tick = os.sysconf("SC_CLK_TCK")
    for pid in netns.run(None, ["ip", "netns", "pids", lab.ns("out")],
                         check=False).stdout.split():
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
            if b"probe" not in cmd or b"serve" not in cmd:
                continue
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(stat[11]) + int(stat[12])) / tick
        except (OSError, IndexError, ValueError):
            continue
    return None


# -- recette ----------------------------------------------------------------------------------
def _has_sip_from_outside() -> bool:
    return any(f'id="{SIP_FROM_OUTSIDE}"' in p.read_text()
               for p in (REPO / "sip_checks").glob("check_*.py"))


def recette(lab: Lab, tmp: Path) -> Tool:
    prof, out = tmp / "lab.yaml", tmp / f"out-{secrets.token_hex(3)}"
    lab.write_profile(prof)
    only = ["--only", "security.exposure"]
    if _has_sip_from_outside():
        only += ["--only", SIP_FROM_OUTSIDE]
    probe0 = _probe_cpu(lab)
    proc, wall, cpu = _timed([sys.executable, "-m", "harness.cli", "run", "--profile",
                              str(prof), "--out", str(out), "--lang", "en", *only],
                             timeout=900)
    probe1 = _probe_cpu(lab)
    t = Tool("recette", wall, cpu, covers=set(KEYS))
    if probe0 is not None and probe1 is not None:
        t.notes.append(f"outsider probe CPU {probe1 - probe0:.2f} s (not in the CPU column)")
    results = out / "results.json"
    if not results.exists():
        t.notes.append(f"NO results.json (exit {proc.returncode}): "
                       f"{(proc.stderr or proc.stdout).strip().splitlines()[-1:]}")
        return t
    for c in load_results(results).checks:
        t.notes.append(f"{c.id}: {c.status} in {c.duration_s:.2f} s of the run's "
                       f"{wall:.2f} (the rest: Python, pytest, the lab's profile, the report)"
                       + (f"; {len(c.reasons)} reasons" if c.reasons else ""))
        for scan in c.figures.exposure:
            t.notes.append(f"  {scan.phase} scan {scan.seconds:.1f} s by the probe")
            for p in scan.ports:
                if p.state == "open":
                    t.reached.add((p.port, p.transport))
                    t.ident.setdefault((p.port, p.transport),
                                       f"{p.protocol or '?'}: {p.answered}")
        if c.id == SIP_FROM_OUTSIDE:
            # Its figures are its own; the extensions it names are read from its findings.
            text = " ".join([*(r.text for r in c.reasons), *map(str, c.facts.values())])
            t.users = set(re.findall(r"\b(1[0-2]\d)\b", text))
            t.notes += [f"  {r.code}: {r.text}" for r in c.reasons][:8]
    if t.users is None:
        t.notes.append(f"enumeration: {SIP_FROM_OUTSIDE} is not in this tree "
                       "(security.exposure scans ports, it does not enumerate)")
    return t


# -- SIPVicious -------------------------------------------------------------------------------
def _sv_env(home: Path) -> dict[str, str]:
    home.mkdir(parents=True, exist_ok=True)
    return {**os.environ, "HOME": str(home)}  # svmap/svwar keep their sessions under HOME


def svmap(lab: Lab, tmp: Path) -> Tool:
    ports = ",".join(map(str, SIP_UDP))
    proc, wall, cpu = _timed(_in_out(lab, ["svmap", "-p", ports, str(RTR_WAN)]),
                             timeout=300, env=_sv_env(tmp / "svhome"))
    t = Tool("svmap", wall, cpu, covers={(p, "udp") for p in SIP_UDP})
    for port, agent in re.findall(rf"^\|\s*{re.escape(str(RTR_WAN))}:(\d+)\s*\|\s*(.*?)\s*\|",
                                  proc.stdout, re.M):
        t.reached.add((int(port), "udp"))
        t.ident[int(port), "udp"] = f"sip: {agent}"
    t.notes.append(f"UDP only (SIPVicious OSS); OPTIONS on {ports}")
    return t


def svwar(lab: Lab, tmp: Path, ports: list[int]) -> Tool:
    t = Tool("svwar", covers={(p, "udp") for p in ports}, users=set())
    for port in ports:
        for method in ("REGISTER", "INVITE"):
            proc, wall, cpu = _timed(_in_out(lab, [
                "svwar", "-e", EXTENSIONS, "-m", method, f"udp://{RTR_WAN}:{port}"]),
                timeout=300, env=_sv_env(tmp / "svhome"))
            t.wall += wall
            t.cpu += cpu
            found = dict(re.findall(r"^\|\s*(\d+)\s*\|\s*(\w+)\s*\|", proc.stdout, re.M))
            assert t.users is not None
            t.users |= set(found)
            if found:
                t.reached.add((port, "udp"))
            t.notes.append(f"{method} udp/{port} {wall:.2f} s: {len(found)} extensions"
                           + (f" ({', '.join(sorted(set(found.values())))})" if found else ""))
    return t


# -- nmap -------------------------------------------------------------------------------------
def nmap(lab: Lab, version: bool) -> Tool:
    udp = ",".join(str(p) for p, tr in KEYS if tr == "udp")
    tcp = ",".join(str(p) for p, tr in KEYS if tr == "tcp")
    argv = ["nmap", "-Pn", "-n", "-T4", "-sU", "-sT", *(["-sV", "--version-light"]
                                                        if version else []),
            "-p", f"U:{udp},T:{tcp}", "-oX", "-", str(RTR_WAN)]
    proc, wall, cpu = _timed(_in_out(lab, argv), timeout=900)
    t = Tool("nmap", wall, cpu, covers=set(KEYS))
    t.notes.append(" ".join(argv[:-3]) + ("" if version else " (no version detection)"))
    try:
        root = ET.fromstring(proc.stdout)
    except ET.ParseError:
        t.notes.append(f"NO XML (exit {proc.returncode}): {proc.stderr.strip()[:200]}")
        return t
    for port in root.iter("port"):
        key = (int(port.get("portid", "0")), port.get("protocol", ""))
        state = port.find("state")
        st = state.get("state", "") if state is not None else ""
        svc = port.find("service")
        # A service name nmap took from its port table is a guess, not an answer.
        if svc is not None and svc.get("method") == "probed":
            said = " ".join(x for x in (svc.get("product"), svc.get("version"),
                                        svc.get("extrainfo")) if x)
            t.ident[key] = f"{svc.get('name', '?')}: {said}".rstrip(": ")
        if st == "open":
            t.reached.add(key)
        elif st == "open|filtered":
            t.ambiguous.add(key)
    return t


# -- the table --------------------------------------------------------------------------------
def _cell(t: Tool, key: Key) -> str:
    if key not in t.covers:
        return "-"
    if key in t.reached:
        return "OPEN"
    return "open|filt" if key in t.ambiguous else "no"


def _list(users: set[str]) -> str:
    return ",".join(sorted(users, key=int)) or "none"


def report(site: str, run: int, tools: list[Tool], truth: set[Key], users: set[str]) -> None:
    rec, peers = tools[0], tools[1:]
    print(f"\n== {site} site, run {run}: {RTR_WAN} from the outsider (203.0.113.66) ==")
    print(f"{'tool':<8} {'wall s':>8} {'CPU s':>7}")
    for t in tools:
        print(f"{t.name:<8} {t.wall:8.2f} {t.cpu:7.2f}")
    p_wall, p_cpu = sum(t.wall for t in peers), sum(t.cpu for t in peers)
    print(f"{'peers':<8} {p_wall:8.2f} {p_cpu:7.2f}   recette / peers: wall "
          f"{rec.wall / p_wall:.2f}x, CPU {rec.cpu / p_cpu if p_cpu else float('nan'):.2f}x")
    print(f"\n{'port':<9} {'truth':<6} " + " ".join(f"{t.name:<9}" for t in tools))
    for key in KEYS:
        row = [_cell(t, key) for t in tools]
        if all(c in ("no", "-") for c in row) and key not in truth:
            continue
        print(f"{f'{key[0]}/{key[1]}':<9} {'OPEN' if key in truth else 'no':<6} "
              + " ".join(f"{c:<9}" for c in row))
    print("(pairs every tool found closed or silent are not listed)")
    for key in sorted({k for t in tools for k in t.ident}, key=KEYS.index):
        for t in tools:
            if key in t.ident:
                print(f"  {f'{key[0]}/{key[1]}':<9} {t.name:<8} {t.ident[key][:100]}")
    for t in tools:
        if t.users is not None:
            differs = "" if t.users == users else f"  (DIFFERS from the site: {_list(users)})"
            print(f"users {t.name:<8} {_list(t.users)}{differs}")
    for t in tools:
        for n in t.notes:
            print(f"  [{t.name}] {n}")
    # Disagreements: against the lab's truth, and whatever a peer saw that recette did not.
    wrong = []
    for t in tools:
        seen = t.reached & t.covers
        if seen - truth:
            wrong.append(f"{t.name} reports reached what the site does not expose: "
                         f"{sorted(seen - truth)}")
        missed = (truth & t.covers) - seen
        if missed & t.ambiguous:
            wrong.append(f"{t.name} could not tell from a silent port (open|filtered): "
                         f"{sorted(missed & t.ambiguous)}")
        if missed - t.ambiguous:
            wrong.append(f"{t.name} missed {sorted(missed - t.ambiguous)}")
    for t in peers:
        if t.reached - rec.reached:
            wrong.append(f"{t.name} found what recette did not: {sorted(t.reached - rec.reached)}")
    print("disagreements: " + ("none" if not wrong else "\n  " + "\n  ".join(wrong)))


def measure(site: IpbxKind, runs: int, version: bool) -> None:
    lab = Lab.up(prefix=f"rct{secrets.token_hex(2)}", ipbx=site)
    truth, users = (WEAK_TRUTH, WEAK_USERS) if site == "weak" else (set(), set())
    try:
        with tempfile.TemporaryDirectory(prefix="bench-expo-") as d:
            tmp = Path(d)
            for run in range(1, runs + 1):
                rec = recette(lab, tmp)
                sm = svmap(lab, tmp)
                sw = svwar(lab, tmp, sorted({5060} | {p for p, _ in sm.reached}))
                nm = nmap(lab, version)
                report(site, run, [rec, sm, sw, nm], truth, users)
    finally:
        lab.down()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1, help="measurements per lab")
    ap.add_argument("--site", choices=("weak", "strict", "both"), default="both")
    ap.add_argument("--no-version", action="store_true",
                    help="nmap without -sV --version-light")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root (the lab builds network namespaces)")
    sites: tuple[IpbxKind, ...] = ("weak", "strict") if args.site == "both" else \
        ("weak",) if args.site == "weak" else ("strict",)
    for site in sites:
        measure(site, args.runs, not args.no_version)


if __name__ == "__main__":
    main()
