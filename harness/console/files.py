"""A run's stored files, and ``POST /api/runs``, where ``recette upload`` sends an output
folder with a bearer token. Every download of a stored file and every upload, taken or
refused, is audit-logged (the administrator's ``/audit``). Files are served from the
database with their own type and ``nosniff``; a run of a site the user may not see answers
404 like a missing one. :func:`take` is every upload's one path to the store and its audit
lines, the API's and the browser form's (:mod:`harness.console.uploadform`)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, jsonify, make_response, render_template, request

from harness.console.app import now, store_of
from harness.console.auth import client_ip, current_user, login_required
from harness.console.report_view import REPORT_CSP, served
from harness.console.store import RUN_FILES, Run, UploadForbidden, UploadRefused, User

bp = Blueprint("files", __name__)
api = Blueprint("api", __name__, url_prefix="/api")
TYPES = {".html": "text/html; charset=utf-8", ".pdf": "application/pdf",
         ".json": "application/json", ".csv": "text/csv; charset=utf-8",
         ".pcapng": "application/vnd.tcpdump.pcap", ".xml": "application/xml"}
# The stored reports are the harness's own HTML, but a run comes from a laptop: a strict
# policy keeps any script in them from reaching the console's origin. The pytest-html report
# needs its scripts: it runs them in an opaque origin (harness/console/report_view.py).
SANDBOX = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'"


@bp.route("/runs/<int:pk>/<name>")
@login_required
def download(pk: int, name: str) -> Response:
    store = store_of()
    run = store.run(pk)
    if run is None or not store.can_see(current_user(), run.site) or name not in RUN_FILES:
        abort(404)
    data = store.file(pk, name)
    if data is None:
        abort(404)
    store.audit(current_user().username, "download", site=run.site, ip=client_ip(), at=now(),
                detail={"run_id": run.run_id, "file": name})
    kind = next((v for k, v in TYPES.items() if name.endswith(k)), "application/octet-stream")
    report = name == "report.html"
    resp = Response(served(data) if report else data, mimetype=kind.split(";")[0],
                    content_type=kind)
    resp.headers["Content-Security-Policy"] = REPORT_CSP if report else SANDBOX
    if not name.endswith((".html", ".pdf")):
        resp.headers["Content-Disposition"] = f"attachment; filename={name}"
    return resp


@bp.route("/runs/<int:pk>/report")
@login_required
def report(pk: int) -> Response:
    """The run's pytest-html report inside a console page (header, back to the site): an
    iframe ``sandbox="allow-scripts"`` on top of the file's own policy, so its scripts run
    as nobody, never as the console."""
    store = store_of()
    run = store.run(pk)
    if (run is None or not store.can_see(current_user(), run.site)
            or "report.html" not in dict(run.files)):
        abort(404)
    resp = make_response(render_template("report_frame.html", run=run))
    resp.headers["X-Frame-Options"] = "DENY"  # the console page itself is never framed
    return resp


@api.route("/runs", methods=["POST"])
def upload() -> Any:
    """Multipart upload of an output folder's files (field name = file name)."""
    store = store_of()
    auth = request.headers.get("Authorization", "")
    token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else ""
    user = store.token_user(token) if token else None
    if user is None:
        store.audit("?", "upload_refused", ip=client_ip(), at=now(),
                    detail={"reason": "bad token"})
        return jsonify(error="missing, unknown or revoked token"), 401
    # The masked profile.yaml names the site (as the gate does) and is not kept. A part
    # sent twice under one name is refused (the multipart reader would keep one silently).
    files: dict[str, bytes] = {}
    try:
        for key, f in request.files.items(multi=True):
            name = (f.filename or key).rsplit("/", 1)[-1]
            if name in files:
                raise UploadRefused(f"{name}: sent twice")
            files[name] = f.read()
    except UploadRefused as exc:
        refused(user.username, exc)
        return jsonify(error=str(exc)), 400
    try:
        run, new = take(files, user)
    except UploadForbidden as exc:
        return jsonify(error=str(exc)), 403
    except UploadRefused as exc:
        return jsonify(error=str(exc)), 400
    return jsonify(id=run.id, run_id=run.run_id, site=run.site, new=new,
                   gate=run.gate.get("note", "")), 201 if new else 200


def refused(username: str, exc: UploadRefused) -> None:
    """Audit a refused upload (its one line, never a part's content)."""
    store_of().audit(username, "upload_refused", ip=client_ip(), at=now(),
                     detail={"reason": str(exc)})


def take(files: dict[str, bytes], user: User) -> tuple[Run, bool]:
    """Store an upload's parts as ``user`` through :meth:`ConsoleStore.add_run` (the
    intake's checks, the integrator's sites, the same run twice is one run) and audit it,
    taken or refused: the one path of ``POST /api/runs`` and the browser's form
    (:mod:`harness.console.uploadform`). A refusal is audited, then raised."""
    store = store_of()
    try:
        run, new = store.add_run(files, uploader=user, at=now())
    except UploadRefused as exc:  # UploadForbidden too
        refused(user.username, exc)
        raise
    if new:
        store.audit(user.username, "upload", site=run.site, ip=client_ip(), at=now(),
                    detail={"run_id": run.run_id, "files": [n for n, _ in run.files]})
        if run.gate.get("kind"):  # the gate event the upload made, on the audit page too
            store.audit(user.username, str(run.gate["kind"]), site=run.site, ip=client_ip(),
                        at=now(), detail={"run": run.id, "note": run.gate.get("note", ""),
                                          "refused": run.gate.get("refused", [])})
    return run, new
