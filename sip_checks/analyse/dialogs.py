"""SIP dialogs of a capture: the messages of each Call-ID, their ladder and final state.

A capture taken on both sides of a router holds each message twice (before and after the
NAT); both copies stay in the dialog, so the ladder shows what crossed and the diagnoses can
compare them. The final state is read from the responses to the dialog's first method
(INVITE, REGISTER, OPTIONS...), a challenge (401/407) followed by a new request not being one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sip_checks.analyse.fields import SipPacket
from sip_checks.toolkit.sdp import MediaDescription, SdpError
from sip_checks.toolkit.sdp import parse as parse_sdp

WIDTH = 40
_USER = re.compile(r"sips?:([^@;>]+)@")
CHALLENGES = (401, 407)


def user_of(value: str | None) -> str:
    """The user part of a From/To/request URI (the number), or the whole value."""
    if not value:
        return "?"
    m = _USER.search(value)
    return m.group(1) if m else value.strip()


@dataclass(frozen=True)
class Media:
    """An SDP media address and who announced it (the offerer or the answerer), and where."""

    address: str
    port: int
    offer: bool
    sdp: MediaDescription
    packet: SipPacket


@dataclass
class Dialog:
    """Every message of one Call-ID, in capture order."""

    call_id: str
    packets: list[SipPacket] = field(default_factory=list)

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

    def finals(self) -> list[SipPacket]:
        """Final responses to the dialog's first method, in order (retransmissions once)."""
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
        """The response that decided the dialog: the last final one."""
        finals = self.finals()
        return finals[-1] if finals else None

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
            out.append(Media(sdp.address, sdp.port, not m.is_response, sdp, p))
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
