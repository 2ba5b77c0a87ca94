"""The client side of the upload: ``recette upload DIR --url URL`` and ``recette run
--upload URL`` send an output folder's files to the console's ``POST /api/runs`` with the
token in ``$RECETTE_CONSOLE_TOKEN``. Only the files the console keeps are sent, plus the
masked ``profile.yaml`` that names the site; the console refuses anything else. Standard
library only: the laptop needs nothing more than recette itself."""

from __future__ import annotations

import errno
import json
import os
import secrets
import stat
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from harness.console.intake import LIMITS, PROFILE, RUN_FILES
from harness.errors import RecetteError

TOKEN_ENV = "RECETTE_CONSOLE_TOKEN"
SENT = (*RUN_FILES, PROFILE)


def _multipart(files: dict[str, bytes]) -> tuple[bytes, str]:
    boundary = "recette-" + secrets.token_hex(12)
    parts: list[bytes] = []
    for name, data in files.items():
        parts.append(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; "
                     f"filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                     .encode())
        parts.append(data)
        parts.append(b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _read(folder: Path) -> dict[str, bytes]:
    """The folder's files that are sent, each opened without following a symbolic link
    (``O_NOFOLLOW``, relative to the folder opened once) and refused unless a regular file
    within the console's bound for it: a link in an output folder would otherwise send
    whatever file of the laptop it points to. The folder itself may be a link (``latest ->
    out-2026-11-02``): the user names it on the command line."""
    try:
        dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise RecetteError(f"{folder}: cannot open the folder ({exc.strerror})") from None
    try:
        out = {}
        for name in SENT:
            data = _read_one(folder, name, dir_fd)
            if data is not None:
                out[name] = data
    finally:
        os.close(dir_fd)
    if "results.json" not in out:
        raise RecetteError(f"{folder}: no results.json (not a recette output folder)")
    return out


def _read_one(folder: Path, name: str, dir_fd: int) -> bytes | None:
    """One file of the folder (None when absent), or a RecetteError of one line naming it.
    ``O_NONBLOCK``: opening a FIFO planted in the folder must not hang the upload."""
    path = folder / name
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC,
                     dir_fd=dir_fd)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise RecetteError(f"{path}: a symbolic link; recette upload sends only the "
                               "folder's own regular files (copy the file in)") from None
        raise RecetteError(f"{path}: cannot read ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise RecetteError(f"{path}: not a regular file; recette upload sends only "
                               "regular files")
        limit = LIMITS[name]
        data = f.read(limit + 1)
    if len(data) > limit:
        raise RecetteError(f"{path}: more than {limit} bytes, more than the console takes")
    return data


def upload(folder: Path, url: str, *, token: str | None = None, timeout: float = 300
           ) -> dict[str, Any]:
    """Send ``folder`` to the console at ``url``; the console's answer (run id, site, new).
    Any failure is a RecetteError of one line that says how to retry."""
    token = token or os.environ.get(TOKEN_ENV, "")
    retry = f"the files stay in {folder}; retry with: recette upload {folder} --url {url}"
    if not token:
        raise RecetteError(f"upload: no token (set ${TOKEN_ENV}); {retry}")
    files = _read(folder)
    body, ctype = _multipart(files)
    req = urllib.request.Request(url.rstrip("/") + "/api/runs", data=body, method="POST",
                                 headers={"Content-Type": ctype,
                                          "Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            answer: dict[str, Any] = json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        try:
            why = json.loads(exc.read()).get("error", exc.reason)
        except (ValueError, AttributeError):
            why = exc.reason
        raise RecetteError(f"upload refused by {url} (HTTP {exc.code}: {why}); {retry}") \
            from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        why = getattr(exc, "reason", exc)
        raise RecetteError(f"upload to {url} failed ({why}); {retry}") from None
    return answer
