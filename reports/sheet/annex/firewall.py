"""Annex section: the UDP ports each vantage point reached, and whether the router agrees.

Reads the typed firewall payloads, with translated labels (the English facts of the check
stay in report.html): ``figures.sweeps`` (:class:`~harness.results.Sweep`, one row per
vantage point and phase, open ports written as ranges), ``figures.media_sources`` (where the
operator's media came from) and ``figures.crosscheck`` (the ports the router configuration
predicts open against those measured), ``figures.operator_addresses`` (each operator address's
opening: proven, vouched for, closed or unproven).
"""

from __future__ import annotations

from collections.abc import Iterable

from harness.portset import fmt
from harness.results import AddressRow, CrossCheck, OperatorTraffic, Sweep
from reports.sheet.blocks import kv, mono, num, section, table
from reports.sheet.page import Page
from reports.sheet.text import ADDRESS_STATUS, BASIS, OUTCOME, PHASE, ROLE, VANTAGE


def ports(page: Page, numbers: Iterable[int]) -> str:
    """A port set as ranges (``5060, 10000-20000``), or the language's word for none."""
    spans = fmt(numbers)
    return page.label("no_port") if spans == "none" else mono(spans)


def sweeps(page: Page, rows: list[Sweep]) -> str:
    body = [[page.word(VANTAGE, s.vantage), page.word(PHASE, s.phase), mono(s.source),
             ports(page, s.open), str(s.sent), num(s.seconds)] for s in rows]
    head = [page.label(k) for k in ("vantage", "phase", "source", "open", "sent", "seconds")]
    return table(head, body)


def traffic(page: Page, t: OperatorTraffic) -> str:
    """The SIP 5060 proof, then one row per sampled port."""
    sip = {True: "sip_new_flow", False: "sip_own_flow", None: "sip_none"}[t.sip_proven]
    said = page.word(OUTCOME, sip) + (f" ({mono(t.sip_source)})" if t.sip_source else "")
    body = [[mono(str(x.port)), page.word(OUTCOME, x.outcome),
             num(x.first_ms, 0), num(x.after_punch_ms, 0),
             mono(", ".join(x.sources))] for x in t.samples]
    head = [page.label(k) for k in ("port", "outcome", "first_ms", "after_ms", "source")]
    return (f"<h4>{page.label('traffic')}</h4>{kv([(page.label('sip_5060'), said)])}"
            f"{table(head, body)}")


def addresses(page: Page, rows: list[AddressRow]) -> str:
    """Each operator address, what its role needs open, and what proved it (or that nothing
    did): the technical service reads the verification per address."""
    body = [[mono(r.address), ", ".join(page.word(ROLE, x) for x in r.roles), mono(r.ports),
             page.word(ADDRESS_STATUS, r.status),
             page.word(BASIS, r.basis) if r.basis else "—"] for r in rows]
    head = [page.label(k) for k in ("address", "roles", "ports", "status", "basis")]
    return f"<h4>{page.label('addresses')}</h4>{table(head, body)}"


def crosscheck(page: Page, cross: CrossCheck) -> str:
    """What the router's configuration predicts against what was measured: one row per
    operator address when the check compared them so (on the ports its traffic tried), else
    the server's row; then every other source."""
    addresses = sorted(set(cross.config.by_source) | set(cross.measured.by_source)
                       | set(cross.measured.tested_by_source))
    if addresses:
        body = []
        for a in addresses:
            tried = cross.measured.tested_by_source.get(a)
            said = ports(page, cross.measured.by_source.get(a, []))
            if tried is not None:
                said += f" ({page.label('tried')} {ports(page, tried)})"
            body.append([mono(a), ports(page, cross.config.by_source.get(a, [])), said])
    else:
        body = [[page.word(VANTAGE, "server"), ports(page, cross.config.server),
                 ports(page, cross.measured.server)]]
    body.append([page.label("others"), ports(page, cross.config.others),
                 ports(page, cross.measured.others)])
    head = [page.label(k) for k in ("vantage", "config", "measured")]
    return f"<h4>{page.label('crosscheck')}</h4>{table(head, body)}"


def render(page: Page) -> str:
    """Sweeps, media sources and the cross-check; nothing when no check measured them."""
    parts = []
    for check in page.results.checks:
        fig = check.figures
        if fig.operator_addresses:
            parts.append(addresses(page, fig.operator_addresses))
        if fig.operator_traffic is not None:
            parts.append(traffic(page, fig.operator_traffic))
        if fig.sweeps:
            parts.append(sweeps(page, fig.sweeps))
        if fig.media_sources:
            parts.append(kv([(page.label("media_sources"),
                              mono(", ".join(fig.media_sources)))]))
        if fig.crosscheck is not None:
            parts.append(crosscheck(page, fig.crosscheck))
    return section(page.t["firewall"], "".join(parts)) if parts else ""
