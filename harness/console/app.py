"""The console's Flask application factory.

Everything an instance needs comes from the store and the key file (the cookie-signing key,
0600, :mod:`harness.console.keyfile`), so any number of instances started on one database
with one key file answer alike; sessions are the store's rows
(:mod:`harness.console.sessions`), the cookie holds only their token. The clock is
injectable (``now``) for the gate's 24 h rule and the sessions' limits in tests; by default
it is the machine's (nothing else moves it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, g, request, session
from flask_wtf.csrf import CSRFError, CSRFProtect

from harness.console.keyfile import default_key_file, load_key
from harness.console.labels import label
from harness.console.sessions import ABSOLUTE
from harness.console.store import ConsoleStore
from harness.gate.store import now_utc

MAX_UPLOAD = 512 * 1024 * 1024  # a long capture; anything above is refused by Flask (413)


def create_app(store: ConsoleStore, *, key_file: Path | None = None,
               now: Callable[[], dt.datetime] = now_utc, secure_cookies: bool = True,
               proxies: int = 0, testing: bool = False) -> Flask:
    """The console on ``store``, its cookies signed with the key in ``key_file`` (default:
    :func:`~harness.console.keyfile.default_key_file`, beside a SQLite store; made 0600 if
    missing, refused if group- or other-readable). ``secure_cookies`` False only for plain
    HTTP on loopback (tests, a first look); behind the usual TLS proxy leave it on.
    ``proxies``: how many reverse proxies in front set X-Forwarded-For/-Proto (the client's
    address is what the login rate limit counts; behind a proxy without it, every client
    would share one)."""
    from harness.console import (
        audit,
        auth,
        files,
        housekeeping,
        prefs,
        probes,
        site,
        sites,
        uploadform,
        users,
        wording,
    )

    app = Flask(__name__)
    if proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies,  # type: ignore[method-assign]
                                x_proto=proxies)
    app.config.update(
        SECRET_KEY=load_key(key_file or default_key_file(store.engine.url)),
        SESSION_COOKIE_NAME="recette_console",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=secure_cookies,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=ABSOLUTE,  # the cookie; the server's row decides
        MAX_CONTENT_LENGTH=MAX_UPLOAD,
        WTF_CSRF_TIME_LIMIT=int(ABSOLUTE.total_seconds()),
        TESTING=testing,
    )
    app.extensions["recette_store"] = store
    app.extensions["recette_now"] = now
    csrf = CSRFProtect(app)
    for bp in (auth.bp, sites.bp, site.bp, users.bp, files.bp, audit.bp, probes.bp,
               prefs.bp, uploadform.bp, housekeeping.bp):
        app.register_blueprint(bp)
    csrf.exempt(files.api)  # bearer tokens, no cookie: CSRF cannot ride on them
    app.register_blueprint(files.api)

    @app.before_request
    def _lang() -> None:
        wanted = request.args.get("lang")
        if wanted in ("fr", "en"):
            session["lang"] = wanted
        g.lang = session.get("lang", "fr")

    @app.context_processor
    def _helpers() -> dict[str, Any]:
        return {"t": lambda key: label(key, g.get("lang", "fr")), "lang": g.get("lang", "fr"),
                "me": g.get("user"), "tz": wording.zone_of()}

    @app.errorhandler(CSRFError)
    def _csrf(_: CSRFError) -> tuple[str, int]:
        return label("csrf", g.get("lang", "fr")), 400

    wording.install(app)
    for code, key in ((400, "bad_request"), (403, "forbidden"), (404, "not_found"),
                      (405, "not_allowed"), (413, "too_large")):
        app.register_error_handler(code, _error_page(code, key))

    @app.after_request
    def _headers(resp: Any) -> Any:
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        if not request.path.startswith("/runs/"):  # a stored report keeps its own framing
            resp.headers.setdefault("X-Frame-Options", "DENY")
        return resp

    return app


def _error_page(code: int, key: str) -> Callable[[Exception], tuple[str, int]]:
    """An error's one line in the page's language (Flask's own pages are English)."""
    def page(_: Exception) -> tuple[str, int]:
        api = request.path.startswith("/api/")  # `recette upload` reads English
        return label(key, "en" if api else g.get("lang", "fr")), code
    return page


def store_of() -> ConsoleStore:
    """The store of the running app."""
    from flask import current_app

    st: ConsoleStore = current_app.extensions["recette_store"]
    return st


def now() -> dt.datetime:
    """The running app's clock."""
    from flask import current_app

    clock: Callable[[], dt.datetime] = current_app.extensions["recette_now"]
    return clock()
