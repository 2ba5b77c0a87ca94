"""The operator's far end in the lab: an independent SIPp UAS standing for the public network.

Outbound test calls end here: SIPp answers, echoes our RTP (-rtp_echo) and plays its own
G.711 stream (a pcap we generate), so the harness can tell which direction of a call is
silent and measure both.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import shutil
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from harness.errors import LabError
from sip_checks.toolkit.rtp import RtpPacket, dtmf_payload, tone_frame

FAR_END_SSRC = 0x5EC0FA12
MEDIA_PORT = 6000


FAR_END_DTMF = "1#"
DTMF_AT_S = 1.5


def _frames(seconds: int, ptime_ms: int) -> list[tuple[int, int, bool, bytes]]:
    """(pt, timestamp, marker, payload) per packet: tone, with RFC 4733 events for
    :data:`FAR_END_DTMF` from :data:`DTMF_AT_S` on (100 ms each, 3 end packets, 100 ms gap)."""
    step = 8 * ptime_ms
    tone = tone_frame("PCMA", freq=800, samples=step)
    n = seconds * 1000 // ptime_ms
    events: dict[int, tuple[int, int, bool, bytes]] = {}
    i = int(DTMF_AT_S * 1000 // ptime_ms)
    for digit in FAR_END_DTMF:
        start_ts = i * step
        for k in range(5):
            events[i] = (101, start_ts, k == 0, dtmf_payload(digit, end=False,
                                                              duration=step * (k + 1)))
            i += 1
        for _ in range(3):
            events[i] = (101, start_ts, False, dtmf_payload(digit, end=True, duration=step * 5))
            i += 1
        i += 100 // ptime_ms
    return [events.get(j, (8, j * step, j == 0, tone)) for j in range(n)]


def write_pcap(path: Path, *, seconds: int = 60, ptime_ms: int = 20) -> None:
    """A pcap of ``seconds`` of PCMA tone RTP with DTMF events, for SIPp play_pcap_audio."""
    write_rtp_pcap(path, _frames(seconds, ptime_ms), ssrc=FAR_END_SSRC, port=MEDIA_PORT,
                   ptime_ms=ptime_ms)


def write_rtp_pcap(path: Path, frames: Iterable[tuple[int, int, bool, bytes]], *, ssrc: int,
                   port: int, ptime_ms: int) -> None:
    """A pcap SIPp's play_pcap_audio can play: one RTP packet per (pt, timestamp, marker,
    payload) frame, ``ptime_ms`` apart, numbered from 0, sent from ``port`` (SIPp rewrites the
    addresses and the destination port; the timing and the RTP headers are played as is)."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]  # Ethernet
    for i, (pt, ts, marker, payload) in enumerate(frames):
        rtp = RtpPacket(pt, i & 0xFFFF, ts, ssrc, marker, payload).pack()
        udp = struct.pack("!HHHH", port, 5000, 8 + len(rtp), 0) + rtp
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xFFFF, 0, 64, 17, 0,
                         bytes([198, 51, 100, 10]), bytes([192, 0, 2, 2])) + udp
        eth = b"\x00\x00\x00\x00\x00\x02" + b"\x00\x00\x00\x00\x00\x01" + b"\x08\x00" + ip
        t_us = i * ptime_ms * 1000
        out.append(struct.pack("<IIII", t_us // 1_000_000, t_us % 1_000_000, len(eth),
                               len(eth)) + eth)
    path.write_bytes(b"".join(out))


def scenario(pcap: Path, role: str = "uas") -> str:
    """The far end's SIPp scenario text (``uas`` answers, ``uac`` calls a DID)."""
    text = resources.files("harness.lab").joinpath(f"templates/sipp_far_end_{role}.xml").read_text()
    return text.replace("@@PCAP@@", str(pcap))


def command(scenario_path: Path, ip: str, port: int) -> list[str]:
    """SIPp command line for the far end listening on ``ip:port``."""
    return ["sipp", "-sf", str(scenario_path), "-i", ip, "-p", str(port), "-mi", ip,
            "-mp", str(MEDIA_PORT), "-rtp_echo", "-nostdin", "-trace_err",
            "-error_file", str(scenario_path.with_suffix(".errors.log"))]


@dataclass
class CallerResult:
    """How the operator-side caller's attempt ended, with its SIP trace as evidence."""

    exit_code: int
    statuses: list[int]
    trace: str

    @property
    def connected(self) -> bool:
        return 200 in self.statuses

    def summary(self) -> str:
        if self.connected:
            return "answered"
        final = [s for s in self.statuses if s >= 300]
        return f"got {final[-1]}" if final else "got no final response"


# The SIP ports and media blocks of the callers running now (inbound checks call several DIDs
# at once, each with its own SIPp): drawn at random from 5100-5499 and from blocks of four at
# 7000-8599, since SIPp's -rtp_echo binds its media port and the next even one (video). Two
# callers drawing clashing ports at random (about 1 run in 20 with four DIDs) made one SIPp
# exit before sending its INVITE: "got no final response", no INVITE at the site.
_IN_USE: set[int] = set()


def _take_ports() -> tuple[int, int]:
    """A free SIP port and media port for one caller (released by the caller)."""
    for _ in range(1000):
        port = 5100 + secrets.randbelow(400)
        mport = 7000 + 4 * secrets.randbelow(400)
        if port not in _IN_USE and mport not in _IN_USE:
            _IN_USE.update({port, mport})
            return port, mport
    raise LabError("no free SIP and media ports for the lab's caller")


class LabCaller:
    """Places a call to a DID from the lab's operator network (SIPp UAC in ``op``)."""

    def __init__(self, op_ns: str, state_dir: Path, server: str, proxy_port: int = 5060
                 ) -> None:
        self.ns = op_ns
        self.dir = state_dir
        self.server = server
        self.proxy_port = proxy_port

    async def call(self, did: str, *, talk_s: float, timeout_s: float = 40.0) -> CallerResult:
        """Call ``did``; returns after the caller hung up (or gave up)."""
        tag = secrets.token_hex(3)
        work = self.dir / f"caller-{tag}"
        work.mkdir(parents=True, exist_ok=True)
        pcap = self.dir / "farend.pcap"
        if not pcap.exists():
            write_pcap(pcap)
        scen = work / "uac.xml"
        scen.write_text(scenario(pcap, "uac"))
        (work / "did.csv").write_text(f"SEQUENTIAL\n{did};\n")
        trace = work / "messages.log"
        port, mport = _take_ports()
        argv = ["ip", "netns", "exec", self.ns, "sipp", f"{self.server}:{self.proxy_port}",
                "-sf", str(scen), "-inf", str(work / "did.csv"), "-m", "1",
                "-d", str(int(talk_s * 1000)), "-i", self.server, "-p", str(port),
                "-mi", self.server, "-mp", str(mport), "-rtp_echo", "-nostdin",
                "-timeout", f"{int(timeout_s)}s", "-timeout_error", "-trace_msg",
                "-message_file", str(trace)]
        proc = await asyncio.create_subprocess_exec(
            *argv, cwd=str(work), stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL, stdin=asyncio.subprocess.DEVNULL)
        try:
            code = await asyncio.wait_for(proc.wait(), timeout_s + 10)
        except TimeoutError:
            proc.kill()
            code = await proc.wait()
        finally:
            _IN_USE.difference_update({port, mport})
        text = trace.read_text(errors="replace") if trace.exists() else ""
        statuses = [int(s) for s in re.findall(r"^SIP/2\.0 (\d{3})", text, re.MULTILINE)]
        shutil.rmtree(work, ignore_errors=True)
        return CallerResult(code, statuses, text)
