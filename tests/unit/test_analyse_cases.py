"""`recette analyse` on the small captures of tests/data/captures/<case>/ (see make.py and
make_encap.py there): the English summary is the expected one; a file cut short or damaged
mid-way is analysed up to the damage and says so; a file corrupt from its first record, empty,
not a capture, or holding no SIP or RTP is one line naming the file (exit 2), never a
traceback; the HTML and CSV come out in French by default."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from harness import cli

DATA = Path(__file__).resolve().parents[1] / "data" / "captures"
CASES = sorted(p.name for p in DATA.iterdir() if p.is_dir())
REGEN = bool(os.environ.get("RECETTE_REGEN"))

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None, reason="needs tshark")


def _capture(case: str) -> Path:
    (path,) = [p for p in (DATA / case).iterdir() if p.name.startswith("capture.")]
    return path


@pytest.mark.parametrize("case", CASES)
def test_case(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _capture(case)
    rc = cli.main(["analyse", str(path), "--out", str(tmp_path / "out"), "--lang", "en"])
    got = capsys.readouterr()
    error = DATA / case / "error.txt"
    if error.exists():
        line = got.err.replace(str(path), "{file}")
        if REGEN:
            error.write_text(line)
        assert rc == 2 and line == error.read_text()
        assert len(got.err.splitlines()) == 1 and "Traceback" not in got.err
        assert not (tmp_path / "out").exists()
        return
    expected = DATA / case / "expected.txt"
    if REGEN:
        expected.write_text(got.out)
    assert got.out == expected.read_text()
    assert rc == (0 if "nothing wrong found" in got.out else 1)
    assert {p.name for p in (tmp_path / "out").iterdir()} == {
        "summary.txt", "incidents.csv", "analyse.html"}


def test_french_by_default_with_the_sheets_sections(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    rc = cli.main(["analyse", str(_capture("one_way")), "--out", str(tmp_path)])
    assert rc == 1
    out = capsys.readouterr().out
    assert "audio à sens unique" in out
    html = (tmp_path / "analyse.html").read_text()
    for heading in ("Qualité RTP par sens", "Échanges SIP", "Incidents (format ticket"):
        assert heading in html
    assert "<svg" in html  # the quality plot
    rows = (tmp_path / "incidents.csv").read_text().splitlines()
    assert rows[0].startswith("Date ; Heure")
    assert rows[1].split(" ; ")[2:4] == ["0100000001", "0899000000"]
    assert "audio à sens unique" in rows[1]


def test_incidents_for_every_failed_call(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    cli.main(["analyse", str(_capture("failures")), "--out", str(tmp_path), "--lang", "en"])
    capsys.readouterr()
    rows = (tmp_path / "incidents.csv").read_text().splitlines()[1:]
    assert [r.split(" ; ")[3] for r in rows] == ["0612345678", "0612345679"]
    assert "503" in rows[0] and "408" in rows[1]


def test_a_missing_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.pcap"
    assert cli.main(["analyse", str(missing), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"recette: {missing}: cannot read") and len(err.splitlines()) == 1
