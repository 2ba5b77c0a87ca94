"""NAT behaviour of the site router, seen from two probes: port preservation, mapping type
(endpoint-independent or not), and how long an idle UDP binding survives. The last one sets
the registration refresh / keep-alive interval an IPBX behind this router needs."""

from __future__ import annotations

import base64
import secrets
import socket
import threading
import time
from dataclasses import dataclass

from harness.probe.client import ProbeClient

NAT_PORT = 5088


def _ping(sock: socket.socket, dest: tuple[str, int]) -> str:
    call_id = f"nat-{secrets.token_hex(8)}"
    msg = (f"OPTIONS sip:{dest[0]} SIP/2.0\r\nVia: SIP/2.0/UDP 0.0.0.0:0;branch=z9hG4bK"
           f"{secrets.token_hex(6)}\r\nFrom: <sip:nat@x>;tag=1\r\nTo: <sip:{dest[0]}>\r\n"
           f"Call-ID: {call_id}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
    sock.sendto(msg.encode(), dest)
    return call_id


def _seen_port(client: ProbeClient, call_id: str, wait_s: float = 2.0) -> int | None:
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        ports = client.post("/udp-reflect", {"call_id": call_id})["ports"]
        if ports:
            return int(ports[0])
        time.sleep(0.05)
    return None


@dataclass
class Mapping:
    local_port: int
    to_server: int | None
    to_server_other_port: int | None
    to_outsider: int | None

    @property
    def preserved(self) -> bool:
        return self.to_server == self.local_port

    @property
    def kind(self) -> str:
        seen = {self.to_server, self.to_server_other_port, self.to_outsider}
        if None in seen:
            return "unknown (a probe saw nothing)"
        if len(seen) == 1:
            return "endpoint-independent"
        if self.to_server == self.to_server_other_port:
            return "address-dependent"
        return "address-and-port-dependent (symmetric)"


def mapping(server: ProbeClient, outsider: ProbeClient, local_ip: str) -> Mapping:
    """One socket, three destinations: the ports each saw it come from."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((local_ip, 0))
        a = _ping(s, (server.host, NAT_PORT))
        b = _ping(s, (server.host, 5060))
        c = _ping(s, (outsider.host, NAT_PORT))
        local = s.getsockname()[1]
        return Mapping(local, _seen_port(server, a), _seen_port(server, b),
                       _seen_port(outsider, c))


@dataclass
class BindingTrial:
    idle_s: float
    alive: bool | None  # None: the trial could not run


def _trial(server: ProbeClient, local_ip: str, idle_s: float, out: list[BindingTrial]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((local_ip, 0))
        call_id = _ping(s, (server.host, NAT_PORT))
        mapped = _seen_port(server, call_id)
        if mapped is None:
            out.append(BindingTrial(idle_s, None))
            return
        token = secrets.token_hex(8).encode()
        s.settimeout(2.0)
        # An answer right away, as a registrar gives: the binding now carries traffic both ways.
        server.post("/send-sip", {"data": base64.b64encode(b"hello-" + token).decode(),
                                  "port": mapped, "from_port": NAT_PORT})
        try:
            s.recv(2048)
        except TimeoutError:
            out.append(BindingTrial(idle_s, None))
            return
        time.sleep(idle_s)
        server.post("/send-sip", {"data": base64.b64encode(b"late-" + token).decode(),
                                  "port": mapped, "from_port": NAT_PORT})
        try:
            alive = s.recv(2048) == b"late-" + token
        except TimeoutError:
            alive = False
        out.append(BindingTrial(idle_s, alive))


def binding_timeout(server: ProbeClient, local_ip: str, idles: list[float]
                    ) -> list[BindingTrial]:
    """Run one binding per idle time, all at once (total time = the longest idle)."""
    out: list[BindingTrial] = []
    threads = [threading.Thread(target=_trial, args=(server, local_ip, t, out)) for t in idles]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(idles) + 30)
    return sorted(out, key=lambda t: t.idle_s)


def recommendation(trials: list[BindingTrial]) -> tuple[float | None, float | None, str]:
    """(longest idle that survived, shortest that did not, advice)."""
    alive = [t.idle_s for t in trials if t.alive]
    dead = [t.idle_s for t in trials if t.alive is False]
    lo = max(alive) if alive else None
    hi = min(dead) if dead else None
    if hi is None:
        longest = max((t.idle_s for t in trials), default=0)
        return lo, hi, (f"bindings survive at least {longest:g} s idle: a keep-alive or "
                        f"registration refresh every {int(longest * 0.8)} s is safe")
    safe = int((lo if lo is not None else hi / 2) * 0.8)
    return lo, hi, (f"UDP bindings expire between {lo or 0:g} and {hi:g} s idle: send a "
                    f"keep-alive (or refresh the registration) every {max(safe, 1)} s or less")
