"""Printing the acceptance sheet with headless Chromium: the PDF that is signed, and a PNG.

The sheet is HTML so it stays one self-contained, mailable file; the PDF is what the
customer signs and archives, printed by Chromium (A4, no browser header or footer). Chromium
runs with a throw-away profile and without calling home, so printing works offline and runs
never share state. A missing Chromium is a one-line :class:`~harness.errors.RecetteError`.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from harness.errors import RecetteError

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync")


def chromium() -> str:
    """Path of a headless-capable Chromium, or a RecetteError saying how to install one."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise RecetteError("chromium not found: install it (apt-get install -y chromium) to "
                       "print the acceptance sheet as PDF")


def run_chromium(args: list[str], out: Path, *, timeout: float = 120.0) -> None:
    """Run headless Chromium with a throw-away profile and check it wrote ``out``.

    A fresh ``--user-data-dir`` keeps runs independent (no lock on a shared profile, nothing
    left behind); the flags stop it from calling home, so printing works offline.
    """
    exe = chromium()
    with tempfile.TemporaryDirectory(prefix="recette-chromium-") as profile_dir:
        cmd = [exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile_dir}", *args]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                                  check=False)
        except subprocess.TimeoutExpired:
            raise RecetteError(f"chromium did not finish within {timeout:.0f} s") from None
    if proc.returncode != 0 or not out.exists() or out.stat().st_size == 0:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise RecetteError(f"chromium could not write {out} (exit {proc.returncode}): {tail}")


def write_pdf(html_path: Path, pdf_path: Path) -> None:
    """Print the sheet at ``html_path`` to ``pdf_path`` with headless Chromium (A4, no
    browser header or footer, so the page carries only the sheet)."""
    html_path, pdf_path = Path(html_path).resolve(), Path(pdf_path).resolve()
    if not html_path.is_file():
        raise RecetteError(f"{html_path}: no such sheet to print")
    pdf_path.unlink(missing_ok=True)
    run_chromium(["--no-pdf-header-footer", f"--print-to-pdf={pdf_path}",
                  html_path.as_uri()], pdf_path)


def write_png(html_path: Path, png_path: Path, *, width: int = 1000, height: int = 2800) -> None:
    """A screenshot of the sheet, to look at it as a person would (tests, reviews)."""
    html_path, png_path = Path(html_path).resolve(), Path(png_path).resolve()
    png_path.unlink(missing_ok=True)
    run_chromium(["--hide-scrollbars", f"--window-size={width},{height}",
                  f"--screenshot={png_path}", html_path.as_uri()], png_path)
