"""What ``security.exposure`` looks at and how it judges each port an internet host reaches.

The ports are those a toll-fraud attacker scans after UDP 5060 (issue 25): SIP on UDP, TCP and
TLS and on the alternate ports IPBXs listen on, IAX2, H.323, SCCP, phone provisioning (TFTP,
HTTP) and the administration of the IPBX or the router (HTTP, HTTPS, SSH, telnet). A port is
added by one line in :data:`PORTS`.

The judgement is on what the outsider got back, not on the port's number: anything that
answers or accepts a connection on these ports is a door an attacker can knock on, so every
``open`` port is a reserve the customer must act on, with the risk said by what answered
(a SIP answer is a place to guess passwords and place calls; a TFTP server that hands out a
configuration file gives the passwords away). ``closed``, ``filtered`` and UDP silence
(``open|filtered``) give an attacker nothing. A port the probe's deadline cut is unproven.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.messages import Msg, msg
from sip_checks.probes.exposure import PortAnswer


@dataclass(frozen=True)
class Service:
    """One port the outsider looks at, and what an attacker expects to find there."""

    port: int
    transport: str  # "udp" or "tcp"
    service: str  # its name in the messages: SIP, SIP-TLS, IAX2, H.323, SCCP, TFTP, ...


PORTS: tuple[Service, ...] = (
    Service(5060, "udp", "SIP"),
    Service(5060, "tcp", "SIP"),
    Service(5061, "tcp", "SIP-TLS"),
    Service(5080, "udp", "SIP"),
    Service(5080, "tcp", "SIP"),
    Service(5160, "udp", "SIP"),
    Service(5160, "tcp", "SIP"),
    Service(4569, "udp", "IAX2"),
    Service(1720, "tcp", "H.323"),
    Service(2000, "tcp", "SCCP"),
    Service(69, "udp", "TFTP"),
    Service(80, "tcp", "HTTP"),
    Service(443, "tcp", "HTTPS"),
    Service(8080, "tcp", "HTTP"),
    Service(8088, "tcp", "HTTP"),
    Service(8089, "tcp", "HTTPS"),
    Service(22, "tcp", "SSH"),
    Service(23, "tcp", "telnet"),
)
SERVICE = {(s.port, s.transport): s.service for s in PORTS}

# The provisioning files asked for on TFTP: the first guesses of a scanner (Polycom's master
# file, Cisco's default, Yealink's common file, Grandstream's by MAC left blank).
TFTP_FILES = ["000000000000.cfg", "SEPDefault.cnf.xml", "y000000000000.cfg", "cfg.xml"]

# The operator-facing opening the firewall check judges (UDP 5060 to the operator only):
# reached from outside, it fails both checks, and the evidence says so.
FIREWALL_PORT = (5060, "udp")

_VOICE = frozenset({"SIP", "SIP-TLS", "IAX2", "H.323", "SCCP"})


def ports() -> list[tuple[int, str]]:
    return [(s.port, s.transport) for s in PORTS]


def what(a: PortAnswer) -> str:
    """What answered, in a few words of the wire (status line or banner, and the product)."""
    said = a.summary or ""
    if a.server and a.server not in said:
        said = f"{said}, {a.server}" if said else a.server
    if a.title and a.title not in said:
        said = f"{said}, « {a.title} »" if said else f"« {a.title} »"
    if a.tls_subject and not said:
        said = a.tls_subject
    return said[:160] or "-"


def risk(a: PortAnswer) -> Msg | None:
    """The one-sentence risk of an answer, for the customer; None for a port that gives an
    attacker nothing."""
    if a.state != "open":
        return None
    service = SERVICE.get(a.key, f"{a.port}/{a.transport.upper()}")
    where = f"{a.port}/{a.transport.upper()}"
    said = what(a)
    if a.protocol == "sip":
        return msg("EXPO_SIP", where=where, said=said)
    if a.protocol == "tftp":
        if a.summary.startswith("TFTP DATA"):
            return msg("EXPO_TFTP_FILE", where=where)
        return msg("EXPO_TFTP", where=where, said=said)
    if a.protocol == "iax2":
        return msg("EXPO_IAX2", where=where, said=said)
    if a.protocol == "http" or (service in ("HTTP", "HTTPS") and a.protocol == "tls"):
        return msg("EXPO_WEB", where=where, said=said)
    if a.protocol == "ssh":
        return msg("EXPO_SSH", where=where, said=said)
    if a.protocol == "telnet":
        return msg("EXPO_TELNET", where=where)
    if service in _VOICE:
        return msg("EXPO_VOICE_OPEN", where=where, service=service)
    return msg("EXPO_OPEN", where=where, service=service)


@dataclass(frozen=True)
class Exposure:
    """One port found reachable, in which phases, with its risk."""

    port: int
    transport: str
    phases: tuple[str, ...]  # "cold", "warm"
    answer: PortAnswer
    risk: Msg

    def reason(self) -> Msg:
        """The sheet's sentence: the risk, said to come from the registration when only the
        phase after it found the port."""
        if self.phases == ("warm",):
            return msg("EXPO_AFTER_REGISTRATION", risk=self.risk)
        return self.risk


def judge(scans: dict[str, list[PortAnswer]]) -> list[Exposure]:
    """Every port reached from outside in any phase, once, in :data:`PORTS` order (the
    answer kept is the first phase's that reached it)."""
    found: dict[tuple[int, str], Exposure] = {}
    for phase, answers in scans.items():
        for a in answers:
            r = risk(a)
            if r is None:
                continue
            seen = found.get(a.key)
            found[a.key] = Exposure(a.port, a.transport, (phase,), a, r) if seen is None \
                else Exposure(seen.port, seen.transport, (*seen.phases, phase), seen.answer,
                              seen.risk)
    order = {k: i for i, k in enumerate(ports())}
    return sorted(found.values(), key=lambda e: (order.get((e.port, e.transport), 1 << 20),
                                                 e.port, e.transport))


def unproven(scans: dict[str, list[PortAnswer]]) -> list[str]:
    """The ports a phase's deadline cut before they said whether they are open."""
    return [f"{a.port}/{a.transport} ({phase})" for phase, answers in scans.items()
            for a in answers if not a.complete and a.state != "open"]
