"""The media cases of tests/data/captures (make_media.py) read as tshark reads them, and what
each one is built to show: Opus jitter at 48 kHz, G.722 at RFC 3551's 8 kHz, a stream with
30 % random loss kept without SIP, the digits 1 2 3 #, a 7 s hole lost on the way, a hold."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sip_checks.analyse import read
from sip_checks.analyse.diagnose import Analysis
from tests.unit.test_analyse_tshark import agree, rtp_streams, streams_of

DATA = Path(__file__).resolve().parents[1] / "data" / "captures"
CASES = ["rtp_only_lossy", "rtp_only_one_way", "rtp_only_one_sided", "opus_call", "g722_call",
         "dtmf_call", "media_gap", "media_hold"]

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None, reason="needs tshark")


def _read(case: str) -> Analysis:
    return read(DATA / case / "capture.pcap")


@pytest.mark.parametrize("case", CASES)
def test_every_stream_tshark_finds_agrees(case: str) -> None:
    path = DATA / case / "capture.pcap"
    theirs = rtp_streams(path)
    assert agree(streams_of(path), theirs) == len(theirs) >= 2


@pytest.mark.parametrize(("case", "rate"), [("opus_call", 48000), ("g722_call", 8000)])
def test_jitter_at_the_sdps_clock_rate_equals_tsharks(case: str, rate: int) -> None:
    """tshark: Opus 3.794/4.873 and 0.939/1.287 ms (8 kHz read 99.1/116.7 and 96.2/100.1)."""
    path = DATA / case / "capture.pcap"
    theirs = {(t.src, t.ssrc): t for t in rtp_streams(path)}
    ours = streams_of(path)
    assert len(ours) == len(theirs) == 2
    for s in ours:
        t = theirs[(s.src, s.ssrc)]
        assert s.stats.clock_rate == rate
        assert s.stats.jitter_ms == pytest.approx(t.mean_jitter_ms, abs=0.01)
        assert s.stats.jitter_max_ms == pytest.approx(t.max_jitter_ms, abs=0.01)


def test_a_stream_with_30_percent_loss_is_kept_without_sip() -> None:
    a = _read("rtp_only_lossy")
    lossy = next(s for s, _ in a.others if s.src[0] == "203.0.113.20")
    assert lossy.stats.loss_pct > 30 and len(a.others) == 2
    codes = [f.code for f in a.findings]
    assert codes == ["AN_RTP_NO_SIGNALLING", "AN_RTP_POOR"]


def test_one_way_is_only_suspected_where_other_conversations_flow_both_ways() -> None:
    assert [f.code for f in _read("rtp_only_one_way").findings] == [
        "AN_RTP_NO_SIGNALLING", "AN_RTP_ONE_WAY_INFERRED"]
    assert [f.code for f in _read("rtp_only_one_sided").findings] == [
        "AN_RTP_NO_SIGNALLING", "AN_RTP_ONE_SIDED_CAPTURE"]


def test_digits_once_each() -> None:
    (c,) = _read("dtmf_call").calls
    keyed = [cs for cs in c.streams if cs.stream.digits]
    assert len(keyed) == 1 and keyed[0].role == "up"
    digits = keyed[0].stream.digits
    assert "".join(d.key for d in digits) == "123#"
    assert all(d.ended and d.duration_ms == 100 for d in digits)


def test_a_7_s_hole_lost_on_the_way_is_a_finding_a_hold_is_not() -> None:
    (c,) = _read("media_gap").calls
    (g,) = [g for cs in c.streams for g in cs.stream.gaps]
    assert (g.kind, g.lost, g.hold, round(g.seconds, 1)) == ("lost", 350, None, 7.0)
    assert "AN_MEDIA_GAP" in [f.code for f in _read("media_gap").findings]
    hold = _read("media_hold")
    (g,) = [g for cs in hold.calls[0].streams for g in cs.stream.gaps]
    assert g.hold == "recvonly" and not g.fault and not hold.findings


def test_digits_and_gaps_in_the_html(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from harness import cli

    cli.main(["analyse", str(DATA / "dtmf_call" / "capture.pcap"), "--out", str(tmp_path / "d")])
    cli.main(["analyse", str(DATA / "media_gap" / "capture.pcap"), "--out", str(tmp_path / "g")])
    capsys.readouterr()
    html = (tmp_path / "d" / "analyse.html").read_text()
    assert "Chiffres DTMF (RFC 4733)" in html and "<td class='mono'>1 2 3 #</td>" in html
    html = (tmp_path / "g" / "analyse.html").read_text()
    assert "Interruptions du média" in html and "interruption 7.0 s" in html
