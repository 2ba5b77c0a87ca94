"""Benchmark: N concurrent calls with RTP through the harness vs SIPp, on the same lab.

    .venv/bin/python bench/calls_vs_sipp.py [--calls 30] [--seconds 20]

Both tools call the lab's far end (SIPp UAS with RTP echo) directly from the LAN host,
through the router's NAT, N calls at once, each sending 20 ms G.711 RTP for the given time.
Measured in the same run:
- calls connected;
- CPU time of the calling process (user + system), per call and per call-second;
- sender jitter: RFC 3550 interarrival jitter of each caller's RTP as captured on the wire
  at the far end (kernel timestamps). The lab network adds ~0, so this is the jitter the
  calling tool itself adds;
- the harness's own calls' audio as the far end echoed it back (loss, jitter): whether the
  calls still have good audio at that load.
"""

from __future__ import annotations

import argparse
import json
import resource
import secrets
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from harness import lab as labmod  # noqa: E402
from harness import netns  # noqa: E402
from harness.lab import farend  # noqa: E402
from sip_checks.toolkit.rtp import ReceiverStats, parse, tone_frame  # noqa: E402
from sip_checks.toolkit.stream import SO_TIMESTAMPNS, kernel_time  # noqa: E402


class WireJitter:
    """Per-SSRC RFC 3550 jitter of RTP arriving at the far end's media port (AF_PACKET)."""

    def __init__(self, ns: str, port: int) -> None:
        with netns.inside(ns):
            self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0800))
        self.sock.bind(("eth0", 0x0800))
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.sock.settimeout(0.2)
        self.port = port
        self.stats: dict[tuple[int, int], ReceiverStats] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        anc = socket.CMSG_SPACE(16)
        while not self.stop.is_set():
            try:
                pkt, cmsgs, _, addr = self.sock.recvmsg(65535, anc)
            except TimeoutError:
                continue
            if addr[2] == socket.PACKET_OUTGOING or len(pkt) < 28 or pkt[9] != 17:
                continue
            ihl = (pkt[0] & 0x0F) * 4
            sport, dport = struct.unpack("!HH", pkt[ihl:ihl + 4])
            if dport != self.port:
                continue
            rtp = parse(pkt[ihl + 8:])
            if rtp is None or rtp.pt == 101:
                continue
            at = kernel_time(cmsgs, time.time())
            # One stream per source port and SSRC: SIPp replays one pcap, so one SSRC, per call.
            self.stats.setdefault((sport, rtp.ssrc), ReceiverStats()).update(rtp.seq, rtp.ts, at)

    def close(self) -> list[float]:
        self.stop.set()
        self.thread.join(2)
        self.sock.close()
        return [s.jitter_ms for s in self.stats.values() if s.received > 50]

    def packets(self) -> int:
        return sum(s.received for s in self.stats.values())

    def streams(self) -> int:
        return sum(1 for s in self.stats.values() if s.received > 50)


def run_harness(lab: labmod.Lab, n: int, seconds: float) -> dict[str, object]:
    out = netns.run(lab.ns("lan"), [sys.executable, str(REPO / "bench" / "_harness_calls.py"),
                                    str(n), str(seconds), str(labmod.OP_SERVER), "5080",
                                    str(labmod.VOICE_HOST)], timeout=seconds + 120)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_sipp(lab: labmod.Lab, n: int, seconds: float) -> dict[str, object]:
    work = lab.dir / f"bench-{secrets.token_hex(2)}"
    work.mkdir()
    # rtp_stream (not a pcap replay) gives every SIPp call its own socket and SSRC, so the
    # wire capture can tell the calls' streams apart.
    tone = work / "tone.alaw"
    tone.write_bytes(tone_frame("PCMA") * 50 * 60)
    text = farend.scenario(lab.dir / "farend.pcap", "uac")
    text = text.replace(f'<exec play_pcap_audio="{lab.dir / "farend.pcap"}"/>',
                        f'<exec rtp_stream="{tone},-1,8"/>')
    text = text.replace("m=audio [media_port]", "m=audio [rtpstream_audio_port]")
    (work / "uac.xml").write_text(text)
    (work / "numbers.csv").write_text(
        "SEQUENTIAL\n" + "".join(f"08996{i:05d};\n" for i in range(n)))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(
        ["ip", "netns", "exec", lab.ns("lan"), "sipp", f"{labmod.OP_SERVER}:5080",
         "-sf", str(work / "uac.xml"), "-inf", str(work / "numbers.csv"),
         "-m", str(n), "-l", str(n), "-r", str(n), "-rp", "1000",
         "-d", str(int(seconds * 1000)), "-i", str(labmod.VOICE_HOST),
         "-mi", str(labmod.VOICE_HOST), "-mp", "16000", "-nostdin", "-timeout",
         f"{int(seconds + 60)}s", "-trace_stat", "-stf", str(work / "stat.csv")],
        cwd=str(work), capture_output=True, text=True, timeout=seconds + 120)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    stat = (work / "stat.csv").read_text().splitlines() if (work / "stat.csv").exists() else []
    connected = None
    if len(stat) >= 2:
        head, last = stat[0].split(";"), stat[-1].split(";")
        connected = int(last[head.index("SuccessfulCall(C)")])
    return {"connected": connected, "cpu_s": cpu, "exit": proc.returncode,
            "user_s": after.ru_utime - before.ru_utime, "sys_s": after.ru_stime - before.ru_stime}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=30)
    ap.add_argument("--seconds", type=float, default=20.0)
    args = ap.parse_args()
    lab = labmod.Lab.up()
    try:
        results = {}
        for name, runner in (("harness", run_harness), ("sipp", run_sipp)):
            wire = WireJitter(lab.ns("op"), farend.MEDIA_PORT)
            t0 = time.monotonic()
            res = runner(lab, args.calls, args.seconds)
            res["wall_s"] = time.monotonic() - t0
            res["streams_on_wire"] = wire.streams()
            res["packets_on_wire"] = wire.packets()
            res["wire_jitter_ms"] = wire.close()
            results[name] = res
    finally:
        lab.down()
    n, secs = args.calls, args.seconds
    print(f"{n} concurrent calls x {secs:g} s of 20 ms G.711 RTP, lab far end, same run")
    print(f"{'tool':<8} {'connected':>9} {'streams':>7} {'CPU s':>7} {'CPU ms/call-s':>13} "
          f"{'sender jitter mean/max ms':>26}")
    for name, r in results.items():
        jit = r["wire_jitter_ms"]
        assert isinstance(jit, list)
        cpu = float(r["cpu_s"])  # type: ignore[arg-type]
        mean = statistics.mean(jit) if jit else float("nan")
        top = max(jit) if jit else float("nan")
        print(f"{name:<8} {r['connected']!s:>9} {r['streams_on_wire']!s:>7} {cpu:7.2f} "
              f"{1000 * cpu / (n * secs):13.2f} "
              f"{mean:12.3f} / {top:.3f}")
    h, s = results["harness"], results["sipp"]
    print("RTP packets on the wire: " + ", ".join(
        f"{name} {r.get('packets_on_wire')}" for name, r in results.items()))
    print("CPU user / system s: " + ", ".join(
        f"{name} {float(r.get('user_s', 0.0)):.2f} / {float(r.get('sys_s', 0.0)):.2f}"  # type: ignore[arg-type]
        for name, r in results.items()))
    if h.get("connected") != n:
        print(f"harness outcomes: {h.get('statuses')}, first errors: {h.get('errors')}")
    echo_jit, echo_loss = h.get("echo_jitter_ms"), h.get("echo_loss_pct")
    if isinstance(echo_jit, list) and isinstance(echo_loss, list) and echo_jit and echo_loss:
        # The audio of the harness's calls as it came back: its own receive path under load.
        print(f"harness echoed audio: {len(echo_jit)} streams, loss max {max(echo_loss):.2f} %, "
              f"jitter mean {statistics.mean(echo_jit):.3f} ms, max {max(echo_jit):.3f} ms")
    sipp_cpu = float(s["cpu_s"])  # type: ignore[arg-type]
    ratio = float(h["cpu_s"]) / sipp_cpu if sipp_cpu else float("nan")  # type: ignore[arg-type]
    print(f"CPU ratio harness/SIPp: {ratio:.2f} (whole processes: the harness's includes "
          "Python's start and imports)")
    calls = h.get("cpu_calls_s")
    if isinstance(calls, float) and sipp_cpu:
        print(f"CPU ratio harness/SIPp, the calls only: {calls / sipp_cpu:.2f} (harness "
              f"{calls:.2f} s from its first socket to its last call's end, "
              f"{1000 * calls / (n * secs):.2f} ms/call-s; SIPp's whole process)")


if __name__ == "__main__":
    main()
