"""What the firewall verification holds for each address the operator uses.

The operator's rule (UDP 5060 and 10000-20000 open to its servers, and only to them) is about
addresses, and no two operators are shaped alike: one address for everything, or a registrar,
an edge proxy that sends the INVITEs and a media relay on three. ``firewall.openings`` must
prove the opening to **every** address the operator uses, or say which one it could not, so
this module keeps one :class:`Need` per (address, what it needs open):

- what each address needs follows its roles in the profile, by the one rule the router audit
  applies too (:func:`harness.profile.role_needs`: the registrar and the signalling addresses
  UDP 5060, the media addresses UDP 10000-20000, the registrar also the range when no media
  address is named); an address the traffic shows doing what the profile does not give it
  (an INVITE, media) gets that need too, and a reserve asks to declare it;
- each need is **proven** by the operator's own traffic (its INVITE on a flow the site never
  opened, its media reaching a sampled port before the site sent), **closed** when the
  traffic shows the firewall drops it, or **unproven** with the reason;
- an unproven need falls to the router's configuration (``router.audit``'s prediction for
  that address): **vouched** when it opens every port of the need, else it stays unproven
  and the check is an error, never a pass.

Two things the traffic cannot tell, said as such instead of guessed:
- media that arrives only once the site has sent is a closed firewall *or* a relay that
  latches (waits for the site's media). Only when the same address's media also reached
  another sampled port first (the relay does not wait) is it "closed"; otherwise the
  configuration decides;
- a router whose SIP ALG is on opens pinholes from the SDP and the registration it rewrites:
  media and INVITEs then arrive through the ALG's expectations, which look exactly like a
  forward. With the ALG seen (``sip.alg`` or the configuration), nothing the traffic showed
  open counts as proof, and ports outside the range that opened are the ALG's effect.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from harness.messages import Msg, msg
from harness.portset import fmt
from harness.profile import RTP_RANGE, SIP_PORT, Operator
from harness.results import AddressRow, PortSets
from sip_checks.probes.media_ports import Sampling

Kind = Literal["sip", "rtp"]
Status = Literal["proven", "closed", "unproven", "vouched"]
# What each kind of need is made of: the ports of the profile's one rule (role_needs).
PORTS: dict[Kind, frozenset[int]] = {
    "sip": frozenset({SIP_PORT}),
    "rtp": frozenset(RTP_RANGE),
}
LABEL: dict[Kind, str] = {"sip": "UDP 5060", "rtp": "UDP 10000-20000"}


@dataclass
class Need:
    """One address and the ports one of its roles needs open, and what is known of them."""

    address: str
    kind: Kind
    roles: tuple[str, ...]  # the profile's roles of the address; ("seen",) when undeclared
    status: Status = "unproven"
    detail: str = ""  # the evidence sentence (English)
    why: Msg | None = None  # unproven: why; closed: the failure
    opened: list[int] = field(default_factory=list)  # sampled ports the traffic found open
    closed: list[int] = field(default_factory=list)  # ... and found closed (or late)
    # what decided it: the traffic, a probe's sweep, the configuration (vouched), or both
    basis: str = "operator traffic"

    @property
    def declared(self) -> bool:
        return self.roles != ("seen",)

    def line(self) -> str:
        roles = "not in the profile" if not self.declared else "/".join(self.roles)
        return f"{self.address} ({roles}) {LABEL[self.kind]}: {self.status}" + \
            (f": {self.detail}" if self.detail else "")


@dataclass
class Ledger:
    """Every need of the run, and the findings that are not about one address."""

    needs: list[Need]
    reserves: list[Msg] = field(default_factory=list)
    problems: list[Msg] = field(default_factory=list)  # fail, whatever else holds
    unproven: list[Msg] = field(default_factory=list)  # not about one address (blind samples)

    def of(self, kind: Kind) -> list[Need]:
        return [n for n in self.needs if n.kind == kind]

    def verdict_problems(self) -> list[Msg]:
        """The failures: closed needs (grouped by kind) and the run-wide problems."""
        out = list(self.problems)
        closed_sip = [n for n in self.of("sip") if n.status == "closed"]
        if closed_sip and closed_sip[0].why is not None:
            first = closed_sip[0].why
            out.insert(0, first.model_copy(update={"params": {
                **first.params, "server": ", ".join(n.address for n in closed_sip)}}))
        out += [n.why for n in self.of("rtp") if n.status == "closed" and n.why is not None]
        return out

    def open_questions(self) -> list[Msg]:
        """What is still unproven: each need's reason, then the run-wide ones."""
        return [n.why or msg("FW_UNPROVEN", address=n.address, ports=LABEL[n.kind])
                for n in self.needs if n.status == "unproven"] + self.unproven

    def rows(self) -> list[AddressRow]:
        """The needs as the reports' typed rows."""
        return [AddressRow(address=n.address, roles=list(n.roles),
                           ports=LABEL[n.kind].removeprefix("UDP "), status=n.status,
                           basis=None if n.status == "unproven" else n.basis)
                for n in self.needs]

    def summary(self) -> dict[str, list[dict[str, str]]]:
        """Per address, for the gate's record: which ports rest on what."""
        out: dict[str, list[dict[str, str]]] = {}
        for n in self.needs:
            out.setdefault(n.address, []).append(
                {"ports": LABEL[n.kind], "roles": "/".join(n.roles), "status": n.status})
        return out


def build(operator: Operator, sampling: Sampling | None, not_sampled: Msg | None, *,
          alg: bool, learned_media: set[str] | None = None) -> Ledger:
    """The needs of every operator address, judged on the operator's traffic (``sampling``,
    or None with the reason ``not_sampled``). ``alg``: a SIP ALG was seen on the router.
    ``learned_media``: media addresses one call showed when the traffic was not sampled (a
    probe at the server sweeps instead)."""
    roles = {str(ip): r for ip, r in operator.addresses().items()}
    needs = {str(ip): ports for ip, ports in operator.needs().items()}
    ledger = Ledger([])
    seen_sip: list[str] = []
    seen_media: list[str] = sorted(learned_media or ())
    if sampling is not None:
        if sampling.sip.source is not None:
            seen_sip.append(sampling.sip.source[0])
        seen_media = sorted(sampling.media_addresses())
    # What the profile's roles need (one rule with the router audit: role_needs), then what
    # the traffic shows an address doing that the profile does not give it: a need too, and
    # a reserve asking to declare it.
    for kind in ("sip", "rtp"):
        for a, ports in needs.items():
            if PORTS[kind] <= ports:
                ledger.needs.append(Need(a, kind, roles[a]))
    # Who sends the operator's INVITEs: its signalling addresses, else the registrar. Only
    # they can be said closed when no INVITE came (the registrar's own 5060 cannot then).
    senders = {str(ip) for ip in operator.signalling_ips} or {str(operator.sip_server.ip)}
    per_kind: tuple[tuple[Kind, list[str]], ...] = (("sip", seen_sip), ("rtp", seen_media))
    for kind, seen in per_kind:
        for a in seen:
            if a in needs and PORTS[kind] <= needs[a]:
                continue
            ledger.needs.append(Need(a, kind, ("seen",)))
            ledger.reserves.append(msg("SIP_ELSEWHERE", address=a) if kind == "sip"
                                   else msg("MEDIA_ELSEWHERE", addresses=a))
    for n in ledger.needs:
        if sampling is None:
            n.why = msg("FW_NOT_SAMPLED", address=n.address, ports=LABEL[n.kind],
                        detail=not_sampled or msg("FW_NO_TRAFFIC_TRIED"))
            n.detail = f"operator traffic not sampled: {not_sampled}" if not_sampled \
                else "operator traffic not sampled"
        elif n.kind == "sip":
            _judge_sip(n, sampling, sender=n.address in senders)
        else:
            _judge_rtp(n, sampling)
    if sampling is not None:
        _range_findings(ledger, sampling, alg)
    if alg:
        for n in ledger.needs:
            if n.status == "proven":
                n.status = "unproven"
                n.why = msg("FW_ALG_PINHOLES", address=n.address, ports=LABEL[n.kind])
                n.detail += " (but the router's SIP ALG opens pinholes that look the same)"
    return ledger


def _judge_sip(n: Need, s: Sampling, *, sender: bool) -> None:
    flow = s.sip
    if flow.source is None:
        if s.hairpin_failed is not None and not sender:
            n.detail = "no INVITE reached the site; this address does not send them"
            n.why = msg("FW_NO_REQUEST_FROM", address=n.address, source=msg("FW_NOBODY"))
        elif s.hairpin_failed is not None:
            n.status, n.detail = "closed", f"no INVITE reached the site: {s.hairpin_failed}"
            n.why = msg("SIP_CLOSED_TO_SERVER", server=n.address, detail=s.hairpin_failed)
        else:
            n.detail, n.why = "no call came in", msg("SIP_NO_CALL_IN")
        return
    src = f"{flow.source[0]}:{flow.source[1]}"
    if flow.source[0] != n.address:
        n.detail = f"the operator's {flow.method} came from {src}, not from {n.address}"
        n.why = msg("FW_NO_REQUEST_FROM", address=n.address, source=src)
    elif flow.proven:
        n.status, n.detail, n.opened = "proven", flow.line(), [SIP_PORT]
    else:
        n.detail = flow.line()
        n.why = msg("SIP_FORWARD_UNPROVEN", source=src)


def _judge_rtp(n: Need, s: Sampling) -> None:
    inside = [x for x in s.samples if x.in_range]
    mine = [x for x in inside if n.address in {src.rsplit(":", 1)[0] for src in x.sources}]
    opened = [x.port for x in mine if x.outcome == "open"]
    closed = [x.port for x in mine if x.outcome == "closed"]
    n.opened, n.closed = opened, closed
    if not mine:
        n.detail = "no sampled port received media from this address"
        n.why = msg("FW_NO_MEDIA_FROM", address=n.address)
    elif closed and opened:  # the relay sends without waiting: the drops are the firewall's
        n.status = "closed"
        n.detail = f"open on {fmt(opened)}, closed on {fmt(closed)}"
        n.why = msg("RTP_CLOSED_TO_MEDIA", sources=n.address, ports=fmt(closed))
    elif closed:
        n.detail = (f"media arrived on {fmt(closed)} only after the site sent: a firewall "
                    f"that drops it, or a relay that waits for the site's media")
        n.why = msg("FW_MEDIA_LATE", address=n.address, ports=fmt(closed))
    else:
        n.status = "proven"
        n.detail = f"media arrived first on {fmt(opened)}"


def _range_findings(ledger: Ledger, s: Sampling, alg: bool) -> None:
    """Samples outside 10000-20000 that opened, and in-range samples that proved nothing."""
    beyond = [x.port for x in s.samples if not x.in_range and x.outcome == "open"]
    if beyond and alg:
        ledger.reserves.append(msg("RTP_OPEN_BY_ALG", ports=fmt(beyond)))
    elif beyond:
        ledger.problems.append(msg("RTP_OPEN_BEYOND", ports=fmt(beyond)))
    blind = [x for x in s.samples if x.in_range and x.outcome in ("silent", "failed")]
    if blind:
        why = next((x.note for x in blind if x.note is not None), msg("SAMPLE_SILENT"))
        ledger.unproven.append(msg("RTP_UNPROVEN", ports=fmt(x.port for x in blind),
                                   detail=why))


def vouch(ledger: Ledger, predicted: PortSets | None) -> list[str]:
    """Let the router's configuration decide what the traffic left unproven; returns the
    evidence lines of what it decided. A need it opens entirely is vouched for; media that
    arrived only after the site sent, on an address the configuration does not open, is
    closed (both agree); anything else stays unproven. Run-wide unproven samples are vouched
    for when the configuration opens the whole range to every media address."""
    if predicted is None:
        return []
    lines: list[str] = []
    for n in ledger.needs:
        if n.status != "unproven":
            continue
        opened = _predicted(predicted, n.address)
        if opened is None:
            lines.append(f"{n.address}: the configuration was not judged for this address")
            continue
        missing = PORTS[n.kind] - opened
        if not missing:
            n.status, n.basis = "vouched", "router configuration"
            lines.append(f"{n.address} {LABEL[n.kind]}: open in the router's configuration")
        elif n.why is not None and n.why.code == "FW_MEDIA_LATE":
            n.status, n.basis = "closed", "operator traffic and router configuration"
            n.why = msg("RTP_CLOSED_TO_MEDIA", sources=n.address, ports=fmt(n.closed))
            lines.append(f"{n.address} {LABEL[n.kind]}: closed in the router's configuration "
                         f"too ({fmt(missing)} not opened)")
        else:
            lines.append(f"{n.address} {LABEL[n.kind]}: the router's configuration does not "
                         f"open {fmt(missing)} either")
            n.why = msg("FW_UNPROVEN_CONFIG_CLOSED", address=n.address, ports=fmt(missing))
    media = [n for n in ledger.needs if n.kind == "rtp"]
    if ledger.unproven and media and all(
            PORTS["rtp"] <= (_predicted(predicted, n.address) or frozenset()) for n in media):
        lines.append("unproven samples: the configuration opens the whole range to every "
                     "media address")
        ledger.unproven = []
    return lines


def _predicted(predicted: PortSets, address: str) -> frozenset[int] | None:
    """The ports the configuration opens to ``address``; None when it was not judged."""
    if address in predicted.by_source:
        return frozenset(predicted.by_source[address])
    return None


def measured(ledger: Ledger, s: Sampling | None) -> tuple[dict[str, list[int]],
                                                          dict[str, list[int]]]:
    """Per address, the ports the traffic proved open and those it tried, for
    ``router.crosscheck`` (a port counts as tried only when the traffic could tell)."""
    found: dict[str, set[int]] = {}
    tested: dict[str, set[int]] = {}
    for n in ledger.needs:
        if n.status in ("proven", "closed"):
            tested.setdefault(n.address, set()).update(n.opened + n.closed)
            found.setdefault(n.address, set()).update(n.opened)
        if n.kind == "sip" and n.status == "closed":
            tested.setdefault(n.address, set()).add(SIP_PORT)
    if s is not None:  # outside the range: open to whoever sent there
        for x in s.samples:
            if not x.in_range and x.outcome in ("open", "closed"):
                for src in {src.rsplit(":", 1)[0] for src in x.sources}:
                    tested.setdefault(src, set()).add(x.port)
                    if x.outcome == "open":
                        found.setdefault(src, set()).add(x.port)
    return ({a: sorted(p) for a, p in found.items()},
            {a: sorted(p) for a, p in tested.items()})
