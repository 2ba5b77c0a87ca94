"""The site page's archive and delete actions, for the technical service and the
administrator: archive a run or a site (hidden, files kept, reversible), delete a run or
all of a site's files (bytes erased, rows kept: the gate's trail names "run N", and the
gate's events are never touched). Each action is a GET that shows its consequence and a
confirmation form, then a POST that does it, with one audit line (who, what, how many
files and bytes). An integrator gets 404, as for the option's forms."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from harness.console import keeping, localtime, wording
from harness.console.app import now, store_of
from harness.console.auth import client_ip, current_user, login_required
from harness.console.labels import label
from harness.console.site import _visible
from harness.console.store import Run

bp = Blueprint("housekeeping", __name__)
RUN_ACTIONS = ("archive_run", "unarchive_run", "delete_run")
SITE_ACTIONS = ("archive_site", "unarchive_site", "delete_site")
AUDIT = {"archive_run": "run_archive", "unarchive_run": "run_unarchive",
         "delete_run": "run_delete", "archive_site": "site_archive",
         "unarchive_site": "site_unarchive", "delete_site": "site_files_delete"}


def _run(key: str) -> Run:
    """The run named by the form or query (``run``), of this site, else 404."""
    try:
        pk = int(request.values.get("run", ""))
    except ValueError:
        abort(404)
    run = store_of().run(pk)
    if run is None or run.site != key:
        abort(404)
    return run


def _live(runs: list[Run]) -> tuple[int, int]:
    """Files still stored and their bytes, over ``runs``."""
    files = [(n, s) for r in runs for n, s in r.files if n not in r.purged]
    return len(files), sum(s for _, s in files)


@bp.route("/sites/<path:key>/files/<action>", methods=["GET", "POST"])
@login_required
def act(key: str, action: str) -> Any:
    row = _visible(key)
    user, store, lang = current_user(), store_of(), g.lang
    if not user.technical or action not in RUN_ACTIONS + SITE_ACTIONS:
        abort(404)
    run = _run(key) if action in RUN_ACTIONS else None
    runs = [run] if run is not None else store.runs(key)
    n, size = _live(runs)
    what = label("files_what_" + action, lang).format(
        when=localtime.when(run.generated, lang, wording.zone_of()) if run else "", n=n,
        size=localtime.size(size, lang), site=row.site_name, runs=len(runs))
    if request.method == "GET":
        return render_template("files_confirm.html", row=row, action=action, what=what,
                               run=run, danger=action.startswith("delete"))
    at, detail = now(), {}
    if run is not None:
        detail = {"run": run.id, "run_id": run.run_id, "generated": run.generated}
    if action in ("archive_run", "unarchive_run"):
        assert run is not None
        keeping.archive_run(store, run.id, user.username, at, undo=action.startswith("un"))
        detail.update(files=n, bytes=size)
        done = label("files_done_" + action, lang)
    elif action in ("archive_site", "unarchive_site"):
        keeping.archive_site(store, key, at, undo=action.startswith("un"))
        detail.update(runs=len(runs), files=n, bytes=size)
        done = label("files_done_" + action, lang)
    else:
        purged = (keeping.delete_run(store, run.id, user.username, at) if run is not None
                  else keeping.delete_site_files(store, key, user.username, at))
        detail.update(purged.detail())
        if run is None:
            detail["runs"] = len(runs)
        done = label("files_done_" + action, lang).format(
            n=purged.files, size=localtime.size(purged.size, lang))
    store.audit(user.username, AUDIT[action], site=key, ip=client_ip(), at=at,
                detail=detail)
    flash(done, "ok")
    if action == "archive_site":
        return redirect(url_for("sites.index"))
    return redirect(url_for("site.page", key=key))
