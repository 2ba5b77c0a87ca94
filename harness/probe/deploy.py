"""The probe's deployment command lines, read from ``deploy/`` so the lab runs what ships.

``deploy/recette-probe.service`` (systemd) and ``deploy/Containerfile`` (podman/docker) each
start ``recette probe serve`` with one command line. The lab starts its outsider probe with the
unit's, and the tests hold the container's equal to it and run it too, so a flag that works in
the lab but not on a rented VM (an address of the lab written in it, a log file the service
cannot write) cannot ship unnoticed. Only what these two files use is understood; anything
else (``$VARIABLES``, ``%`` specifiers, a shell-form ``CMD``) is refused with a clear error
rather than guessed.
"""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path

from harness.errors import RecetteError

DEPLOY_DIR = Path(__file__).resolve().parents[2] / "deploy"  # beside harness/ in a checkout
UNIT = DEPLOY_DIR / "recette-probe.service"
CONTAINERFILE = DEPLOY_DIR / "Containerfile"
PROGRAM = "recette"  # the console script the files run, by its base name


class DeployFileError(RecetteError):
    """A deployment file is missing or says something this module will not guess at."""


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError as exc:
        raise DeployFileError(f"{path}: cannot read ({exc.strerror}); the lab needs a recette "
                              "checkout with its deploy/ folder") from None


def _logical_lines(text: str, comments: str) -> Iterator[tuple[int, str]]:
    """(first line number, line) with backslash continuations joined and comment lines (any
    line starting with one of ``comments``, also inside a continuation) dropped."""
    buf, start = "", 0
    for no, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if (not buf and not line) or line[:1] in tuple(comments):
            continue
        if not buf:
            start = no
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        yield start, buf + line
        buf = ""
    if buf:
        yield start, buf


def unit_argv(path: Path = UNIT) -> list[str]:
    """The ``ExecStart=`` of the unit's ``[Service]`` section as an argv list."""
    section, found = "", None
    for no, line in _logical_lines(_read(path), "#;"):
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        key, eq, value = line.partition("=")
        if section != "Service" or not eq or key.strip() != "ExecStart":
            continue
        value = value.strip()
        if not value:  # an empty ExecStart= resets the list
            found = None
            continue
        if found is not None:
            raise DeployFileError(f"{path}:{no}: a second ExecStart=; the probe is one command")
        found = (no, value)
    if found is None:
        raise DeployFileError(f"{path}: no ExecStart= in [Service]")
    no, value = found
    value = value.lstrip("@-:+!")  # exec prefixes (ignore failure, full privileges, ...)
    if "$" in value or "%" in value:
        raise DeployFileError(f"{path}:{no}: ExecStart= uses a $VARIABLE or a %specifier; "
                              "keep the probe's command line literal")
    try:
        argv = shlex.split(value)
    except ValueError as exc:
        raise DeployFileError(f"{path}:{no}: ExecStart=: {exc}") from None
    return _checked(argv, path)


def container_argv(path: Path = CONTAINERFILE) -> list[str]:
    """``ENTRYPOINT`` + ``CMD`` of the Containerfile's last stage as an argv list (JSON form
    only: a shell form would run under ``/bin/sh -c``, not as the unit does)."""
    entry: list[str] = []
    cmd: list[str] | None = None  # None: inherited from the base image, unknown here
    cmd_set = False
    for no, line in _logical_lines(_read(path), "#"):
        word, _, rest = line.partition(" ")
        word = word.upper()
        if word == "FROM":
            entry, cmd, cmd_set = [], None, False
        elif word in ("ENTRYPOINT", "CMD"):
            try:
                value = json.loads(rest)
            except ValueError:
                value = None
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise DeployFileError(f"{path}:{no}: {word} must be a JSON list of strings "
                                      "(exec form)")
            if word == "ENTRYPOINT":
                entry = value
                if not cmd_set:  # an ENTRYPOINT drops the base image's CMD
                    cmd = []
            else:
                cmd, cmd_set = value, True
    if cmd is None:
        raise DeployFileError(f"{path}: no ENTRYPOINT or CMD in the last stage")
    return _checked(entry + cmd, path)


def _checked(argv: list[str], path: Path) -> list[str]:
    if len(argv) < 3 or Path(argv[0]).name != PROGRAM or argv[1:3] != ["probe", "serve"]:
        raise DeployFileError(f"{path}: the command is not `{PROGRAM} probe serve ...`: "
                              f"{shlex.join(argv)}")
    return argv


def runnable(argv: list[str], python: str = sys.executable) -> list[str]:
    """``argv`` with its ``recette`` program replaced by this interpreter running the CLI
    module, so the lab runs the files' command line from the checkout under test."""
    return [python, "-m", "harness.cli", *argv[1:]]
