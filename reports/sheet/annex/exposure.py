"""Annex section: what an internet host reaches on the site (``security.exposure``).

Reads ``figures.exposure`` (:class:`~harness.results.ExposureScan`, one per phase: cold, and
while an account is registered): a line per scan (from where, to which address, how long,
whether the probe signed it), then one row per port with its state in each phase, what
answered (status line or banner, product, page title, certificate subject: wire text, shown
as received) and the risk in the sheet's language, so the technical service sees the ports
found closed as well as the ones to close.
"""

from __future__ import annotations

from harness.results import ExposurePort, ExposureScan
from reports.sheet.blocks import e, mono, num, section, table
from reports.sheet.page import Page
from reports.sheet.text import PHASE, Texts

# This section's words, French and English side by side (the sheet's other labels live in
# reports/sheet/text.py; these are read here only).
LABELS: dict[str, Texts] = {
    "fr": {"title": "Exposition à la fraude : ce qu'un hôte d'internet atteint",
           "port": "Port", "state": "État", "answered": "Ce qui a répondu", "risk": "Risque",
           "scan": "Balayage", "signed": "signé par la sonde", "unsigned": "non signé",
           "open": "ouvert", "closed": "fermé", "filtered": "filtré",
           "open|filtered": "sans réponse", "cut": "interrompu"},
    "en": {"title": "Toll-fraud exposure: what an internet host reaches",
           "port": "Port", "state": "State", "answered": "What answered", "risk": "Risk",
           "scan": "Scan", "signed": "signed by the probe", "unsigned": "unsigned",
           "open": "open", "closed": "closed", "filtered": "filtered",
           "open|filtered": "no answer", "cut": "cut short"},
}


def _word(page: Page, key: str) -> str:
    return e(LABELS[page.lang].get(key, key))


def _state(page: Page, p: ExposurePort | None) -> str:
    if p is None:
        return "–"
    said = _word(page, p.state)
    if not p.complete and p.state != "open":
        said += f" ({_word(page, 'cut')})"
    return f"<b>{said}</b>" if p.state == "open" else said


def _scan_line(page: Page, s: ExposureScan) -> str:
    signed = (f"{_word(page, 'signed')} {mono(s.attestation.key)}" if s.attestation
              else _word(page, "unsigned"))
    return (f"<p>{_word(page, 'scan')} {page.word(PHASE, s.phase)}{page.label('colon')}"
            f"{mono(s.source)} → {mono(s.to)}, {num(s.seconds)} s, {signed}</p>")


def _table(page: Page, scans: list[ExposureScan]) -> str:
    """One row per port, a state column per phase; what answered and the risk from the first
    phase that reached the port."""
    keys: list[tuple[int, str]] = []
    by_phase: dict[str, dict[tuple[int, str], ExposurePort]] = {
        s.phase: {(p.port, p.transport): p for p in s.ports} for s in scans}
    for s in scans:
        keys += [(p.port, p.transport) for p in s.ports if (p.port, p.transport) not in keys]
    rows = []
    for key in keys:
        seen = [by_phase[s.phase].get(key) for s in scans]
        hit = next((p for p in seen if p is not None and p.state == "open"), None)
        rows.append([mono(f"{key[0]}/{key[1].upper()}"), *(_state(page, p) for p in seen),
                     mono(hit.answered) if hit is not None and hit.answered else "–",
                     page.say(hit.risk) if hit is not None and hit.risk else "–"])
    head = [_word(page, "port"),
            *(f"{_word(page, 'state')} ({page.word(PHASE, s.phase)})" for s in scans),
            _word(page, "answered"), _word(page, "risk")]
    return table(head, rows, "small")


def render(page: Page) -> str:
    """The scans of every check that made them; nothing when none did."""
    parts = []
    for check in page.results.checks:
        scans = check.figures.exposure
        if scans:
            parts.append("".join(_scan_line(page, s) for s in scans) + _table(page, scans))
    return section(LABELS[page.lang]["title"], "".join(parts)) if parts else ""
