"""The sites page: one row per site the user may see, with its light and since when, the
customer, integrator, last run and the international option's state per trunk; search (a
number in any form, a SIRET, a trunk, a name: :mod:`harness.console.search`), filters by
light, by a trunk's option state and "activable maintenant", sort, paging, and the same list
as CSV. Every choice is in the URL (GET), so a search is bookmarked or sent as a link. The
store pages and sorts in SQL and the option states of a page come from one query over the
gate's events."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, g, render_template, request, url_for

from harness.console import csvsafe, localtime, wording
from harness.console.app import now, store_of
from harness.console.auth import current_user, login_required
from harness.console.labels import label
from harness.console.search import GATE_FILTERS
from harness.console.standing import trunk_light
from harness.console.store import SORTS, SiteRow

bp = Blueprint("sites", __name__)
PER_PAGE = 50


@dataclass(frozen=True)
class OptionState:
    """The gate's state of one trunk, with the time left when it waits."""

    trunk: str | None
    state: str
    reason: str
    left: str | None
    eligible_at: dt.datetime | None = None
    light: str = "grey"  # this trunk's light (harness.console.standing.trunk_light)
    code: str = ""  # the gate's reason as a code and parameters (Status.code, .params)
    params: dict[str, Any] = field(default_factory=dict)

    def explain(self, lang: str, tz: ZoneInfo | None = None) -> str:
        """The reason in the page's language, its times in ``tz`` (the user's zone): the
        gate words its reasons in English (its CLI's) and gives their code beside them."""
        return wording.gate_reason(self.code, self.params, lang,
                                   tz or localtime.zone_or_default(None), self.reason)


def _trunks(row: SiteRow) -> list[str | None]:
    return [*row.trunks] or [None]


def option_states(rows: list[SiteRow], at: dt.datetime) -> list[list[OptionState]]:
    """Each row's trunks' states (a site whose trunks are unknown: one site-wide state)."""
    wanted = [(r.site, t) for r in rows for t in _trunks(r)]
    found = store_of().statuses(wanted, at)
    out = []
    for r in rows:
        mine = []
        for trunk in _trunks(r):
            st = found[(r.site, trunk)]
            left = None
            if st.state == "waiting" and st.eligible_at is not None:
                secs = int((st.eligible_at - at).total_seconds())
                left = f"{secs // 3600} h {secs % 3600 // 60:02d}"
            light = (trunk_light(r.checks, st.state) if r.checks is not None
                     else r.light)  # a site known only to the gate: its listing light
            mine.append(OptionState(trunk, st.state, st.reason, left, st.eligible_at, light,
                                    st.code, st.params))
        out.append(mine)
    return out


MAX_QUERY = 200  # characters of a search kept (a site's key is at most 200)


def _query() -> dict[str, Any]:
    """The page's choices from the URL; anything unknown falls back to no filter."""
    sort, gate = request.args.get("sort", "site"), request.args.get("gate", "")
    return {"q": request.args.get("q", "").strip()[:MAX_QUERY],
            "light": request.args.get("light", ""),
            "gate": gate if gate in GATE_FILTERS else "",
            "now": "1" if request.args.get("now") == "1" else "",
            "sort": sort if sort in SORTS else "site",
            "dir": "desc" if request.args.get("dir") == "desc" else "asc",
            "archived": "1" if request.args.get("archived") == "1" else ""}


def _rows(query: dict[str, Any], at: dt.datetime, offset: int = 0,
          limit: int | None = None) -> tuple[list[SiteRow], int]:
    return store_of().page(current_user(), q=query["q"], light=query["light"],
                           gate=query["gate"], eligible_now=query["now"] == "1",
                           sort=query["sort"], desc=query["dir"] == "desc",
                           offset=offset, limit=limit, at=at,
                           archived=query["archived"] == "1")


def link(endpoint: str, query: dict[str, Any], **changes: Any) -> str:
    """The URL of ``endpoint`` with the page's choices and ``changes`` (empty ones left
    out, so a shared link is short)."""
    merged = {**query, **changes}
    return url_for(endpoint, **{k: v for k, v in merged.items() if v not in ("", None)})


def matched(row: SiteRow, q: str, lang: str) -> list[str]:
    """What found the row, said as the technician reads it: the number and its trunk
    (``numéro +33 1 23 45 67 89 (trunk01)``), the SIRET, the trunk, or the name that
    holds the query."""
    if not q:
        return []
    out = []
    for t in row.matched:
        text = f"{label('match_' + t.kind, lang)} {t.shown}"
        out.append(text + (f" ({t.owner})" if t.kind == "did" and t.owner else ""))
    low = q.lower()
    for kind, value in (("customer", row.customer), ("site", row.site_name),
                        ("integrator", row.integrator or "")):
        if low in value.lower() and not any(t.kind == kind for t in row.matched):
            out.append(f"{label('match_' + kind, lang)} {value}")
    if not out and low in row.site.lower():
        out.append(f"{label('match_key', lang)} {row.site}")
    return out


@bp.route("/")
@login_required
def index() -> Any:
    query = _query()
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
    at = now()
    rows, total = _rows(query, at, (page - 1) * PER_PAGE, PER_PAGE)
    pages = max(1, (total + PER_PAGE - 1) // PER_PAGE)
    if page > pages:
        page = pages
        rows, total = _rows(query, at, (page - 1) * PER_PAGE, PER_PAGE)
    found = [matched(r, query["q"], g.lang) for r in rows]
    return render_template("sites.html", rows=list(zip(rows, option_states(rows, at), found,
                                                       strict=True)),
                           query=query, page=page, pages=pages, total=total,
                           gate_filters=GATE_FILTERS,
                           link=lambda endpoint, **kw: link(endpoint, query, **kw))


@bp.route("/sites.csv")
@login_required
def export() -> Response:
    query, at, lang, tz = _query(), now(), g.lang, wording.zone_of()
    rows, _ = _rows(query, at)
    w = csvsafe.Writer()
    zone = f" ({localtime.zone_label(tz, lang, at)})"
    w.row([label(k, lang) + (zone if k in ("since", "last_run") else "")
           for k in ("site", "light", "since", "customer", "integrator", "last_run",
                     "option")])
    for r, opts in zip(rows, option_states(rows, at), strict=True):
        text = " | ".join(f"{o.trunk or '-'}: {label('state_' + o.state, lang)}"
                          + (f" ({o.left})" if o.left else "") for o in opts)
        w.row([r.site, label("light_" + r.light, lang),
               localtime.bare(r.since, lang, tz), r.customer, r.integrator or "",
               localtime.bare(r.last_run, lang, tz), text])
    return Response(w.text(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=sites.csv"})
