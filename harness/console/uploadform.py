"""``/upload``: a run's output folder sent from the browser as one ZIP, for an integrator
or the technical service without ``recette upload`` at hand. The archive is opened by
:mod:`harness.console.runzip` (its bounds checked before anything is inflated), and its
parts take the API's one path, :func:`harness.console.files.take`: the intake's checks, the
integrator's sites, the same audit lines, the same run twice is one run. A refusal is shown
on the form in the page's language (the intake's code said by
:mod:`harness.console.refusals`); a run
taken leads to its site's page with what the gate recorded."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from harness.console import localtime, refusals, runzip, wording
from harness.console.app import MAX_UPLOAD
from harness.console.auth import current_user, login_required
from harness.console.files import refused, take
from harness.console.intake import LIMITS, MiB
from harness.console.labels import label
from harness.console.store import Run, UploadForbidden, UploadRefused

bp = Blueprint("uploadform", __name__)


def size(n: int, lang: str) -> str:
    """A bound as a technician reads it: ``64 Mo``, ``256 Ko``."""
    if n >= MiB:
        return f"{n // MiB} {label('unit_mb', lang)}"
    return f"{n // 1024} {label('unit_kb', lang)}"


def _form(error: str = "", status: int = 200) -> tuple[str, int]:
    lang = g.lang
    sizes = [(name, size(limit, lang)) for name, limit in LIMITS.items()]
    return render_template("upload.html", error=error, sizes=sizes,
                           archive=size(MAX_UPLOAD, lang), entries=runzip.MAX_ENTRIES
                           ), status


def _zip_error(exc: runzip.ZipRefused, lang: str) -> str:
    name = size(MAX_UPLOAD, lang) if exc.code == "total" else exc.name
    return label("upload_bad_zip", lang) + label("colon", lang) \
        + label("zip_" + exc.code, lang).format(name=name)


def _taken(run: Run, new: bool, ignored: list[str], lang: str) -> str:
    """The flash on the site's page: the run taken and what the gate recorded of it, or
    that it was already known; the files the archive held that were not taken."""
    if new:
        kind = run.gate.get("kind")
        gate = label(f"upload_gate_{kind}" if f"upload_gate_{kind}" in _GATE
                     else "upload_gate_none", lang)
        text = (f"{label('upload_taken', lang).format(site=run.site_name)} "
                f"{label('upload_gate', lang)}{label('colon', lang)}{gate}.")
    else:
        text = label("upload_known", lang).format(
            who=run.uploader, at=localtime.when(run.uploaded_at, lang, wording.zone_of()))
    if ignored:
        text += f" {label('upload_ignored', lang)}{label('colon', lang)}{', '.join(ignored)}."
    return text


_GATE = ("upload_gate_verification_pass", "upload_gate_verification_unattested",
         "upload_gate_verification_fail")


@bp.route("/upload", methods=["GET", "POST"])
@login_required
def upload() -> Any:
    if request.method == "GET":
        return _form()
    user, lang = current_user(), g.lang
    chosen = request.files.get("zip")
    if chosen is None or not chosen.filename:
        return _form(label("upload_none", lang), 400)
    try:
        parts = runzip.read(chosen.stream)
    except runzip.ZipRefused as exc:
        refused(user.username, exc)
        return _form(_zip_error(exc, lang), 400)
    try:
        run, new = take(parts.files, user)
    except UploadForbidden as exc:
        return _form(label("upload_forbidden", lang) + label("colon", lang)
                     + refusals.say(exc.why(), lang, wording.zone_of(), str(exc)), 403)
    except UploadRefused as exc:
        return _form(label("upload_bad_part", lang) + label("colon", lang)
                     + refusals.say(exc.why(), lang, wording.zone_of(), str(exc)), 400)
    flash(_taken(run, new, parts.ignored, lang), "ok")
    return redirect(url_for("site.page", key=run.site))


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_: RequestEntityTooLarge) -> Any:
    """Above the app's MAX_CONTENT_LENGTH: refused when the CSRF check first reads the
    form, before the app's own hooks ran (so the language is taken from the session)."""
    g.lang = g.get("lang") or session.get("lang", "fr")
    return _form(label("upload_too_large", g.lang).format(size=size(MAX_UPLOAD, g.lang)), 413)
