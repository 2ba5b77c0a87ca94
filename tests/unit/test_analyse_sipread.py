"""Reading SIP and ICMP from the packets that are not RTP (sip_checks/analyse/sipread.py,
ipfrag.py): SIP on any UDP port by its start line, not other text; IPv4 and IPv6 fragments
in any order; ICMP unreachables quoting UDP; each finding said once with its first frame;
``--sip-port`` validated in one line; on the derived captures, the same messages in the same
frames as tshark (told the port, reassembling out of order)."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from harness import cli
from harness.messages import Msg
from sip_checks.analyse.capture import Frame
from sip_checks.analyse.ipfrag import MAX_PENDING, Defragmenter
from sip_checks.analyse.sipread import SipReader
from sip_checks.analyse.streams import collect

A4, B4 = bytes([192, 0, 2, 2]), bytes([198, 51, 100, 10])
A6, B6 = bytes.fromhex("20010db8" + "0" * 23 + "1"), bytes.fromhex("20010db8" + "0" * 23 + "2")
SIP = (b"OPTIONS sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bK1\r\n"
       b"From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n"
       b"Content-Length: 0\r\n\r\n")


def udp(sport: int, dport: int, data: bytes) -> bytes:
    return struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data


def v4(payload: bytes, proto: int = 17, *, ident: int = 0, frag: int = 0) -> bytes:
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, frag, 64, proto, 0,
                       A4, B4) + payload


def v6_fragment(piece: bytes, offset: int, more: bool) -> bytes:
    ext = struct.pack("!BBHI", 17, 0, offset | more, 77)
    return struct.pack("!IHBB16s16s", 0x60000000, len(ext) + len(piece), 44, 64, A6, B6) \
        + ext + piece


def _read(*ips: bytes, ports: tuple[int, ...] = ()) -> SipReader:
    r = SipReader(ports)
    for n, ip in enumerate(ips, start=1):
        r.write(Frame(n, float(n), ip))
    r.close()
    return r


def test_sip_on_any_udp_port_by_its_start_line_but_not_http() -> None:
    r = _read(v4(udp(40000, 7777, SIP)), v4(udp(40000, 80, b"GET / HTTP/1.1\r\n\r\n")),
              v4(udp(5060, 5060, b"\r\n\r\n")), v4(udp(5060, 5060, b"\x00\x01\x00\x00")))
    assert [(p.frame, p.src, p.dst, p.message.method) for p in r.sips] == [
        (1, ("192.0.2.2", 40000), ("198.51.100.10", 7777), "OPTIONS")]
    assert r.findings() == []


def test_a_named_port_gets_the_lenient_reading_of_an_odd_start_line() -> None:
    odd = SIP.replace(b"OPTIONS sip:b@x SIP/2.0", b"OPTIONS  sip:b@x  SIP/2.0")
    assert _read(v4(udp(40000, 7777, odd))).sips == []
    r = _read(v4(udp(40000, 7777, odd)), ports=(7777,))
    assert [p.message.first_line for p in r.sips] == ["OPTIONS sip:b@x SIP/2.0"]
    assert r.sips[0].lenient.startswith("not a SIP start line")
    assert [f.code for f in r.findings()] == ["AN_SIP_LENIENT"]


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 1, 0), (1, 2, 0, 1)])
def test_ipv4_fragments_in_any_order_give_one_message(order: tuple[int, ...]) -> None:
    big = SIP.replace(b"Content-Length: 0\r\n\r\n", b"Content-Length: 900\r\n\r\n" + b"a" * 900)
    dgram = udp(5060, 5060, big)
    pieces = [(k * 400, dgram[k * 400:(k + 1) * 400]) for k in range(3)]
    ips = [v4(pieces[k][1], ident=9, frag=(pieces[k][0] // 8) | (0x2000 if k < 2 else 0))
           for k in order]
    r = _read(*ips)
    assert [(p.frame, len(p.message.body)) for p in r.sips] == [(3, 900)]


def test_ipv6_fragments_give_one_message_and_a_missing_one_is_said() -> None:
    dgram = udp(5060, 5060, SIP)
    r = _read(v6_fragment(dgram[96:], 96, False), v6_fragment(dgram[:96], 0, True))
    assert [(p.src[0], p.frame) for p in r.sips] == [("2001:db8::1", 2)]
    r = _read(v6_fragment(dgram[:96], 0, True))
    assert r.sips == [] and [(f.code, f.params["frame"]) for f in r.findings()] == [
        ("AN_SIP_FRAGMENTS", 1)]


def test_fragments_waiting_are_bounded() -> None:
    d = Defragmenter(lambda key, first: True)
    for n in range(MAX_PENDING + 10):
        assert d.add((n,), 0, True, b"x" * 8, n + 1) is None
    assert d.unfinished == 10 and d.first_unfinished == 1  # the oldest went first


def test_icmp_unreachable_quoting_udp() -> None:
    quoted = v4(udp(16000, 30000, b"\x80" * 12))
    icmp = b"\x03\x03\x00\x00\x00\x00\x00\x00" + quoted
    r = _read(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), 0, 0, 64, 1, 0, B4, A4)
              + icmp)
    assert [(e.quoted_src, e.quoted_dst) for e in r.icmps] == [
        (("192.0.2.2", 16000), ("198.51.100.10", 30000))]


def test_a_wrong_content_length_is_one_finding_with_its_first_frame() -> None:
    bad = SIP.replace(b"Content-Length: 0", b"Content-Length: 12") + b"v=0\r\n"
    r = _read(v4(udp(5060, 5060, SIP)), v4(udp(5060, 5060, bad)), v4(udp(5060, 5060, bad)))
    (f,) = r.findings()
    assert isinstance(f, Msg) and f.code == "AN_SIP_LENGTH"
    assert (f.params["count"], f.params["frame"], f.params["declared"], f.params["actual"]) \
        == (2, 2, 12, 5)


def test_sip_port_out_of_range_is_one_line(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    rc = cli.main(["analyse", str(tmp_path / "x.pcap"), "--sip-port", "70000",
                   "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2 and "--sip-port" in err and len(err.splitlines()) == 1


DATA = Path(__file__).resolve().parents[1] / "data" / "captures"


def _tshark_sip(path: Path) -> list[tuple[int, str]]:
    """(frame, first line) of every SIP message tshark decodes, told the unusual port and
    to reassemble out-of-order segments."""
    out = subprocess.run(
        ["tshark", "-n", "-r", str(path), "-d", "tcp.port==8080,sip", "-o",
         "tcp.reassemble_out_of_order:TRUE", "-Y", "sip", "-T", "fields", "-E",
         "occurrence=a", "-E", "aggregator=|", "-e", "frame.number", "-e", "sip.Request-Line",
         "-e", "sip.Status-Line"], capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        number, *firsts = line.split("\t")
        rows += [(int(number), f) for col in firsts for f in col.split("|") if f]
    return sorted(rows)


@pytest.mark.skipif(shutil.which("tshark") is None, reason="needs tshark")
@pytest.mark.parametrize("case", ["sip_tcp_port", "sip_tcp_coalesced", "sip_tcp_split",
                                  "sip_fragmented", "alg_content_length", "alg_both_sides"])
def test_the_same_sip_messages_as_tshark_in_the_same_frames(case: str) -> None:
    (path,) = [p for p in (DATA / case).iterdir() if p.name.startswith("capture.")]
    r = SipReader()
    collect(path, r)
    r.close()
    assert sorted((p.frame, p.message.first_line) for p in r.sips) == _tshark_sip(path)


def test_sip_inside_ip_in_ip_is_read() -> None:
    inner = v4(udp(5060, 5060, SIP))
    r = _read(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(inner), 0, 0, 64, 4, 0, B4, A4)
              + inner)
    assert [(p.src, p.message.method) for p in r.sips] == [(("192.0.2.2", 5060), "OPTIONS")]


def test_sip_port_reaches_the_reader(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    odd = SIP.replace(b"OPTIONS sip:b@x SIP/2.0", b"OPTIONS  sip:b@x  SIP/2.0")
    ip = v4(udp(40000, 7777, odd))
    path = tmp_path / "odd.pcap"  # raw-IP pcap, one record
    path.write_bytes(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101)
                     + struct.pack("<IIII", 1_700_000_000, 0, len(ip), len(ip)) + ip)
    outs, codes = [], []
    for extra in ([], ["--sip-port", "7777"]):
        codes.append(cli.main(["analyse", str(path), *extra, "--out",
                               str(tmp_path / f"o{len(extra)}"), "--lang", "en"]))
        got = capsys.readouterr()
        outs.append(got.out + got.err)
    # Without the port nothing in the file is SIP or RTP: one line, exit 2, never "nothing
    # wrong found".
    assert codes[0] == 2 and "no SIP or RTP in 1 records" in outs[0]
    assert "1 SIP dialog(s)" in outs[1] and "read leniently" in outs[1]
