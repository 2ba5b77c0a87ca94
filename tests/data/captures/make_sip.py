"""Derive the SIP-reading cases of tests/data/captures/ from the ``loss_jitter`` case (one call
with two-way media, nothing wrong), one case per way a real network carries SIP that a
port-bound, strict reader misses (run from the repository root:
``.venv/bin/python tests/data/captures/make_sip.py``, then regenerate the expected files as
make.py says):

- ``sip_tcp_port``: the call's SIP over TCP on port 8080 (tshark gives it to HTTP unless told
  ``-d tcp.port==8080,sip``);
- ``sip_tcp_coalesced``: SIP over TCP 5060 where one segment holds the 200 OK followed by the
  far end's OPTIONS;
- ``sip_tcp_split``: SIP over TCP 5060, the INVITE split into three segments sent out of order
  with a retransmission of the first;
- ``sip_fragmented``: the INVITE grown past the MTU (a long SDP, as with many codecs), sent as
  IPv4 fragments, the last one first;
- ``alg_content_length``: seen on the router's public side (NAT to 192.0.2.2): the ALG
  rewrote the site's addresses, shrinking the INVITE's SDP by 10 bytes, without fixing its
  Content-Length.

Records are written as Ethernet pcap with make.py's writer; TCP and IP checksums are real.
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parents[2])]

from make import Capture, _csum  # noqa: E402

from sip_checks.analyse.capture import frames  # noqa: E402

BASE = HERE / "loss_jitter" / "capture.pcapng"
SITE, FAR = "192.168.254.10", "198.51.100.10"


def _ip4(src: str, dst: str, proto: int, payload: bytes, *, ident: int = 0,
         frag: int = 0x4000) -> bytes:
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, frag, 64, proto, 0,
                     bytes(map(int, src.split("."))), bytes(map(int, dst.split("."))))
    return ip[:10] + struct.pack("!H", _csum(ip)) + ip[12:] + payload


def tcp(src: tuple[str, int], dst: tuple[str, int], seq: int, ack: int, flags: int,
        data: bytes = b"") -> bytes:
    """An IPv4/TCP segment with its checksum."""
    head = struct.pack("!HHIIBBHHH", src[1], dst[1], seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4,
                       flags, 64240, 0, 0)
    pseudo = (bytes(map(int, src[0].split("."))) + bytes(map(int, dst[0].split(".")))
              + struct.pack("!BBH", 0, 6, len(head) + len(data)))
    seg = head + data
    whole = pseudo + seg + b"\0" * (len(pseudo + seg) % 2)
    seg = seg[:16] + struct.pack("!H", _csum(whole)) + seg[18:]
    return _ip4(src[0], dst[0], 6, seg)


def base() -> tuple[list[tuple[float, bytes]], list[tuple[float, bytes, bytes]]]:
    """The base call: its RTP packets (time, IP) and its SIP messages (time, IP, payload)."""
    rtp, sip = [], []
    for f in frames(BASE):
        payload = f.ip[28:]
        if payload[:1].isalpha():
            sip.append((f.at, f.ip, payload))
        else:
            rtp.append((f.at, f.ip))
    return rtp, sip


def over_tcp(sip: list[tuple[float, bytes, bytes]], port: int,
             shape: str = "") -> list[tuple[float, bytes]]:
    """The SIP messages as one TCP connection from the site (port 40001) to the far end."""
    a, b = (SITE, 40001), (FAR, port)
    seq = {a: 1000, b: 5000}
    out = [(sip[0][0] - 0.003, tcp(a, b, 999, 0, 0x02)),
           (sip[0][0] - 0.002, tcp(b, a, 4999, 1000, 0x12)),
           (sip[0][0] - 0.001, tcp(a, b, 1000, 5000, 0x10))]
    msgs = [(at, ip[12:16] == bytes(map(int, SITE.split("."))),
             payload.replace(b"SIP/2.0/UDP", b"SIP/2.0/TCP")) for at, ip, payload in sip]
    if shape == "coalesced":
        # The far end's keep-alive OPTIONS leaves in the same segment as its 200 OK.
        options = (b"OPTIONS sip:192.168.254.10:5060 SIP/2.0\r\n"
                   b"Via: SIP/2.0/TCP 198.51.100.10:5060;branch=z9hG4bKka-1\r\n"
                   b"Max-Forwards: 70\r\nFrom: <sip:ping@198.51.100.10>;tag=k1\r\n"
                   b"To: <sip:trunk@192.168.254.10>\r\nCall-ID: keepalive-1@far\r\n"
                   b"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
        answer = (b"SIP/2.0 200 OK\r\n"
                  b"Via: SIP/2.0/TCP 198.51.100.10:5060;branch=z9hG4bKka-1\r\n"
                  b"From: <sip:ping@198.51.100.10>;tag=k1\r\n"
                  b"To: <sip:trunk@192.168.254.10>;tag=s1\r\nCall-ID: keepalive-1@far\r\n"
                  b"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
        i = next(i for i, m in enumerate(msgs) if m[2].startswith(b"SIP/2.0 200"))
        msgs[i] = (msgs[i][0], msgs[i][1], msgs[i][2] + options)
        msgs.insert(i + 1, (msgs[i][0] + 0.004, True, answer))
    for n, (at, from_site, data) in enumerate(msgs):
        src, dst = (a, b) if from_site else (b, a)
        if shape == "split" and n == 0:
            cuts = [0, 200, 420, len(data)]
            parts = [(seq[src] + cuts[k], data[cuts[k]:cuts[k + 1]]) for k in range(3)]
            # First, third, first again (retransmitted), second.
            for k, (s, piece) in enumerate([parts[0], parts[2], parts[0], parts[1]]):
                out.append((at + k * 0.002, tcp(src, dst, s, seq[dst], 0x18, piece)))
        else:
            out.append((at, tcp(src, dst, seq[src], seq[dst], 0x18, data)))
        seq[src] += len(data)
        out.append((at + 0.008, tcp(dst, src, seq[dst], seq[src], 0x10)))
    return out


def fragmented(sip: list[tuple[float, bytes, bytes]]) -> list[tuple[float, bytes]]:
    """The INVITE with a long SDP (many codecs), fragmented at a 576-byte MTU, last first."""
    out = []
    for at, ip, payload in sip:
        if payload.startswith(b"INVITE"):
            head, body = payload.split(b"\r\n\r\n", 1)
            extra = b"".join(b"a=rtpmap:%d X-CODEC-%d/8000\r\n" % (96 + i, i) for i in range(40))
            body += extra
            head = head.replace(b"Content-Length: 171", b"Content-Length: %d" % len(body))
            udp_payload = ip[20:28] + head + b"\r\n\r\n" + body
            udp_payload = (udp_payload[:4] + struct.pack("!H", len(udp_payload))
                           + b"\0\0" + udp_payload[8:])
            size = 552  # a multiple of 8
            pieces = [udp_payload[i:i + size] for i in range(0, len(udp_payload), size)]
            frags = [(k, _ip4(SITE, FAR, 17, piece, ident=0x1234,
                              frag=(0x2000 if k < len(pieces) - 1 else 0) | (k * size // 8)))
                     for k, piece in enumerate(pieces)]
            for j, (_k, f) in enumerate(reversed(frags)):
                out.append((at + j * 0.0001, f))
        else:
            out.append((at, ip))
    return out


def alg_public_side(sip: list[tuple[float, bytes, bytes]],
                    rtp: list[tuple[float, bytes]]) -> list[tuple[float, bytes]]:
    """Every packet as seen past the NAT (site 192.168.254.10 -> 192.0.2.2), the INVITE's
    addresses rewritten by the ALG with its Content-Length left as it was."""
    site, public = bytes(map(int, SITE.split("."))), bytes([192, 0, 2, 2])

    def nat(ip: bytes, payload: bytes) -> bytes:
        src, dst = ip[12:16], ip[16:20]
        src, dst = (public if src == site else src), (public if dst == site else dst)
        udp = ip[20:24] + struct.pack("!H", 8 + len(payload)) + b"\0\0"
        return _ip4(".".join(map(str, src)), ".".join(map(str, dst)), 17, udp + payload)

    out = [(at, nat(ip, ip[28:])) for at, ip in rtp]
    for at, ip, payload in sip:
        # The ALG rewrites every private address, the INVITE's SDP shrinking by 10 bytes
        # with its Content-Length left as it was.
        payload = payload.replace(SITE.encode(), b"192.0.2.2")
        out.append((at, nat(ip, payload)))
    return out


def write(case: str, packets: list[tuple[float, bytes]]) -> None:
    folder = HERE / case
    folder.mkdir(exist_ok=True)
    (folder / "capture.pcap").write_bytes(Capture(packets).pcap())


def main() -> None:
    rtp, sip = base()
    write("sip_tcp_port", rtp + over_tcp(sip, 8080))
    write("sip_tcp_coalesced", rtp + over_tcp(sip, 5060, "coalesced"))
    write("sip_tcp_split", rtp + over_tcp(sip, 5060, "split"))
    write("sip_fragmented", rtp + fragmented(sip))
    write("alg_content_length", alg_public_side(sip, rtp))


if __name__ == "__main__":
    main()
