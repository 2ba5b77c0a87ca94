"""The site profile as tested, kept beside the report with its secrets masked.

The acceptance file should say exactly what was checked (accounts, DIDs, LAN plan, server),
and `recette audit` needs the profile to re-audit the saved router configuration later; the
original may hold passwords, and the demo's is deleted with its lab. The copy keeps the
original text (comments, quoting, numbers such as ``+33...``) and replaces only the values of
``password``, ``enable_secret`` and ``key``; it is written only if it still loads and no
secret the original resolves is left in it.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from harness.errors import RecetteError
from harness.profile import Profile, load_profile

MASK = '"<redacted>"'
SECRET_KEYS = frozenset({"password", "enable_secret", "key"})  # the profile's Secret fields


def _secret_spans(node: yaml.Node | None) -> list[tuple[int, int]]:
    """Character spans of the scalar values under a secret key, from the parser's own marks
    (so quoting, '#' inside a value, flow and block styles are all exact)."""
    if isinstance(node, yaml.MappingNode):
        out = []
        for key, value in node.value:
            if (isinstance(key, yaml.ScalarNode) and key.value in SECRET_KEYS
                    and isinstance(value, yaml.ScalarNode)):
                out.append((value.start_mark.index, value.end_mark.index))
            else:
                out.extend(_secret_spans(value))
        return out
    if isinstance(node, yaml.SequenceNode):
        return [span for item in node.value for span in _secret_spans(item)]
    return []


def redact(text: str) -> str:
    """``text`` with the value of every secret key masked; the rest as written."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise RecetteError(f"not YAML: {exc}") from None
    for start, end in sorted(_secret_spans(root), reverse=True):
        value = text[start:end]
        tail = value[len(value.rstrip()):]  # a block scalar's span ends with its newline
        text = text[:start] + MASK + tail + text[end:]
    return text


def write_copy(source: Path, prof: Profile, dest: Path) -> Path:
    """Write the masked copy of ``source`` to ``dest``; refuse (RecetteError) rather than
    write a copy that still holds a secret or no longer loads."""
    try:
        text = redact(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RecetteError(f"{source}: cannot read: {exc.strerror}") from None
    except RecetteError as exc:
        raise RecetteError(f"{source}: {exc}") from None
    left = [s for s in prof.secrets() if s and len(s) >= 4 and s in text]
    if left:
        raise RecetteError(f"{source}: a secret is written under a key other than "
                           f"{', '.join(sorted(SECRET_KEYS))}; no masked copy kept")
    dest.write_text(text, encoding="utf-8")
    try:
        load_profile(dest)  # the copy must still be a valid profile for `recette audit`
    except RecetteError as exc:
        dest.unlink(missing_ok=True)
        raise RecetteError(f"{source}: the masked copy does not load "
                           f"({str(exc).splitlines()[0]}); none kept") from None
    return dest
