"""The sites page: one row per site the user may see, with its light and since when, the
customer, integrator, last run and the international option's state per trunk; search,
filter by light, sort, paging, and the same list as CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, g, render_template, request

from harness.console.app import now, store_of
from harness.console.auth import current_user, login_required
from harness.console.labels import label
from harness.console.store import SiteRow
from harness.gate.store import Status

bp = Blueprint("sites", __name__)
PER_PAGE = 50
SORTS = ("site", "customer", "integrator", "light", "since", "last_run")
LIGHT_ORDER = {"red": 0, "orange": 1, "grey": 2, "green": 3}


@dataclass(frozen=True)
class OptionState:
    """The gate's state of one trunk, with the time left when it waits."""

    trunk: str | None
    state: str
    reason: str
    left: str | None
    eligible_at: dt.datetime | None = None

    def explain(self, lang: str) -> str:
        """The reason in the page's language: the gate words its reasons in English (its
        CLI's), so the common states are said again here; the others keep the gate's
        details (dates, references, the revocation's reason)."""
        if self.state == "waiting" and self.eligible_at is not None:
            return (f"{label('allowed_from', lang)} {self.eligible_at:%Y-%m-%d %H:%M} UTC "
                    f"({label('left', lang)} {self.left})")
        if self.state in ("no-verification", "eligible"):
            return label("why_" + self.state, lang)
        return self.reason


def option_states(row: SiteRow, at: dt.datetime) -> list[OptionState]:
    gate = store_of().gate
    out = []
    trunks: list[str | None] = [*row.trunks] or [None]
    for trunk in trunks:
        st: Status = gate.status(row.site, trunk, at=at)
        left = None
        if st.state == "waiting" and st.eligible_at is not None:
            secs = int((st.eligible_at - at).total_seconds())
            left = f"{secs // 3600} h {secs % 3600 // 60:02d}"
        out.append(OptionState(trunk, st.state, st.reason, left, st.eligible_at))
    return out


def _rows() -> tuple[list[SiteRow], dict[str, Any]]:
    """The user's rows after search, filter and sort; the query as given."""
    store, user = store_of(), current_user()
    rows = store.site_rows(store.visible_sites(user))
    q = request.args.get("q", "").strip().lower()
    light = request.args.get("light", "")
    sort = request.args.get("sort", "site")
    desc = request.args.get("dir") == "desc"
    if q:
        rows = [r for r in rows if q in " ".join(
            (r.site, r.customer, r.integrator or "", r.site_name)).lower()]
    if light in LIGHT_ORDER:
        rows = [r for r in rows if r.light == light]
    sort = sort if sort in SORTS else "site"
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)

    def key(r: SiteRow) -> Any:
        return {"site": r.site.lower(), "customer": r.customer.lower(),
                "integrator": (r.integrator or "").lower(), "light": LIGHT_ORDER[r.light],
                "since": r.since or epoch,
                "last_run": r.last_run.generated if r.last_run else ""}[sort]
    rows.sort(key=key, reverse=desc)
    return rows, {"q": request.args.get("q", ""), "light": light, "sort": sort,
                  "dir": "desc" if desc else "asc"}


@bp.route("/")
@login_required
def index() -> Any:
    rows, query = _rows()
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
    pages = max(1, (len(rows) + PER_PAGE - 1) // PER_PAGE)
    page = min(page, pages)
    shown = rows[(page - 1) * PER_PAGE: page * PER_PAGE]
    at = now()
    return render_template("sites.html", rows=[(r, option_states(r, at)) for r in shown],
                           query=query, page=page, pages=pages, total=len(rows),
                           sorts=SORTS)


@bp.route("/sites.csv")
@login_required
def export() -> Response:
    rows, _ = _rows()
    at, lang = now(), g.lang
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";")
    w.writerow([label(k, lang) for k in ("site", "light", "since", "customer", "integrator",
                                         "last_run", "option")])
    for r in rows:
        opts = " | ".join(f"{o.trunk or '-'}: {label('state_' + o.state, lang)}"
                          + (f" ({o.left})" if o.left else "") for o in option_states(r, at))
        w.writerow([r.site, label("light_" + r.light, lang),
                    f"{r.since:%Y-%m-%d %H:%M}" if r.since else "", r.customer,
                    r.integrator or "", r.last_run.generated if r.last_run else "", opts])
    return Response(buf.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=sites.csv"})
