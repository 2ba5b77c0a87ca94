"""The client side of the upload: ``recette upload DIR --url URL`` and ``recette run
--upload URL`` send an output folder's files to the console's ``POST /api/runs`` with the
token in ``$RECETTE_CONSOLE_TOKEN``. Only the files the console keeps are sent, plus the
masked ``profile.yaml`` that names the site; the console refuses anything else. Standard
library only: the laptop needs nothing more than recette itself."""

from __future__ import annotations

import json
import os
import secrets
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from harness.console.store import RUN_FILES
from harness.errors import RecetteError

TOKEN_ENV = "RECETTE_CONSOLE_TOKEN"
SENT = (*RUN_FILES, "profile.yaml")


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
    if not (folder / "results.json").is_file():
        raise RecetteError(f"{folder}: no results.json (not a recette output folder)")
    return {n: (folder / n).read_bytes() for n in SENT if (folder / n).is_file()}


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
