"""Active firewall verification: which of the site's ports each vantage point can reach.

The agent listens on UDP 5060, on all of 10000-20000 and on the edge ports around them; a
probe at the operator (sending from the SIP server's IP) and one elsewhere on the internet
each send a tokened datagram to every port of the site's public address. What arrives is the
truth the operator wants: open to the server, and only to it.

A probe with a signing key answers each sweep with its attestation (:mod:`harness.attest`) of
what it sent, to whom and for which site; the agent keeps it exactly as received for
``results.json``, where the console verifies it. The agent neither checks nor needs it: a
probe without a key still measures, the console judges what an unsigned sweep is worth.
"""

from __future__ import annotations

import contextlib
import resource
import secrets
import select
import socket
import time
from dataclasses import dataclass
from typing import Any

from harness.messages import Msg, msg
from harness.portset import fmt, ranges
from harness.probe.client import ProbeClient, RateLimited
from harness.probe.server import SWEEP_MAGIC

SIP_PORT = 5060
RTP = (10000, 20000)
EDGES = (5061, 9999, 20001)
EXPECTED = frozenset({SIP_PORT, *range(RTP[0], RTP[1] + 1)})
SWEPT = sorted(EXPECTED | set(EDGES))


@dataclass(frozen=True)
class Sweep:
    vantage: str
    phase: str  # "cold" (nothing sent from the site first) or "warm"
    source: str
    open_ports: frozenset[int]
    sent: int
    seconds: float
    to: str | None = None  # where the probe sent: the site's public address as it saw it
    attestation: dict[str, str] | None = None  # the probe's signed word, verbatim

    def line(self) -> str:
        return (f"{self.phase:<4} from {self.vantage} ({self.source}): open "
                f"{fmt(self.open_ports)} [{len(self.open_ports)} ports, {self.sent} datagrams "
                f"in {self.seconds:.2f} s]")

    def attested(self) -> str:
        """Whether the console can verify this sweep, as one evidence line."""
        status = (f"signed by probe key {self.attestation['key']}" if self.attestation
                  else "unsigned: the console cannot verify it")
        return f"{self.phase:<4} from {self.vantage} ({self.source}): {status}"


class Listener:
    """UDP sockets on every swept port of the site's address, read with one epoll."""

    def __init__(self, ip: str, ports: list[int]) -> None:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        need = len(ports) + 256
        if soft < need:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(need, soft), hard), hard))
        self.ip = ip
        self.socks: dict[int, socket.socket] = {}
        self.busy: list[int] = []
        self.poll = select.epoll()
        for p in ports:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                s.bind((ip, p))
            except OSError:
                s.close()
                self.busy.append(p)
                continue
            s.setblocking(False)
            self.socks[s.fileno()] = s
            self.poll.register(s.fileno(), select.EPOLLIN)
        self.port_of = {fd: s.getsockname()[1] for fd, s in self.socks.items()}

    def collect(self, token: bytes, quiet_s: float = 0.3, first_s: float = 1.0) -> set[int]:
        """Ports that received this sweep's token; stops after ``quiet_s`` of silence."""
        got: set[int] = set()
        wait = first_s
        while True:
            events = self.poll.poll(wait)
            if not events:
                return got
            wait = quiet_s
            for fd, _ in events:
                s = self.socks[fd]
                while True:
                    try:
                        data = s.recv(2048)
                    except BlockingIOError:
                        break
                    if data.startswith(SWEEP_MAGIC + token):
                        got.add(self.port_of[fd])

    def warm(self, dest_ip: str) -> None:
        """Send one datagram out of every socket (creates the NAT/conntrack state a running
        IPBX would have), to the discard port of ``dest_ip``."""
        for s in self.socks.values():
            with contextlib.suppress(OSError):
                s.sendto(b"recette-warm", (dest_ip, 9))

    def close(self) -> None:
        self.poll.close()
        for s in self.socks.values():
            s.close()


def sweep(listener: Listener, client: ProbeClient, vantage: str, phase: str,
          site: str | None = None) -> Sweep:
    """One sweep by ``client``'s probe; ``site`` (the gate's site key) goes into the probe's
    attestation, so a signed sweep names the site it was made for."""
    token = secrets.token_bytes(8)
    request: dict[str, Any] = {"ports": ranges(SWEPT), "token": token.hex(), "repeat": 2}
    if site is not None:
        request["site"] = site
    try:
        ans = client.post("/sweep", request)
    except RateLimited as exc:  # one sweep per requester every few seconds: wait our turn
        time.sleep(min(exc.retry_after, 10.0))
        ans = client.post("/sweep", request)
    got = listener.collect(token)
    to = ans.get("to")
    return Sweep(vantage, phase, str(ans.get("from")), frozenset(got), int(ans["sent"]),
                 float(ans["seconds"]), to=to if isinstance(to, str) else None,
                 attestation=attestation_of(ans))


def attestation_of(ans: dict[str, Any]) -> dict[str, str] | None:
    """The answer's attestation as the probe gave it, when it has the shape the results keep
    (three bounded strings); None from a probe without a signing key. Its worth is the
    console's to judge: nothing here checks the signature."""
    att = ans.get("attestation")
    if not isinstance(att, dict):
        return None
    kept = {k: att.get(k) for k in ("doc", "sig", "key")}
    if not all(isinstance(v, str) and len(v) <= 8192 for v in kept.values()):
        return None
    return {k: str(v) for k, v in kept.items()}


def discrepancies(server: Sweep | None, outsider: Sweep | None) -> list[Msg]:
    """What differs from "open to the server on 5060 + 10000-20000, closed to all others"
    (``server`` None: no probe at the server's address, only the outsider's half is judged
    here)."""
    out = []
    if server is not None:
        phase = msg(f"PHASE_{server.phase.upper()}")
        closed = EXPECTED - server.open_ports
        if closed:
            out.append(msg("OPENINGS_CLOSED_TO_SERVER", phase=phase, source=server.source,
                           ports=fmt(closed)))
        extra = server.open_ports - EXPECTED
        if extra:
            out.append(msg("OPENINGS_BEYOND", phase=phase, ports=fmt(extra)))
    if outsider is not None and outsider.open_ports:
        out.append(msg("OPENINGS_TO_OUTSIDER", phase=msg(f"PHASE_{outsider.phase.upper()}"),
                       source=outsider.source, ports=fmt(outsider.open_ports)))
    return out
