"""The probes whose signed sweeps the console trusts: the administrator's page to register a
probe's public key (printed by ``recette probe keygen`` on the probe) and to retire one. A key
is a trust anchor of the international-option gate, so only an administrator sees the page,
and every change is audit-logged."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from harness.console.app import now, store_of
from harness.console.auth import client_ip, current_user, role_required
from harness.console.labels import label
from harness.errors import RecetteError

bp = Blueprint("probes", __name__)


@bp.route("/probes")
@role_required("administrator")
def index() -> Any:
    return render_template("probes.html", keys=store_of().probe_keys())


@bp.route("/probes", methods=["POST"])
@role_required("administrator")
def add() -> Any:
    store, admin, at = store_of(), current_user(), now()
    name = request.form.get("name", "")
    try:
        kid = store.add_probe_key(name, request.form.get("public_key", ""),
                                  by=admin.username, at=at)
    except RecetteError as exc:
        flash(str(exc), "error")
        return redirect(url_for("probes.index")), 303
    store.audit(admin.username, "probe_key_add", ip=client_ip(), at=at,
                detail={"name": name.strip(), "key_id": kid})
    flash(label("done", g.lang), "ok")
    return redirect(url_for("probes.index")), 303


@bp.route("/probes/revoke", methods=["POST"])
@role_required("administrator")
def revoke() -> Any:
    store, admin, at = store_of(), current_user(), now()
    kid = request.form.get("key_id", "")
    try:
        store.revoke_probe_key(kid, by=admin.username, at=at)
    except RecetteError as exc:
        flash(str(exc), "error")
        return redirect(url_for("probes.index")), 303
    store.audit(admin.username, "probe_key_revoke", ip=client_ip(), at=at,
                detail={"key_id": kid})
    return redirect(url_for("probes.index")), 303
