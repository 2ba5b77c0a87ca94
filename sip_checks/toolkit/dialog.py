"""What lives inside an established call: the dialog, its events, its session timer, our SDP.

Why a module of its own: operators' SBCs and B2BUAs do not leave a call alone once answered.
They move the media with a re-INVITE or an UPDATE, ping with OPTIONS, refresh the session
(RFC 4028) and send early media in a reliable 183 (RFC 3262). The user agent
(:mod:`sip_checks.toolkit.ua`) acts on them; this module holds what it needs to decide, with
no socket and no clock of its own, so every rule can be tested offline: the headers' grammar,
who refreshes the session and when, which SDP we answer, and the record of each event that
the evidence and the incident rows quote.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field

from harness.messages import Msg, msg
from sip_checks.toolkit import sdp
from sip_checks.toolkit.message import SipMessage
from sip_checks.toolkit.numbers import uint
from sip_checks.toolkit.stream import MediaSession

# What every response of ours advertises (RFC 3261 §20.5, RFC 3262, RFC 3311, RFC 4028).
ALLOW = "INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, PRACK, INFO"
SUPPORTED = "timer, 100rel"
# RFC 4028 §4: no session interval may be below 90 s; 1800 s is the recommended one.
MIN_SE = 90
SESSION_EXPIRES = 1800
MAX_INTERVAL = 2**31 - 1  # a delta-seconds larger than this is read as this
MAX_RSEQ = 2**31 - 1  # RFC 3262 §7.1: 1 to 2**31 - 1
_PARAM = re.compile(r";\s*refresher\s*=\s*(uac|uas)\b", re.IGNORECASE)
_MIRROR = {"sendonly": "recvonly", "recvonly": "sendonly", "inactive": "inactive",
           "sendrecv": "sendrecv"}


@dataclass
class Dialog:
    """A dialog as RFC 3261 §12 keeps it: identifiers, route set, our CSeq, next hop."""

    call_id: str
    local_tag: str
    remote_tag: str | None
    local_uri: str
    remote_uri: str
    remote_target: str
    route_set: list[str]
    cseq: int
    peer: tuple[str, int]


def where(addr: tuple[str, int] | None) -> str:
    """An address as the evidence writes it."""
    return "-" if addr is None else f"{addr[0]}:{addr[1]}"


@dataclass(frozen=True)
class DialogEvent:
    """One thing that happened in a call after the INVITE: who sent which request, how it
    was answered, and what it changed (a media move, a session refresh, a hold).

    ``status`` is the final response: the one we sent to the far end's request, or the one
    we got for ours (None: no response came)."""

    at: float
    method: str
    incoming: bool
    peer: tuple[str, int]
    status: int | None
    changes: tuple[Msg, ...] = ()

    def line(self, t0: float, lang: str = "en") -> str:
        """``+3.21 s  ← re-INVITE 198.51.100.10:5060  200  media moved …`` for the evidence."""
        arrow = "←" if self.incoming else "→"
        # None is "no response" to our request; the far end's ACK or 18x has none to give.
        status = str(self.status) if self.status is not None else \
            "-" if self.incoming else "no response"
        what = "; ".join(c.render(lang) for c in self.changes)
        return (f"{self.at - t0:+8.2f} s  {arrow} {self.method:<10} {where(self.peer):<21} "
                f"{status:<11} {what}").rstrip()


def render_events(events: list[DialogEvent], t0: float) -> str:
    """Every event of a call, one per line, times relative to ``t0`` (the INVITE)."""
    return "\n".join(e.line(t0) for e in events) or "(no in-dialog event)"


def last_event(events: list[DialogEvent]) -> Msg | None:
    """The last event as a clause for a symptom (" (last in-dialog event: …)"), if any."""
    if not events:
        return None
    e = events[-1]
    status = "-" if e.status is None else str(e.status)
    if e.incoming:
        return msg("AFTER_THEIR_REQUEST", method=e.method, status=status)
    return msg("AFTER_OUR_REQUEST", method=e.method, status=status)


# -- headers --------------------------------------------------------------------------------
def option_tags(m: SipMessage, header: str) -> set[str]:
    """The option tags of every ``header`` (Supported, Require), lower case."""
    return {t.strip().lower() for v in m.get_all(header) for t in v.split(",") if t.strip()}


def methods(m: SipMessage) -> set[str]:
    """The methods an Allow header lists (none: the peer did not say)."""
    return {t.strip().upper() for v in m.get_all("Allow") for t in v.split(",") if t.strip()}


def _delta(value: str | None) -> int | None:
    """The delta-seconds at the start of a header value, bounded, or None."""
    if value is None:
        return None
    head = value.split(";", 1)[0].strip()
    n = uint(head, MAX_INTERVAL + 1) if head else None
    return None if n is None else min(n, MAX_INTERVAL)


@dataclass(frozen=True)
class SessionExpires:
    """A Session-Expires header (RFC 4028 §4): the interval and, if given, who refreshes,
    from the point of view of the transaction that carried it."""

    interval: int
    refresher: str | None


def session_expires(m: SipMessage) -> SessionExpires | None:
    """The Session-Expires of ``m`` (compact form ``x``), or None (absent or unreadable)."""
    value = m.get("Session-Expires") or m.get("x")
    interval = _delta(value)
    if value is None or interval is None or interval == 0:
        return None
    ref = _PARAM.search(value)
    return SessionExpires(interval, ref.group(1).lower() if ref else None)


def min_se(m: SipMessage) -> int | None:
    """The Min-SE of ``m`` (RFC 4028 §5), or None."""
    return _delta(m.get("Min-SE"))


def rseq(m: SipMessage) -> int | None:
    """The RSeq of a reliable provisional response (RFC 3262 §7.1), or None."""
    value = (m.get("RSeq") or "").strip()
    n = uint(value, MAX_RSEQ + 1) if value else None
    return n if n is not None and 0 < n <= MAX_RSEQ else None


def reliable(m: SipMessage) -> bool:
    """Does this provisional response ask for a PRACK (Require: 100rel and an RSeq)?"""
    status = m.status or 0
    return 100 < status < 200 and "100rel" in option_tags(m, "Require") \
        and rseq(m) is not None


# -- session timer (RFC 4028) ---------------------------------------------------------------
def refresh_after(interval: int) -> float:
    """When the refresher refreshes: half the interval (RFC 4028 §10)."""
    return interval / 2


def expire_after(interval: int) -> float:
    """When the side that does not refresh gives up: the interval minus the lesser of 32 s
    and a third of it (RFC 4028 §10), so its BYE leaves before the session is gone."""
    return interval - min(32.0, interval / 3)


@dataclass
class SessionTimer:
    """The session interval in force and whether we are the refresher."""

    interval: int
    we_refresh: bool

    def header(self, *, our_request: bool) -> str:
        """The Session-Expires value for a request we send (``our_request``: we are its UAC)
        or for our response to the far end's request: ``refresher`` names the side in the
        terms of that transaction."""
        we_are_uac = our_request
        refresher = "uac" if self.we_refresh == we_are_uac else "uas"
        return f"{self.interval};refresher={refresher}"

    def describe(self) -> Msg:
        if self.we_refresh:
            return msg("EV_TIMER_US", interval=self.interval)
        return msg("EV_TIMER_PEER", interval=self.interval)


def timer_for_request(req: SipMessage, current: SessionTimer | None, floor: int
                      ) -> tuple[SessionTimer | None, bool]:
    """(the session timer after the far end's INVITE, re-INVITE or UPDATE, too short).

    A request without Session-Expires keeps the timer in force: an SBC that refreshes with
    a bare re-INVITE still refreshes. Below ``floor`` (our Min-SE) the request is refused
    with 422 (RFC 4028 §8). When the request leaves the refresher open, the far end
    refreshes if it supports timers, else we must (RFC 4028 §9)."""
    se = session_expires(req)
    if se is None:
        return current, False
    if se.interval < floor:
        return current, True
    if se.refresher is None:
        we = "timer" not in option_tags(req, "Supported")
    else:
        we = se.refresher == "uas"
    return SessionTimer(se.interval, we), False


def timer_for_response(resp: SipMessage, current: SessionTimer | None) -> SessionTimer | None:
    """The session timer after a 2xx to our INVITE, re-INVITE or UPDATE (RFC 4028 §7.4):
    refresher=uac is us; a 2xx without Session-Expires to the first INVITE means no timer,
    to a refresh it keeps the one in force."""
    se = session_expires(resp)
    if se is None:
        return current
    return SessionTimer(se.interval, se.refresher != "uas")


# -- our SDP --------------------------------------------------------------------------------
@dataclass
class LocalSdp:
    """The session description we last sent, so a later offer or answer changes only the
    version when something changed (RFC 3264 §8: the same version is the same SDP)."""

    address: str
    port: int
    codecs: tuple[tuple[str, int, int], ...] = sdp.DEFAULT_OFFER
    dtmf: bool = True
    direction: str = "sendrecv"
    session_id: int = field(default_factory=lambda: secrets.randbelow(2**31))
    version: int = 1

    @property
    def body(self) -> bytes:
        return sdp.build(self.address, self.port, session_id=self.session_id,
                         version=self.version, codecs=self.codecs, dtmf=self.dtmf,
                         direction=self.direction)

    def answer(self, offer: sdp.MediaDescription, current: str | None) -> bytes:
        """Our answer to a new offer: the same port, the codec in use when offered (else
        the first we support), the direction mirrored; :class:`sdp.SdpError` when the
        offer has no codec of ours."""
        codecs = sdp.answer_codecs(offer, prefer=current)
        dtmf = offer.event_pt is not None
        direction = _MIRROR.get(offer.direction, "sendrecv")
        if (codecs, dtmf, direction) != (self.codecs, self.dtmf, self.direction):
            self.codecs, self.dtmf, self.direction = codecs, dtmf, direction
            self.version += 1
        return self.body


def follow(media: MediaSession, desc: sdp.MediaDescription, old: tuple[str, int] | None,
           codec: tuple[int, str] | None) -> tuple[tuple[str, int], list[Msg]]:
    """Point our RTP where the far end's new SDP says, and what changed, as event parts.

    Returns the SDP's address (the call's ``remote_media``) and the changes. A description
    that tells us not to send (sendonly, inactive, or the old c=0.0.0.0 hold) stops our RTP
    (``media.remote`` None: the engine keeps the clock and sends nothing) until a later one
    allows it again."""
    new = (desc.address, desc.port)
    changes: list[Msg] = []
    hold = desc.direction in ("sendonly", "inactive") or desc.address == "0.0.0.0" \
        or desc.port == 0
    if hold:
        if media.remote is not None:
            changes.append(msg("EV_HOLD", where=where(new), direction=desc.direction))
        media.remote = None
    else:
        if old is not None and old != new:
            changes.append(msg("EV_MEDIA_MOVED", old=where(old), new=where(new)))
        elif media.remote is None and old is not None:
            changes.append(msg("EV_MEDIA_RESUMED", where=where(new)))
        media.remote = new
    if codec is not None and (codec[0], codec[1]) != (media.pt, media.codec):
        changes.append(msg("EV_CODEC_CHANGED", old=media.codec, new=codec[1]))
        media.pt, media.codec = codec
    media.event_pt = desc.event_pt
    if not changes and old is not None and not hold:
        changes.append(msg("EV_MEDIA_KEPT", where=where(new)))
    return new, changes
