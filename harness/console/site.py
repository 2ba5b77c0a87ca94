"""A site's page: its runs with their files, the gate's trail and the console's audit for
the site, and the forms that switch the international option on or off. Activation goes
through :meth:`GateStore.activate`, so the console obeys exactly the gate's rules and shows
its refusal; only the technical service (and the administrator) sees and may post the forms.
A site the user may not see answers 404, never 403: its existence is not disclosed."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for

from harness.console import csvsafe, history
from harness.console.app import now, store_of
from harness.console.auth import client_ip, current_user, login_required
from harness.console.labels import label
from harness.console.sites import option_states
from harness.console.store import SiteRow
from harness.gate.store import GateRefused

bp = Blueprint("site", __name__)


def _visible(key: str) -> SiteRow:
    """The site's row, or 404 when the user may not see it or it does not exist."""
    store, user = store_of(), current_user()
    row = store.site_row(key, now()) if store.can_see(user, key) else None
    if row is None:
        abort(404)
    return row


@bp.route("/sites/<path:key>")
@login_required
def page(key: str) -> Any:
    row, store = _visible(key), store_of()
    done = store.digests(key)
    return render_template("site.html", row=row, options=option_states([row], now())[0],
                           runs=store.runs(key), trail=store.gate.history(key),
                           audit=store.audit_log(key), technical=current_user().technical,
                           changes=history.changes(done, g.lang),
                           incidents=history.incidents(done, g.lang),
                           chart=history.chart(history.points(done),
                                               mos_label=label("chart_mos", g.lang),
                                               loss_label=label("chart_loss", g.lang)))


@bp.route("/sites/<path:key>/incidents.csv")
@login_required
def incidents_csv(key: str) -> Response:
    """The site's incident rows across its runs, in the operator's five fields (plus the
    run), semicolon-separated as ``incidents.csv`` is."""
    _visible(key)
    w = csvsafe.Writer()
    w.row(["run", "date", "hh:mm:ss", "calling", "called", "symptom"])
    for i in history.incidents(store_of().digests(key), g.lang):
        w.row([i.run, i.date, i.time, i.calling, i.called, i.symptom])
    return Response(w.text(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=incidents.csv"})


def _trunk(key: str) -> str:
    trunk = request.form.get("trunk", "").strip()
    row = store_of().site_row(key, now())
    assert row is not None  # _visible checked it
    if not trunk or (row.trunks and trunk not in row.trunks):
        abort(400)
    return trunk


@bp.route("/sites/<path:key>/activate", methods=["POST"])
@login_required
def activate(key: str) -> Any:
    _visible(key)
    user = current_user()
    if not user.technical:
        abort(404)
    trunk, store, at = _trunk(key), store_of(), now()
    try:
        st = store.gate.activate(key, trunk, actor=user.username, at=at)
    except GateRefused as exc:
        store.audit(user.username, "activate_refused", site=key, ip=client_ip(), at=at,
                    detail={"trunk": trunk, "reason": str(exc)})
        row = store.site_row(key, at)
        assert row is not None
        why = next((o.explain(g.lang) for o in option_states([row], at)[0]
                    if o.trunk == trunk), str(exc))
        flash(f"{label('refused', g.lang)} ({trunk}) : {why}", "error")
    else:
        store.refresh_site(key, at)
        store.audit(user.username, "activate", site=key, ip=client_ip(), at=at,
                    detail={"trunk": trunk, "state": st.state})
        flash(label("activated", g.lang), "ok")
    return redirect(url_for("site.page", key=key))


@bp.route("/sites/<path:key>/revoke", methods=["POST"])
@login_required
def revoke(key: str) -> Any:
    _visible(key)
    user = current_user()
    if not user.technical:
        abort(404)
    trunk, store, at = _trunk(key), store_of(), now()
    reason = request.form.get("reason", "").strip()
    if not reason:
        flash(label("reason_needed", g.lang), "error")
        return redirect(url_for("site.page", key=key))
    dests = request.form.get("destinations", "").split()
    store.gate.revoke(key, trunk, actor=user.username, reason=reason, destinations=dests,
                      at=at)
    store.refresh_site(key, at)
    store.audit(user.username, "revoke", site=key, ip=client_ip(), at=at,
                detail={"trunk": trunk, "reason": reason, "destinations": dests})
    flash(label("revoked", g.lang), "ok")
    return redirect(url_for("site.page", key=key))
