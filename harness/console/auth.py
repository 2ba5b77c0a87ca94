"""Log in and out, and change one's password. A session is a row of the store
(:mod:`harness.console.sessions`) whose random token is the only thing the signed cookie
holds; each request finds it and reads the user again, so logout, a password change or
reset, a disabled account, the idle and the absolute limit end it on every instance at once,
and a cookie copied before is worth nothing after.

Every password check (the login's, the password page's current one) first reserves its
attempt in the store (:meth:`~harness.console.store.ConsoleStore.reserve_attempt`, per
user name and client address, capped per address), then hashes: parallel tries cannot
outrun the count, and an outsider cannot lock a user out of its own address. Every login,
refusal, logout and password change is in the audit log."""

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

from harness.console import policy
from harness.console.app import now, store_of
from harness.console.labels import label
from harness.console.store import User

bp = Blueprint("auth", __name__)
F = TypeVar("F", bound=Callable[..., Any])


def client_ip() -> str:
    return request.remote_addr or "?"


@bp.before_app_request
def _load_user() -> None:
    """``g.user`` from the cookie's session token, None when it has no live session."""
    g.user = None
    token = session.get("sid")
    if not isinstance(token, str) or request.endpoint == "static":
        return
    store = store_of()
    found = store.sessions.find(token, now())
    user = store.user(found.user_id) if found is not None else None
    if user is not None and user.active:
        g.user = user


def _open_session(user: User) -> None:
    """A fresh session for ``user`` in this browser (no fixation: the cookie is cleared,
    the language kept)."""
    lang = session.get("lang", "fr")
    session.clear()
    session["sid"] = store_of().sessions.open(user.id, client_ip(), now())
    session["lang"] = lang
    session.permanent = True


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
        attempt = store.reserve_attempt(username, ip, at)
        if attempt is None:
            store.audit(username or "?", "login_blocked", ip=ip, at=at)
            return render_template("login.html", error=label("rate_limited", g.lang)), 429
        user = store.check_password(username, password)
        if user is None:
            store.audit(username or "?", "login_failed", ip=ip, at=at)
            error = label("bad_login", g.lang)
        else:
            store.attempt_ok(attempt)
            _open_session(user)
            store.audit(user.username, "login", ip=ip, at=at)
            target = request.args.get("next", "")
            if not target.startswith("/") or target.startswith("//"):
                target = url_for("sites.index")
            return redirect(target)
    return render_template("login.html", error=error), 401 if error else 200


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    user, token = g.get("user"), session.get("sid")
    if isinstance(token, str):
        store_of().sessions.end(token, "logout", now())
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
    login, so this page cannot outrun the login's limit), the new one twice, under the
    policy of the user's role. On success every session of the user ends and this browser
    gets a new one: it stays in, the others are out."""
    user = current_user()

    def page(error: str | None = None, status: int = 200) -> Any:
        return render_template("password.html", min_length=policy.min_length(user.role),
                               error=label(error, g.lang) if error else None), status

    if request.method == "GET":
        return page()
    store, at, ip = store_of(), now(), client_ip()
    current = request.form.get("current", "")
    new, again = request.form.get("new", ""), request.form.get("again", "")
    attempt = store.reserve_attempt(user.username, ip, at)
    if attempt is None:
        store.audit(user.username, "password_blocked", ip=ip, at=at)
        return page("rate_limited", 429)
    if store.check_password(user.username, current) is None:
        store.audit(user.username, "password_failed", ip=ip, at=at)
        return page("bad_current", 403)
    store.attempt_ok(attempt)
    if new != again:
        return page("password_differ", 400)
    if new == current:
        return page("password_same", 400)
    try:
        changed = store.set_password(user.username, new, at=at, reason="password")
    except policy.PolicyError as exc:
        return page(exc.key, 400)
    _open_session(changed)
    store.audit(user.username, "password_changed", ip=ip, at=at)
    flash(label("password_changed", g.lang), "ok")
    return redirect(url_for("sites.index"))
