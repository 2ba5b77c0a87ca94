"""Benchmark: `recette analyse` vs Wireshark's `tshark -q -z rtp,streams` on one generated
capture of at least a million RTP packets.

    .venv/bin/python bench/analyse_vs_tshark.py [--packets 1000000] [--calls 100] [--runs 2]

The capture (a temporary pcap, Ethernet, µs) holds ``--calls`` answered calls, each an
INVITE/200/ACK with SDP on both sides, two G.711 streams of 20 ms packets with 1 % random
loss and up to 4 ms of random delay, and a BYE; it is written with struct, a prebuilt header
per stream (no per-packet library object), in a few seconds.

Measured, each in its own process (wall time; peak RSS from wait4, so per process):
- tshark: ``tshark -n -q -r F -o rtp.heuristic_rtp:TRUE -z rtp,streams``;
- recette: ``recette analyse F --out DIR --lang en`` (everything: RTP figures, SIP dialogs,
  diagnoses, summary, incidents, HTML);
- for the record, why RTP is not read through tshark's field output:
  ``tshark -T fields -e frame.time_epoch -e ip.src -e udp.srcport -e ip.dst -e udp.dstport
  -e rtp.ssrc -e rtp.seq -e rtp.timestamp -Y rtp`` on the same file.
Both analyses' figures are then checked against each other (loss exact, jitter within 5 %).
"""

from __future__ import annotations

import argparse
import os
import random
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.unit.test_analyse_tshark import rtp_streams  # noqa: E402

T0 = 1_700_000_000.0
FIELDS = ("frame.time_epoch", "ip.src", "udp.srcport", "ip.dst", "udp.dstport", "rtp.ssrc",
          "rtp.seq", "rtp.timestamp")
ETH = b"\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x08\x00"


def _ip_udp(src: tuple[str, int], dst: tuple[str, int], plen: int) -> bytes:
    ulen = 8 + plen
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0xB8, 20 + ulen, 0, 0x4000, 64, 17, 0,
                     bytes(map(int, src[0].split("."))), bytes(map(int, dst[0].split("."))))
    s = sum(struct.unpack("!10H", ip))
    s = (s & 0xFFFF) + (s >> 16)
    ip = ip[:10] + struct.pack("!H", ~((s & 0xFFFF) + (s >> 16)) & 0xFFFF) + ip[12:]
    return ETH + ip + struct.pack("!HHHH", src[1], dst[1], ulen, 0)


def _sip(first: str, call: int, cseq: str, a: str, b: str, body: str = "",
         to_tag: bool = False) -> bytes:
    head = [first, f"Via: SIP/2.0/UDP {a}:5060;branch=z9hG4bK{call}{cseq.split()[1]}",
            f"From: <sip:0100{call:06d}@{b}>;tag=a", f"To: <sip:0899{call:06d}@{b}>"
            + (";tag=b" if to_tag else ""), f"Call-ID: bench-{call}@{a}", f"CSeq: {cseq}",
            f"Contact: <sip:x@{a}:5060>"]
    if body:
        head.append("Content-Type: application/sdp")
    head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n" + body).encode()


def _sdp(ip: str, port: int) -> str:
    return (f"v=0\r\no=- 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n"
            f"m=audio {port} RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n")


def generate(path: Path, packets: int, calls: int, seed: int = 1) -> int:
    """Write the capture; the number of RTP packets in it."""
    rnd = random.Random(seed)
    per = -(-packets // (2 * calls) * 100 // 99)  # per stream, before the 1 % loss
    recs: list[tuple[float, bytes]] = []
    payload = b"\xd5" * 160
    rtp = struct.Struct("!BBHII").pack
    for c in range(calls):
        site, op = f"10.{c // 250}.{c % 250}.10", "198.51.100.10"
        a, b = (site, 20000 + 2 * c), (op, 30000 + 2 * c)
        start = T0 + c * 0.37
        for at, src, dst, data in (
            (start, site, op, _sip(f"INVITE sip:0899{c:06d}@{op} SIP/2.0", c, "1 INVITE",
                                   site, op, _sdp(*a))),
            (start + 0.3, op, site, _sip("SIP/2.0 200 OK", c, "1 INVITE", site, op,
                                         _sdp(*b), to_tag=True)),
            (start + 0.31, site, op, _sip(f"ACK sip:0899{c:06d}@{op} SIP/2.0", c, "1 ACK",
                                          site, op, to_tag=True)),
            (start + 0.4 + per * 0.02 + 0.1, site, op,
             _sip(f"BYE sip:0899{c:06d}@{op} SIP/2.0", c, "2 BYE", site, op, to_tag=True)),
        ):
            recs.append((at, _ip_udp((src, 5060), (dst, 5060), len(data)) + data))
        for src_ep, dst_ep in ((a, b), (b, a)):
            head = _ip_udp(src_ep, dst_ep, 172)
            ssrc, seq, ts = rnd.getrandbits(32), rnd.getrandbits(16), rnd.getrandbits(32)
            t = start + 0.4
            for i in range(per):
                if rnd.random() < 0.01:
                    continue
                recs.append((t + i * 0.02 + rnd.random() * 0.004,
                             head + rtp(0x80, 8, (seq + i) & 0xFFFF,
                                        (ts + 160 * i) & 0xFFFFFFFF, ssrc) + payload))
    recs.sort(key=lambda r: r[0])
    rec = struct.Struct("<IIII").pack
    with path.open("wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for at, frame in recs:
            sec = int(at)
            f.write(rec(sec, int((at - sec) * 1e6), len(frame), len(frame)))
            f.write(frame)
    return len(recs) - 4 * calls


def measure(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MiB) of one command in its own process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{cmd[0]} exited {proc.returncode}")
    return wall, usage.ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--packets", type=int, default=1_000_000)
    ap.add_argument("--calls", type=int, default=100)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--no-fields", action="store_true", help="skip the tshark -T fields row")
    ap.add_argument("--generate", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.generate:
        print(generate(args.generate, args.packets, args.calls))
        return
    with tempfile.TemporaryDirectory(prefix="bench-analyse-") as tmp:
        cap = Path(tmp) / "big.pcap"
        t0 = time.perf_counter()
        # In its own process: the measured commands are forked from this one, and Linux
        # carries a process's peak RSS across exec, so this one must stay small.
        n = int(subprocess.run([sys.executable, __file__, "--generate", str(cap), "--packets",
                                str(args.packets), "--calls", str(args.calls)],
                               capture_output=True, text=True, check=True).stdout)
        print(f"capture: {n} RTP packets, {cap.stat().st_size / 2**20:.0f} MiB, written in "
              f"{time.perf_counter() - t0:.1f} s")
        tshark = ["tshark", "-n", "-q", "-r", str(cap), "-o", "rtp.heuristic_rtp:TRUE",
                  "-z", "rtp,streams"]
        ours = [sys.executable, "-m", "harness.cli", "analyse", str(cap), "--out",
                str(Path(tmp) / "out"), "--lang", "en"]
        rows: dict[str, list[tuple[float, float]]] = {"tshark": [], "recette": []}
        for _ in range(args.runs):  # alternate, so a slow moment hits both
            rows["tshark"].append(measure(tshark))
            rows["recette"].append(measure(ours))
        if not args.no_fields:
            rows["tshark -T fields"] = [measure(
                ["tshark", "-n", "-r", str(cap), "-o", "rtp.heuristic_rtp:TRUE", "-Y", "rtp",
                 "-T", "fields", *[x for f in FIELDS for x in ("-e", f)]])]
        best = {k: min(v) for k, v in rows.items()}
        for name, (wall, rss) in best.items():
            print(f"{name:>17}: {wall:6.2f} s (best of {len(rows[name])}), peak RSS "
                  f"{rss:5.0f} MiB")
        ratio = best["recette"][0] / best["tshark"][0]
        print(f"recette / tshark wall time: {ratio:.2f}")
        from tests.unit.test_analyse_tshark import agree, streams_of

        compared = agree(streams_of(cap), rtp_streams(cap))
        print(f"figures agree with tshark rtp,streams on {compared} streams "
              "(loss exact, jitter within 5 %)")


if __name__ == "__main__":
    main()
