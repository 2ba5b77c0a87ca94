"""Who saw what: the SIP ALG check's witnesses side by side.

Several witnesses look at the site's SIP after it crossed the router: the outsider probe's
reflector (every message, both ways), the operator's registrar (only our REGISTER, and only
what its 200 OK echoes, after the router may have un-rewritten it) and, where an operator runs
one, a probe beside its server. They do not see the same things, so the evidence lays them
side by side rather than merging them: a rewrite seen by any one is a finding, and the table
shows which one saw it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from harness.messages import Msg
from sip_checks.alg_registrar import RegistrarView
from sip_checks.probes.alg import PORTS, Probe

# The elements of our REGISTER every column has a cell for, in the table's order.
BASE_ROWS = ("Via sent-by", "Via received", "Via rport", "Contact", "Contact received")
TITLES = {"outsider": "outsider reflector", "registrar": "registrar reports",
          "server": "server probe"}


@dataclass
class Run:
    """One witness's run: its ALG rows, or why it could not run."""

    vantage: str  # "outsider", "registrar" or "server"
    probes: list[Probe]
    failure: Msg | None = None

    @property
    def saw_something(self) -> bool:
        """At least one message reached it and was compared."""
        return any(p.delivered for p in self.probes)

    def rewritten(self) -> list[str]:
        return elements(p for p in self.probes if p.delivered and p.changes)


def element_name(element: str) -> str:
    """An element as the reasons name it: ``Via[0] sent-by`` and ``Via[0] received`` are
    ``Via``, ``SDP c=`` stays itself."""
    return element.split("[")[0].split(" sent-by")[0]


def elements(probes: Iterable[Probe]) -> list[str]:
    """The rewritten elements of ``probes``, by name."""
    return sorted({element_name(c.element) for p in probes for c in p.changes})


def _row(element: str) -> str:
    return element.replace("[0]", "")


def probe_cells(p: Probe | None) -> dict[str, str]:
    """A probe witness's cell for each element of its REGISTER: what it received where that
    differs from what we sent, ``= as sent`` elsewhere."""
    if p is None:
        return {}
    if not p.delivered:
        return {row: "not received" for row in BASE_ROWS}
    cells = {row: "= as sent" for row in BASE_ROWS}
    cells["Contact received"] = "—"  # a reflector adds nothing
    for c in p.nat_only:
        cells[_row(c.element)] = c.after
    for c in p.changes:
        cells[_row(c.element)] = f"{c.after}  [REWRITTEN]"
    return cells


def registrar_cells(view: RegistrarView | None) -> dict[str, str]:
    """The registrar's cell for each element: what its 200 OK reports."""
    if view is None:
        return {}
    cells = {"Via sent-by": view.via_reported, "Via received": view.received or "(absent)",
             "Via rport": view.rport or "(absent)",
             "Contact": view.contact_stored or "(our binding not listed)",
             "Contact received": view.contact_params.get("received", "(absent)")}
    for c in view.changes:
        cells[_row(c.element)] += "  [REWRITTEN]"
    return cells


def sent_cells(view: RegistrarView | None, probes: list[Probe]) -> dict[str, str]:
    """What we sent: the registrar's REGISTER where there is one (the real one), else the
    probes' own from their diffs."""
    cells: dict[str, str] = {}
    for p in probes:
        for c in [*p.changes, *p.nat_only]:
            cells.setdefault(_row(c.element), c.before)
    if view is not None:
        cells.update({"Via sent-by": view.via_sent, "Via received": "(absent)",
                      "Via rport": "(flag)", "Contact": view.contact_sent,
                      "Contact received": "(absent)"})
    return cells


def register_of(run: Run | None, port: int) -> Probe | None:
    """The witness's REGISTER over UDP to ``port`` (the one comparable with the registrar's),
    or to 5060 when the probe has no such port."""
    if run is None:
        return None
    want = port if port in PORTS else 5060
    return next((p for p in run.probes if p.method == "REGISTER" and p.proto == "udp"
                 and p.port == want and p.direction.startswith("site→")), None)


def table(runs: list[Run], view: RegistrarView | None, port: int) -> str:
    """The REGISTER as each witness saw it: element, what we sent, one column per witness.

    ``= as sent`` means unchanged from what we sent that witness (the probes' REGISTERs come
    from another local port than the registrar's, so their sent-by differs in the port)."""
    columns: list[tuple[str, dict[str, str]]] = []
    probes: list[Probe] = []
    for run in runs:
        if run.vantage == "registrar":
            cells = registrar_cells(view)
        else:
            reg = register_of(run, port)
            probes += [reg] if reg else []
            cells = probe_cells(reg)
        if not cells:
            cells = {row: "did not run" for row in BASE_ROWS}
        columns.append((TITLES[run.vantage], cells))
    sent = sent_cells(view, probes)
    rows = list(BASE_ROWS)
    for _, cells in columns:
        rows += [r for r in cells if r not in rows]
    head = ["element", "we sent", *[title for title, _ in columns]]
    body = [[r, sent.get(r, "—"), *[cells.get(r, "—") for _, cells in columns]] for r in rows]
    widths = [max(len(line[i]) for line in [head, *body]) for i in range(len(head))]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip()
                     for line in [head, *body]) + (
        "\n\n= as sent: unchanged from what we sent that witness (a probe's REGISTER leaves "
        "from another local port than the registrar's). [REWRITTEN]: an ALG's doing.")


def filtered(probes: list[Probe]) -> list[tuple[str, int]]:
    """(method, port) whose UDP message to a probe vanished while the same over TCP arrived:
    what a filtering ALG does."""
    out: list[tuple[str, int]] = []
    forward = [p for p in probes if p.direction.startswith("site→") and p.vantage != "registrar"]
    for port in PORTS:
        for method in ("REGISTER", "INVITE"):
            for vantage in sorted({p.vantage for p in forward}):
                by = {p.proto: p for p in forward if (p.vantage, p.port, p.method) ==
                      (vantage, port, method)}
                u, t = by.get("udp"), by.get("tcp")
                if u and t and not u.delivered and t.delivered and (method, port) not in out:
                    out.append((method, port))
    return out
