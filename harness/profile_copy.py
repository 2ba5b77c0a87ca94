"""The site profile as tested, kept beside the report with its secrets masked.

The acceptance file should say exactly what was checked (accounts, DIDs, LAN plan, server),
and `recette audit` needs the profile to re-audit the saved router configuration later; the
original may hold passwords, and the demo's is deleted with its lab. The copy keeps the
original text (comments, quoting, numbers such as ``+33...``) and replaces only the values of
``password``, ``enable_secret`` and ``key``; it is written only if it still loads and no
secret the original resolves is left in it.
"""

from __future__ import annotations

import re
from pathlib import Path

from .errors import RecetteError
from .profile import Profile, load_profile

MASK = '"<redacted>"'
SECRET_KEYS = ("password", "enable_secret", "key")  # the profile's Secret fields
_VALUE = re.compile(
    rf"(?<![\w-])(?P<k>{'|'.join(SECRET_KEYS)})(?P<sep>\s*:\s*)"
    r"""(?P<v>"(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s,}#][^,}#\n]*?)(?=\s*(?:[,}#]|$))""",
    re.MULTILINE,
)


def redact(text: str) -> str:
    """``text`` with the value of every secret key (block or flow style) masked."""
    return _VALUE.sub(lambda m: f"{m['k']}{m['sep']}{MASK}", text)


def write_copy(source: Path, prof: Profile, dest: Path) -> Path:
    """Write the masked copy of ``source`` to ``dest``; refuse (RecetteError) rather than
    write a copy that still holds a secret or no longer loads."""
    try:
        text = redact(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RecetteError(f"{source}: cannot read: {exc.strerror}") from None
    left = [s for s in prof.secrets() if s and len(s) >= 4 and s in text]
    if left:
        raise RecetteError(f"{source}: a secret is written under a key other than "
                           f"{', '.join(SECRET_KEYS)}; no masked copy kept")
    dest.write_text(text, encoding="utf-8")
    try:
        load_profile(dest)  # the copy must still be a valid profile for `recette audit`
    except RecetteError as exc:
        dest.unlink(missing_ok=True)
        raise RecetteError(f"{source}: the masked copy does not load "
                           f"({str(exc).splitlines()[0]}); none kept") from None
    return dest
