"""The browser upload's ZIP reader (harness/console/runzip.py) on archives made as
integrators make them (zip with and without the top folder, macOS Finder, Windows
Explorer) and as an attacker makes them: a bomb whose headers lie about its size, names that
climb out of the folder, a symbolic link, duplicates, encryption, a nested archive, too many
entries. Each refusal names its reason and entry; nothing of a refused archive is returned."""

from __future__ import annotations

import io
import stat
import tracemalloc
import zipfile

import pytest

from harness.console import runzip
from harness.console.intake import LIMITS, MiB
from harness.console.intake import read as intake_read
from harness.console.runzip import ZipRefused, read
from tests import runzips
from tests.console_support import T0

KEPT = {"results.json", "profile.yaml", "sheet.html", "report.html", "incidents.csv",
        "junit.xml", "capture.pcapng"}


def refusal(archive: bytes) -> ZipRefused:
    with pytest.raises(ZipRefused) as caught:
        read(io.BytesIO(archive))
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 300
    return caught.value


@pytest.mark.parametrize("how", [{}, {"top": "out-2026-11-02"},
                                 {"top": "out-2026-11-02", "finder": True},
                                 {"finder": True},
                                 {"top": "Recette Lyon", "explorer": True}])
def test_a_run_folder_zipped_by_any_tool_gives_its_parts(how: dict[str, object]) -> None:
    folder = runzips.folder()
    got = read(io.BytesIO(runzips.zipped(folder, **how)))  # type: ignore[arg-type]
    assert set(got.files) == KEPT
    assert got.files == {k: v for k, v in folder.items() if k in KEPT}
    assert got.ignored == ["router-cisco_ios.txt"]  # Finder's and Explorer's litter dropped
    taken = intake_read(got.files, now=T0)  # the parts pass the API's intake as they are
    assert taken.site == f"{runzips.SIRET}/Lyon" and "profile.yaml" not in taken.files


def test_a_folder_inside_the_top_folder_is_not_the_run() -> None:
    """Files in a subfolder are not the run's (ignored, named); two top folders are not
    stripped, so their results.json are not taken for the run's."""
    got = read(io.BytesIO(runzips.entries(("out/results.json", b"{}"),
                                          ("out/old/results.json", b"{}"))))
    assert set(got.files) == {"results.json"} and got.ignored == ["old/results.json"]
    got = read(io.BytesIO(runzips.entries(("a/results.json", b"{}"),
                                          ("b/results.json", b"{}"))))
    assert got.files == {} and sorted(got.ignored) == ["a/results.json", "b/results.json"]


def test_a_bomb_whose_header_lies_is_not_inflated_beyond_its_bound() -> None:
    """256 MiB of zeros (a 256 kB archive) declared as 1 kB, then as 60 MiB (under
    results.json's 64 MiB bound): refused as damaged, with at most the declared size held
    in memory; declared honestly above the bound, refused before inflating anything."""
    actual = 256 * MiB
    for declared, most in ((1000, 2 * MiB), (60 * MiB, 96 * MiB)):
        archive = runzips.bomb("results.json", actual, declared=declared)
        assert len(archive) < MiB
        tracemalloc.start()
        try:
            exc = refusal(archive)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert (exc.code, exc.name) == ("damaged", "results.json")
        assert peak < most, peak
    honest = runzips.bomb("results.json", LIMITS["results.json"] + MiB)
    tracemalloc.start()
    try:
        exc = refusal(honest)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (exc.code, exc.name) == ("too_big", "results.json") and peak < 4 * MiB


def test_an_ignored_entry_is_never_inflated() -> None:
    """A lying bomb under a name the console does not take: the run is read, the bomb
    named as ignored, its data never touched (its bad checksum never seen)."""
    bomb = zipfile.ZipFile(io.BytesIO(runzips.bomb("huge.bin", 64 * MiB, declared=10)))
    items = [("results.json", runzips.results()), ("profile.yaml", runzips.profile())]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in items:
            z.writestr(name, data)
    got = read(io.BytesIO(_append_raw(out.getvalue(), bomb)))
    assert set(got.files) == {"results.json", "profile.yaml"} and got.ignored == ["huge.bin"]


def _append_raw(archive: bytes, other: zipfile.ZipFile) -> bytes:
    """``archive`` with ``other``'s single entry copied byte for byte (headers unchanged,
    lies included) and the central directory rebuilt."""
    import struct

    src = other.fp
    assert src is not None
    src.seek(0)
    raw = src.read()
    cd_at = raw.find(b"PK\x01\x02")
    entry_local, entry_central = raw[:cd_at], raw[cd_at:raw.find(b"PK\x05\x06")]
    first = zipfile.ZipFile(io.BytesIO(archive))
    end_at = archive.rfind(b"PK\x05\x06")
    _, _, _, _, n, cd_size, cd_off, _ = struct.unpack_from("<4s4H2LH", archive, end_at)
    central = archive[cd_off:cd_off + cd_size]
    moved = bytearray(entry_central)
    struct.pack_into("<L", moved, 42, cd_off)  # the bomb's local header now sits there
    body = archive[:cd_off] + entry_local
    cd = central + bytes(moved)
    first.close()
    return body + cd + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, n + 1, n + 1, len(cd),
                                   len(body), 0)


@pytest.mark.parametrize("name", ["../results.json", "out/../../etc/passwd",
                                  "/etc/passwd", "C:/results.json", "c:results.json",
                                  "out\\..\\results.json", "results.json\x01",
                                  "out//results.json", "./results.json",
                                  "results.json:stream"])
def test_names_that_leave_the_folder_are_refused(name: str) -> None:
    exc = refusal(runzips.entries(("results.json", runzips.results()), (name, b"x")))
    assert exc.code == "bad_name" and exc.name


def test_a_symbolic_link_is_refused() -> None:
    link = zipfile.ZipInfo("results.json")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    exc = refusal(runzips.entries((link, b"/etc/shadow")))
    assert (exc.code, exc.name) == ("link", "results.json")


def test_duplicates_are_refused_also_after_the_top_folder_and_in_another_case() -> None:
    assert refusal(runzips.entries(("results.json", b"{}"), ("results.json", b"[]"))
                   ).code == "duplicate"
    assert refusal(runzips.entries(("out/sheet.html", b"a"), ("out/SHEET.html", b"b"))
                   ).code == "duplicate"


def test_encrypted_nested_and_other_methods_are_refused() -> None:
    exc = refusal(runzips.flag_encrypted(runzips.zipped(runzips.folder())))
    assert exc.code == "encrypted"
    inner = runzips.zipped(runzips.folder())
    assert refusal(runzips.entries(("run.zip", inner))).code == "nested"
    exc = refusal(runzips.entries(("results.json", inner)))  # a zip under a kept name
    assert (exc.code, exc.name) == ("nested", "results.json")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_BZIP2) as z:
        z.writestr("results.json", b"{}")
    assert refusal(out.getvalue()).code == "method"


def test_not_a_zip_and_a_cut_zip_are_refused() -> None:
    assert refusal(b"results.json, honest").code == "not_zip"
    assert refusal(b"").code == "not_zip"
    whole = runzips.zipped(runzips.folder())
    assert refusal(whole[: len(whole) // 2]).code == "not_zip"


def test_too_many_entries_refused_from_the_end_record() -> None:
    many = runzips.entries(*[(f"f{i}.txt", b"") for i in range(runzip.MAX_ENTRIES + 1)])
    assert refusal(many).code == "too_many"
    assert read(io.BytesIO(runzips.entries(
        *[(f"f{i}.txt", b"") for i in range(runzip.MAX_ENTRIES)]))).files == {}


def test_an_end_record_that_understates_the_count_is_caught_by_the_directory() -> None:
    """The end record says 5 entries, the directory holds 300: counted as read."""
    import struct

    many = bytearray(runzips.entries(*[(f"f{i}.txt", b"") for i in range(300)]))
    end = many.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", many, end + 8, 5, 5)
    assert refusal(bytes(many)).code == "too_many"


def test_the_total_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runzip, "MAX_UPLOAD", 1000)
    big = runzips.entries(("results.json", bytes(600)), ("sheet.html", bytes(600)))
    assert refusal(big).code == "total"
