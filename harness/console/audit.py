"""The administrator's audit page (``/audit``) and its CSV (``/audit.csv``): every entry of
the console's audit log, newest first, filtered by actor, action, site and a date range (GET
parameters, so a filtered view is a link), paged; the CSV has the same filters and every
matching row, its cells neutralised (:mod:`harness.console.csvsafe`). Logins, refusals,
logouts, password changes, user and token changes, uploads and downloads are otherwise on no
page: this is where they are read. Others get 404, as for the users page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, g, render_template, request

from harness.console import csvsafe, localtime, wording
from harness.console.app import store_of
from harness.console.auth import role_required
from harness.console.labels import label
from harness.console.store import AuditFilter

bp = Blueprint("audit", __name__)
PER_PAGE = 100


def _day(text: str) -> dt.datetime | None:
    """A ``YYYY-MM-DD`` parameter as midnight UTC; anything else as no bound."""
    try:
        return dt.datetime.combine(dt.date.fromisoformat(text.strip()), dt.time(),
                                   tzinfo=dt.UTC)
    except ValueError:
        return None


def _filters() -> tuple[AuditFilter, dict[str, str]]:
    """The filter from the query string, and the query string's values as given (for the
    form and the links). ``to`` is a day included whole."""
    args = {k: request.args.get(k, "").strip()[:200]
            for k in ("actor", "action", "site", "from", "to")}
    until = _day(args["to"])
    return AuditFilter(actor=args["actor"], action=args["action"], site=args["site"],
                       since=_day(args["from"]),
                       until=until + dt.timedelta(days=1) if until else None), args


@bp.route("/audit")
@role_required("administrator")
def index() -> Any:
    wanted, args = _filters()
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
    store = store_of()
    entries, total = store.audit_page(wanted, offset=(page - 1) * PER_PAGE, limit=PER_PAGE)
    pages = max(1, (total + PER_PAGE - 1) // PER_PAGE)
    return render_template("audit.html", entries=entries, total=total, page=page,
                           pages=pages, args=args, actions=store.audit_actions(),
                           links={k: v for k, v in args.items() if v})


@bp.route("/audit.csv")
@role_required("administrator")
def export() -> Response:
    wanted, _ = _filters()
    entries, _ = store_of().audit_page(wanted, limit=None)
    lang, tz = g.lang, wording.zone_of()
    w = csvsafe.Writer()
    w.row([f"{label('when', lang)} ({localtime.zone_label(tz, lang)})",
           *(label(k, lang) for k in ("actor", "action", "site", "address", "detail"))])
    for e in entries:
        w.row([localtime.bare(e.at, lang, tz, seconds=True), e.actor,
               wording.action(e.action, lang), e.site or "", e.ip or "",
               wording.detail_text(e.action, e.detail, lang, tz)])
    return Response(w.text(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=audit.csv"})
