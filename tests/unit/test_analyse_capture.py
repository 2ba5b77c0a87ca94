"""The capture layer of ``recette analyse`` (sip_checks/analyse/capture.py and encap.py): every
link layer and tunnel peeled down to the very inner packet; a file cut short or damaged read up
to the damage, as tshark reads it; pcapng interfaces merged by time; the encapsulated cases of
tests/data/captures read exactly as their plain source."""

from __future__ import annotations

import random
import shutil
import struct
from pathlib import Path

import pytest

from sip_checks.analyse.capture import CaptureError, CaptureInfo, Frame, _ip_of, frames
from sip_checks.analyse.encap import MAX_DEPTH, from_link

DATA = Path(__file__).resolve().parents[1] / "data" / "captures"
MACS = b"\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02"


def ipv4(proto: int, payload: bytes, *, src: bytes = b"\xc0\xa8\xfe\x0a",
         dst: bytes = b"\xc6\x33\x64\x0a", frag: int = 0x4000) -> bytes:
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, frag, 64, proto, 0, src,
                       dst) + payload


def ipv6(nh: int, payload: bytes) -> bytes:
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), nh, 64, b"\xfd" + b"\0" * 15,
                       b"\x20\x01\x0d\xb8" + b"\0" * 12) + payload


def udp(dport: int, payload: bytes, sport: int = 5060) -> bytes:
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


SIP = ipv4(17, udp(5060, b"OPTIONS sip:x@198.51.100.10 SIP/2.0\r\n\r\n"))
RTP = ipv4(17, udp(30000, struct.pack("!BBHII", 0x80, 8, 1, 160, 7) + b"\xd5" * 160, 16000))
SIP6 = ipv6(17, udp(5060, b"OPTIONS sip:x@[2001:db8::] SIP/2.0\r\n\r\n"))


def eth(etype: int, payload: bytes, *tags: tuple[int, int]) -> bytes:
    head = MACS + b"".join(struct.pack("!HH", tpid, vid) for tpid, vid in tags)
    return head + struct.pack("!H", etype) + payload


def pppoe(ip: bytes, proto: int = 0x0021) -> bytes:
    ppp = struct.pack("!H", proto) + ip
    return struct.pack("!BBHH", 0x11, 0, 0x1A2B, len(ppp)) + ppp


def gre(proto: int, payload: bytes, flags: int = 0, extra: bytes = b"") -> bytes:
    return struct.pack("!HH", flags, proto) + extra + payload


VXLAN_SIP = ipv4(17, udp(4789, struct.pack("!BBHI", 8, 0, 0, 1 << 8) + eth(0x0800, SIP), 49152))
# (link type, frame, the inner packet expected), one per way real equipment writes it.
CASES = {
    "ethernet": (1, eth(0x0800, SIP), SIP),
    "ethernet padded": (1, eth(0x0800, SIP) + b"\0" * 6, SIP + b"\0" * 6),
    "ethernet ipv6": (1, eth(0x86DD, SIP6), SIP6),
    "802.1Q": (1, eth(0x0800, SIP, (0x8100, 20)), SIP),
    "QinQ 88a8": (1, eth(0x0800, SIP, (0x88A8, 100), (0x8100, 200)), SIP),
    "QinQ 9100": (1, eth(0x0800, SIP, (0x9100, 100), (0x8100, 200)), SIP),
    "PPPoE": (1, eth(0x8864, pppoe(SIP)), SIP),
    "PPPoE padded, in VLAN 835": (1, eth(0x8864, pppoe(SIP), (0x8100, 835)) + b"\0" * 8, SIP),
    "PPPoE IPv6": (1, eth(0x8864, pppoe(SIP6, 0x0057)), SIP6),
    "MPLS two labels": (1, eth(0x8847, struct.pack("!II", 16 << 12 | 64, 17 << 12 | 0x100 | 64)
                               + SIP), SIP),
    "PPP (9) HDLC-like": (9, b"\xff\x03\x00\x21" + SIP, SIP),
    "PPP (9) compressed": (9, b"\x21" + SIP, SIP),
    "PPPoE link type (51)": (51, pppoe(SIP), SIP),
    "Cisco HDLC": (104, b"\x0f\x00\x08\x00" + SIP, SIP),
    "SLL": (113, struct.pack("!HHH8sH", 0, 1, 6, b"\0" * 8, 0x0800) + SIP, SIP),
    "SLL PPPoE": (113, struct.pack("!HHH8sH", 4, 1, 6, b"\0" * 8, 0x8864) + pppoe(SIP), SIP),
    "SLL VLAN": (113, struct.pack("!HHH8sHHH", 0, 1, 6, b"\0" * 8, 0x8100, 20, 0x0800) + SIP,
                 SIP),
    "SLL gretap (6558)": (113, struct.pack("!HHH8sH", 0, 1, 6, b"\0" * 8, 0x6558)
                          + eth(0x0800, SIP), SIP),
    "SLL2": (276, struct.pack("!HHIHBB8s", 0x0800, 0, 2, 1, 0, 6, b"\0" * 8) + SIP, SIP),
    "SLL2 PPPoE": (276, struct.pack("!HHIHBB8s", 0x8864, 0, 2, 1, 0, 6, b"\0" * 8)
                   + pppoe(SIP), SIP),
    "BSD loopback": (0, b"\x02\0\0\0" + SIP, SIP),
    "raw": (101, SIP, SIP),
    "IP-in-IP": (1, eth(0x0800, ipv4(4, SIP)), SIP),
    "IPv6-in-IPv4 (6in4)": (1, eth(0x0800, ipv4(41, SIP6)), SIP6),
    "IPv4-in-IPv6": (1, eth(0x86DD, ipv6(4, SIP)), SIP),
    "IPv6 hop-by-hop then IPv4-in-IPv6": (1, eth(0x86DD, ipv6(0, b"\x04\0" + b"\0" * 6 + SIP)),
                                          SIP),
    "GRE": (1, eth(0x0800, ipv4(47, gre(0x0800, SIP))), SIP),
    "GRE C K S": (1, eth(0x0800, ipv4(47, gre(0x0800, SIP, 0xB000, b"\0" * 12))), SIP),
    "GRE IPv6": (1, eth(0x0800, ipv4(47, gre(0x86DD, SIP6, 0x2000, b"\0\0\0\x2a"))), SIP6),
    "GRE Ethernet (6558)": (1, eth(0x0800, ipv4(47, gre(0x6558, eth(0x0800, SIP)))), SIP),
    "PPTP (GRE v1, PPP)": (1, eth(0x0800, ipv4(47, gre(0x880B, b"\xff\x03\x00\x21" + SIP,
                                                        0x3081, b"\0" * 12))), SIP),
    "ERSPAN I": (1, eth(0x0800, ipv4(47, gre(0x88BE, eth(0x0800, SIP, (0x8100, 20))))), SIP),
    "ERSPAN II": (1, eth(0x0800, ipv4(47, gre(0x88BE, struct.pack("!HHI", 0x1014, 0x1807, 0)
                                              + eth(0x0800, SIP), 0x1000, b"\0\0\0\x01"))), SIP),
    "ERSPAN III": (1, eth(0x0800, ipv4(47, gre(0x22EB, struct.pack("!HHIHBB", 0x2014, 9, 0, 0,
                                                                    0, 0x12)
                                               + eth(0x0800, SIP), 0x1000, b"\0" * 4))), SIP),
    "ERSPAN III, O flag": (1, eth(0x0800, ipv4(47, gre(
        0x22EB, struct.pack("!HHIHBB", 0x2014, 9, 0, 0, 0, 0x13) + b"\x0c\0\0\x10\0\0\0\0"
        + eth(0x0800, SIP), 0x1000, b"\0" * 4))), SIP),
    "ERSPAN III, IP frame": (1, eth(0x0800, ipv4(47, gre(
        0x22EB, struct.pack("!HHIHBB", 0x2014, 9, 0, 0, 2 << 2, 0x12) + SIP, 0x1000,
        b"\0" * 4))), SIP),
    "VXLAN": (1, eth(0x0800, ipv4(17, udp(4789, struct.pack("!BBHI", 8, 0, 0, 123 << 8)
                                          + eth(0x0800, RTP), 49152))), RTP),
    "VXLAN in 802.1Q": (1, eth(0x0800, VXLAN_SIP, (0x8100, 20)), SIP),
    "802.1Q TCP": (1, eth(0x0800, ipv4(6, b"\0" * 20), (0x8100, 20)), ipv4(6, b"\0" * 20)),
    "VXLAN in GRE in PPPoE": (1, eth(0x8864, pppoe(ipv4(47, gre(0x0800, VXLAN_SIP)))), SIP),
}


@pytest.mark.parametrize("case", CASES)
def test_every_layer_is_peeled_to_the_inner_packet(case: str) -> None:
    linktype, frame, inner = CASES[case]
    assert from_link(linktype, frame) == inner


@pytest.mark.parametrize("case", CASES)
def test_the_readers_fast_path_agrees(case: str) -> None:
    """Plain and 802.1Q-tagged Ethernet are answered without :mod:`encap`; same answer."""
    linktype, frame, inner = CASES[case]
    assert _ip_of(linktype, frame) == inner


def test_what_carries_no_ip_is_none() -> None:
    arp = eth(0x0806, b"\0\x01\x08\x00\x06\x04\0\x01" + b"\0" * 20)
    discovery = eth(0x8863, struct.pack("!BBHH", 0x11, 0x09, 0, 0))  # PADI
    lcp = eth(0x8864, pppoe(b"\x01\x01\0\x04", 0xC021))
    assert [from_link(1, arp), from_link(1, discovery), from_link(1, lcp),
            from_link(127, b"\0" * 40), from_link(1, b"")] == [None] * 5


def test_a_tunnel_that_cannot_be_read_is_kept_whole() -> None:
    """Port 4789 without the VXLAN flag, a GRE version we do not read, a fragment of an
    outer packet (tshark reassembles it): the outer packet goes on as it is."""
    not_vxlan = ipv4(17, udp(4789, b"\0" * 8 + eth(0x0800, SIP)))
    gre_v2 = ipv4(47, gre(0x0800, SIP, 0x0002))
    fragment = ipv4(47, gre(0x0800, SIP), frag=0x2000)  # more fragments
    for outer in (not_vxlan, gre_v2, fragment):
        assert from_link(101, outer) == outer


def test_nesting_is_bounded() -> None:
    """GRE in GRE in GRE... crafted to loop ends at MAX_DEPTH layers, no RecursionError."""
    packet = SIP
    for _ in range(MAX_DEPTH * 20):
        packet = ipv4(47, gre(0x0800, packet))
    inner = from_link(101, packet)
    assert inner is not None and inner != SIP and inner[9] == 47


# -- files: records cut short or damaged, pcapng interfaces ----------------------------------


def pcap(records: list[tuple[float, bytes]], linktype: int = 1) -> bytes:
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype)]
    for at, frame in records:
        sec = int(at)
        out.append(struct.pack("<IIII", sec, round((at - sec) * 1e6), len(frame), len(frame))
                   + frame)
    return b"".join(out)


def block(btype: int, body: bytes) -> bytes:
    body += b"\0" * (-len(body) % 4)
    return struct.pack("<II", btype, len(body) + 12) + body + struct.pack("<I", len(body) + 12)


def pcapng(linktypes: list[int], records: list[tuple[int, float, bytes]]) -> bytes:
    out = [block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))]
    out += [block(1, struct.pack("<HHI", lt, 0, 262144)) for lt in linktypes]  # µs
    for iface, at, frame in records:
        us = round(at * 1e6)
        out.append(block(6, struct.pack("<IIIII", iface, us >> 32, us & 0xFFFFFFFF, len(frame),
                                        len(frame)) + frame))
    return b"".join(out)


def read(tmp_path: Path, data: bytes, name: str = "c.pcap") -> tuple[list[Frame], CaptureInfo]:
    path = tmp_path / name
    path.write_bytes(data)
    info = CaptureInfo()
    return list(frames(path, info)), info


TEN = [(1_700_000_000 + i * 0.02, eth(0x0800, RTP)) for i in range(10)]


def test_a_file_cut_short_is_read_to_its_last_complete_record(tmp_path: Path) -> None:
    whole = pcap(TEN)
    got, info = read(tmp_path, whole[:-50])
    assert [f.number for f in got] == list(range(1, 10))
    assert info.records == 9 and info.damage is None
    assert info.cut_at == len(whole) - (16 + len(TEN[0][1]))  # where record 10 starts
    assert info.last_at == pytest.approx(TEN[8][0])
    assert info.notes()[0].code == "AN_CAPTURE_CUT"
    got, info = read(tmp_path, whole[:-len(TEN[0][1]) - 8])  # inside record 10's header
    assert len(got) == 9 and info.damage is None


def test_a_damaged_record_stops_the_reading_there_as_tshark_does(tmp_path: Path) -> None:
    data = bytearray(pcap(TEN))
    at = 24 + 4 * (16 + len(TEN[0][1]))  # record 5
    data[at + 8:at + 12] = b"\xff\xff\xff\x7f"
    got, info = read(tmp_path, bytes(data))
    assert len(got) == 4 and info.records == 4 and info.cut_at == at
    assert info.damage is not None and info.damage.render("en") == "a record of 2147483647 bytes"
    assert info.notes()[0].code == "AN_CAPTURE_DAMAGED"


def test_nothing_sane_before_the_damage_is_a_one_line_error(tmp_path: Path) -> None:
    data = bytearray(pcap(TEN))
    data[32:36] = b"\xff\xff\xff\x7f"
    with pytest.raises(CaptureError, match=r"corrupt capture: record of 2147483647 bytes at "
                                           r"byte 24$"):
        read(tmp_path, bytes(data))
    with pytest.raises(CaptureError, match=r"record cut short at byte 24$"):
        read(tmp_path, pcap(TEN)[:60])


def test_a_pcapng_cut_short_or_damaged(tmp_path: Path) -> None:
    whole = pcapng([1], [(0, at, f) for at, f in TEN])
    got, info = read(tmp_path, whole[:-10], "c.pcapng")
    assert len(got) == 9 and info.damage is None and info.records == 9
    last = len(whole) - len(block(6, b"\0" * 20 + TEN[0][1]))
    damaged = whole[:last + 4] + b"\x0d\0\0\0" + whole[last + 8:]
    got, info = read(tmp_path, damaged, "c.pcapng")
    assert len(got) == 9 and info.cut_at == last and info.damage is not None
    assert info.damage.render("fr") == "un bloc de 13 octets"


def test_records_are_counted_per_link_type_read_or_not(tmp_path: Path) -> None:
    arp = eth(0x0806, b"\0" * 28)
    got, info = read(tmp_path, pcapng([1, 127], [(0, 1.0, arp), (1, 2.0, b"\0" * 30),
                                                 (0, 3.0, eth(0x0800, SIP))]), "c.pcapng")
    assert [f.number for f in got] == [3]
    assert (info.records, info.not_ip, dict(info.link_types)) == (3, 2, {1: 2, 127: 1})
    assert info.contents() == ("3 records: 2 of link type 1 (Ethernet), 1 of link type 127 "
                               "(802.11 radiotap, not read); 1 IP packets")
    assert [n.code for n in info.notes()] == ["AN_CAPTURE_UNREAD"]


def test_pcapng_interfaces_are_merged_by_time(tmp_path: Path) -> None:
    """Two interfaces concatenated (mergecap -a): yielded in time order, each frame keeping
    its number in the file and its interface."""
    lan = [(0, 10.0 + i, eth(0x0800, SIP)) for i in range(3)]
    wan = [(1, 10.5 + i, eth(0x0800, RTP)) for i in range(3)]
    got, info = read(tmp_path, pcapng([1, 1], lan + wan), "c.pcapng")
    assert [(f.number, f.iface) for f in got] == [(1, 0), (4, 1), (2, 0), (5, 1), (3, 0),
                                                  (6, 1)]
    assert info.records == 6 and info.last_at == pytest.approx(12.5)


def test_equal_times_keep_file_order_and_one_interface_keeps_file_order(
        tmp_path: Path) -> None:
    both = [(1, 5.0, eth(0x0800, RTP)), (0, 4.0, eth(0x0800, SIP)), (0, 5.0, eth(0x0800, SIP))]
    got, _ = read(tmp_path, pcapng([1, 1], both), "c.pcapng")
    assert [f.number for f in got] == [2, 1, 3]
    one = [(0, 5.0, eth(0x0800, SIP)), (0, 4.0, eth(0x0800, SIP))]
    got, _ = read(tmp_path, pcapng([1], one), "c.pcapng")
    assert [f.number for f in got] == [1, 2]  # as tshark reads it: no reordering


def test_the_merged_case_reads_in_time_order() -> None:
    got = list(frames(DATA / "interfaces_merged" / "capture.pcapng"))
    assert [f.at for f in got] == sorted(f.at for f in got)
    assert {f.iface for f in got} == {0, 1}
    assert sorted(f.number for f in got) == list(range(1, len(got) + 1))


ENCAPSULATED = ["pppoe_vlan", "qinq", "sll_pppoe", "ipip", "gre", "erspan1", "erspan2",
                "erspan3", "vxlan"]


@pytest.mark.parametrize("case", ENCAPSULATED)
def test_an_encapsulated_case_reads_as_its_plain_source(case: str) -> None:
    """Same inner packets, same times, as the plain capture it was derived from; so its
    expected summary must be its source's (test_analyse_cases checks the summary is the
    one produced)."""
    plain = list(frames(DATA / "loss_jitter" / "capture.pcapng"))
    (path,) = (DATA / case).glob("capture.*")
    got = list(frames(path))
    assert [f.ip for f in got] == [f.ip for f in plain]
    assert [f.at for f in got] == pytest.approx([f.at for f in plain], abs=1e-6)  # µs pcap
    expected = (DATA / case / "expected.txt").read_text().splitlines()[1:]
    assert expected == (DATA / "loss_jitter" / "expected.txt").read_text().splitlines()[1:]


def test_damaged_frames_never_raise() -> None:
    """Every shape above cut at every length and with seeded byte flips: an inner packet or
    None, never an IndexError or struct.error out of a customer's capture."""
    rnd = random.Random(23)
    for linktype, frame, _ in CASES.values():
        for cut in range(len(frame)):
            from_link(linktype, frame[:cut])
        for _ in range(100):
            damaged = bytearray(frame)
            for _ in range(rnd.randint(1, 4)):
                damaged[rnd.randrange(len(damaged))] = rnd.randrange(256)
            got = from_link(linktype, bytes(damaged))
            assert got is None or isinstance(got, bytes)


@pytest.mark.parametrize("kind", ["pcap", "pcapng"])
def test_damaged_files_are_read_or_refused_in_one_line(tmp_path: Path, kind: str) -> None:
    """Seeded byte flips and cuts anywhere in a file: frames up to the damage, or a
    CaptureError, never another exception."""
    rnd = random.Random(4)
    whole = pcap(TEN) if kind == "pcap" else pcapng([1, 1], [(i % 2, at, f) for i, (at, f)
                                                             in enumerate(TEN)])
    path = tmp_path / f"c.{kind}"
    for _ in range(300):
        damaged = bytearray(whole[:rnd.randrange(len(whole) + 1)])
        for _ in range(rnd.randint(0, 3)):
            if damaged:
                damaged[rnd.randrange(min(len(damaged), 120))] = rnd.randrange(256)
        path.write_bytes(bytes(damaged))
        try:
            got = list(frames(path, CaptureInfo()))
        except CaptureError as exc:
            assert "\n" not in str(exc)
        else:
            assert len(got) <= len(TEN)


@pytest.mark.skipif(shutil.which("tshark") is None, reason="needs tshark")
def test_the_html_says_the_analysis_is_partial(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    from harness import cli

    cli.main(["analyse", str(DATA / "truncated" / "capture.pcap"), "--out", str(tmp_path)])
    capsys.readouterr()
    html = (tmp_path / "analyse.html").read_text()
    assert "analyse partielle : le fichier est coupé à l&#x27;octet 48217, après 205 " in html


def test_read_gives_the_cut_and_the_last_record_time_to_the_diagnoses() -> None:
    """What the call diagnoses need to tell an unfinished call from a failed one."""
    if shutil.which("tshark") is None:
        pytest.skip("needs tshark")
    from sip_checks.analyse import read as analyse

    a = analyse(DATA / "truncated" / "capture.pcap")
    assert a.capture is not None and a.capture.partial and a.capture.cut_at == 48217
    assert a.capture.last_at == pytest.approx(max(p.at for d in a.dialogs for p in d.packets))
    whole = analyse(DATA / "one_way" / "capture.pcap")
    assert whole.capture is not None and not whole.capture.partial
