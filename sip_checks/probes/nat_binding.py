"""How long an idle UDP binding of the site router survives, tried with any probe that has a
SIP port to send from (the outsider probe on every site; the probe at the operator too when
the profile names one). The answer sets the registration refresh / keep-alive interval an
IPBX behind this router needs.

One trial per idle time, all at once: a socket opens a binding to the probe's 5088, the probe
answers at once (as a registrar does, so the binding has carried traffic both ways), then
after the idle time sends again to the same public port. Arrived: alive; not: expired.
"""

from __future__ import annotations

import base64
import secrets
import socket
import threading
import time
from dataclasses import dataclass

from harness.errors import CheckError
from harness.probe.client import ProbeClient
from sip_checks.probes.nat_mapping import ProbeVantage
from sip_checks.toolkit.message import build_request, new_call_id

TRIAL_PORT = 5088
IDLES = (5, 10, 15, 20, 30, 45, 60, 90, 120, 180)


@dataclass(frozen=True)
class BindingTrial:
    vantage: ProbeVantage
    idle_s: float
    alive: bool | None  # None: the trial could not run (see note)
    note: str = ""


def idles_up_to(longest: float) -> list[float]:
    """The idle times tried: the usual steps up to ``longest``, and ``longest`` itself."""
    return sorted({float(t) for t in IDLES if t <= longest} | {longest})


def _ping(sock: socket.socket, dest: tuple[str, int], probe: ProbeClient) -> str:
    """An OPTIONS to the probe's trial port, announced to the probe first (it keeps only
    announced Call-IDs)."""
    host, port = sock.getsockname()
    call_id = new_call_id(host)
    probe.expect(call_id)
    sock.sendto(build_request("OPTIONS", f"sip:{dest[0]}", via_host=host, via_port=port,
                              from_uri="sip:recette-nat@invalid", to_uri=f"sip:{dest[0]}",
                              call_id=call_id, cseq=1), dest)
    return call_id


def _seen_port(probe: ProbeClient, call_id: str, wait_s: float) -> int | None:
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        ports = probe.post("/udp-reflect", {"call_id": call_id}).get("ports")
        if isinstance(ports, list) and ports and isinstance(ports[0], int):
            return ports[0]
        time.sleep(0.05)
    return None


def _send(probe: ProbeClient, data: bytes, port: int) -> None:
    probe.post("/send-sip", {"data": base64.b64encode(data).decode(), "port": port,
                             "from_port": TRIAL_PORT})


def _heard(sock: socket.socket, want: bytes, wait_s: float) -> bool:
    """Did ``want`` arrive within ``wait_s`` (other datagrams are skipped)?"""
    deadline = time.monotonic() + wait_s
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            if sock.recv(2048) == want:
                return True
        except TimeoutError:
            return False
    return False


def _trial(vantage: ProbeVantage, probe: ProbeClient, local_ip: str, idle_s: float) -> BindingTrial:
    dest = (probe.host, TRIAL_PORT)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((local_ip, 0))
        mapped = (_seen_port(probe, _ping(s, dest, probe), 1.5)
                  or _seen_port(probe, _ping(s, dest, probe), 2.0))
        if mapped is None:
            return BindingTrial(vantage, idle_s, None, f"{dest[0]}:{dest[1]} saw nothing")
        token = secrets.token_hex(8).encode()
        # An answer right away, as a registrar gives: the binding now carries traffic both
        # ways. Sent again if lost, so a lost datagram does not pass for a closed binding.
        for wait_s in (1.0, 2.0):
            _send(probe, b"hello-" + token, mapped)
            if _heard(s, b"hello-" + token, wait_s):
                break
        else:
            return BindingTrial(vantage, idle_s, None, "the probe's answer never arrived")
        time.sleep(idle_s)
        # Twice, 0.2 s apart: a late datagram lost on the way is not an expired binding, and
        # an expired binding is not re-opened by the second one (inbound, it is dropped).
        late = b"late-" + token
        _send(probe, late, mapped)
        time.sleep(0.2)
        _send(probe, late, mapped)
        return BindingTrial(vantage, idle_s, _heard(s, late, 2.0))


def _guarded(vantage: ProbeVantage, probe: ProbeClient, local_ip: str, idle_s: float,
             out: list[BindingTrial]) -> None:
    try:
        out.append(_trial(vantage, probe, local_ip, idle_s))
    except (CheckError, OSError) as exc:
        out.append(BindingTrial(vantage, idle_s, None, str(exc)))


def trials(probes: list[tuple[ProbeVantage, ProbeClient]], local_ip: str, idles: list[float]
           ) -> list[BindingTrial]:
    """Every idle time with every probe, all at once (total time: the longest idle and a
    few seconds)."""
    out: list[BindingTrial] = []
    threads = [threading.Thread(target=_guarded, args=(v, p, local_ip, t, out), daemon=True)
               for v, p in probes for t in idles]
    for t in threads:
        t.start()
    deadline = time.monotonic() + max(idles) + 30
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    got = list(out)  # a thread still running must not change what we return
    done = {(t.vantage, t.idle_s) for t in got}
    got += [BindingTrial(v, t, None, "did not finish in time") for v, _ in probes
            for t in idles if (v, t) not in done]
    return sorted(got, key=lambda t: (t.vantage, t.idle_s))


def bracket(trials: list[BindingTrial]) -> tuple[float | None, float | None]:
    """(longest idle that survived, shortest that did not); trials that could not run say
    nothing."""
    alive = [t.idle_s for t in trials if t.alive]
    dead = [t.idle_s for t in trials if t.alive is False]
    return (max(alive) if alive else None), (min(dead) if dead else None)


def advice(lo: float | None, hi: float | None) -> str:
    """The keep-alive advice for a bracket (at least one bound known)."""
    if hi is None:
        longest = lo or 0
        return (f"bindings survive at least {longest:g} s idle: a keep-alive or "
                f"registration refresh every {int(longest * 0.8)} s is safe")
    safe = int((lo if lo is not None else hi / 2) * 0.8)
    return (f"UDP bindings expire between {lo or 0:g} and {hi:g} s idle: send a "
            f"keep-alive (or refresh the registration) every {max(safe, 1)} s or less")
