"""The field lab's test number: it answers, plays a recorded announcement, and never echoes.

Operators' test numbers are rarely echo lines: most answer with a message ("you have reached
the test line of ...") and ignore what the caller sends. Checks that grade the site→far end
direction from an echo would then call a working site silent, so the field lab's
``operator.test_number`` is such an announcement: an independent SIPp UAS (beside the echo far
end of :mod:`harness.lab.farend`, on its own port) that plays speech-like G.711 and has no
``-rtp_echo``.

The speech is SIPp's own sample (``g711a.pcap``, 7 s of A-law in 30 ms packets), re-cut into
20 ms frames and repeated into one long stream with continuous sequence numbers and
timestamps (:data:`SECONDS`), so a call shorter than that sees one clean stream as from a real
announcement machine; a longer call hears it again from the start (a new sequence run, as a
relay's re-anchoring would give).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from harness.lab.farend import write_rtp_pcap

SAMPLE = Path("/usr/share/sip-tester/g711a.pcap")  # Debian sip-tester's G.711 A-law speech
PORT = 5081  # SIP, beside the echo far end's 5080
MEDIA_PORT = 6100
SSRC = 0xA11A0CE5
SECONDS = 180
PTIME_MS = 20


def sample_audio(pcap: Path = SAMPLE) -> bytes:
    """The A-law samples of every PCMA (payload type 8) RTP packet of an Ethernet/IPv4 pcap,
    in file order."""
    data = pcap.read_bytes()
    if len(data) < 24 or data[:4] not in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4"):
        raise ValueError(f"{pcap}: not a pcap file")
    order = "<" if data[:4] == b"\xd4\xc3\xb2\xa1" else ">"
    audio = bytearray()
    off = 24
    while off + 16 <= len(data):
        incl = struct.unpack(f"{order}I", data[off + 8:off + 12])[0]
        frame = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if len(frame) < 14 + 20 + 8 + 12 or frame[12:14] != b"\x08\x00" or frame[23] != 17:
            continue  # not IPv4/UDP
        ihl = (frame[14] & 0x0F) * 4
        rtp = frame[14 + ihl + 8:]
        if len(rtp) < 12 or rtp[0] >> 6 != 2 or rtp[1] & 0x7F != 8:
            continue  # not RTP version 2 carrying PCMA
        head = 12 + 4 * (rtp[0] & 0x0F)
        audio += rtp[head:]
    if not audio:
        raise ValueError(f"{pcap}: no PCMA RTP in it")
    return bytes(audio)


def _frames(audio: bytes, seconds: int, ptime_ms: int) -> Iterator[tuple[int, int, bool, bytes]]:
    step = 8 * ptime_ms
    usable = len(audio) - len(audio) % step
    for i in range(seconds * 1000 // ptime_ms):
        at = (i * step) % usable
        yield 8, i * step, i == 0, audio[at:at + step]


def write_pcap(path: Path, *, seconds: int = SECONDS, source: Path = SAMPLE) -> None:
    """The announcement as a pcap for SIPp's play_pcap_audio: ``source``'s speech repeated for
    ``seconds``, one stream, 20 ms PCMA frames."""
    write_rtp_pcap(path, _frames(sample_audio(source), seconds, PTIME_MS), ssrc=SSRC,
                   port=MEDIA_PORT, ptime_ms=PTIME_MS)


def scenario(pcap: Path, *, seconds: int = SECONDS) -> str:
    """The announcement's SIPp scenario: answer, play ``pcap`` (again every ``seconds``) until
    the caller hangs up."""
    text = resources.files("harness.lab").joinpath("templates/sipp_announcement.xml")
    return (text.read_text().replace("@@PCAP@@", str(pcap))
            .replace("@@REPLAY_MS@@", str(seconds * 1000)))


def command(scenario_path: Path, ip: str) -> list[str]:
    """SIPp command line for the announcement on ``ip``:PORT: no ``-rtp_echo``, so nothing it
    receives is ever sent back."""
    return ["sipp", "-sf", str(scenario_path), "-i", ip, "-p", str(PORT), "-mi", ip,
            "-mp", str(MEDIA_PORT), "-nostdin", "-trace_err",
            "-error_file", str(scenario_path.with_suffix(".errors.log"))]
