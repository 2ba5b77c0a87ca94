"""A run's output folder sent from the browser as one ZIP (:func:`read`): the parts
``recette upload`` would have sent, taken out of the archive with every bound checked before
a byte of them is inflated.

A ZIP is a list of claims its maker chose: the number of entries, their names, their
declared sizes, their types. None is believed. The end record's entry count and central
directory size are read first (:func:`_directory`), so a forged archive of millions of
entries is refused before :mod:`zipfile` parses its directory; each name is checked as a
path (no absolute path, no ``..``, no drive letter, no backslash, no control character);
links, encrypted entries, archives within the archive and methods other than stored and
deflated are refused; and each kept entry is inflated in chunks that stop at its bound in
:data:`harness.console.intake.LIMITS`, whatever its header declares (a bomb that says
1 kB and inflates to gigabytes costs at most its bound plus one chunk).

The folder may be zipped with or without its top folder, by ``zip``, Windows Explorer or
macOS Finder: ``__MACOSX/``, ``.DS_Store``, ``Thumbs.db`` and ``desktop.ini`` are dropped.
Other files of the folder (the router's saved configuration, a lab profile) are ignored and
named back, never inflated: ``recette upload`` sends the same folder's known files only,
and a folder zipped whole must be taken as it is written. A refusal is a
:class:`ZipRefused` whose ``code`` and ``name`` the form turns into the page's language.
"""

from __future__ import annotations

import stat
import struct
import zipfile
from dataclasses import dataclass, field
from typing import IO, Any

from harness.console.intake import LIMITS, MAX_UPLOAD, UploadRefused
from harness.errors import RecetteError

MAX_ENTRIES = 256          # a run folder: about ten files, twice that from Finder
MAX_DIRECTORY = 256 * 1024  # bytes of central directory (256 entries of long names)
MAX_NAME = 255             # characters of an entry's name
CHUNK = 64 * 1024
JUNK_FILES = frozenset({".ds_store", "thumbs.db", "desktop.ini"})
JUNK_FOLDERS = frozenset({"__macosx"})
ARCHIVES = (".zip", ".7z", ".rar", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".zst")
MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"7z\xbc\xaf", b"Rar!", b"\x1f\x8b")
METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_EOCD = struct.Struct("<4s4H2LH")
_LOCATOR = struct.Struct("<4sLQL")
_EOCD64 = struct.Struct("<4sQ2H2L4Q")

# Each refusal's English line; the form shows the label ``zip_<code>`` of the page's
# language with the same ``{name}``.
ENGLISH = {
    "not_zip": "not a ZIP archive",
    "too_many": "more than {name} entries",
    "bad_name": "{name}: not a plain file name (absolute, '..', drive letter, backslash "
                "or control character)",
    "link": "{name}: a link or special file",
    "encrypted": "{name}: encrypted",
    "method": "{name}: compressed by a method other than stored or deflated",
    "nested": "{name}: an archive inside the archive",
    "duplicate": "{name}: twice in the archive",
    "too_big": "{name}: larger than the console takes for it",
    "total": "the kept files exceed {name} bytes in all",
    "damaged": "{name}: damaged (its data does not match its checksum)",
}


class ZipRefused(UploadRefused):
    """An archive refused before its parts reach the intake: ``code`` names the reason (a
    key of :data:`ENGLISH`), ``name`` the entry, shown as sent (escaped, cut short)."""

    def __init__(self, code: str, name: str = "") -> None:
        # Not UploadRefused's table: the archive's reasons have their own (``zip_<code>``
        # in the labels), which the form already said before the intake's had codes.
        RecetteError.__init__(self, f"ZIP: {ENGLISH[code].format(name=name)}")
        self.part, self.where, self.params = "ZIP", "", {"name": name}
        self.code, self.name = code, name

    def why(self) -> dict[str, Any]:
        return {"part": "ZIP", "where": "", "code": f"zip_{self.code}",
                "params": {"name": self.name}}


@dataclass
class RunZip:
    """What an archive holds: the parts for :meth:`ConsoleStore.add_run` (name to bytes),
    and the names it held that the console does not take (never inflated)."""

    files: dict[str, bytes] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)


def _shown(name: str) -> str:
    text = name.encode("unicode_escape").decode("ascii")
    return text if len(text) <= 60 else text[:57] + "..."


def _directory(f: IO[bytes]) -> None:
    """Refuse an archive whose end record announces more than :data:`MAX_ENTRIES` entries
    or a central directory above :data:`MAX_DIRECTORY` bytes, before :mod:`zipfile` reads
    the directory (it parses every entry the directory holds, whatever the count says)."""
    size = f.seek(0, 2)
    tail_at = max(0, size - (_EOCD.size + 0xFFFF))
    f.seek(tail_at)
    tail = f.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < _EOCD.size:
        raise ZipRefused("not_zip")
    _, _, _, _, entries, cd_size, _, _ = _EOCD.unpack_from(tail, at)
    if entries == 0xFFFF or cd_size == 0xFFFFFFFF:  # ZIP64: the real figures are there
        loc_at = tail_at + at - _LOCATOR.size
        if loc_at < 0:
            raise ZipRefused("not_zip")
        f.seek(loc_at)
        sig, _, offset, _ = _LOCATOR.unpack(f.read(_LOCATOR.size))
        if sig != b"PK\x06\x07" or offset > size - _EOCD64.size:
            raise ZipRefused("not_zip")
        f.seek(offset)
        record = _EOCD64.unpack(f.read(_EOCD64.size))
        if record[0] != b"PK\x06\x06":
            raise ZipRefused("not_zip")
        entries, cd_size = record[7], record[8]
    if entries > MAX_ENTRIES:
        raise ZipRefused("too_many", str(MAX_ENTRIES))
    if cd_size > MAX_DIRECTORY:
        raise ZipRefused("too_many", str(MAX_ENTRIES))
    f.seek(0)


def _parts(name: str) -> list[str]:
    """The path's parts, or ZipRefused when it is not a plain relative path."""
    bad = (not name or len(name) > MAX_NAME or name.startswith("/") or "\\" in name
           or (len(name) > 1 and name[1] == ":")
           or any(ord(c) < 0x20 or ord(c) == 0x7F for c in name))
    parts = name.rstrip("/").split("/")
    if bad or any(p in ("", ".", "..") or ":" in p for p in parts):
        raise ZipRefused("bad_name", _shown(name))
    return parts


def _is_junk(parts: list[str]) -> bool:
    return parts[0].casefold() in JUNK_FOLDERS or parts[-1].casefold() in JUNK_FILES \
        or parts[-1].startswith("._")


def _checked(info: zipfile.ZipInfo) -> None:
    """An entry's type, encryption and method, from its headers."""
    shown = _shown(info.filename)
    mode = info.external_attr >> 16
    if info.create_system == 3 and stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise ZipRefused("link", shown)
    if info.flag_bits & 0x1:
        raise ZipRefused("encrypted", shown)
    if info.compress_type not in METHODS:
        raise ZipRefused("method", shown)
    if info.filename.casefold().endswith(ARCHIVES):
        raise ZipRefused("nested", shown)


def _inflate(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, room: int) -> bytes:
    """The entry's bytes, read in chunks and refused at its ``limit`` (or at the ``room``
    the upload's total leaves) + 1 whatever its header said; a checksum that does not
    match is a damaged archive."""
    shown = _shown(info.filename)
    if info.file_size > limit:
        raise ZipRefused("too_big", shown)
    out = bytearray()
    try:
        with zf.open(info) as member:
            while chunk := member.read(CHUNK):
                out += chunk
                if len(out) > limit:
                    raise ZipRefused("too_big", shown)
                if len(out) > room:
                    raise ZipRefused("total", str(MAX_UPLOAD))
    except (zipfile.BadZipFile, EOFError, OSError, ValueError):
        raise ZipRefused("damaged", shown) from None
    if bytes(out[:4]) in MAGIC or bytes(out[:3]) == b"\x1f\x8b\x08":
        raise ZipRefused("nested", shown)
    return bytes(out)


def read(f: IO[bytes]) -> RunZip:
    """The run's parts from the archive ``f`` (seekable), or :class:`ZipRefused`."""
    try:
        _directory(f)
        zf = zipfile.ZipFile(f)
    except (zipfile.BadZipFile, OSError, ValueError, struct.error, EOFError):
        raise ZipRefused("not_zip") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ENTRIES:
            raise ZipRefused("too_many", str(MAX_ENTRIES))
        entries: list[tuple[zipfile.ZipInfo, list[str]]] = []
        for info in infos:
            parts = _parts(info.filename)
            _checked(info)
            if not info.is_dir() and not _is_junk(parts):
                entries.append((info, parts))
        # The folder zipped with its top folder: every file under one folder, none beside.
        tops = {parts[0] for _, parts in entries}
        strip = 1 if len(tops) == 1 and all(len(p) > 1 for _, p in entries) else 0
        out, seen = RunZip(), set[str]()
        wanted: list[tuple[zipfile.ZipInfo, str]] = []
        for info, parts in entries:
            name = "/".join(parts[strip:])
            if name.casefold() in seen:
                raise ZipRefused("duplicate", _shown(name))
            seen.add(name.casefold())
            if name in LIMITS:
                wanted.append((info, name))
            else:
                out.ignored.append(_shown(name))
        if sum(info.file_size for info, _ in wanted) > MAX_UPLOAD:
            raise ZipRefused("total", str(MAX_UPLOAD))
        taken = 0
        for info, name in wanted:
            out.files[name] = _inflate(zf, info, LIMITS[name], MAX_UPLOAD - taken)
            taken += len(out.files[name])
    return out
