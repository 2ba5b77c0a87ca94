"""The sites page: one row per site the user may see, with its light and since when, the
customer, integrator, last run and the international option's state per trunk; search,
filter by light, sort, paging, and the same list as CSV. The store pages and sorts in SQL
and the option states of a page come from one query over the gate's events."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, g, render_template, request

from harness.console import csvsafe, localtime, wording
from harness.console.app import now, store_of
from harness.console.auth import current_user, login_required
from harness.console.labels import label
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


def _query() -> dict[str, Any]:
    sort = request.args.get("sort", "site")
    return {"q": request.args.get("q", "").strip(), "light": request.args.get("light", ""),
            "sort": sort if sort in SORTS else "site",
            "dir": "desc" if request.args.get("dir") == "desc" else "asc",
            "archived": request.args.get("archived") == "1"}


@bp.route("/")
@login_required
def index() -> Any:
    query = _query()
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
    store = store_of()

    def fetch(p: int) -> tuple[list[SiteRow], int]:
        return store.page(current_user(), q=query["q"], light=query["light"],
                          sort=query["sort"], desc=query["dir"] == "desc",
                          offset=(p - 1) * PER_PAGE, limit=PER_PAGE, at=now(),
                          archived=query["archived"])
    rows, total = fetch(page)
    pages = max(1, (total + PER_PAGE - 1) // PER_PAGE)
    if page > pages:
        page = pages
        rows, total = fetch(page)
    return render_template("sites.html", rows=list(zip(rows, option_states(rows, now()),
                                                       strict=True)),
                           query=query, page=page, pages=pages, total=total)


@bp.route("/sites.csv")
@login_required
def export() -> Response:
    query, at, lang, tz = _query(), now(), g.lang, wording.zone_of()
    rows, _ = store_of().page(current_user(), q=query["q"], light=query["light"],
                              sort=query["sort"], desc=query["dir"] == "desc", at=at,
                              archived=query["archived"])
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
