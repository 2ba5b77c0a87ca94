"""Run folders and their ZIPs as integrators make them, for the browser upload's tests
(:mod:`harness.console.runzip`, ``/upload``): the folder ``recette run`` writes (results.json
shaped like ``tests/data/results-sample.json``, the masked profile, the sheet, a capture, the
router's saved configuration the console does not keep), zipped by ``zip`` with or without
its top folder, by macOS Finder, by Windows Explorer; and the byte surgery a hostile archive
needs (a header that lies about a size, an encryption flag)."""

from __future__ import annotations

import io
import json
import struct
import zipfile
from pathlib import Path

SAMPLE = Path(__file__).parent / "data" / "results-sample.json"
SIRET = "73282932000074"


def results(*, fw: str = "pass", generated: str = "2026-11-02T09:00:00+00:00",
            schema: int = 2) -> bytes:
    doc = json.loads(SAMPLE.read_text())
    doc["generated"] = generated
    doc["schema_version"] = schema
    for c in doc["checks"]:
        if c["id"] == "firewall.openings":
            c["status"] = fw
    statuses = [c["status"] for c in doc["checks"]]
    doc["counts"] = {s: statuses.count(s) for s in ("pass", "fail", "error", "skip")}
    return json.dumps(doc, indent=2).encode()


def profile(siret: str = SIRET, site: str = "Lyon") -> bytes:
    return (f"customer:\n  name: Boulangerie Martin\n  siret: '{siret}'\n"
            f"  integrator: Alpha Telecom\nsite:\n  name: {site}\n  address: 1 rue du Four\n"
            "trunks:\n- name: trunk01\n  password: \"<redacted>\"\n").encode()


def folder(*, fw: str = "pass", schema: int = 2,
           generated: str = "2026-11-02T09:00:00+00:00") -> dict[str, bytes]:
    """What ``recette run`` leaves in its output folder (small, but every kind of file)."""
    return {"results.json": results(fw=fw, schema=schema, generated=generated),
            "profile.yaml": profile(),
            "sheet.html": b"<html><body><h1>Feuille de recette Lyon</h1></body></html>",
            "report.html": b"<html><body>report</body></html>",
            "incidents.csv": b"date;hh:mm:ss;calling;called;symptom\n",
            "junit.xml": b"<testsuites/>", "capture.pcapng": b"\x0a\x0d\x0d\x0a" + bytes(60),
            "router-cisco_ios.txt": b"hostname site-router\n"}


def zipped(files: dict[str, bytes], *, top: str = "", finder: bool = False,
           explorer: bool = False) -> bytes:
    """``files`` zipped (deflated) under ``top`` (a folder name, or none); ``finder``
    adds what macOS Finder adds (``__MACOSX/`` resource forks, ``.DS_Store``, folder
    entries), ``explorer`` what Windows Explorer leaves in (``Thumbs.db``, ``desktop.ini``)."""
    prefix = f"{top}/" if top else ""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        if top and (finder or explorer):
            z.writestr(zipfile.ZipInfo(prefix), b"")
        for name, data in files.items():
            z.writestr(prefix + name, data)
            if finder:
                z.writestr(f"__MACOSX/{prefix}._{name}", b"\x00\x05\x16\x07" + bytes(80))
        if finder:
            z.writestr(prefix + ".DS_Store", b"\x00\x00\x00\x01Bud1" + bytes(100))
        if explorer:
            z.writestr(prefix + "Thumbs.db", b"\xd0\xcf\x11\xe0" + bytes(100))
            z.writestr(prefix + "desktop.ini", b"[.ShellClassInfo]\r\n")
    return out.getvalue()


def entries(*items: tuple[zipfile.ZipInfo | str, bytes]) -> bytes:
    """An archive of exactly these entries (names written as given, duplicates kept)."""
    import warnings

    out = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns on a duplicate name
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            for info, data in items:
                z.writestr(info, data)
    return out.getvalue()


def bomb(name: str, actual: int, *, declared: int | None = None) -> bytes:
    """One entry of ``actual`` zero bytes, deflated, whose headers (local and central)
    declare ``declared`` bytes uncompressed (the truth when None): a zip bomb that lies."""
    import zlib

    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = bytes(1 << 20)
    parts, crc = [], 0
    for _ in range(actual >> 20):
        parts.append(comp.compress(chunk))
        crc = zlib.crc32(chunk, crc)
    parts.append(comp.flush())
    data = b"".join(parts)
    size = actual if declared is None else declared
    fname = name.encode()
    local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(data), size,
                        len(fname), 0) + fname
    central = struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 0x0314, 20, 0, 8, 0, 0, crc,
                          len(data),
                          size, len(fname), 0, 0, 0, 0, 0o100644 << 16, 0) + fname
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 1, 1, len(central),
                      len(local) + len(data), 0)
    return local + data + central + end


def flag_encrypted(archive: bytes) -> bytes:
    """Every entry's "encrypted" bit set (zipfile cannot write encrypted entries)."""
    buf = bytearray(archive)
    for sig, at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        i = buf.find(sig)
        while i >= 0:
            flags = struct.unpack_from("<H", buf, i + at)[0]
            struct.pack_into("<H", buf, i + at, flags | 1)
            i = buf.find(sig, i + 4)
    return bytes(buf)
