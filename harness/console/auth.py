"""Log in and out, and change one's password. A session is a signed cookie holding the user's
id and the mark of the user's password (:func:`~harness.console.store.password_mark`); each
request reads the user again from the store, so a disabled account, or a session opened
before the password changed, is out at its next click, on every instance. Failed logins (and
wrong current passwords on the password page) are counted in the store (per user name and per
client address) and refuse further tries for a while; every login, refusal, logout and
password change is in the audit log."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from harness.console.app import now, store_of
from harness.console.labels import label
from harness.console.store import MIN_PASSWORD, User

bp = Blueprint("auth", __name__)
F = TypeVar("F", bound=Callable[..., Any])


def client_ip() -> str:
    return request.remote_addr or "?"


@bp.before_app_request
def _load_user() -> None:
    uid = session.get("uid")
    user = store_of().user(int(uid)) if isinstance(uid, int) else None
    ok = user is not None and user.active and session.get("pw") == user.mark
    g.user = user if ok else None


def current_user() -> User:
    user: User | None = g.get("user")
    if user is None:
        abort(401)
    return user


def login_required(view: F) -> F:
    """Send a visitor without a session to the login page."""
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.get("user") is None:
            return redirect(url_for("auth.login", next=request.path))
        return view(*args, **kwargs)
    return cast(F, wrapped)


def role_required(*roles: str) -> Callable[[F], F]:
    """Only these roles; others get 404, as if the page did not exist."""
    def deco(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = g.get("user")
            if user is None:
                return redirect(url_for("auth.login", next=request.path))
            if user.role not in roles:
                abort(404)
            return view(*args, **kwargs)
        return login_required(cast(F, wrapped))
    return deco


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    error = None
    if request.method == "POST":
        store, at, ip = store_of(), now(), client_ip()
        username = request.form.get("username", "").strip()[:200]
        password = request.form.get("password", "")
        if store.login_blocked(username, ip, at):
            store.audit(username or "?", "login_blocked", ip=ip, at=at)
            return render_template("login.html", error=label("rate_limited", g.lang)), 429
        user = store.check_password(username, password)
        store.login_attempt(username, ip, user is not None, at)
        if user is None:
            store.audit(username or "?", "login_failed", ip=ip, at=at)
            error = label("bad_login", g.lang)
        else:
            lang = session.get("lang", "fr")
            session.clear()  # no fixation: a fresh session at every login
            session["uid"] = user.id
            session["pw"] = user.mark  # the hash as check_password left it (a rehash)
            session["lang"] = lang
            session.permanent = True
            store.audit(user.username, "login", ip=ip, at=at)
            target = request.args.get("next", "")
            if not target.startswith("/") or target.startswith("//"):
                target = url_for("sites.index")
            return redirect(target)
    return render_template("login.html", error=error), 401 if error else 200


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    user = g.get("user")
    if user is not None:
        store_of().audit(user.username, "logout", ip=client_ip(), at=now())
    lang = session.get("lang", "fr")
    session.clear()
    session["lang"] = lang
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password() -> Any:
    """The logged-in user's own password: the current one (a wrong one counts as a failed
    login, so this page cannot outrun the login's limit), the new one twice. On success this
    session takes the new mark and stays; the user's other sessions are out at their next
    click."""
    user = current_user()

    def page(error: str | None = None, status: int = 200) -> Any:
        return render_template("password.html", min_length=MIN_PASSWORD,
                               error=label(error, g.lang) if error else None), status

    if request.method == "GET":
        return page()
    store, at, ip = store_of(), now(), client_ip()
    current = request.form.get("current", "")
    new, again = request.form.get("new", ""), request.form.get("again", "")
    if store.login_blocked(user.username, ip, at):
        store.audit(user.username, "password_blocked", ip=ip, at=at)
        return page("rate_limited", 429)
    checked = store.check_password(user.username, current)
    store.login_attempt(user.username, ip, checked is not None, at)
    if checked is None:
        store.audit(user.username, "password_failed", ip=ip, at=at)
        return page("bad_current", 403)
    session["pw"] = checked.mark  # a rehash with a new salt must not log this session out
    if len(new) < MIN_PASSWORD:
        return page("password_short", 400)
    if new != again:
        return page("password_differ", 400)
    if new == current:
        return page("password_same", 400)
    session["pw"] = store.set_password(user.username, new, at=at).mark
    store.audit(user.username, "password_changed", ip=ip, at=at)
    flash(label("password_changed", g.lang), "ok")
    return redirect(url_for("sites.index"))
