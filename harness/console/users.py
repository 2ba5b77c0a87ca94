"""Users, their sites and upload tokens: the administrator's page. Creating, enabling and
disabling a user (which ends its sessions), granting a site and making or revoking a token
are audit-logged; a new user's password meets :mod:`harness.console.policy` (refused with the
rule in the page's language); a token is shown once and stored hashed."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from harness.console.app import now, store_of
from harness.console.auth import client_ip, current_user, role_required
from harness.console.labels import label
from harness.console.policy import MIN_LENGTH, PolicyError
from harness.console.store import ROLES
from harness.errors import RecetteError

bp = Blueprint("users", __name__)


@bp.route("/users")
@role_required("administrator")
def index() -> Any:
    store = store_of()
    users = store.users()
    return render_template("users.html", users=users, roles=ROLES, min_length=MIN_LENGTH,
                           grants={u.id: store.grants(u.id) for u in users},
                           tokens=store.tokens(), sites=store.all_sites())


@bp.route("/users", methods=["POST"])
@role_required("administrator")
def create() -> Any:
    store, admin = store_of(), current_user()
    f = request.form
    try:
        user = store.add_user(f.get("username", "").strip(), f.get("password", ""),
                              f.get("role", ""), f.get("company", "").strip() or None,
                              at=now())
    except PolicyError as exc:
        flash(label(exc.key, g.lang), "error")
    except RecetteError as exc:
        flash(str(exc), "error")
    else:
        store.audit(admin.username, "user_add", ip=client_ip(), at=now(),
                    detail={"user": user.username, "role": user.role,
                            "company": user.company})
        flash(label("done", g.lang), "ok")
    return redirect(url_for("users.index"))


def _target() -> int:
    try:
        uid = int(request.form.get("user_id", ""))
    except ValueError:
        abort(400)
    if store_of().user(uid) is None:
        abort(404)
    return uid


@bp.route("/users/grant", methods=["POST"])
@role_required("administrator")
def grant() -> Any:
    uid, site = _target(), request.form.get("site", "").strip()
    if not site:
        abort(400)
    store = store_of()
    if request.form.get("remove"):
        store.ungrant(uid, site)
    else:
        store.grant(uid, site)
    target = store.user(uid)
    store.audit(current_user().username, "ungrant" if request.form.get("remove") else "grant",
                site=site, ip=client_ip(), at=now(),
                detail={"user_id": uid, "user": target.username if target else None})
    return redirect(url_for("users.index"))


@bp.route("/users/active", methods=["POST"])
@role_required("administrator")
def active() -> Any:
    uid, on = _target(), request.form.get("active") == "1"
    if uid == current_user().id and not on:  # the last way back in must not be shut
        flash(label("not_yourself", g.lang), "error")
        return redirect(url_for("users.index"))
    store_of().set_active(uid, on, at=now())
    target = store_of().user(uid)
    store_of().audit(current_user().username, "user_enable" if on else "user_disable",
                     ip=client_ip(), at=now(),
                     detail={"user_id": uid, "user": target.username if target else None})
    return redirect(url_for("users.index"))


@bp.route("/users/token", methods=["POST"])
@role_required("administrator")
def token() -> Any:
    uid, store, admin = _target(), store_of(), current_user()
    made = store.create_token(uid, request.form.get("label", "").strip()[:200],
                              created_by=admin.username, at=now())
    owner = store.user(uid)
    store.audit(admin.username, "token_add", ip=client_ip(), at=now(),
                detail={"user_id": uid, "user": owner.username if owner else None})
    users = store.users()
    page = render_template("users.html", users=users, roles=ROLES, min_length=MIN_LENGTH,
                           grants={u.id: store.grants(u.id) for u in users},
                           tokens=store.tokens(), sites=store.all_sites(), new_token=made,
                           new_token_owner=owner.username if owner else "")
    return page, 200, {"Cache-Control": "no-store"}  # shown once: kept by no cache


@bp.route("/users/token/revoke", methods=["POST"])
@role_required("administrator")
def token_revoke() -> Any:
    try:
        tid = int(request.form.get("token_id", ""))
    except ValueError:
        abort(400)
    store_of().revoke_token(tid, at=now())
    store_of().audit(current_user().username, "token_revoke", ip=client_ip(), at=now(),
                     detail={"token_id": tid})
    return redirect(url_for("users.index"))
