"""The sites page's search index and gate facts (migration 0006).

The technical service finds a site from what a customer says on the phone: a number in any
form, a SIRET, a trunk's name, the customer's or the site's name. So at each upload that
becomes the site's latest run, the site's **terms** are rewritten here: every DID of every
trunk, every Centrex account's number (canonical E.164 digits and the same reversed, see
:mod:`harness.console.numbers`), the trunk names, the SIRET, the customer's and the site's
names. A number search is then an index range (prefix on the digits, suffix as a prefix on
the reversed digits), never a scan of every number.

The **gate facts** (one row per trunk) are what the gate's :func:`~harness.gate.store.decide`
said when the site's row was last refreshed, kept so that the states that change with the
clock alone (waiting → eligible at +24 h → expired at +30 days) are a SQL condition on
``now``: "activable maintenant" filters 10 000 sites in one query, not one ``decide`` per site.
Between two refreshes only the clock moves those three states; every event that changes
another (a verification, an activation, a revocation) refreshes the site's row and these.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from harness.console import numbers
from harness.gate.store import EVENTS, VALID, WAIT, Event, Status, _utc, decide, now_utc
from harness.profile import siret_is_valid

_meta = sa.MetaData()
TERMS = sa.Table("console_site_terms", _meta,
                 sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                 sa.Column("site", sa.String(200), nullable=False),
                 # did, trunk, siret, customer, site
                 sa.Column("kind", sa.String(10), nullable=False),
                 # canonical: a number's E.164 digits, a SIRET's 14 digits, a name lowercased
                 sa.Column("value", sa.String(200), nullable=False),
                 sa.Column("rev", sa.String(20)),  # a number's digits reversed
                 sa.Column("owner", sa.String(200)),  # a number's trunk or account
                 sa.Column("shown", sa.String(200), nullable=False),  # as the profile says
                 # the site in the index: found terms are read from it alone (a trunk-name
                 # substring reads 20 000 index entries, not every page of the table)
                 sa.Index("ix_console_site_terms_value", "kind", "value", "site"),
                 sa.Index("ix_console_site_terms_rev", "kind", "rev", "site"),
                 sa.Index("ix_console_site_terms_site", "site"))
TRUNK_GATE = sa.Table("console_trunk_gate", _meta,
                      sa.Column("site", sa.String(200), primary_key=True),
                      sa.Column("trunk", sa.String(200), primary_key=True),  # '': site-wide
                      # decide()'s state at the refresh; waiting/eligible/expired: "pending"
                      sa.Column("state", sa.String(20), nullable=False),
                      sa.Column("eligible_at", sa.DateTime(timezone=True)),
                      sa.Column("expires", sa.DateTime(timezone=True)),
                      sa.Index("ix_console_trunk_gate_pending", "state", "eligible_at"))

PENDING = "pending"   # verified, neither activated, revoked nor blocked: the clock decides
CLOCK_STATES = ("waiting", "eligible", "expired")
GATE_FILTERS = ("no-verification", "waiting", "eligible", "active", "revoked", "expired",
                "blocked")
TEXT_MIN = 2          # characters of a text query searched in trunk names


@dataclass(frozen=True)
class Term:
    kind: str     # did, trunk, siret, customer, site
    value: str
    shown: str
    owner: str | None = None


def terms_of(*, siret: str | None, customer: str, site_name: str,
             trunks: list[str], dids: list[tuple[str, str]]) -> list[Term]:
    """A site's terms from its latest upload; ``dids`` are (canonical digits, owner)."""
    out = [Term("customer", customer.lower(), customer), Term("site", site_name.lower(),
                                                             site_name)]
    if siret:
        out.append(Term("siret", siret, siret))
    out += [Term("trunk", t.lower(), t) for t in dict.fromkeys(trunks)]
    out += [Term("did", d, numbers.shown(d), owner) for d, owner in dict.fromkeys(dids)]
    return out


def replace_terms(conn: Connection, site: str, terms: list[Term]) -> None:
    """The site's terms become ``terms`` (the latest run's), in the caller's transaction."""
    conn.execute(TERMS.delete().where(TERMS.c.site == site))
    if terms:
        conn.execute(TERMS.insert(), [
            {"site": site, "kind": t.kind, "value": t.value[:200],
             "rev": t.value[::-1] if t.kind == "did" else None, "owner": t.owner,
             "shown": t.shown[:200]} for t in terms])


def write_gate(conn: Connection, site: str, events: list[Event],
               states: list[Status]) -> None:
    """The site's per-trunk gate facts from ``decide``'s states at the refresh."""
    passes = [e for e in events if e.kind == "verification_pass"]
    conn.execute(TRUNK_GATE.delete().where(TRUNK_GATE.c.site == site))
    rows = []
    for st in states:
        pending = st.state in CLOCK_STATES and bool(passes)
        rows.append({"site": site, "trunk": st.trunk or "",
                     "state": PENDING if pending else st.state,
                     "eligible_at": _utc(passes[-1].at + WAIT) if pending else None,
                     "expires": _utc(passes[-1].at + VALID) if pending else None})
    if rows:
        conn.execute(TRUNK_GATE.insert(), rows)


def gate_condition(state: str, now: dt.datetime) -> Any:
    """Trunk-gate rows in ``state`` at ``now`` (a SQL condition on :data:`TRUNK_GATE`)."""
    g, at = TRUNK_GATE.c, _utc(now)
    if state == "waiting":
        return sa.and_(g.state == PENDING, g.eligible_at > at)
    if state == "eligible":  # the 24 h are up and not expired: activable now
        return sa.and_(g.state == PENDING, g.eligible_at <= at, g.expires > at)
    if state == "expired":
        return sa.and_(g.state == PENDING, g.expires <= at)
    return g.state == state


def sites_in_gate_state(state: str, now: dt.datetime) -> Any:
    """The sites with at least one trunk in ``state`` at ``now`` (a subquery)."""
    return sa.select(TRUNK_GATE.c.site).where(gate_condition(state, now))


def _range(col: Any, prefix: str, exact: bool = False) -> Any:
    if exact:
        return col == prefix
    top = numbers.upper(prefix)
    return col >= prefix if top is None else sa.and_(col >= prefix, col < top)


def term_condition(q: str) -> Any | None:
    """Terms matching the query ``q`` (None: no term can): a number by index range
    (prefix, or suffix on the reversed digits), a SIRET by its digits' prefix, a trunk's
    name by substring (only for a query that is not a number: that substring reads every
    trunk's name, an index range reads a few rows)."""
    t = TERMS.c
    cond: list[Any] = []
    nq = numbers.query(q)
    if nq is not None:
        if nq.prefix is not None:
            cond.append(sa.and_(t.kind == "did", _range(t.value, nq.prefix, nq.exact)))
        if nq.suffix is not None:
            cond.append(sa.and_(t.kind == "did", _range(t.rev, nq.suffix)))
    digits = "".join(q.split()).replace(".", "").replace("-", "")
    if digits.isdigit() and digits.isascii() and len(digits) >= numbers.MIN_DIGITS:
        cond.append(sa.and_(t.kind == "siret", _range(t.value, digits[:14])))
    if nq is None and len(q) >= TEXT_MIN:  # a number is not searched in trunk names
        cond.append(sa.and_(t.kind == "trunk", t.value.like(f"%{escape_like(q.lower())}%",
                                                           escape="\\")))
    return sa.or_(*cond) if cond else None


def escape_like(text: str) -> str:
    """``text`` matched literally by LIKE (its ``%`` and ``_`` are the user's characters)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def sites_matching(q: str) -> Any | None:
    """The sites with a term matching ``q`` (a subquery), None when none can."""
    cond = term_condition(q)
    return None if cond is None else sa.select(TERMS.c.site).where(cond)


def matches(conn: Connection, sites: list[str], q: str) -> dict[str, list[Term]]:
    """For a page of sites, the terms that matched ``q`` (what each row shows)."""
    cond = term_condition(q)
    out: dict[str, list[Term]] = {}
    if cond is None or not sites:
        return out
    for r in conn.execute(sa.select(TERMS).where(TERMS.c.site.in_(sites), cond)
                          .order_by(TERMS.c.site, TERMS.c.kind, TERMS.c.value)):
        found = out.setdefault(r.site, [])
        if len(found) < 5:
            found.append(Term(r.kind, r.value, r.shown, r.owner))
    return out


def backfill(conn: Connection, at: dt.datetime | None = None) -> int:
    """Terms and gate facts for the sites uploaded before migration 0006 (how many): their
    names, SIRET and trunks from the site's row, the gate facts from its events. Their
    numbers come with their next upload (the console never kept the profiles)."""
    when = _utc(at or now_utc())
    sites = conn.execute(sa.text("SELECT site, site_name, customer, trunks FROM "
                                 "console_sites")).all()
    for row in sites:
        siret = row.site.split("/", 1)[0]
        trunks = [str(t) for t in json.loads(row.trunks or "[]")]
        replace_terms(conn, row.site, terms_of(
            siret=siret if siret_is_valid(siret) else None, customer=row.customer,
            site_name=row.site_name, trunks=trunks, dids=[]))
        events = [Event(r.id, r.site, r.trunk, r.kind, _utc(r.at), r.actor, r.evidence, {})
                  for r in conn.execute(sa.select(EVENTS).where(EVENTS.c.site == row.site)
                                        .order_by(EVENTS.c.at, EVENTS.c.id))]
        named: list[str | None] = [*trunks] or [None]
        write_gate(conn, row.site, events, [decide(events, t, when) for t in named])
    return len(sites)
