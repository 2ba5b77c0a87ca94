"""The console's cookie-signing key: a file only its owner may read, never a database row.

Whoever holds the key signs cookies the console takes for its own (the CSRF token, the
session's token slot): in the database, any copy of it (a backup, a 0644 SQLite file, a
read-only SQL account) could forge them. Several instances share one file (the same path on
a shared volume, or the same file deployed to each); the first start makes it, 0600.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

import sqlalchemy as sa

from harness.errors import RecetteError
from harness.gate.store import DEFAULT_URL, private_dir

DEFAULT_KEY_FILE = Path("/var/lib/recette/console.key")
NAME = "console.key"
MIN_KEY = 32  # characters of a usable key (it is made as 64 hex digits)


def default_key_file(url: sa.engine.URL | str | None = None) -> Path:
    """Beside the SQLite database (``console.key`` in its folder), else
    :data:`DEFAULT_KEY_FILE` (a PostgreSQL store has no folder of its own here)."""
    url = sa.engine.make_url(url or os.environ.get("RECETTE_GATE_URL") or DEFAULT_URL)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).parent / NAME
    return DEFAULT_KEY_FILE


def load_key(path: Path) -> str:
    """The key in ``path``, made (0600, its folder 0700 when made) if the file is missing.
    A one-line :class:`RecetteError` when it cannot be read, is group- or other-readable
    (or writable), or holds too short a key."""
    if not path.exists():
        _create(path)
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as exc:
        raise RecetteError(f"console key file {path}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as fh:
        mode = stat.S_IMODE(os.fstat(fh.fileno()).st_mode)
        if mode & 0o077:
            raise RecetteError(f"console key file {path} is mode {mode:04o}: group or others "
                               f"may read it; chmod 600 {path}")
        key = fh.read(4096).decode("ascii", "replace").strip()
    if len(key) < MIN_KEY:
        raise RecetteError(f"console key file {path}: a key of at least {MIN_KEY} "
                           "characters is needed (delete the file to have a new one made)")
    return key


def _create(path: Path) -> None:
    """Write a new key to a private temporary file, then link it to ``path``: another
    instance starting at the same time either wins the link (and both read its key) or
    loses it; nobody ever reads a half-written key."""
    private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    try:
        fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_hex(32) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    except OSError as exc:
        raise RecetteError(f"console key file {path}: cannot create it: "
                           f"{exc.strerror}") from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
