"""SIP dialogs of a capture: the messages of each Call-ID, their ladder and final state.

A capture taken on both sides of a router holds each message twice (before and after the
NAT); both copies stay in the dialog, so the ladder shows what crossed and the diagnoses can
compare them. The final state is read from the responses to the dialog's first method
(INVITE, REGISTER, OPTIONS...), a challenge (401/407) followed by a new request not being one.

Each SDP is attributed to the party that sent it, not to offer/answer: a re-INVITE sent by
the callee carries the callee's offer, and reading it as the caller's would turn both
directions of a clean call into one. The caller is the party whose tag is the initial
INVITE's From tag; a request is sent by its From party, a response by its To party.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from sip_checks.analyse.fields import SipPacket
from sip_checks.toolkit.sdp import MediaDescription, SdpError
from sip_checks.toolkit.sdp import parse as parse_sdp

WIDTH = 40
CHALLENGES = (401, 407)
_QUOTED = re.compile(r'^\s*"(?:[^"\\]|\\.)*"')  # a display name, which may hold < > ; @
_SCHEME = re.compile(r"(?i)\b(sips?|tel):")
_TAG = re.compile(r"(?i);\s*tag\s*=\s*([^;,\s]+)")


def _split(value: str) -> tuple[str, str]:
    """A name-addr or addr-spec header value as (URI, header parameters).

    Without angle brackets a URI cannot carry parameters (RFC 3261 §20), so everything after
    its first ``;`` is the header's (``From: sip:100@h;tag=x``)."""
    rest = _QUOTED.sub("", value, count=1)
    if "<" in rest:
        inside, _, params = rest.partition("<")[2].partition(">")
        return inside.strip(), params
    uri, _, params = rest.strip().partition(";")
    return uri.strip(), ";" + params if params else ""


def user_of(value: str | None) -> str:
    """The user part of a From/To/request URI (the number), without display name, tag,
    URI parameters or password; for a ``tel:`` URI its number; for a URI with no user part
    its host; the whole value when it holds no SIP or tel URI."""
    if not value or not value.strip():
        return "?"
    uri, _ = _split(value)
    m = _SCHEME.search(uri)
    if m is None:
        return value.strip()
    rest = uri[m.end():]
    if m.group(1).lower() == "tel":
        user = rest.split(";")[0]
    elif "@" in rest:
        # user-params (sip:+331...;npdi@h) and a password (sip:100:secret@h) are not the user
        user = rest.rsplit("@", 1)[0].split(";")[0].split(":")[0]
    else:
        host = rest.split(";")[0].split("?")[0]
        return host or "?"
    return unquote(user).strip() or "?"


def tag_of(value: str | None) -> str | None:
    """The ``tag`` parameter of a From/To header, None without one."""
    if not value:
        return None
    m = _TAG.search(_split(value)[1])
    return m.group(1) if m else None


@dataclass(frozen=True)
class Media:
    """An SDP media address, who announced it (the offerer or the answerer; the caller or
    the callee), and where."""

    address: str
    port: int
    offer: bool
    sdp: MediaDescription
    packet: SipPacket
    caller: bool  # sent by the caller (see :meth:`Dialog.sent_by_caller`)


@dataclass
class Dialog:
    """Every message of one Call-ID, in capture order."""

    call_id: str
    packets: list[SipPacket] = field(default_factory=list)
    # What the many per-stream questions re-read, kept with the packet count they were read
    # at (a dialog only grows): a capture with thousands of streams asked each dialog's SDP
    # and final responses thousands of times.
    _cache: dict[str, tuple[int, list[Any]]] = field(default_factory=dict, repr=False,
                                                     compare=False)

    def _cached(self, key: str, read: Callable[[], list[Any]]) -> list[Any]:
        hit = self._cache.get(key)
        if hit is None or hit[0] != len(self.packets):
            hit = self._cache[key] = (len(self.packets), read())
        return list(hit[1])

    @property
    def method(self) -> str:
        first = next((p.message.method for p in self.packets if p.message.method), None)
        return first or "?"

    @property
    def first(self) -> SipPacket:
        return next((p for p in self.packets if p.message.method == self.method),
                    self.packets[0])

    @property
    def calling(self) -> str:
        return user_of(self.first.message.get("From"))

    @property
    def called(self) -> str:
        msg = self.first.message
        target = msg.first_line.split()[1] if msg.method else msg.get("To")
        return user_of(target) if self.method == "INVITE" else user_of(msg.get("To"))

    def sent_by_caller(self, p: SipPacket) -> bool | None:
        """Whether the caller sent ``p``: a request is sent by its From party, a response by
        its To party; the caller's tag is the initial INVITE's From tag. None when the
        initial INVITE carries no tag (RFC 2543): then the From URI tells."""
        m = p.message
        header = m.get("To") if m.is_response else m.get("From")
        caller = self.first.message.get("From")
        tag = tag_of(caller)
        if tag is not None:
            return tag_of(header) == tag
        if header is None or caller is None:
            return None
        return _split(header)[0] == _split(caller)[0]

    def finals(self) -> list[SipPacket]:
        """Final responses to the dialog's first method, in order (retransmissions once)."""
        return self._cached("finals", self._finals)

    def _finals(self) -> list[SipPacket]:
        seen: set[tuple[int, int]] = set()
        out = []
        for p in self.packets:
            m, cseq = p.message, p.message.cseq
            if (m.status is not None and m.status >= 200 and cseq is not None
                    and cseq[1] == self.method and (cseq[0], m.status) not in seen):
                seen.add((cseq[0], m.status))
                out.append(p)
        return out

    @property
    def final(self) -> SipPacket | None:
        """The response that decided the dialog: its first 2xx (later finals answer
        re-INVITEs, which do not undo the call), else the last final one; None while a
        request sent again after a challenge (401/407) waits for its own."""
        finals = self.finals()
        ok = next((p for p in finals if (p.message.status or 0) // 100 == 2), None)
        if ok is not None or not finals:
            return ok
        last = finals[-1]
        cseq = last.message.cseq
        pending = self.pending
        if (last.message.status in CHALLENGES and cseq is not None and pending is not None
                and pending.message.cseq is not None and pending.message.cseq[0] > cseq[0]):
            return None
        return last

    @property
    def pending(self) -> SipPacket | None:
        """The first copy of the dialog's latest request of its first method (the INVITE
        sent again with credentials after a challenge, or the only one)."""
        requests = [p for p in self.packets if p.message.method == self.method
                    and p.message.cseq is not None]
        if not requests:
            return None
        top = max(p.message.cseq[0] for p in requests if p.message.cseq is not None)
        return next(p for p in requests if p.message.cseq is not None
                    and p.message.cseq[0] == top)

    def provisionals(self) -> list[SipPacket]:
        """Provisional responses (1xx) to the pending request of the first method."""
        pending = self.pending
        if pending is None or pending.message.cseq is None:
            return []
        return [p for p in self.packets if p.message.status is not None
                and p.message.status < 200 and p.message.cseq == pending.message.cseq]

    @property
    def status(self) -> int | None:
        final = self.final
        return final.message.status if final is not None else None

    @property
    def answered(self) -> float | None:
        """When the call was answered (first 2xx to INVITE), None if never."""
        if self.method != "INVITE":
            return None
        return next((p.at for p in self.finals() if (p.message.status or 0) // 100 == 2),
                    None)

    @property
    def bye(self) -> SipPacket | None:
        return next((p for p in self.packets if p.message.method == "BYE"), None)

    def session_expires(self) -> int | None:
        """The session interval the dialog agreed on (Session-Expires of the 2xx or INVITE)."""
        for p in reversed(self.packets):
            value = p.message.get("Session-Expires")
            if value:
                head = value.split(";")[0].strip()
                if head.isdigit():
                    return int(head)
        return None

    def media(self) -> list[Media]:
        """Every SDP audio address of the INVITE transactions: offers and answers."""
        return self._cached("media", self._media)

    def _media(self) -> list[Media]:
        out = []
        for p in self.packets:
            m = p.message
            if not m.body or b"m=" not in m.body:
                continue
            cseq = m.cseq
            if cseq is None or cseq[1] not in ("INVITE", "ACK", "UPDATE"):
                continue
            try:
                sdp = parse_sdp(m.body)
            except SdpError:
                continue
            offer = not m.is_response
            by_caller = self.sent_by_caller(p)
            out.append(Media(sdp.address, sdp.port, offer, sdp, p,
                             offer if by_caller is None else by_caller))
        return out

    def ladder(self) -> str:
        """The dialog as a ladder: time from its first message, source, arrow, destination,
        and the frame number in the capture (to find it in Wireshark)."""
        if not self.packets:
            return "(no SIP message)"
        t0 = self.packets[0].at
        rows = []
        for p in self.packets:
            m = p.message
            if m.is_response:
                label = f"{m.status} {m.reason}"[:24]
                if m.cseq:
                    label += f" ({m.cseq[1]})"
            else:
                label = m.method or "?"
                if m.body and b"m=" in m.body:
                    label += " (SDP)"
            label = label[:WIDTH - 6]
            pad = WIDTH - 4 - len(label)
            arrow = f"──{'─' * (pad // 2)} {label} {'─' * (pad - pad // 2)}─▶"
            src = f"{p.src[0]}:{p.src[1]}"
            dst = f"{p.dst[0]}:{p.dst[1]}"
            rows.append(f"{(p.at - t0) * 1000:10.1f}  {src:>21} {arrow} {dst:<21} "
                        f"#{p.frame} {p.transport.upper()}")
        return "\n".join(rows)


def group(packets: list[SipPacket]) -> list[Dialog]:
    """Dialogs by Call-ID, in order of their first message."""
    by_id: dict[str, Dialog] = {}
    for p in sorted(packets, key=lambda p: (p.at, p.frame)):
        call_id = p.message.get("Call-ID") or "?"
        by_id.setdefault(call_id, Dialog(call_id)).packets.append(p)
    return list(by_id.values())
