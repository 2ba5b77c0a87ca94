"""The field operator's shapes (``lab up --operator field --shape NAME``), proved on the wire.

For every shape one hairpin is placed (Centrex 101 calls a DID of trunk01, which answers on
the port the router forwards) and captured by dumpcap on the router's WAN and on the
operator's interface, read back with tshark. The caller stays silent for a while after the
answer, then speaks, sends a re-INVITE offering the same media, speaks on and hangs up. What
each shape must show, written here from what an integrator would read in the operator's
handbook, not from the lab's table:

- every request to the site (INVITE, ACK, re-INVITE, BYE) comes from the shape's calling
  socket, every answer to the site's own requests from the registrar's, nothing else of the
  operator's sends SIP;
- every RTP packet from the operator comes from the shape's media address, on relay ports;
- in-dialog requests cross every shape's sockets: ACK and BYE reach the callee, the re-INVITE
  reaches it and its answer comes back, and media goes on after it;
- ``latching``: nothing leaves the relay towards the caller before the caller's first RTP
  packet reached the relay, media flows after it, and nftables held the relay's early packets
  back; every other shape sends while the caller is still silent (the capture can see it);
- the profile each shape writes, the addresses on the operator's interface, and what each
  router firewall mode admits as the audit reads it over SSH (and, for ``registrar-only``,
  that the edge proxy's INVITE then never reaches the site).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import pytest
import yaml

from harness import lab as labmod
from harness import netns
from harness.errors import CheckError
from harness.lab import Lab, relay, shapes
from harness.lab.capture import Captured, Wire
from harness.lab.firewall import FirewallMode
from sip_checks.toolkit import sdp
from sip_checks.toolkit.message import SipMessage, build_request, new_branch, parse
from sip_checks.toolkit.stream import MediaSession, engine
from sip_checks.toolkit.ua import CallRecord, Dialog, UserAgent
from tests.lab.labrun import in_namespace, recette
from tests.lab.test_field_lab import LAN, _close, _registered

WAN = str(labmod.RTR_WAN)
REGISTRAR = ("198.51.100.10", 5060)
OPERATOR_NET = IPv4Network("198.51.100.0/24")
IN_DIALOG = ["INVITE", "ACK", "INVITE", "ACK", "BYE"]  # call, re-INVITE, hang-up


@dataclass(frozen=True)
class Handbook:
    """What the operator's handbook says about a shape: where its calls to the site and its
    media come from, which addresses it lists besides the SIP server's, and whether its relay
    latches."""

    calls_from: tuple[str, int]
    media_from: str
    signalling_ips: tuple[str, ...] = ()
    media_ips: tuple[str, ...] = ()
    latching: bool = False


HANDBOOK = {
    "default": Handbook(("198.51.100.10", 5062), "198.51.100.10"),
    "one-address": Handbook(REGISTRAR, "198.51.100.10"),
    "three-address": Handbook(("198.51.100.11", 5060), "198.51.100.30",
                              signalling_ips=("198.51.100.11",), media_ips=("198.51.100.30",)),
    "latching": Handbook(("198.51.100.10", 5062), "198.51.100.10", latching=True),
}
CALLER, OWNER, DID = "centrex101", "trunk01", "+33199000001"
SILENT_S = 1.5  # the caller's silence after the answer (what a latching relay waits out)
SPEAK_S = 1.0  # the caller speaks this long before the re-INVITE, and again after it
UP_S: dict[str, float] = {}  # lab up time per shape, printed at the end of the module


def test_every_shape_has_a_handbook_entry() -> None:
    """A shape added to the lab's table is tested here only once its handbook says what it
    should show."""
    assert set(shapes.SHAPES) == set(HANDBOOK)


@pytest.fixture(scope="module")
def shaped(request: pytest.FixtureRequest) -> Iterator[Lab]:
    """A field lab of the shape the test is parametrized with (indirect), torn down after
    the module's tests of that shape."""
    name = request.param
    t0 = time.monotonic()
    built = Lab.up(prefix=f"rct{secrets.token_hex(2)}", operator="field", shape=name)
    UP_S[name] = time.monotonic() - t0
    try:
        yield built
    finally:
        built.down()
        print(f"lab up per shape: {', '.join(f'{k} {v:.2f} s' for k, v in UP_S.items())}")


# -- the call ---------------------------------------------------------------------------------
async def _reinvite(ua: UserAgent, d: Dialog, media: MediaSession) -> SipMessage:
    """A re-INVITE in dialog ``d`` offering the same media again, its final response ACKed
    (end to end for a 2xx, hop by hop otherwise); returns that final response."""
    d.cseq += 1
    branch = new_branch()
    host, port = ua.contact_addr
    routes = [("Route", f"<{r}>") for r in d.route_set]

    def request(method: str, via_branch: str, body: bytes = b"") -> bytes:
        extra = [*routes, ("Contact", ua.contact)]
        if body:
            extra.append(("Content-Type", "application/sdp"))
        raw = build_request(method, d.remote_target, via_host=host, via_port=port,
                            from_uri=d.local_uri, to_uri=d.remote_uri, call_id=d.call_id,
                            cseq=d.cseq, branch=via_branch, from_tag=d.local_tag, extra=extra,
                            body=body)
        return raw.replace(f"To: <{d.remote_uri}>\r\n".encode(),
                           f"To: <{d.remote_uri}>;tag={d.remote_tag}\r\n".encode(), 1)

    offer = sdp.build(host, media.sock.getsockname()[1], version=2)
    res = await ua.ep.transaction(request("INVITE", branch, offer), d.peer, branch=branch,
                                  invite=True, timeout=8.0)
    final = res.final
    ok = final.status is not None and 200 <= final.status < 300
    ua.ep.send(request("ACK", new_branch() if ok else branch), d.peer)
    return final


@dataclass
class _CallerScript:
    """What the caller does once answered: silent, then speaks, re-INVITEs, speaks, hangs up."""

    ua: UserAgent
    spoke_at: float | None = None
    reinvite: SipMessage | None = None
    reinvite_answered_at: float | None = None

    async def __call__(self, media: MediaSession, d: Dialog, rec: CallRecord) -> None:
        await asyncio.sleep(SILENT_S)
        self.spoke_at = time.time()
        engine().start_sending(media)
        await asyncio.sleep(SPEAK_S)
        self.reinvite = await _reinvite(self.ua, d, media)
        self.reinvite_answered_at = time.time()
        await asyncio.sleep(SPEAK_S)
        engine().stop_sending(media)
        await asyncio.sleep(0.2)
        await self.ua.hangup(d, rec)


@dataclass
class ShapeCall:
    """One captured hairpin on a shaped lab."""

    shape: str
    caller: CallRecord
    callee: CallRecord
    script: _CallerScript
    wan: list[Captured]  # the router's WAN interface
    op: list[Captured]  # the operator's interface
    held: int | None  # relay packets the latching table dropped (latching shape only)
    callee_wire: list[str] = field(default_factory=list)  # requests the callee's UA got


def _methods(first_lines: list[str]) -> list[str]:
    """The request methods in order, a retransmission (the same method again) counted once."""
    methods = [line.split(" ", 1)[0] for line in first_lines]
    return [m for i, m in enumerate(methods) if i == 0 or m != methods[i - 1]]


async def _hairpin(lab: Lab) -> tuple[CallRecord, CallRecord, _CallerScript, list[str]]:
    into = await _registered(lab, OWNER, 5060)  # the port the router forwards
    out = await _registered(lab, CALLER, 5070)
    script = _CallerScript(out)
    try:
        answering = asyncio.create_task(into.answer(
            media_ip=LAN, timeout=10, duration=SILENT_S + 2 * SPEAK_S + 5, hangup=False))
        caller = await out.call(DID, media_ip=LAN, talk=script)
        callee = await answering
        got = [parse(w.data).first_line for w in into.ep.wire
               if not w.outgoing and not w.data.startswith(b"SIP/2.0")]
        return caller, callee, script, got
    finally:
        await _close(into, out)


@pytest.fixture(scope="module")
def call(shaped: Lab, tmp_path_factory: pytest.TempPathFactory) -> ShapeCall:
    """The shape's hairpin, placed once per shape and captured on both sides."""
    name = shaped.state.shape
    tmp = tmp_path_factory.mktemp(f"shape-{name}")
    with Wire(shaped.ns("rtr"), "wan0", tmp / "wan.pcap") as wan, \
            Wire(shaped.ns("op"), "eth0", tmp / "op.pcap") as op:
        caller, callee, script, got = in_namespace(shaped.ns("lan"),
                                                   lambda: _hairpin(shaped), 60)
    held = shaped.latch_held() if shaped.shape.latching else None
    done = ShapeCall(name, caller, callee, script, wan.datagrams(), op.datagrams(), held, got)
    site, relayed = _caller_leg(done)
    early = sum(1 for c in relayed if site and c.at < site[0].at)
    print(f"{name}: re-INVITE answered {script.reinvite.status if script.reinvite else None}, "
          f"relay RTP to the silent caller {early}, held by nftables {held}")
    return done


EVERY_SHAPE = pytest.mark.parametrize("shaped", list(HANDBOOK), indirect=True)


def _from_operator(c: Captured) -> bool:
    return IPv4Address(c.src[0]) in OPERATOR_NET


@pytest.mark.lab
@EVERY_SHAPE
def test_requests_to_the_site_come_from_the_shapes_calling_socket(call: ShapeCall) -> None:
    book = HANDBOOK[call.shape]
    assert call.caller.status == 200, (call.caller.status, call.caller.reason)
    assert call.callee.status == 200, (call.callee.status, call.callee.symptom)
    sip = [c for c in call.wan if c.sip_first_line and _from_operator(c) and c.dst[0] == WAN]
    requests = [c for c in sip if not c.payload.startswith(b"SIP/2.0")]
    assert _methods([c.sip_first_line or "" for c in requests]) == IN_DIALOG
    assert {c.src for c in requests} == {book.calls_from}, {c.src for c in requests}
    assert {c.dst for c in requests} == {(WAN, 5060)}  # the callee's registered contact
    # Every answer to the site's own requests (REGISTER, INVITE, BYE) from the registrar.
    answers = [c for c in sip if c.payload.startswith(b"SIP/2.0")]
    assert answers and {c.src for c in answers} == {REGISTRAR}, {c.src for c in answers}
    first = next(c for c in requests)
    assert first.sip_first_line == f"INVITE sip:{OWNER}@{WAN}:5060 SIP/2.0"


@pytest.mark.lab
@EVERY_SHAPE
def test_media_comes_from_the_shapes_relay_address(call: ShapeCall) -> None:
    book = HANDBOOK[call.shape]
    lo, hi = relay.PORTS
    rtp = [c for c in call.wan if c.rtp and _from_operator(c) and c.dst[0] == WAN]
    assert len(rtp) > 100, len(rtp)
    assert {c.src[0] for c in rtp} == {book.media_from}
    ports = {c.src[1] for c in rtp}
    assert len(ports) >= 2 and all(lo <= p <= hi for p in ports), ports  # one per leg
    for rec in (call.caller, call.callee):
        assert rec.remote_media is not None and rec.remote_media[0] == book.media_from


@pytest.mark.lab
@EVERY_SHAPE
def test_in_dialog_requests_cross_the_shapes_sockets(call: ShapeCall) -> None:
    """ACK, re-INVITE and BYE reach the callee; the re-INVITE's answer is the callee's own
    (not a proxy's timeout or 404); media goes on after it, both ways."""
    script = call.script
    assert _methods(call.callee_wire) == IN_DIALOG, call.callee_wire
    assert script.reinvite is not None and script.reinvite_answered_at is not None
    assert script.reinvite.get("User-Agent") == "recette", script.reinvite.first_line
    assert script.reinvite.status not in (404, 408, 481, 483, 500, 503)
    assert call.caller.ended_by == "local" and call.caller.symptom is None, call.caller.symptom
    assert call.callee.ended_by == "remote", call.callee.symptom
    after = script.reinvite_answered_at + 0.1
    heard: dict[int, int] = {}  # relay RTP reaching the site after the re-INVITE, by port
    for c in call.wan:
        if c.rtp and _from_operator(c) and c.dst[0] == WAN and c.at > after:
            heard[c.dst[1]] = heard.get(c.dst[1], 0) + 1
    # Both sides still hear the other: two site ports, each over a third of the second.
    assert len([n for n in heard.values() if n > 15]) == 2, heard


def _caller_leg(call: ShapeCall) -> tuple[list[Captured], list[Captured]]:
    """On the operator's interface: the caller's RTP to its relay port, and the relay's RTP
    from that port to the site."""
    assert call.caller.remote_media is not None
    relay_port = call.caller.remote_media[1]
    media = HANDBOOK[call.shape].media_from
    into = [c for c in call.op if c.rtp and c.dst == (media, relay_port) and c.src[0] == WAN]
    out = [c for c in call.op if c.rtp and c.src == (media, relay_port) and c.dst[0] == WAN]
    return into, out


@pytest.mark.lab
@EVERY_SHAPE
def test_a_latching_relay_sends_nothing_before_the_site_speaks(call: ShapeCall) -> None:
    book = HANDBOOK[call.shape]
    site, relayed = _caller_leg(call)
    assert site and relayed, (len(site), len(relayed))
    spoke = site[0].at
    early = [c for c in relayed if c.at < spoke]
    late = [c for c in relayed if c.at >= spoke]
    media = call.caller.media
    assert media is not None and media.started is not None and media.first_rx is not None
    if book.latching:
        assert early == [], f"{len(early)} packets before the site's first"
        assert len(late) > 50, len(late)
        assert media.first_rx >= media.started  # the caller heard nothing while silent
        assert call.held is not None and call.held > 10, call.held  # sent, and held back
    else:  # the relay sends at once: the capture would see a relay that does not latch
        assert len(early) > 20, len(early)
        assert media.first_rx < media.started
        assert call.held is None


# -- what the lab writes and installs per shape ------------------------------------------------
@pytest.mark.lab
@EVERY_SHAPE
def test_profile_and_operator_addresses(shaped: Lab, tmp_path: Path) -> None:
    book = HANDBOOK[shaped.state.shape]
    prof = tmp_path / "lab.yaml"
    shaped.write_profile(prof)
    op = yaml.safe_load(prof.read_text())["operator"]
    assert op["sip_server"] == {"ip": REGISTRAR[0], "domain": labmod.SIP_DOMAIN,
                                "port": REGISTRAR[1]}
    assert op.get("signalling_ips", []) == list(book.signalling_ips)
    assert op.get("media_ips", []) == list(book.media_ips)
    out = netns.run(shaped.ns("op"), ["ip", "-4", "-o", "addr", "show", "eth0"]).stdout
    have = {w.split("/")[0] for w in out.split() if w.count(".") == 3 and "/" in w}
    assert have == {REGISTRAR[0], *book.signalling_ips, *book.media_ips}
    st = shaped.status()
    assert (st["shape"], st["media_ip"]) == (shaped.state.shape, book.media_from)


# -- the router's firewall modes, on the three-address operator --------------------------------
def _admitted(lab: Lab) -> set[str] | None:
    """The sources the router's inbound forward rules admit on UDP 5060, as the audit reads
    them over SSH from the voice LAN (OpIOS collector and parser); None when any source is
    admitted."""
    from router_checks.opios.collect import COMMANDS, collect
    from router_checks.opios.parse import parse as parse_router

    assert lab.profile.router is not None
    with netns.inside(lab.ns("lan")):  # from the voice LAN, where the audit runs
        out = collect(lab.profile.router, "linux", 20.0)
    model = parse_router(addr_text=out[COMMANDS[0]], route_json=out[COMMANDS[1]],
                         nft_json=out[COMMANDS[2]], nft_text=out[COMMANDS[3]], dhcp_text=None)
    sources: set[str] = set()
    for rules in model.filters:
        for rule in rules.rules:
            if (rules.direction == "inbound" and rule.action == "permit"
                    and not rule.established_only
                    and any(p.lo <= 5060 <= p.hi for p in rule.dst_ports)):
                if any(n.prefixlen == 0 for n in rule.src):
                    return None
                sources |= {str(n.network_address) for n in rule.src}
    return sources


@pytest.mark.lab
@pytest.mark.parametrize("shaped", ["three-address"], indirect=True)
@pytest.mark.parametrize(("mode", "admitted"), [
    ("strict", {"198.51.100.10", "198.51.100.11", "198.51.100.30"}),
    ("registrar-only", {"198.51.100.10"}),
    ("closed", set()),
    ("open", None),
])
def test_firewall_modes_as_the_audit_reads_them(shaped: Lab, mode: FirewallMode,
                                                admitted: set[str] | None) -> None:
    shaped.set_policy(firewall=mode)
    try:
        assert _admitted(shaped) == admitted
    finally:
        shaped.set_policy(firewall="strict")


async def _edge_call(lab: Lab) -> tuple[int | None, bool]:
    """A hairpin to trunk01's DID: the caller's final status, and whether the callee's UA got
    the INVITE."""
    into = await _registered(lab, OWNER, 5060)
    out = await _registered(lab, CALLER, 5070)
    try:
        answering = asyncio.create_task(into.answer(media_ip=LAN, timeout=12, duration=1.0))
        rec = await out.call(DID, media_ip=LAN, duration=1.0, answer_timeout=15)
        delivered = True
        try:
            await answering
        except CheckError:
            delivered = False
        return rec.status, delivered
    finally:
        with contextlib.suppress(CheckError):
            await _close(into, out)


@pytest.mark.lab
@pytest.mark.parametrize("shaped", ["three-address"], indirect=True)
def test_a_registrar_only_firewall_drops_the_edge_proxys_invite(shaped: Lab) -> None:
    """The integrator admitted the SIP server's address only: the edge proxy's INVITE is
    dropped at the router (Kamailio gives up: 408), the same call passes with strict."""
    shaped.set_policy(firewall="registrar-only")
    try:
        status, delivered = in_namespace(shaped.ns("lan"), lambda: _edge_call(shaped), 60)
    finally:
        shaped.set_policy(firewall="strict")
    assert (status, delivered) == (408, False)
    status, delivered = in_namespace(shaped.ns("lan"), lambda: _edge_call(shaped), 60)
    assert (status, delivered) == (200, True)


# -- the command line ---------------------------------------------------------------------------
@pytest.mark.lab
def test_cli_shape_undeclared_status_and_refusals(tmp_path: Path, cli_lab: None) -> None:
    """``lab up --operator field --shape three-address --undeclared``: the profile lists no
    edge proxy and no media address (an integrator who forgot them) while the operator uses
    both; ``lab status`` names the shape; a shape needs the field operator, and only the
    default shape takes ``--media-ip``."""
    prefix = f"rct{secrets.token_hex(2)}"
    prof = tmp_path / "lab.yaml"
    bad = recette("lab", "up", "--shape", "one-address", "--prefix", prefix)
    assert bad.returncode != 0 and "--shape one-address needs --operator field" in bad.stderr
    bad = recette("lab", "up", "--operator", "field", "--shape", "three-address",
                  "--media-ip", "198.51.100.40", "--prefix", prefix)
    assert bad.returncode != 0 and "only the default shape takes --media-ip" in bad.stderr
    assert not netns.exists(f"{prefix}-op")
    try:
        up = recette("lab", "up", "--prefix", prefix, "--operator", "field", "--shape",
                     "three-address", "--undeclared", "--profile-out", str(prof), timeout=120)
        assert up.returncode == 0, up.stderr
        assert "calling the site from 198.51.100.11:5060" in up.stderr
        op = yaml.safe_load(prof.read_text())["operator"]
        assert "signalling_ips" not in op and "media_ips" not in op
        line = next(ln for ln in recette("lab", "status").stdout.splitlines()
                    if ln.startswith(prefix))
        assert "(media on 198.51.100.30, rtpengine running), shape three-address" in line, line
    finally:
        down = recette("lab", "down", "--prefix", prefix)
    assert down.returncode == 0, down.stderr
    assert not netns.exists(f"{prefix}-op")
