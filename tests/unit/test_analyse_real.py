"""`recette analyse` on captures written by others (tests/data/captures_real/<case>/, whose
README.md and SOURCE files say where each comes from) against tshark's own figures.

Why tshark: it is what a VoIP engineer checks a capture with, and its figures were taken
once, with the command in each case's ``tshark.cmd``, not from our code. Every RTP stream
tshark lists is compared with ours (same addresses, ports and SSRC): packets and loss
exactly, jitter within the tolerances below; the streams, SIP dialogs and calls must be the
same sets; the English summary is kept in ``expected.txt`` (``RECETTE_REGEN=1`` rewrites it).

Where we disagree with tshark today, the stream or case is an explicit strict xfail:
``KNOWN_GAPS`` are items of issue 23 being fixed (remove the entry once it passes),
``DELIBERATE`` are differences by design (they stay, so a change of design is seen).
"""

from __future__ import annotations

import functools
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from harness import cli
from sip_checks.analyse import Analysis, read
from sip_checks.analyse.streams import Stream
from tests.unit.test_analyse_tshark import Key, Row, parse_rtp_streams, streams_in

DATA = Path(__file__).resolve().parents[1] / "data" / "captures_real"
CASES = sorted(p.name for p in DATA.iterdir() if p.is_dir())
REGEN = bool(os.environ.get("RECETTE_REGEN"))

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None, reason="needs tshark")

# Max jitter: the same RFC 3550 A.8 estimator at the same clock rate; tshark prints three
# decimals, so two thousandths of a millisecond (or 0.1 %) cover its rounding and nothing else.
MAX_JITTER_ABS_MS, MAX_JITTER_REL = 0.002, 0.001
# Mean jitter: tshark averages the estimate over every packet (the first, at 0, and comfort
# noise included), we over the voice packets that have a predecessor: the two differ by about
# J/N, a few hundredths of a millisecond on the shortest streams here (24 packets).
MEAN_JITTER_ABS_MS, MEAN_JITTER_REL = 0.05, 0.02

KNOWN_GAPS: dict[str, str] = {
    "g711_call_media_relay:200.57.7.202:30000>200.57.7.196:40362:00002E3D:counts": (
        "issue 23: RTP without SIP: a 6-packet stream set up by MGCP (no SIP SDP announces "
        "it) is below our 20-packet heuristic, tshark decodes it"),
    "g711_call_media_relay:streams": (
        "issue 23: RTP without SIP: the 6-packet MGCP stream 0x00002E3D is not found"),
    "g711_call_media_relay:200.57.7.202:30000>200.57.7.196:40362:00002E3D:jitter": (
        "issue 23: RTP without SIP: the 6-packet MGCP stream 0x00002E3D is not found"),
}
DELIBERATE: dict[str, str] = {
    "fax_t38_reinvite:10.23.1.52:16756>10.35.60.100:15580:17D90134:jitter": (
        "by design: our estimate restarts after a transit jump over 1 s "
        "(toolkit.rtp.JITTER_RESTART_S; here a 9.2 s media gap), tshark feeds the jump "
        "(its max 2730 ms)"),
    "rtp_only_ulaw_dtmf:10.0.0.51:4000>10.0.0.45:10866:34D01D16:jitter": (
        "by design: RFC 4733 event packets (one timestamp per event) are kept out of our "
        "jitter as in the live check, tshark feeds them (its max 23.4 ms, ours 6.8 ms)"),
}

def tshark_rows(case: str) -> list[Row]:
    return parse_rtp_streams((DATA / case / "tshark.txt").read_text())


def tshark_dialogs(case: str) -> dict[str, str]:
    """Call-ID → method of its first request (``-``: responses only), from tshark-sip.txt."""
    out = {}
    for line in (DATA / case / "tshark-sip.txt").read_text().splitlines():
        method, _, call_id = line.partition(" ")
        out[call_id] = method
    return out


def _capture(case: str) -> Path:
    (path,) = [p for p in (DATA / case).iterdir() if p.name.startswith("capture.")]
    return path


@functools.cache
def _analysis(case: str) -> Analysis:
    return read(_capture(case))


def _ours(case: str) -> dict[Key, Stream]:
    return {(s.src, s.dst, s.ssrc): s for s in streams_in(_analysis(case))}


def _marked(key: str, *values: object) -> Any:
    reason = KNOWN_GAPS.get(key) or DELIBERATE.get(key)
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(*values, marks=marks, id=key)


ROWS = [(case, row) for case in CASES for row in tshark_rows(case)]


@pytest.mark.parametrize(("case", "row"), [
    _marked(f"{row.id(case)}:counts", case, row) for case, row in ROWS])
def test_packets_and_loss_as_tshark(case: str, row: Row) -> None:
    ours = _ours(case).get(row.key)
    assert ours is not None, f"tshark's stream {row.id(case)} ({row.packets} packets) not found"
    assert (ours.packets, ours.stats.lost) == (row.packets, row.lost)


@pytest.mark.parametrize(("case", "row"), [
    _marked(f"{row.id(case)}:jitter", case, row) for case, row in ROWS])
def test_jitter_as_tshark(case: str, row: Row) -> None:
    ours = _ours(case).get(row.key)
    assert ours is not None, f"tshark's stream {row.id(case)} not found"
    st = ours.stats
    if row.min_jitter_ms < 0:
        # tshark computes no jitter for a dynamic payload type without its SDP. A bound
        # still holds: each |D| is at most the larger of the arrival gap and the timestamp
        # gap, so at the right clock rate the estimate stays under the largest gap between
        # packets (tshark's max delta) for a stream sent at a steady pace.
        assert st.jitter_max_ms <= row.max_delta_ms
        return
    assert st.jitter_max_ms == pytest.approx(row.max_jitter_ms, rel=MAX_JITTER_REL,
                                             abs=MAX_JITTER_ABS_MS)
    assert st.jitter_ms == pytest.approx(row.mean_jitter_ms, rel=MEAN_JITTER_REL,
                                         abs=MEAN_JITTER_ABS_MS)


@pytest.mark.parametrize("case", [_marked(f"{c}:streams", c) for c in CASES])
def test_the_same_streams_as_tshark(case: str) -> None:
    assert sorted(_ours(case)) == sorted(r.key for r in tshark_rows(case))


@pytest.mark.parametrize("case", [_marked(f"{c}:dialogs", c) for c in CASES])
def test_the_same_dialogs_and_calls_as_tshark(case: str) -> None:
    a = _analysis(case)
    expected = tshark_dialogs(case)
    assert sorted(d.call_id for d in a.dialogs) == sorted(expected)
    assert sorted(c.dialog.call_id for c in a.calls) == sorted(
        i for i, m in expected.items() if m == "INVITE")


@pytest.mark.parametrize("case", [_marked(f"{c}:summary", c) for c in CASES])
def test_summary(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _capture(case)
    rc = cli.main(["analyse", str(path), "--out", str(tmp_path / "out"), "--lang", "en"])
    got = capsys.readouterr().out
    expected = DATA / case / "expected.txt"
    if REGEN:
        expected.write_text(got)
    assert got == expected.read_text()
    assert rc == (0 if "nothing wrong found" in got else 1)


def test_every_case_has_its_source_and_tshark_figures() -> None:
    """A fixture without its origin and licence, or without tshark's figures, is no fixture."""
    assert len(CASES) >= 10
    for case in CASES:
        source = (DATA / case / "SOURCE").read_text()
        for field in ("repository: https://github.com/", "path: ", "commit: ", "license: "):
            assert field in source, f"{case}/SOURCE: no {field.strip()}"
        assert (DATA / case / "tshark.cmd").read_text().startswith("tshark ")
        assert "RTP Streams" in (DATA / case / "tshark.txt").read_text()
