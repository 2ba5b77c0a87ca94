"""The field lab (``--operator field``): an operator that behaves like a carrier's SBC.

Proved with peers that are not the harness's checks: SIPp registers and calls as an IPBX that
knows nothing of NAT, the harness's own small UA places hairpins and fills the channels, and a
raw socket below every application reads what reaches the site. Registration crosses the NAT;
the test number plays an announcement whose RTP comes from the operator's media address and
never carries our own packets back; every DID of every line is reached by hairpin from another
line of the site, with media relayed both ways by rtpengine; the channel count answers 486,
a hairpin inside one trunk taking two of its channels; nothing of the operator calls the site
on its own; and ``lab down`` leaves no namespace and no rtpengine, Kamailio or SIPp behind.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from ipaddress import IPv4Address
from pathlib import Path

import pytest
import yaml

from harness import lab as labmod
from harness import netns
from harness.lab import Lab, relay
from harness.lab.announcement import SSRC as ANNOUNCEMENT_SSRC
from harness.lab.capture import Datagram, UdpCapture
from harness.lab.profile import STATE_ROOT
from sip_checks.session import Site as SiteAddr
from sip_checks.session import open_ua, register_behind_nat
from sip_checks.toolkit.message import build_request, new_call_id, parse
from sip_checks.toolkit.rtp import parse as parse_rtp
from sip_checks.toolkit.ua import CallRecord, UserAgent
from tests.lab.labrun import in_namespace, recette
from tests.lab.test_lab_sipp import _sipp_register, _statuses

CALL_SCENARIO = Path(__file__).resolve().parents[1] / "data" / "sipp" / "call_auth.xml"
SAMPLE_SSRC = 0xDEE0EE8F  # the SSRC in SIPp's g711a.pcap, which the SIPp caller plays
LAN = str(labmod.VOICE_HOST)
MEDIA_IP = IPv4Address("198.51.100.30")


def _media_from(rec: CallRecord) -> set[tuple[str, int]]:
    assert rec.media is not None
    return set(rec.media.rx_sources.values())


def _relayed(sources: set[tuple[str, int]], media_ip: IPv4Address) -> bool:
    """Every source is one of rtpengine's ports on the operator's media address.

    Read on the router's WAN side, never on the LAN: when the relay's first packet and the
    site's first packet cross in the router at the same moment, the router's conntrack gives
    the inbound flow a new source port to keep the two tuples apart (a NAT "null binding"),
    so the LAN may see the media address on any port. That is the site's NAT, not the relay."""
    lo, hi = relay.PORTS
    return bool(sources) and all(ip == str(media_ip) and lo <= port <= hi
                                 for ip, port in sources)


class _WanRtp:
    """Sources of the RTP (not SIP) datagrams from ``media_ip`` that reach the router's WAN
    interface while the block runs, read below the router's netfilter by a thread."""

    def __init__(self, lab: Lab, media_ip: IPv4Address) -> None:
        self._cap = UdpCapture(lab.ns("rtr"), "wan0")
        self._media_ip = str(media_ip)
        self.sources: set[tuple[str, int]] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _take(self, d: Datagram) -> bool:
        if d.src[0] == self._media_ip and d.src[1] != 5060 and parse_rtp(d.payload) is not None:
            self.sources.add(d.src)
        return self._stop.is_set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._cap.wait_for(self._take, timeout=0.2)

    def __enter__(self) -> _WanRtp:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._cap.close()


def _on_wan(lab: Lab, media_ip: IPv4Address,
            call: Callable[[], CallRecord]) -> tuple[CallRecord, set[tuple[str, int]]]:
    """``call``'s record and the sources of the RTP that reached the site's WAN meanwhile."""
    with _WanRtp(lab, media_ip) as wan:
        rec = call()
    return rec, wan.sources


async def _registered(lab: Lab, user: str, port: int) -> UserAgent:
    ua = await open_ua(lab.profile, user, SiteAddr(LAN, port))
    reg = await register_behind_nat(ua)
    assert reg.status == 200, (user, reg.status, reg.reason)
    assert reg.public_addr is not None and reg.public_addr[0] == str(labmod.RTR_WAN)
    return ua


async def _close(*uas: UserAgent) -> None:
    for ua in uas:
        await ua.unregister()
        ua.ep.close()


async def _announcement_call(lab: Lab) -> CallRecord:
    ua = await _registered(lab, "centrex101", 5070)
    try:
        assert lab.profile.operator.test_number is not None
        return await ua.call(lab.profile.operator.test_number, media_ip=LAN, duration=2.0)
    finally:
        await _close(ua)


def _assert_announcement(lab: Lab, media_ip: IPv4Address) -> None:
    """An announcement call from the LAN: answered, its RTP from the relay on ``media_ip``
    (as it reached the WAN), the announcement's stream only: none of our own packets came
    back."""
    rec, wan = _on_wan(lab, media_ip, lambda: in_namespace(
        lab.ns("lan"), lambda: _announcement_call(lab), 30))
    assert rec.status == 200, (rec.status, rec.reason, rec.symptom)
    assert rec.remote_media is not None and rec.remote_media[0] == str(media_ip)
    assert _relayed(wan, media_ip), wan
    assert {ip for ip, _ in _media_from(rec)} == {str(media_ip)}, rec.media
    assert rec.media is not None and rec.media.sent > 50
    assert set(rec.media.rx) == {ANNOUNCEMENT_SSRC}, [hex(s) for s in rec.media.rx]
    assert rec.media.echo_rtt_ms == []
    assert rec.media.rx[ANNOUNCEMENT_SSRC].received > 50


def _sipp_call(lab: Lab, tmp: Path, user: str, number: str, *, port: int, media_port: int,
               seconds: float) -> tuple[int, str, list[Datagram]]:
    """SIPp calls ``number`` as ``user`` from the voice LAN (private addresses in its SIP and
    SDP); returns its exit code, its SIP trace and every UDP datagram that reached its media
    port, read on the LAN host's interface."""
    acc = next(a for a in lab.profile.accounts() if a.user == user)
    inj = tmp / f"{port}.csv"
    inj.write_text(f"SEQUENTIAL\n{user};[authentication username={acc.auth_username} "
                   f"password={acc.secret()}];{lab.profile.operator.sip_server.domain}\n")
    trace = tmp / f"{port}.msg"
    media: list[Datagram] = []
    with UdpCapture(lab.ns("lan"), "eth0") as cap:
        proc = netns.popen(lab.ns("lan"), [
            "sipp", f"{labmod.OP_SERVER}:5060", "-sf", str(CALL_SCENARIO), "-inf", str(inj),
            "-s", number, "-m", "1", "-d", str(int(seconds * 1000)), "-i", LAN,
            "-p", str(port), "-mi", LAN, "-mp", str(media_port), "-nostdin",
            "-timeout", "30s", "-timeout_error", "-trace_msg", "-message_file", str(trace)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 40
        while proc.poll() is None and time.monotonic() < deadline:
            cap.wait_for(lambda d: _keep(media, d, media_port), timeout=0.2)
        if proc.poll() is None:
            proc.kill()
    return proc.wait(), trace.read_text(errors="replace") if trace.exists() else "", media


def _keep(into: list[Datagram], d: Datagram, port: int) -> bool:
    """Collect the datagrams for ``port`` (never "found": the capture goes on)."""
    if d.dst[1] == port:
        into.append(d)
    return False


@pytest.mark.lab
def test_sipp_registers_every_account_through_the_nat(field_lab: Lab, tmp_path: Path) -> None:
    """Digest (401) then 200, and the registrar saw the router's public address."""
    for n, acc in enumerate(field_lab.profile.accounts()):
        rc, trace = _sipp_register(field_lab, tmp_path, acc.user, acc.secret(), 5075 + n)
        assert (rc, _statuses(trace)) == (0, [401, 200]), trace
        assert f"received={labmod.RTR_WAN}" in trace, trace


@pytest.mark.lab
def test_profile_and_state_hold_what_a_real_site_has(field_lab: Lab, tmp_path: Path) -> None:
    """No probe beside the SIP server (in the profile or on the network), the announcement as
    the test number; the echo number only in the lab state."""
    prof = tmp_path / "field.yaml"
    field_lab.write_profile(prof)
    data = yaml.safe_load(prof.read_text())
    assert set(data["vantage_points"]) == {"outsider"}
    assert "media_ips" not in data["operator"]
    assert data["operator"]["test_number"] == labmod.TEST_NUMBER
    assert set(data["lab"]) == {"prefix", "agent_netns", "namespaces"}
    assert labmod.ECHO_NUMBER not in prof.read_text()
    dids = {(a.user, d) for a in field_lab.profile.trunks for d in a.dids}
    dids |= {(c.user, c.did) for c in field_lab.profile.centrex if c.did}
    assert dids == {(owner, did) for _, owner, did in HAIRPINS}  # every DID is tested
    st = field_lab.status()
    assert st["operator"] == "field" and st["rtpengine"] is True
    assert st["media_ip"] == str(labmod.OP_SERVER)
    assert (st["echo_number"], st["announcement_number"]) == (labmod.ECHO_NUMBER,
                                                              labmod.TEST_NUMBER)
    addrs = netns.run(field_lab.ns("op"), ["ip", "-4", "-o", "addr", "show", "eth0"]).stdout
    assert str(labmod.PROBE) not in addrs
    assert not (field_lab.dir / "probe-op.log").exists()


@pytest.mark.lab
def test_announcement_comes_from_the_relay_and_never_echoes(field_lab: Lab,
                                                            tmp_path: Path) -> None:
    """SIPp, as an IPBX that puts its private address in its SDP, calls the test number: the
    relay sends the announcement to the site's public address (SIP source, SDP port) through
    the port-forward, from the operator's media address, and nothing SIPp plays comes back."""
    with _WanRtp(field_lab, labmod.OP_SERVER) as wan:
        rc, trace, media = _sipp_call(field_lab, tmp_path, "trunk01", labmod.TEST_NUMBER,
                                      port=5074, media_port=10600, seconds=3)
    assert rc == 0, trace
    assert _statuses(trace)[:1] == [407] and 200 in _statuses(trace)
    assert f"c=IN IP4 {labmod.OP_SERVER}" in trace.split("SIP/2.0 200 OK", 1)[1]
    rtp = [(d.src, parse_rtp(d.payload)) for d in media]
    assert len(rtp) > 100, len(rtp)
    assert _relayed(wan.sources, labmod.OP_SERVER), wan.sources
    assert {ip for (ip, _), _ in rtp} == {str(labmod.OP_SERVER)}
    ssrcs = {pkt.ssrc for _, pkt in rtp if pkt is not None}
    assert ssrcs == {ANNOUNCEMENT_SSRC}, [hex(s) for s in ssrcs]
    assert SAMPLE_SSRC not in ssrcs  # what SIPp sent never came back


@pytest.mark.lab
def test_harness_ua_hears_the_announcement_and_no_echo(field_lab: Lab) -> None:
    _assert_announcement(field_lab, labmod.OP_SERVER)


async def _hairpin(lab: Lab, caller: str, owner: str, did: str) -> tuple[CallRecord,
                                                                        CallRecord, str]:
    into = await _registered(lab, owner, 5060)  # the port the router forwards
    out = await _registered(lab, caller, 5070)
    try:
        answering = asyncio.create_task(into.answer(media_ip=LAN, timeout=10, duration=2.0,
                                                    hangup=False))
        out_rec = await out.call(did, media_ip=LAN, duration=2.0)
        into_rec = await answering
        invite = next(w for w in into.ep.wire if not w.outgoing
                      and w.data.startswith(b"INVITE "))
        return out_rec, into_rec, f"{invite.remote[0]}:{invite.remote[1]} " + \
            parse(invite.data).first_line
    finally:
        await _close(into, out)


# (caller, owner, DID): every DID of the lab profile, called from another line of the site.
HAIRPINS = [("centrex101", "trunk01", "+33199000001"), ("centrex101", "trunk01", "+33199000002"),
            ("trunk01", "centrex101", "+33199000101"), ("trunk01", "centrex102", "+33199000102")]


@pytest.mark.lab
@pytest.mark.parametrize(("caller", "owner", "did"), HAIRPINS)
def test_hairpin_reaches_the_did_with_media_through_the_relay(
    field_lab: Lab, caller: str, owner: str, did: str
) -> None:
    with _WanRtp(field_lab, labmod.OP_SERVER) as wan:
        out_rec, into_rec, invite = in_namespace(
            field_lab.ns("lan"), lambda: _hairpin(field_lab, caller, owner, did), 40)
    assert out_rec.status == 200, (out_rec.status, out_rec.reason, out_rec.symptom)
    assert into_rec.status == 200, (into_rec.status, into_rec.symptom)
    # Delivered to the registered contact, from the operator's outbound socket.
    assert invite.startswith(f"{labmod.OP_SERVER}:5062 INVITE sip:{owner}@{labmod.RTR_WAN}:")
    # Each side's SDP names the relay, and each hears the other's stream from it.
    for rec in (out_rec, into_rec):
        assert rec.remote_media is not None and rec.remote_media[0] == str(labmod.OP_SERVER)
    assert out_rec.media is not None and into_rec.media is not None
    assert _relayed(wan.sources, labmod.OP_SERVER), wan.sources
    assert len(wan.sources) >= 2, wan.sources  # two relay ports, one per leg
    for rec in (out_rec, into_rec):
        assert {ip for ip, _ in _media_from(rec)} == {str(labmod.OP_SERVER)}
    assert set(out_rec.media.rx) == {into_rec.media.ssrc}
    assert set(into_rec.media.rx) == {out_rec.media.ssrc}
    for sender, receiver in ((out_rec.media, into_rec.media), (into_rec.media, out_rec.media)):
        got = receiver.rx[sender.ssrc].received
        assert got >= 0.9 * sender.sent - 5, (got, sender.sent)


async def _fill_trunk(lab: Lab) -> list[int | None]:
    """Trunk01 (10 channels) holds 9 calls to the test number; then calls its own DID (a
    hairpin: two legs on it); Centrex 101 calls the trunk's other DID (one leg on it) and the
    trunk answers; then the trunk calls once more. Returns the statuses, in that order."""
    trunk = await _registered(lab, "trunk01", 5060)
    cx = await _registered(lab, "centrex101", 5070)
    number = lab.profile.operator.test_number
    own, other = lab.profile.trunks[0].dids[1], lab.profile.trunks[0].dids[0]
    assert number is not None
    try:
        settled = [asyncio.Event() for _ in range(9)]
        held = [asyncio.create_task(trunk.call(number, media_ip=LAN, duration=8.0, settled=s))
                for s in settled]
        await asyncio.wait_for(asyncio.gather(*(s.wait() for s in settled)), 15)
        hairpin = await trunk.call(own, media_ip=LAN, duration=0.5, answer_timeout=5)
        answering = asyncio.create_task(trunk.answer(media_ip=LAN, timeout=10, duration=3.0,
                                                     hangup=False))
        inbound_up = asyncio.Event()
        inbound = asyncio.create_task(cx.call(other, media_ip=LAN, duration=3.0,
                                              settled=inbound_up))
        await asyncio.wait_for(inbound_up.wait(), 10)
        eleventh = await trunk.call(number, media_ip=LAN, duration=0.5, answer_timeout=5)
        records = await asyncio.gather(*held, inbound, answering)
        return [r.status for r in records[:9]] + [hairpin.status, records[9].status,
                                                   records[10].status, eleventh.status]
    finally:
        await _close(trunk, cx)


@pytest.mark.lab
def test_channel_limit_counts_both_legs_of_a_hairpin(field_lab: Lab) -> None:
    """10 channels: 9 calls out; a hairpin inside the trunk would need 2 more (486); a call in
    from another line of the site needs 1 (answered); then the trunk is full (486)."""
    statuses = in_namespace(field_lab.ns("lan"), lambda: _fill_trunk(field_lab), 60)
    held, hairpin, inbound, answered, eleventh = (statuses[:9], *statuses[9:])
    assert held == [200] * 9
    assert hairpin == 486
    assert (inbound, answered) == (200, 200)
    assert eleventh == 486


@pytest.mark.lab
def test_no_one_calls_the_site_unchallenged(field_lab: Lab) -> None:
    """No lab-only caller: an INVITE for a DID from anywhere but a site account is challenged
    (407) and never reaches the site."""
    trunk = field_lab.profile.trunks[0]
    with UdpCapture(field_lab.ns("lan"), "eth0") as cap:
        with netns.inside(field_lab.ns("out")):
            caller = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        with caller:
            caller.bind((str(labmod.OUTSIDER), 0))
            caller.settimeout(3)
            port = caller.getsockname()[1]
            call_id = new_call_id("field-inbound")
            did = trunk.dids[0]
            caller.sendto(build_request(
                "INVITE", f"sip:{did}@{labmod.SIP_DOMAIN}", via_host=str(labmod.OUTSIDER),
                via_port=port, from_uri=f"sip:+33100000000@{labmod.OUTSIDER}",
                to_uri=f"sip:{did}@{labmod.SIP_DOMAIN}", call_id=call_id, cseq=1,
                extra=[("Contact", f"<sip:caller@{labmod.OUTSIDER}:{port}>")]),
                (str(labmod.OP_SERVER), 5060))
            reply = parse(caller.recv(4096))
            assert reply.status == 407, reply.first_line
            leaked = cap.wait_for(lambda d: call_id.encode() in d.payload, timeout=1.0)
    assert leaked is None


@pytest.mark.lab
def test_kamailio_restart_keeps_the_relay_and_the_far_ends(field_lab: Lab) -> None:
    """Another digest algorithm restarts Kamailio only: rtpengine and the announcement go on."""
    relay_pid = (field_lab.dir / "rtpengine.pid").read_text()
    field_lab.set_digest("SHA-256")
    try:
        assert field_lab.kamailio_running() and field_lab.relay_running()
        assert (field_lab.dir / "rtpengine.pid").read_text() == relay_pid
        _assert_announcement(field_lab, labmod.OP_SERVER)
    finally:
        field_lab.set_digest("MD5")


def _leftovers(prefix: str) -> list[str]:
    """rtpengine, Kamailio or SIPp processes still running for lab ``prefix`` (their command
    lines name the lab's state folder)."""
    left = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            comm = (proc / "comm").read_text().strip()
        except OSError:
            continue
        if comm in ("rtpengine", "kamailio", "sipp") and str(STATE_ROOT / prefix) in argv:
            left.append(f"{proc.name} {argv}")
    return left


@pytest.mark.lab
def test_cli_media_ip_status_and_down(tmp_path: Path, cli_lab: None) -> None:
    """``lab up --operator field --media-ip``: media comes from that address; ``lab status``
    names the operator; ``lab down`` leaves no namespace and no rtpengine, Kamailio or SIPp."""
    prefix = f"rct{secrets.token_hex(2)}"
    prof = tmp_path / "field.yaml"
    try:
        t0 = time.monotonic()
        up = recette("lab", "up", "--prefix", prefix, "--operator", "field", "--media-ip",
                     str(MEDIA_IP), "--profile-out", str(prof), timeout=120)
        up_s = time.monotonic() - t0
        assert up.returncode == 0, up.stderr
        assert f"rtpengine (userspace) anchoring all media on {MEDIA_IP}" in up.stderr
        data = yaml.safe_load(prof.read_text())
        assert data["operator"]["media_ips"] == [str(MEDIA_IP)]
        assert "server" not in data["vantage_points"]
        st = recette("lab", "status")
        line = next(ln for ln in st.stdout.splitlines() if ln.startswith(prefix))
        assert f"operator field (media on {MEDIA_IP}, rtpengine running)" in line, line
        js = next(s for s in json.loads(recette("lab", "status", "--json").stdout)
                  if s["prefix"] == prefix)
        assert js["operator"] == "field" and js["media_ip"] == str(MEDIA_IP)
        built = Lab.attach(prefix)
        _assert_announcement(built, MEDIA_IP)
        assert _leftovers(prefix)
    finally:
        t0 = time.monotonic()
        down = recette("lab", "down", "--prefix", prefix)
        down_s = time.monotonic() - t0
    assert down.returncode == 0, down.stderr
    names = netns.run(None, ["ip", "netns", "list"]).stdout
    assert prefix not in names
    assert _leftovers(prefix) == []
    print(f"field lab up {up_s:.2f} s, down {down_s:.2f} s")


@pytest.mark.lab
def test_media_ip_needs_the_field_operator() -> None:
    bad = recette("lab", "up", "--media-ip", str(MEDIA_IP), "--prefix", "rctfff0")
    assert bad.returncode != 0
    assert "--media-ip needs --operator field" in bad.stderr
    assert not netns.exists("rctfff0-op")
