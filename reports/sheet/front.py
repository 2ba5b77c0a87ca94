"""The front page: the part of the sheet the customer and the integrator read and sign.

Who and where, what was delivered, each check's verdict, and the sign-off block. Everything
here is in the sheet's language: labels and verdict words from :mod:`reports.sheet.text`,
the checks' sentences rendered from their message codes. Each failed or errored check's
reasons are a numbered reserve (R1, R2 …) the signatories can refer to; the observations a
check owes the customer even when it passed (its ``reserves``) follow as "Observation".
The expert key/value facts are English and stay out of it (they are in report.html).
"""

from __future__ import annotations

from harness.results import STATUSES, CheckResult
from reports.sheet.blocks import date, e, kv, mono, sentences, table
from reports.sheet.page import Page
from reports.sheet.text import STATUS


def header(page: Page) -> str:
    """Who and where: the block a signatory checks before anything else."""
    c, s = page.profile.customer, page.profile.site
    rows = [
        ("customer", e(c.name)), ("siret", e(c.siret or "–")),
        ("site", e(s.name)), ("address", e(s.address)),
        ("integrator", e(c.integrator)), ("technician", e(c.technician or "–")),
        ("date", date(page.results.generated, page.lang)),
    ]
    return (f"<header><h1>{page.label('title')}</h1>"
            f"<p class='subtitle'>{page.label('subtitle')}</p>"
            f"{kv((page.label(k), v) for k, v in rows)}</header>")


def services(page: Page) -> str:
    """What was sold and delivered: the object of the acceptance."""
    profile = page.profile
    sip = profile.operator.sip_server
    parts = [f"<h2>{page.label('services')}</h2>", kv([
        (page.label("operator"), e(profile.operator.name)),
        (page.label("sip_server"), mono(f"{sip.ip}:{sip.port}/{sip.transport.upper()}")),
        (page.label("domain"), mono(sip.domain)),
    ])]
    if profile.trunks:
        rows = [[e(tr.name), mono(tr.user), e(", ".join(tr.dids) or "–"), e(tr.channels)]
                for tr in profile.trunks]
        parts.append(f"<h3>{page.label('trunks')}</h3>")
        parts.append(table([page.label(k) for k in ("name", "user", "dids", "channels")], rows))
    if profile.centrex:
        rows = [[e(a.name), mono(a.user), e(a.did or "–")] for a in profile.centrex]
        parts.append(f"<h3>{page.label('centrex')}</h3>")
        parts.append(table([page.label(k) for k in ("name", "user", "number")], rows))
    return "".join(parts)


EXPOSURE = "security.exposure"
SIP_FROM_OUTSIDE = "security.sip_from_outside"


def fraud(page: Page) -> str:
    """Toll-fraud exposure in one place: what an attacker on the internet reaches, the thing
    the operator's technical service enables international calls on (issue 25). Each port
    reached is the exposure check's own sentence; nothing when the run did not look."""
    check = next((c for c in page.results.checks if c.id == EXPOSURE), None)
    moves = next((c for c in page.results.checks if c.id == SIP_FROM_OUTSIDE), None)
    if check is None:
        return "" if moves is None else (f"<section class='fraud'><h2>{page.label('fraud')}"
                                         f"</h2>{_moves(page, moves)}"
                                         f"<p class='note'>{page.label('fraud_gate')}</p>"
                                         "</section>")
    parts = [f"<section class='fraud'><h2>{page.label('fraud')}</h2>"]
    reached = {(p.port, p.transport): p for scan in check.figures.exposure
               for p in scan.ports if p.risk is not None}
    if check.status == "pass":
        parts.append(f"<p>{page.label('fraud_none')}</p>")
    elif reached:
        items = "".join(f"<li>{mono(f'{port}/{transport.upper()}')} "
                        f"{page.say(p.risk)}</li>"
                        for (port, transport), p in sorted(reached.items()) if p.risk)
        parts.append(f"<p>{page.label('fraud_reached')}</p><ul>{items}</ul>")
    else:
        parts.append(f"<p>{page.label('fraud_unproven')}</p>")
    if moves is not None:
        parts.append(_moves(page, moves))
    parts.append(f"<p class='note'>{page.label('fraud_gate')}</p></section>")
    return "".join(parts)


def _moves(page: Page, check: CheckResult) -> str:
    """security.sip_from_outside's verdict in a line, or its failures one sentence each."""
    if check.status == "pass":
        return f"<p>{page.label('fraud_moves_none')}</p>"
    if check.status == "fail":
        items = "".join(f"<li>{page.say(m)}</li>" for m in check.reasons)
        return f"<p>{page.label('fraud_moves')}</p><ul>{items}</ul>"
    if check.status == "error":
        return f"<p>{page.label('fraud_moves_unproven')}</p>"
    return ""


def badge(page: Page, status: str) -> str:
    """A verdict word on its colour."""
    return f"<span class='v v-{e(status)}'>{page.word(STATUS, status)}</span>"


def counts(page: Page) -> str:
    """How many checks ended in each verdict."""
    spans = "".join(f"<span>{badge(page, s)} {page.results.counts.get(s, 0)}</span>"
                    for s in STATUSES)
    return f"<p class='counts'>{spans}</p>"


def reserve_cell(page: Page, check: CheckResult, number: int | None) -> str:
    """A failed or errored check's reasons as reserve R<number>, one sentence each; then the
    check's own observations (a passing check may owe the customer one)."""
    parts = []
    if number is not None:
        reasons = [page.say(m) for m in check.reasons] or [page.word(STATUS, check.status)]
        parts.append(f"<div class='res'><b>R{number}</b> {sentences(reasons)}</div>")
    if check.reserves:
        notes = sentences([page.say(m) for m in check.reserves])
        parts.append(f"<div class='obs'><b>{page.label('observation')}</b>"
                     f"{page.label('colon')}{notes}</div>")
    return "".join(parts)


def verdicts(page: Page) -> str:
    """Every check with its verdict; failures and errors carry their reasons as a reserve."""
    rows, n = [], 0
    for check in page.results.checks:
        number = None
        if check.status in ("fail", "error"):
            n += 1
            number = n
        rows.append([mono(check.id), e(check.title(page.lang)), badge(page, check.status),
                     reserve_cell(page, check, number)])
    head = [page.label(k) for k in ("check", "label", "verdict", "reserve")]
    return (f"<h2>{page.label('checks')}</h2>{counts(page)}"
            f"{table(head, rows, 'verdicts')}")


def _party(page: Page, title: str, org: str, person: str) -> str:
    return (f"<div class='party'><h3>{page.label(title)}</h3><div>{e(org)}</div>"
            f"<div class='field'>{page.label('signatory')}</div>"
            f"<div class='fill'>{e(person)}</div>"
            f"<div class='field'>{page.label('sign_date')}</div><div class='fill'></div>"
            f"<div class='field'>{page.label('signature')}</div><div class='sig'></div></div>")


def signoff(page: Page) -> str:
    """The decision and the two signatures; kept on one page when printed."""
    choices = "".join(f"<div class='choice'><span class='box'></span>{page.label(k)}</div>"
                      for k in ("no_reserve", "with_reserves", "refused"))
    lines = "<div class='lines'></div>" * 3
    c = page.profile.customer
    return (f"<section class='signoff'><h2>{page.label('signoff')}</h2>{choices}"
            f"<div class='field'>{page.label('extra_reserves')}</div>{lines}"
            f"<div class='parties'>{_party(page, 'for_customer', c.name, '')}"
            f"{_party(page, 'for_integrator', c.integrator, c.technician or '')}</div>"
            "</section>")


def render(page: Page) -> str:
    """The whole front page, in reading order."""
    return "".join([header(page), services(page), fraud(page), verdicts(page),
                    signoff(page)])
