"""A run's stored files, and ``POST /api/runs``, where ``recette upload`` sends an output
folder with a bearer token. Every download of a stored file and every upload, taken or
refused, is audit-logged (the administrator's ``/audit``). Files are served from the blob
store (:mod:`harness.console.blobs`) at constant memory, a file on disk with Range and ETag,
an S3 object by chunks, with their own type and ``nosniff``; a run of a site the user may
not see answers 404 like a missing one, a purged file 410 with a sentence saying when and
why. Uploads are handed on as werkzeug's spooled files: a capture is never read whole.
:func:`take` is every upload's one path to the store and its audit lines, the API's and the
browser form's (:mod:`harness.console.uploadform`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from flask import (
    Blueprint,
    Response,
    abort,
    g,
    jsonify,
    make_response,
    render_template,
    request,
    send_file,
)

from harness.console import keeping, localtime, wording
from harness.console.app import now, store_of
from harness.console.auth import client_ip, current_user, login_required
from harness.console.labels import label
from harness.console.report_view import REPORT_CSP, served, served_chunks
from harness.console.store import (
    RUN_FILES,
    Run,
    StoredFile,
    UploadForbidden,
    UploadRefused,
    User,
)

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
    stored = store.file(pk, name)
    if stored is None:
        abort(404)
    if stored.purged_at is not None:
        return Response(gone(run, stored, g.get("lang", "fr")), 410,
                        content_type="text/plain; charset=utf-8")
    store.audit(current_user().username, "download", site=run.site, ip=client_ip(), at=now(),
                detail={"run_id": run.run_id, "file": name})
    kind = next((v for k, v in TYPES.items() if name.endswith(k)), "application/octet-stream")
    report = name == "report.html"
    attach = not name.endswith((".html", ".pdf"))
    path = (store.blobs.path(stored.sha256)
            if stored.sha256 and stored.backend == store.blobs.backend else None)
    resp: Response
    if stored.data is not None:  # a row of before migration 0008, not yet moved out
        resp = Response(served(stored.data) if report else stored.data,
                        mimetype=kind.split(";")[0], content_type=kind)
    elif report and stored.sha256 and stored.backend == store.blobs.backend:
        # the shim goes in front of the report's own scripts: streamed, never whole
        resp = Response(served_chunks(store.blobs.chunks(stored.sha256)), content_type=kind)
    elif path is not None:
        if not path.is_file():
            abort(404)
        resp = send_file(path, mimetype=kind.split(";")[0], conditional=True,
                         etag=stored.sha256 or True, max_age=0)
        resp.content_type = kind
    elif stored.sha256 and stored.backend == store.blobs.backend:
        resp = Response(store.blobs.chunks(stored.sha256), content_type=kind)
        resp.headers["Content-Length"] = str(stored.size)
        resp.set_etag(stored.sha256)
    else:
        abort(404)
    resp.headers["Content-Security-Policy"] = REPORT_CSP if report else SANDBOX
    if attach:
        resp.headers["Content-Disposition"] = f"attachment; filename={name}"
    else:
        resp.headers.pop("Content-Disposition", None)
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


def gone(run: Run, stored: StoredFile, lang: str) -> str:
    """Why a file is no longer there, in the user's language: a deleted run (who, when) or
    its kind's retention (when, how long)."""
    assert stored.purged_at is not None
    when = localtime.when(stored.purged_at, lang, wording.zone_of())
    if run.deleted_at is not None:
        return label("files_gone_deleted", lang).format(name=stored.name, when=when,
                                                        who=run.deleted_by or "?")
    days = keeping.retention_days(store_of().engine)[stored.kind]
    return label("files_gone_retention", lang).format(name=stored.name, when=when,
                                                      days=days)


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
    files: dict[str, bytes | IO[bytes]] = {}
    try:
        for key, f in request.files.items(multi=True):
            name = (f.filename or key).rsplit("/", 1)[-1]
            if name in files:
                raise UploadRefused(name, "", "sent_twice")
            files[name] = f.stream  # spooled to disk by werkzeug past 500 kB
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
                     detail={"reason": str(exc), "why": exc.why()})


def take(files: Mapping[str, bytes | IO[bytes]], user: User) -> tuple[Run, bool]:
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
                                          "note_code": run.gate.get("note_code", ""),
                                          "note_params": run.gate.get("note_params", {}),
                                          "refused": run.gate.get("refused", [])})
    return run, new
