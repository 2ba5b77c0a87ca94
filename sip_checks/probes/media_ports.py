"""The firewall proved with the operator's own traffic: no probe at the operator needed.

A real operator runs nothing of ours, but it does send us two things on its own: the SIP
requests its proxy originates (an INVITE to a DID) and the RTP of its media relay. Both can
prove the forward rules of the site's router when they arrive on a flow the site never opened:

- **SIP 5060**: a line registered from the site's SIP port is called (by another line of the
  site: a hairpin). The INVITE proves the 5060 forward only if it arrives from an address and
  port the site never sent to from that port in this run (then no NAT binding or conntrack
  entry of ours can have let it in); an INVITE that rides the REGISTER's binding proves
  nothing, and we say so.
- **RTP 10000-20000**: in each sample call we offer an SDP port *we* choose (the edges, a
  spread across the range, and 9999 and 20001 outside it) and send nothing from it until the
  operator's first packet has arrived there. Media that arrives first proves the forward of
  that port. If nothing arrives, we then send one stream from the port: media that now
  arrives shows the operator was sending and the firewall dropped it until the site opened the
  flow (the port is closed to the operator's media); nothing at all leaves it unproven.

Why "closed" can be claimed: the operator's rule (UDP 10000-20000 open to its server) exists
because its media is sent to the SDP port without waiting for the site's; a relay that waited
(latching) would make every sample look closed, so the evidence says whether any port of the
run received media first, and the verdict names the operator's addresses it saw.

Samples ride hairpin calls (a line of the site calls a DID of another line, which answers and
speaks at once) when the profile has two lines and a DID; otherwise calls to the operator's
test number, which prove something only when it plays an announcement (an echo sends nothing
of its own).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import time
from dataclasses import dataclass, field
from typing import Literal

from harness.errors import CheckError
from harness.messages import Msg, msg
from harness.profile import Profile
from sip_checks.hairpin import pick_did
from sip_checks.session import Site, open_ua, register_behind_nat
from sip_checks.toolkit.endpoint import ARRIVALS, SENT_FLOWS, SipEndpoint
from sip_checks.toolkit.message import SipParseError, parse
from sip_checks.toolkit.stream import RTP_PORTS, SENT_MEDIA, MediaSession, engine
from sip_checks.toolkit.ua import CallRecord, Dialog, UserAgent

OUTSIDE = (RTP_PORTS[0] - 1, RTP_PORTS[1] + 1)  # 9999 and 20001: must stay closed
LISTEN_S = 2.0  # silence kept on a sampled port after the answer, waiting for the operator
PUNCH_S = 3.0  # how long media may take to arrive once we send from the port
POLL_S = 0.01

Outcome = Literal["open", "closed", "silent", "failed"]


def plan(spread: int = 8, rng: random.Random | None = None) -> list[int]:
    """The ports one run samples: both edges of the range, one random even port in each of
    ``spread`` equal slices between them (a different spread every run, the whole range
    covered over runs), then the two ports just outside."""
    rng = rng or random.Random()
    lo, hi = RTP_PORTS
    width = (hi - lo) / spread
    inner = []
    for i in range(spread):
        a = int(lo + i * width) + 2
        b = max(a, int(lo + (i + 1) * width) - 2)
        inner.append(rng.randrange(a + (a % 2), b + 1, 2) if b > a else a + (a % 2))
    return [lo, *inner, hi, *OUTSIDE]


@dataclass
class MediaSample:
    """One offered port and what the operator's media did to it."""

    port: int
    outcome: Outcome
    first_ms: float | None = None  # from the answer to the first packet, while silent
    after_punch_ms: float | None = None  # from our first packet to the operator's
    sources: list[str] = field(default_factory=list)  # "ip:port" the operator's RTP came from
    sdp: str | None = None  # the operator's SDP answer: "ip:port"
    note: Msg | None = None  # why the call failed

    @property
    def in_range(self) -> bool:
        return RTP_PORTS[0] <= self.port <= RTP_PORTS[1]

    def line(self) -> str:
        where = f" from {', '.join(self.sources)}" if self.sources else ""
        sdp = f" (SDP {self.sdp})" if self.sdp else ""
        if self.outcome == "open":
            return f"{self.port}: OPEN, operator media arrived first after " \
                   f"{self.first_ms:.0f} ms{where}{sdp}"
        if self.outcome == "closed":
            return (f"{self.port}: CLOSED, nothing in {LISTEN_S:g} s of silence; media arrived "
                    f"{self.after_punch_ms:.0f} ms after we sent{where}{sdp}")
        if self.outcome == "silent":
            return f"{self.port}: unproven, no operator media at all{sdp}"
        return f"{self.port}: unproven, the call failed ({self.note})"


@dataclass
class SipFlow:
    """How the operator's request reached the site's SIP port."""

    method: str | None = None
    source: tuple[str, int] | None = None  # where the operator's request came from
    local_port: int = 0  # the site port it reached
    registered: tuple[tuple[str, int], tuple[str, int]] | None = None  # REGISTER's flow
    public: tuple[str, int] | None = None  # the registrar's view of that flow
    opened_before: float | None = None  # when the site first sent to ``source`` (else None)
    first_at: float | None = None  # the run's first request on this flow
    first_method: str | None = None
    earlier: bool = False  # that first request came in an earlier check of the run

    @property
    def proven(self) -> bool | None:
        """True: a new flow crossed the forward; False: it rode a flow the site opened;
        None: no request came."""
        if self.source is None:
            return None
        return self.opened_before is None

    def line(self) -> str:
        if self.source is None:
            return "no request from the operator reached the site's SIP port"
        src = f"{self.source[0]}:{self.source[1]}"
        reg = (f"the REGISTER left {self.registered[0][0]}:{self.registered[0][1]} for "
               f"{self.registered[1][0]}:{self.registered[1][1]}" if self.registered else
               "no REGISTER")
        pub = f" (seen as {self.public[0]}:{self.public[1]})" if self.public else ""
        if self.proven:
            when = (f"; the run's first {self.first_method} on this flow came in an earlier "
                    f"check" if self.earlier else "")
            return (f"{self.method} from {src} reached port {self.local_port}: a new flow, "
                    f"through the forward ({reg}{pub}; the site had never sent to {src} from "
                    f"port {self.local_port} before{when})")
        return (f"{self.method} from {src} reached port {self.local_port} on a flow the site "
                f"had opened ({reg}{pub}): it proves nothing about the forward")


@dataclass
class Sampling:
    """Everything the operator's own traffic showed in one run."""

    route: str  # how the samples were placed, for the evidence
    samples: list[MediaSample]
    sip: SipFlow
    seconds: float
    hairpin_failed: Msg | None = None  # the first hairpin's failure, when its INVITE was lost

    def media_addresses(self) -> set[str]:
        found = {s.sdp.rsplit(":", 1)[0] for s in self.samples if s.sdp}
        return found | {src.rsplit(":", 1)[0] for s in self.samples for src in s.sources}


def _bind(ip: str, port: int) -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind((ip, port))
    except OSError as exc:
        s.close()
        raise CheckError(msg("SAMPLE_PORT_BUSY", port=port, ip=ip,
                             detail=exc.strerror or str(exc))) from None
    s.setblocking(False)
    return s


def _theirs(media: MediaSession) -> list[str]:
    return sorted({f"{ip}:{port}" for ssrc, (ip, port) in media.rx_sources.items()
                   if ssrc != media.ssrc})


async def _arrival(media: MediaSession, timeout: float) -> bool:
    """Wait for the first packet of the far end's own (not our echoed) stream."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(ssrc != media.ssrc for ssrc in media.rx):
            return True
        await asyncio.sleep(POLL_S)
    return False


class _ListenFirst:
    """The :data:`~sip_checks.toolkit.ua.Talk` of a sample: silence, then one stream if
    nothing came, then hang up. Fills in :attr:`sample`."""

    def __init__(self, ua: UserAgent, port: int) -> None:
        self.ua = ua
        self.sample = MediaSample(port, "silent")
        self.ran = False

    async def __call__(self, media: MediaSession, d: Dialog, rec: CallRecord) -> None:
        self.ran = True
        t0 = time.monotonic()
        self.sample.sdp = f"{rec.remote_media[0]}:{rec.remote_media[1]}" \
            if rec.remote_media else None
        try:
            if await _arrival(media, LISTEN_S):
                self.sample.outcome = "open"
                self.sample.first_ms = (time.monotonic() - t0) * 1000
            else:
                t1 = time.monotonic()
                engine().start_sending(media)
                if await _arrival(media, PUNCH_S):
                    self.sample.outcome = "closed"
                    self.sample.after_punch_ms = (time.monotonic() - t1) * 1000
                engine().stop_sending(media)
            self.sample.sources = _theirs(media)
        finally:
            await self.ua.hangup(d, rec)


async def _one(caller: UserAgent, number: str, site: Site, port: int) -> MediaSample:
    talk = _ListenFirst(caller, port)
    rec = await caller.call(number, media_ip=site.ip, media_socket=_bind(site.ip, port),
                            talk=talk, answer_timeout=15.0)
    if rec.status != 200 or not talk.ran:
        return MediaSample(port, "failed", note=rec.symptom or msg(
            "CALL_REJECTED", status=rec.status, reason=rec.reason))
    return talk.sample


def fresh(ip: str, port: int, *, fixed: bool) -> int | None:
    """``port``, or the nearest even port of its slice that no call of this run sent RTP
    from: media arriving at a port proves its forward only if the site never opened a flow
    there (an earlier call's conntrack entry may outlive it). None for a port that must be
    that very one (an edge) and was used."""
    if (ip, port) not in SENT_MEDIA:
        return port
    if fixed:
        return None
    for step in range(2, 200, 2):
        for cand in (port + step, port - step):
            if RTP_PORTS[0] < cand < RTP_PORTS[1] and (ip, cand) not in SENT_MEDIA:
                return cand
    return None


def sip_flow(ep: SipEndpoint, registered_to: tuple[str, int],
             public: tuple[str, int] | None) -> SipFlow:
    """How the first out-of-dialog request (from the operator, whatever its address) reached
    ``ep``."""
    flow = SipFlow(local_port=ep.local[1], registered=(ep.local, registered_to), public=public)
    for w in ep.wire:
        if w.outgoing or w.note:
            continue
        try:
            m = parse(w.data)
        except SipParseError:  # the endpoint keeps unparseable data with a note
            continue
        if m.is_response or m.method in ("ACK", "BYE", "CANCEL"):
            continue
        flow.method, flow.source = m.method, w.remote
        # The first request of the run on this flow, perhaps an earlier check's: the flow
        # was new then or never (the site's answers to it opened it for every later one).
        first, flow.first_method = min(
            [(w.at, m.method)] + [arrival for (local, remote), arrival in ARRIVALS.items()
                                  if local[1] == ep.local[1] and remote == w.remote])
        flow.first_at = first
        opened = [t for (local, remote), t in SENT_FLOWS.items()
                  if local[1] == ep.local[1] and remote == w.remote and t < first]
        flow.opened_before = min(opened) if opened else None
        flow.earlier = first < w.at
        break
    return flow


async def _answering(ua: UserAgent, site: Site, stop: asyncio.Event) -> None:
    """The called line: answers every sample call at once and speaks until the caller hangs
    up, as a phone does (its media starts the operator's relay towards the sampled port)."""
    while not stop.is_set():
        with contextlib.suppress(CheckError):
            await ua.answer(media_ip=site.ip, timeout=1.0, duration=1.0, hangup=False,
                            ring_s=0.0)


async def sample(profile: Profile, site: Site, ports: list[int]) -> Sampling:
    """Sample ``ports`` with calls through the operator (see the module docstring).

    Hairpins first; when the first one's INVITE never reaches the called line (5060 closed to
    the operator), the remaining samples call the test number instead."""
    t0 = time.monotonic()
    srv = profile.operator.sip_server
    hairpin = _hairpin(profile)
    test_number = profile.operator.test_number
    first = next(iter(profile.accounts()), None)
    if hairpin is None and (test_number is None or first is None):
        raise CheckError(msg("SAMPLES_NO_ROUTE"))
    caller_user, owner, did = hairpin or (first.user if first else "", None, None)
    callee = await open_ua(profile, owner, site) if owner else None
    caller: UserAgent | None = None
    stop = asyncio.Event()
    answering: asyncio.Task[None] | None = None
    try:
        public = None
        if callee is not None:
            reg = await register_behind_nat(callee)
            if reg.status != 200:
                raise CheckError(msg("CANNOT_REGISTER", account=owner, status=reg.status,
                                     reason=reg.reason))
            public = reg.public_addr
            answering = asyncio.create_task(_answering(callee, site, stop))
        caller = await open_ua(profile, caller_user, site, port=0)
        reg = await register_behind_nat(caller)
        if reg.status != 200:
            raise CheckError(msg("CANNOT_REGISTER", account=caller_user, status=reg.status,
                                 reason=reg.reason))
        number = did or test_number
        assert number is not None
        route = (f"hairpin {caller_user} → {did} ({owner})" if did else
                 f"{caller_user} → test number {test_number}")
        samples = []
        lost: Msg | None = None
        fixed = {ports[0], ports[-1], *OUTSIDE} if ports else set()
        for wanted in ports:
            port = fresh(site.ip, wanted, fixed=wanted in fixed)
            if port is None:  # an edge an earlier call of the run sent from
                samples.append(MediaSample(wanted, "failed",
                                           note=msg("SAMPLE_PORT_USED", port=wanted)))
                continue
            got = await _one(caller, number, site, port)
            if (got.outcome == "failed" and number == did and test_number is not None
                    and callee is not None and not _invited(callee.ep)):
                number = test_number
                route += f"; then the test number {test_number}: the hairpin's INVITE " \
                         f"never reached {owner}"
                lost = got.note
                got = await _one(caller, number, site, port)
            samples.append(got)
        flow = sip_flow(callee.ep, (str(srv.ip), srv.port), public) \
            if callee is not None else SipFlow()
        if (lost is None and callee is not None and not _invited(callee.ep) and samples
                and samples[0].outcome == "failed"):
            lost = samples[0].note  # no test number to fall back on
        return Sampling(route, samples, flow, time.monotonic() - t0, lost)
    finally:
        stop.set()
        if answering is not None:
            # The called line hangs up its last call by itself; one still up after 20 s is
            # cut (wait_for cancels it). The samples are taken: a slow tail on a loaded
            # machine must not turn them into a bare TimeoutError (seen once in CI).
            with contextlib.suppress(asyncio.CancelledError, CheckError, TimeoutError):
                await asyncio.wait_for(answering, 20.0)
        for ua in (caller, callee):
            if ua is not None:
                with contextlib.suppress(CheckError):
                    await ua.unregister()
                ua.ep.close()


def _invited(ep: SipEndpoint) -> bool:
    return any(not w.outgoing and w.data.startswith(b"INVITE ") for w in ep.wire)


def _hairpin(profile: Profile) -> tuple[str, str, str] | None:
    """(caller, DID owner, DID): a line of the site that can call a DID of another line."""
    for acc in profile.accounts():
        found = pick_did(profile, acc.user)
        if found is not None:
            return acc.user, found[0], found[1]
    return None
