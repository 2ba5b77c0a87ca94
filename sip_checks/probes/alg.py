"""SIP ALG detection: send SIP with our private addresses to a probe's SIP reflector, get back
what it received in a form no ALG touches (base64 over the control channel), and diff.

Also the reverse: the probe sends a message we wrote into the site, and we compare what
arrives. ``received``/``rport`` added to our Via is what any NAT-aware server does; every
other difference is a rewrite by something on the path, i.e. a SIP ALG.

Any probe will do, not only one at the operator's server: an ALG rewrites SIP to any
destination on its port (the Linux helper is attached by destination port, 5060), so the
outsider probe an integrator rents sees the same rewrites. ``vantage`` names which probe saw
it (and the registrar, :mod:`sip_checks.alg_registrar`, is a third witness).
"""

from __future__ import annotations

import base64
import contextlib
import secrets
import socket
import time
from dataclasses import dataclass, field
from typing import Literal

from harness.messages import Msg, msg
from harness.probe.client import ProbeClient
from sip_checks.toolkit.message import (
    MAX_MESSAGE,
    SipParseError,
    build_request,
    new_branch,
    parse,
)
from sip_checks.toolkit.numbers import uint
from sip_checks.toolkit.sdp import build as build_sdp
from sip_checks.toolkit.sdp import offered

NAT_ONLY_VIA_PARAMS = ("received", "rport")
ORIGINAL_HEADER = "X-Recette-Original"

Vantage = Literal["server", "outsider", "registrar"]
# The far end of each witness as a direction names it ("site→operator" is the server probe's,
# kept from the results of the runs before the other witnesses).
FAR_END: dict[str, str] = {"server": "operator", "outsider": "outsider",
                           "registrar": "registrar"}


@dataclass
class Change:
    element: str
    before: str
    after: str

    def line(self) -> str:
        return f"{self.element}: {self.before!r} → {self.after!r}"


@dataclass
class Probe:
    """One message sent one way over one transport and port, and what became of it."""

    direction: str  # "site→operator", "outsider→site", "site→registrar"…: see FAR_END
    method: str
    proto: str
    port: int
    delivered: bool = False
    changes: list[Change] = field(default_factory=list)
    nat_only: list[Change] = field(default_factory=list)
    note: Msg | None = None  # why it was not delivered
    vantage: Vantage = "server"  # the witness: which probe (or the registrar) saw it

    @property
    def rewritten(self) -> bool:
        return bool(self.changes)

    def label(self) -> str:
        return f"{self.direction} {self.method} {self.proto.upper()}/{self.port}"


def via_parts(value: str) -> tuple[str, dict[str, str]]:
    head, *params = [p.strip() for p in value.split(";")]
    kv = {}
    for p in params:
        k, _, v = p.partition("=")
        kv[k.lower()] = v
    return head, kv


def diff(sent: bytes, got: bytes) -> tuple[list[Change], list[Change]]:
    """(ALG-like changes, NAT-ordinary changes) between what was sent and what arrived."""
    try:
        a, b = parse(sent), parse(got)
    except SipParseError as exc:
        return [Change("message", "valid SIP", f"unparseable: {exc}")], []
    changes: list[Change] = []
    nat: list[Change] = []
    if a.first_line != b.first_line:
        changes.append(Change("Request-Line", a.first_line, b.first_line))
    vias_a, vias_b = a.get_all("Via"), b.get_all("Via")
    if len(vias_a) != len(vias_b):
        changes.append(Change("Via count (a hop added itself)", str(len(vias_a)),
                              str(len(vias_b))))
    for i, (va, vb) in enumerate(zip(vias_a, vias_b, strict=False)):
        ha, pa = via_parts(va)
        hb, pb = via_parts(vb)
        if ha != hb:
            changes.append(Change(f"Via[{i}] sent-by", ha, hb))
        for k in sorted(set(pa) | set(pb)):
            if pa.get(k) == pb.get(k):
                continue
            target = nat if k in NAT_ONLY_VIA_PARAMS else changes
            target.append(Change(f"Via[{i}] {k}", pa.get(k, "(absent)"), pb.get(k, "(absent)")))
    for name in ("Max-Forwards", "Contact", "From", "To", "Call-ID", "CSeq", "Route",
                 "Record-Route", "Content-Type"):
        xa, xb = a.get_all(name), b.get_all(name)
        if xa != xb:
            changes.append(Change(name, ", ".join(xa) or "(absent)",
                                  ", ".join(xb) or "(absent)"))
    known = {"via", "max-forwards", "contact", "from", "to", "call-id", "cseq", "route",
             "record-route", "content-type", "content-length", ORIGINAL_HEADER.lower()}
    names = {k.lower() for k, _ in a.headers} | {k.lower() for k, _ in b.headers}
    for name in sorted(names - known):
        xa, xb = a.get_all(name), b.get_all(name)
        if xa != xb:
            changes.append(Change(name, ", ".join(xa) or "(absent)", ", ".join(xb) or "(absent)"))
    la = {ln[:2]: ln for ln in a.body.decode(errors="replace").splitlines() if ln[:2] in
          ("o=", "c=", "m=")}
    lb = {ln[:2]: ln for ln in b.body.decode(errors="replace").splitlines() if ln[:2] in
          ("o=", "c=", "m=")}
    for k in ("o=", "c=", "m="):
        if la.get(k) != lb.get(k):
            changes.append(Change(f"SDP {k}", la.get(k, "(absent)"), lb.get(k, "(absent)")))
    clen = b.get("Content-Length")
    declared = uint(clen, MAX_MESSAGE + 1) if clen is not None else None
    if declared is not None and declared != len(b.body):
        changes.append(Change("Content-Length consistency", f"{len(b.body)} bytes of body",
                              f"header says {clen}"))
    elif a.get("Content-Length") != clen:
        changes.append(Change("Content-Length", a.get("Content-Length") or "(absent)",
                              clen or "(absent)"))
    return changes, nat


def message(method: str, *, local_ip: str, local_port: int, proto: str, target: str,
            user: str = "recette-alg") -> tuple[bytes, str]:
    """A REGISTER or INVITE full of our private address, and its Call-ID."""
    call_id = f"{secrets.token_hex(8)}@{local_ip}"
    body = b""
    extra = [("Contact", f"<sip:{user}@{local_ip}:{local_port};transport={proto}>")]
    if method == "INVITE":
        media_port = 16000 + 2 * secrets.randbelow(1000)
        offered(media_port, target.rsplit(":", 1)[0])
        body = build_sdp(local_ip, media_port)
        extra.append(("Content-Type", "application/sdp"))
    raw = build_request(method, f"sip:{target}" if method == "REGISTER" else
                        f"sip:0899000000@{target}", via_host=local_ip, via_port=local_port,
                        transport=proto, from_uri=f"sip:{user}@{local_ip}",
                        to_uri=f"sip:{user}@{local_ip}" if method == "REGISTER" else
                        f"sip:0899000000@{target}", call_id=call_id, cseq=1,
                        branch=new_branch(), extra=extra, body=body)
    encoded = base64.b64encode(raw).decode()
    head, sep, rest = raw.partition(b"\r\nContent-Length:")
    raw = head + f"\r\n{ORIGINAL_HEADER}: {encoded}".encode() + sep + rest
    return raw, call_id


def _strip_original(data: bytes) -> bytes:
    lines = data.split(b"\r\n")
    return b"\r\n".join(ln for ln in lines if not ln.lower().startswith(
        ORIGINAL_HEADER.lower().encode() + b":"))


def forward(client: ProbeClient, probe_ip: str, local_ip: str, method: str, proto: str,
            port: int, *, wait_s: float = 2.0, vantage: Vantage = "server") -> Probe:
    """Send one message to the probe and compare with what it received."""
    result = Probe(f"site→{FAR_END[vantage]}", method, proto, port, vantage=vantage)
    if proto == "udp":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((local_ip, 0))
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(wait_s)
    with s:
        if proto == "tcp":
            try:
                s.connect((probe_ip, port))
            except OSError as exc:
                result.note = msg("ALG_TCP_CONNECT_FAILED", detail=exc.strerror or str(exc))
                return result
        local_port = s.getsockname()[1]
        raw, call_id = message(method, local_ip=local_ip, local_port=local_port, proto=proto,
                               target=probe_ip)
        sent_clean = _strip_original(raw)
        client.expect(call_id)
        try:
            if proto == "udp":
                for _ in range(2):  # one retransmission, as a UA would
                    s.sendto(raw, (probe_ip, port))
            else:
                s.sendall(raw)
        except OSError as exc:
            result.note = msg("ALG_SEND_FAILED", detail=exc.strerror or str(exc))
            return result
        deadline = time.monotonic() + wait_s
        got: list[dict[str, object]] = []
        while time.monotonic() < deadline:
            got = client.post("/received", {"call_id": call_id})["messages"]
            if got:
                break
            time.sleep(0.1)
    if not got:
        result.note = msg("ALG_NOT_RECEIVED", seconds=wait_s)
        return result
    result.delivered = True
    data = _strip_original(base64.b64decode(str(got[0]["data"])))
    result.changes, result.nat_only = diff(sent_clean, data)
    return result


def reverse(client: ProbeClient, probe_ip: str, local_ip: str, public_ip: str,
            *, wait_s: float = 2.0, vantage: Vantage = "server") -> Probe:
    """The probe sends an INVITE we wrote to our public address, through the NAT binding our
    REGISTER to its port 5060 opened; compare what arrives."""
    result = Probe(f"{FAR_END[vantage]}→site", "INVITE", "udp", 5060, vantage=vantage)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with s:
        with contextlib.suppress(OSError):
            s.bind((local_ip, 5060))
        if s.getsockname()[1] == 0:
            s.bind((local_ip, 0))
        punch, punch_id = message("REGISTER", local_ip=local_ip, local_port=s.getsockname()[1],
                                  proto="udp", target=probe_ip)
        client.expect(punch_id)
        s.sendto(punch, (probe_ip, 5060))  # opens the NAT binding (and the ALG's attention)
        deadline = time.monotonic() + wait_s
        seen: list[dict[str, object]] = []
        while time.monotonic() < deadline and not seen:
            seen = client.post("/received", {"call_id": punch_id})["messages"]
            if not seen:
                time.sleep(0.1)
        if not seen:
            result.note = msg("ALG_PUNCH_LOST")
            return result
        src = seen[0]["src"]
        assert isinstance(src, list)
        mapped = int(src[1])
        call_id = f"{secrets.token_hex(8)}@{probe_ip}"
        body = build_sdp(probe_ip, 30000)
        invite = build_request(
            "INVITE", f"sip:recette-alg@{public_ip}:{mapped}", via_host=probe_ip, via_port=5060,
            from_uri=f"sip:operator@{probe_ip}", to_uri=f"sip:recette-alg@{public_ip}:{mapped}",
            call_id=call_id, cseq=1, branch=new_branch(),
            extra=[("Contact", f"<sip:operator@{probe_ip}:5060>"),
                   ("Content-Type", "application/sdp")], body=body)
        client.post("/send-sip", {"data": base64.b64encode(invite).decode(), "port": mapped})
        s.settimeout(wait_s)
        try:
            while True:
                data = s.recv(65535)
                if call_id.encode() in data:
                    break
        except TimeoutError:
            result.note = msg("ALG_INVITE_LOST", seconds=wait_s)
            return result
    result.delivered = True
    result.changes, result.nat_only = diff(invite, data)
    return result


PORTS = (5060, 5088)


def public_address(client: ProbeClient) -> str:
    """Our address as the probe sees it (the router's public address behind a NAT)."""
    return str(client.post("/whoami", {})["requester"])


def run_all(client: ProbeClient, probe_ip: str, local_ip: str, *, vantage: Vantage = "server",
            public: str | None = None) -> list[Probe]:
    """Every forward combination (REGISTER/INVITE × UDP/TCP × 5060/5088) and the reverse."""
    public = public or public_address(client)
    probes = [forward(client, probe_ip, local_ip, method, proto, port, vantage=vantage)
              for port in PORTS for proto in ("udp", "tcp") for method in ("REGISTER", "INVITE")]
    probes.append(reverse(client, probe_ip, local_ip, public, vantage=vantage))
    return probes


def summary(p: Probe) -> str:
    if not p.delivered:
        return f"{p.label()}: NOT DELIVERED ({p.note})"
    if p.rewritten:
        return f"{p.label()}: REWRITTEN ({len(p.changes)} elements)"
    nat = " (NAT only: " + ", ".join(c.element for c in p.nat_only) + ")" if p.nat_only else ""
    return f"{p.label()}: untouched{nat}"


def is_alg(p: Probe) -> bool:
    return p.delivered and p.rewritten


