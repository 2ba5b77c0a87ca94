"""A site's page: its runs with their files, the gate's trail and the console's audit for
the site, and the forms that switch the international option on or off. Activation goes
through :meth:`GateStore.activate`, so the console obeys exactly the gate's rules and shows
its refusal; only the technical service (and the administrator) sees and may post the forms.
A site the user may not see answers 404, never 403: its existence is not disclosed.

Both buttons act in two steps (:mod:`harness.console.confirm`): the first POST answers a
page that says what will happen (:mod:`harness.console.consequence`), only its confirm
button acts, with a one-time token; plain forms, so it works without JavaScript."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)

from harness.console import consequence, csvsafe, history, keeping, localtime, wording
from harness.console.app import now, store_of
from harness.console.auth import client_ip, current_user, login_required
from harness.console.confirm import ConfirmRefused
from harness.console.labels import label
from harness.console.sites import option_states
from harness.console.store import SiteRow
from harness.gate.store import GateRefused, Status

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
    show_archived = request.args.get("archived") == "1"
    return render_template("site.html", row=row, options=option_states([row], now())[0],
                           runs=store.runs(key, archived=show_archived),
                           show_archived=show_archived,
                           site_archived=keeping.site_archived(store, key),
                           retention=keeping.retention_days(store.engine),
                           kind_of=keeping.kind_of, trail=store.gate.history(key),
                           audit=store.audit_log(key), technical=current_user().technical,
                           changes=history.changes(done, g.lang),
                           incidents=history.incidents(done, g.lang),
                           chart=history.chart(history.points(done), g.lang,
                                               wording.zone_of()))


@bp.route("/sites/<path:key>/incidents.csv")
@login_required
def incidents_csv(key: str) -> Response:
    """The site's incident rows across its runs, in the operator's five fields (plus the
    run), semicolon-separated as ``incidents.csv`` is."""
    _visible(key)
    w = csvsafe.Writer()
    lang, tz = g.lang, wording.zone_of()
    w.row([f"{label('csv_run', lang)} ({localtime.zone_label(tz, lang)})",
           *(label(k, lang) for k in ("csv_date", "csv_time", "calling", "called",
                                      "symptom"))])
    for i in history.incidents(store_of().digests(key), lang):
        w.row([localtime.bare(i.run, lang, tz), i.date, i.time, i.calling, i.called,
               i.symptom])
    return Response(w.text(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=incidents.csv"})


def _trunk(key: str) -> str:
    trunk = request.form.get("trunk", "").strip()
    row = store_of().site_row(key, now())
    assert row is not None  # _visible checked it
    if not trunk or (row.trunks and trunk not in row.trunks):
        abort(400)
    return trunk


def _refuse_activation(key: str, trunk: str, refusal: Status | None, why_en: str) -> None:
    """Flash the gate's refusal in the page's language and audit it (its state and the
    gate's reason as a code, so the audit pages say it in their reader's language)."""
    store, user, at = store_of(), current_user(), now()
    store.audit(user.username, "activate_refused", site=key, ip=client_ip(), at=at,
                detail={"trunk": trunk, "reason": why_en,
                        **({"state": refusal.state, "why": {
                            "code": refusal.code,
                            "params": {k: v.isoformat() if isinstance(v, dt.datetime)
                                       else v for k, v in refusal.params.items()}}}
                           if refusal is not None else {})})
    row = store.site_row(key, at)
    assert row is not None
    why = next((o.explain(g.lang, wording.zone_of()) for o in option_states([row], at)[0]
                if o.trunk == trunk), why_en)
    flash(f"{label('refused', g.lang)} ({trunk}) : {why}", "error")


def _technician(key: str) -> SiteRow:
    row = _visible(key)
    if not current_user().technical:
        abort(404)
    return row


@bp.route("/sites/<path:key>/activate", methods=["POST"])
@login_required
def activate(key: str) -> Any:
    """The first step: the confirmation page when the gate would allow it now, else the
    gate's refusal at once (nothing to confirm)."""
    row = _technician(key)
    trunk, store, at = _trunk(key), store_of(), now()
    st = store.gate.status(key, trunk, at=at)
    if st.state not in ("eligible", "active"):
        _refuse_activation(key, trunk, st,
                           f"activation refused for {key} / {trunk}: {st.reason}")
        return redirect(url_for("site.page", key=key))
    token = store.confirmations.issue(user_id=current_user().id, site=key, trunk=trunk,
                                      action="activate", detail={}, at=at)
    return _confirm_page(row, trunk, "activate", token, consequence.activation(
        trunk, row.site_name, store.gate.history(key), g.lang, wording.zone_of()))


@bp.route("/sites/<path:key>/revoke", methods=["POST"])
@login_required
def revoke(key: str) -> Any:
    """The first step: the reason is required, then the confirmation page."""
    row = _technician(key)
    trunk, store, at = _trunk(key), store_of(), now()
    reason = request.form.get("reason", "").strip()
    if not reason:
        flash(label("reason_needed", g.lang), "error")
        return redirect(url_for("site.page", key=key))
    dests = request.form.get("destinations", "").split()
    token = store.confirmations.issue(user_id=current_user().id, site=key, trunk=trunk,
                                      action="revoke",
                                      detail={"reason": reason, "destinations": dests}, at=at)
    return _confirm_page(row, trunk, "revoke", token,
                         consequence.revocation(trunk, reason, dests, g.lang))


def _confirm_page(row: SiteRow, trunk: str, action: str, token: str,
                  what: consequence.Consequence) -> Any:
    resp = make_response(render_template("confirm.html", row=row, trunk=trunk,
                                         action=action, token=token, what=what))
    resp.headers["Cache-Control"] = "no-store"  # the token must not outlive the page
    return resp


@bp.route("/sites/<path:key>/confirm", methods=["POST"])
@login_required
def confirm(key: str) -> Any:
    """The second step: only a live token of this user, site, trunk and action acts; the
    gate's rules are applied again now (the state may have changed since the first step)."""
    _technician(key)
    user, store, at = current_user(), store_of(), now()
    trunk, token = _trunk(key), request.form.get("token", "")
    action = request.form.get("action", "")
    if action not in ("activate", "revoke"):
        abort(400)
    if request.form.get("choice") == "cancel":
        gone = store.confirmations.cancel(token, user_id=user.id, at=at)
        if gone is not None:
            store.audit(user.username, "confirm_cancelled", site=key, ip=client_ip(), at=at,
                        detail={"trunk": gone.trunk, "action": gone.action})
        flash(label("confirm_cancelled", g.lang), "ok")
        return redirect(url_for("site.page", key=key))
    try:
        pending = store.confirmations.take(
            token, user_id=user.id, site=key, trunk=trunk,
            action="activate" if action == "activate" else "revoke", at=at)
    except ConfirmRefused as exc:
        store.audit(user.username, "confirm_refused", site=key, ip=client_ip(), at=at,
                    detail={"trunk": trunk, "action": action, "why": exc.why})
        flash(label(f"confirm_{exc.why}", g.lang), "error")
        return redirect(url_for("site.page", key=key))
    if pending.action == "activate":
        try:
            st = store.gate.activate(key, trunk, actor=user.username, at=at)
        except GateRefused as exc:
            _refuse_activation(key, trunk, exc.status, str(exc))
        else:
            store.refresh_site(key, at)
            store.audit(user.username, "activate", site=key, ip=client_ip(), at=at,
                        detail={"trunk": trunk, "state": st.state})
            flash(label("activated", g.lang), "ok")
        return redirect(url_for("site.page", key=key))
    reason = str(pending.detail.get("reason", ""))
    dests = [str(d) for d in pending.detail.get("destinations", [])]
    store.gate.revoke(key, trunk, actor=user.username, reason=reason, destinations=dests,
                      at=at)
    store.refresh_site(key, at)
    store.audit(user.username, "revoke", site=key, ip=client_ip(), at=at,
                detail={"trunk": trunk, "reason": reason, "destinations": dests})
    flash(label("revoked", g.lang), "ok")
    return redirect(url_for("site.page", key=key))
