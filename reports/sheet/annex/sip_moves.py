"""Annex section: the attacker's SIP moves from the internet (``security.sip_from_outside``).

Reads ``figures.sip_moves`` (:class:`~harness.results.SipMoves`): one line for the run (from
where, against which address, the international number, the made-up users, whether the probe
signed it), then per port and transport the OPTIONS and the INVITE with what they got and how
the probe ended the call, and the REGISTERs grouped by what they got, named users apart from
made-up ones (the difference an attacker enumerates extensions with), then the users found
enumerable. Wire text is shown as received.
"""

from __future__ import annotations

from harness.results import SipMove, SipMoves
from reports.sheet.blocks import e, mono, num, section, table
from reports.sheet.page import Page
from reports.sheet.text import Texts

LABELS: dict[str, Texts] = {
    "fr": {"title": "Fraude : les manœuvres SIP d'un attaquant depuis internet",
           "run": "Manœuvres", "number": "numéro international", "made_up": "inventés",
           "signed": "signé par la sonde", "unsigned": "non signé", "port": "Port",
           "move": "Manœuvre", "got": "Réponse", "ended": "Fin de l'appel par la sonde",
           "named": "utilisateurs du site", "cut": "interrompu",
           "enumerated": "Postes énumérables depuis internet", "silent": "silence"},
    "en": {"title": "Toll fraud: an attacker's SIP moves from the internet",
           "run": "Moves", "number": "international number", "made_up": "made up",
           "signed": "signed by the probe", "unsigned": "unsigned", "port": "Port",
           "move": "Move", "got": "Answer", "ended": "Call ended by the probe",
           "named": "site's users", "cut": "cut short",
           "enumerated": "Extensions enumerable from the internet", "silent": "silence"},
}


def _word(page: Page, key: str) -> str:
    return e(LABELS[page.lang].get(key, key))


def _got(page: Page, m: SipMove) -> str:
    said = mono(m.got) if m.got and m.got != "silent" else _word(page, "silent")
    return said if m.complete else f"{said} ({_word(page, 'cut')})"


def _rows(page: Page, s: SipMoves) -> list[list[str]]:
    rows: list[list[str]] = []
    keys = list(dict.fromkeys((m.port, m.transport) for m in s.moves))
    for port, transport in keys:
        mine = [m for m in s.moves if (m.port, m.transport) == (port, transport)]
        where = mono(f"{port}/{transport.upper()}")
        for m in mine:
            if m.move != "register":
                rows.append([where, mono(m.move.upper()) + (f" {mono(m.user)}" if m.user
                                                            else ""),
                             _got(page, m), mono(m.ended) if m.ended else "–"])
        for made_up in (False, True):
            regs = [m for m in mine if m.move == "register" and m.made_up == made_up]
            groups: dict[str, list[str]] = {}
            for m in regs:
                groups.setdefault(_got(page, m), []).append(m.user or "")
            for got, users in groups.items():
                who = _word(page, "made_up" if made_up else "named")
                rows.append([where, f"{mono('REGISTER')} ({who}{page.label('colon')}"
                             f"{mono(', '.join(users))})", got, "–"])
    return rows


def render(page: Page) -> str:
    """The moves of every check that made them; nothing when none did."""
    parts = []
    for check in page.results.checks:
        s = check.figures.sip_moves
        if s is None:
            continue
        signed = (f"{_word(page, 'signed')} {mono(s.attestation.key)}" if s.attestation
                  else _word(page, "unsigned"))
        parts.append(
            f"<p>{_word(page, 'run')}{page.label('colon')}{mono(s.source)} → {mono(s.to)}, "
            f"{num(s.seconds)} s, {_word(page, 'number')} {mono(s.number)}, "
            f"{_word(page, 'made_up')} {mono(', '.join(s.made_up))}, {signed}</p>")
        head = [_word(page, k) for k in ("port", "move", "got", "ended")]
        parts.append(table(head, _rows(page, s), "small"))
        if s.enumerated:
            parts.append(f"<p><b>{_word(page, 'enumerated')}</b>{page.label('colon')}"
                         f"{mono(', '.join(s.enumerated))}</p>")
    return section(LABELS[page.lang]["title"], "".join(parts)) if parts else ""
