"""Benchmark: the firewall verification without a probe at the operator (field lab).

    .venv/bin/python bench/field_firewall.py [--runs 3]

The field lab (Kamailio + rtpengine, only an outsider probe; firewall strict) is verified
with ``recette run --only firewall.openings`` from the agent's namespace, as on a real site.
Per run: wall time of the check, the ports the operator's own traffic proved (5060 by its
INVITE on a new flow; each sampled RTP port open or closed), and the ports the outsider swept.

Peer, in the same run: SIPp placing as many calls as the check sampled, one after the other,
to the operator's test number (same account, same proxy authentication, 200 ms of media
each) — what the sampled calls cost at SIPp's speed, though SIPp proves nothing about the
firewall. The ratio says what waiting for the operator's media on each port costs on top.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from harness import lab as labmod  # noqa: E402
from harness import netns  # noqa: E402
from harness.results import load_results  # noqa: E402
from sip_checks.probes.firewall import SWEPT  # noqa: E402

SCENARIO = REPO / "tests" / "data" / "sipp" / "call_auth.xml"
LAN = str(labmod.VOICE_HOST)


def recette_run(lab: labmod.Lab, out: Path) -> tuple[float, int, int, int, str, float]:
    """(wall s, RTP ports proven, 5060 proven (0/1), outsider ports swept, verdict, s spent
    in the sampled calls)."""
    prof = out.parent / "field.yaml"
    lab.write_profile(prof)
    t0 = time.monotonic()
    netns.run(lab.ns("lan"), [sys.executable, "-m", "harness.cli", "run", "--profile",
                              str(prof), "--out", str(out), "--only", "firewall.openings"],
              check=False, timeout=600)
    took = time.monotonic() - t0
    (check,) = load_results(out / "results.json").checks
    traffic = check.figures.operator_traffic
    rtp = sum(s.outcome in ("open", "closed") for s in traffic.samples) if traffic else 0
    sip = int(bool(traffic and traffic.sip_proven))
    swept = sum(len(SWEPT) for s in check.figures.sweeps if s.vantage == "outsider")
    return took, rtp, sip, swept, check.status, traffic.seconds if traffic else 0.0


def sipp_calls(lab: labmod.Lab, calls: int, tmp: Path) -> float:
    """Wall time of SIPp placing ``calls`` calls in sequence to the test number."""
    acc = lab.profile.trunks[0]
    inj = tmp / "sipp.csv"
    inj.write_text(f"SEQUENTIAL\n{acc.user};[authentication username={acc.auth_username} "
                   f"password={acc.secret()}];{lab.profile.operator.sip_server.domain}\n")
    number = lab.profile.operator.test_number
    assert number is not None
    t0 = time.monotonic()
    netns.run(lab.ns("lan"), [
        "sipp", f"{labmod.OP_SERVER}:5060", "-sf", str(SCENARIO), "-inf", str(inj),
        "-s", number, "-m", str(calls), "-l", "1", "-d", "200", "-i", LAN, "-p", "5090",
        "-mi", LAN, "-mp", "12000", "-nostdin", "-timeout", "120s", "-timeout_error"],
        check=False, timeout=180)
    return time.monotonic() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    tmp = Path(f"/tmp/recette-bench-{secrets.token_hex(3)}")
    tmp.mkdir()
    lab = labmod.Lab.up(prefix=f"rct{secrets.token_hex(2)}", operator="field")
    rows = []
    try:
        for i in range(args.runs):
            took, rtp, sip, swept, status, calls_s = recette_run(lab, tmp / f"run{i}" / "out")
            peer = sipp_calls(lab, rtp, tmp)
            rows.append((took, rtp, sip, swept, status, peer, calls_s))
    finally:
        lab.down()
    print("field lab, firewall strict, no probe at the operator; "
          f"{args.runs} runs of recette run --only firewall.openings")
    for took, rtp, sip, swept, status, peer, calls_s in rows:
        print(f"  {status:<5} {took:6.2f} s (sampled calls {calls_s:5.2f} s): RTP ports proven "
              f"{rtp}, SIP 5060 proven {sip}, outsider swept {swept} ports (cold + warm); "
              f"SIPp {rtp} calls {peer:5.2f} s")
    med = statistics.median(r[0] for r in rows)
    calls_med = statistics.median(r[6] for r in rows)
    peer_med = statistics.median(r[5] for r in rows)
    print(f"median wall {med:.2f} s, of which sampled calls {calls_med:.2f} s; SIPp same calls "
          f"{peer_med:.2f} s; ratio sampled calls/SIPp {calls_med / peer_med:.1f}x, whole "
          f"check/SIPp {med / peer_med:.1f}x")


if __name__ == "__main__":
    main()
