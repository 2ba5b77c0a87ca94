"""A client transaction over UDP (RFC 3261 §17.1.2): retransmit with timer E, wait for a
final response, keep every datagram as evidence.

Why not a full UA here: the checks must control exactly what goes on the wire and see exactly
what comes back, including garbage, which a UA library hides.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field

from harness.errors import CheckError

from .sipmsg import SipMessage, SipParseError, parse

MAX_DATAGRAM = 65535
T1 = 0.5
T2 = 4.0
LIKELY_CAUSES = (
    "a firewall dropping UDP 5060 to or from the server, a SIP ALG in the router, "
    "or a wrong server address in the profile"
)


@dataclass
class Exchange:
    """What one transaction put on the wire and got back, with timestamps (monotonic s)."""

    peer: tuple[str, int]
    sent: list[tuple[float, bytes]] = field(default_factory=list)
    received: list[tuple[float, bytes]] = field(default_factory=list)
    final: SipMessage | None = None
    provisional: list[SipMessage] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    def transcript(self) -> str:
        """Every datagram in time order, arrows showing direction (evidence for the report)."""
        t0 = min([t for t, _ in self.sent + self.received], default=0.0)
        events = [(t, "→", d) for t, d in self.sent] + [(t, "←", d) for t, d in self.received]
        out = []
        for t, arrow, data in sorted(events, key=lambda e: e[0]):
            who = f"{self.peer[0]}:{self.peer[1]}"
            out.append(f"--- +{(t - t0) * 1000:.1f} ms {arrow} {who} ({len(data)} bytes)")
            out.append(data.decode("utf-8", "replace").rstrip("\r\n"))
        for note in self.ignored:
            out.append(f"--- ignored: {note}")
        return "\n".join(out)


def udp_transaction(
    sock: socket.socket,
    request: bytes,
    peer: tuple[str, int],
    *,
    branch: str,
    timeout: float = 8.0,
) -> Exchange:
    """Send ``request`` and return once a final response for ``branch`` arrives.

    Raises :class:`CheckError` when nothing valid comes back within ``timeout`` seconds, with
    the ICMP error if the kernel reported one (port unreachable: nothing listens there).
    """
    ex = Exchange(peer)
    start = time.monotonic()
    deadline = start + timeout
    interval = T1
    next_send = start
    icmp: str | None = None
    while True:
        now = time.monotonic()
        if now >= deadline:
            break
        if now >= next_send:
            try:
                sock.sendto(request, peer)
            except OSError as exc:
                icmp = exc.strerror or str(exc)
            ex.sent.append((now, request))
            next_send = now + interval
            interval = min(interval * 2, T2)
        sock.settimeout(max(0.001, min(next_send, deadline) - time.monotonic()))
        try:
            data, addr = sock.recvfrom(MAX_DATAGRAM)
        except TimeoutError:
            continue
        except ConnectionRefusedError:
            # RFC 3261 17.1.1.2: a transport error ends the transaction; waiting longer
            # would only hide the one clear fact we have.
            icmp = "ICMP port unreachable: nothing listens on that port"
            break
        except OSError as exc:
            icmp = exc.strerror or str(exc)
            continue
        ex.received.append((time.monotonic(), data))
        try:
            msg = parse(data)
        except SipParseError as exc:
            ex.ignored.append(f"unparseable datagram from {addr[0]}:{addr[1]}: {exc}")
            continue
        if not msg.is_response or msg.via_branch() != branch:
            ex.ignored.append(f"unrelated message from {addr[0]}:{addr[1]}: {msg.first_line}")
            continue
        status = msg.status or 0
        if status < 200:
            ex.provisional.append(msg)
            interval = T2  # RFC 3261 17.1.2.2: after a provisional, retransmit at T2
            continue
        ex.final = msg
        return ex
    where = f"{peer[0]}:{peer[1]}"
    garbage = f"; {len(ex.ignored)} unusable datagram(s) received" if ex.ignored else ""
    if icmp and icmp.startswith("ICMP port unreachable"):
        waited = time.monotonic() - start
        err = CheckError(
            f"no SIP service at {where} ({icmp}, after {waited:.1f} s){garbage}; likely "
            "causes: the server's SIP service is down, or a wrong server address or port"
        )
    else:
        detail = f" ({icmp})" if icmp else ""
        err = CheckError(
            f"no response from {where} after {timeout:g} s{detail}{garbage}; likely causes: "
            f"{LIKELY_CAUSES}"
        )
    err.exchange = ex  # type: ignore[attr-defined]
    raise err

