"""The operator's far end in the lab: an independent SIPp UAS standing for the public network.

Outbound test calls end here: SIPp answers, echoes our RTP (-rtp_echo) and plays its own
G.711 stream (a pcap we generate), so the harness can tell which direction of a call is
silent and measure both.
"""

from __future__ import annotations

import struct
from importlib import resources
from pathlib import Path

from sip_checks.rtp import RtpPacket, tone_frame

FAR_END_SSRC = 0x5EC0FA12
MEDIA_PORT = 6000


def write_pcap(path: Path, *, seconds: int = 60, ptime_ms: int = 20) -> None:
    """A pcap of ``seconds`` of PCMA 1 kHz-free tone (800 Hz) RTP, for SIPp play_pcap_audio."""
    frame = tone_frame("PCMA", freq=800, samples=8 * ptime_ms)
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]  # Ethernet
    for i in range(seconds * 1000 // ptime_ms):
        rtp = RtpPacket(8, i & 0xFFFF, i * 8 * ptime_ms, FAR_END_SSRC, i == 0, frame).pack()
        udp = struct.pack("!HHHH", MEDIA_PORT, 5000, 8 + len(rtp), 0) + rtp
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xFFFF, 0, 64, 17, 0,
                         bytes([198, 51, 100, 10]), bytes([192, 0, 2, 2])) + udp
        eth = b"\x00\x00\x00\x00\x00\x02" + b"\x00\x00\x00\x00\x00\x01" + b"\x08\x00" + ip
        t_us = i * ptime_ms * 1000
        out.append(struct.pack("<IIII", t_us // 1_000_000, t_us % 1_000_000, len(eth),
                               len(eth)) + eth)
    path.write_bytes(b"".join(out))


def scenario(pcap: Path) -> str:
    """The far end's SIPp scenario text, pointing at ``pcap``."""
    text = resources.files("harness").joinpath("templates/sipp_far_end_uas.xml").read_text()
    return text.replace("@@PCAP@@", str(pcap))


def command(scenario_path: Path, ip: str, port: int) -> list[str]:
    """SIPp command line for the far end listening on ``ip:port``."""
    return ["sipp", "-sf", str(scenario_path), "-i", ip, "-p", str(port), "-mi", ip,
            "-mp", str(MEDIA_PORT), "-rtp_echo", "-nostdin", "-trace_err",
            "-error_file", str(scenario_path.with_suffix(".errors.log"))]
